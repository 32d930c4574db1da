package org.nssifhir.server.assessment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.SortOrderEnum;
import ca.uhn.fhir.rest.api.SortSpec;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenOrListParam;
import ca.uhn.fhir.rest.param.TokenParam;
import java.sql.Date;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.security.consent.RestrictedRecordAccess;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.WholeHistory;

/**
 * What {@code Patient/[id]/$nssi-summary} ({@link NssiSummaryProvider}) answers: what a clinician's panel shows
 * about a person's self-injury, in one call. Episodes per ISO week (last 12 weeks) and per month (last 12
 * months), all methods and functions seen with their counts, the last episode and the days since it, the trend
 * (last window against the baseline windows, as the escalation rule judges it), the latest PHQ-9 and NSSI
 * assessment results, the open Flags and Tasks, and the active care plan with its progress.
 *
 * <p>Episodes are read from HAPI's index tables ({@link EpisodeIndex}), not parsed; four small searches give
 * the scores, alerts and plan. Access: the authorization rules allow the
 * operation only on a Patient the token may read (a patient token: its own), {@link #requireAccess} adds the
 * rule for restricted records, and the figures are computed here with system access, so no individual resource
 * is returned.
 */
public class NssiSummaryService {

	private static final Set<Task.TaskStatus> OPEN_TASK = Set.of(
			Task.TaskStatus.DRAFT, Task.TaskStatus.REQUESTED, Task.TaskStatus.RECEIVED, Task.TaskStatus.ACCEPTED,
			Task.TaskStatus.READY, Task.TaskStatus.INPROGRESS, Task.TaskStatus.ONHOLD);

	private final DaoRegistry daoRegistry;
	private final EpisodeIndex episodeIndex;
	private final NssiProperties.Escalation settings;

	private final RestrictedRecordAccess consent;
	private final TreatmentPlanSummary progress;

	public NssiSummaryService(DaoRegistry daoRegistry, EpisodeIndex episodeIndex, NssiProperties.Escalation settings,
			RestrictedRecordAccess consent, TreatmentPlanSummary progress) {
		this.consent = consent;
		this.progress = progress;
		this.daoRegistry = daoRegistry;
		this.episodeIndex = episodeIndex;
		this.settings = settings;
	}

	/**
	 * 404 for an unknown patient, through the caller's request (and its authorization); then the rule for
	 * restricted (R) records, since the summary is computed from them: the same rule as reading them (treating
	 * relationship, Consent, BTG).
	 */
	public IdType requireAccess(String patientId, RequestDetails request) {
		IdType patient = new IdType("Patient", patientId);
		daoRegistry.getResourceDao("Patient").read(patient, request);
		consent.require(request, patient.getIdPart());
		return patient;
	}

	/** The summary of a patient {@link #requireAccess} let through, as of {@code today}. */
	public Parameters summary(IdType patient, LocalDate today) {
		SystemRequestDetails system = new SystemRequestDetails();
		Parameters out = new Parameters();
		out.addParameter().setName("patient").setValue(new Reference(patient.getValue()));
		out.addParameter().setName("date").setValue(new DateType(Date.valueOf(today)));

		episodes(patient, today, system, out);
		latestScores(patient, system, out);
		openAlerts(patient, system, out);
		carePlan(patient, today, system, out);
		return out;
	}

	private void episodes(IdType patient, LocalDate today, SystemRequestDetails system, Parameters out) {
		List<LocalDate> dates = new ArrayList<>();
		Map<String, Integer> methods = new LinkedHashMap<>();
		Map<String, Integer> functions = new LinkedHashMap<>();
		int nonSuicidal = 0;
		long pid = episodeIndex.patientPid(patient.getIdPart()).orElseThrow();
		for (EpisodeIndex.Episode episode : episodeIndex.episodes(pid)) {
			if (episode.day().isAfter(today)) {
				continue;
			}
			dates.add(episode.day());
			if (episode.nonSuicidal()) {
				nonSuicidal++;
			}
			episode.methods().forEach(m -> methods.merge(m, 1, Integer::sum));
			episode.functions().forEach(f -> functions.merge(f, 1, Integer::sum));
		}
		dates.sort(Comparator.naturalOrder());
		out.addParameter().setName("episodeCount").setValue(new IntegerType(dates.size()));
		// the NSSI figure beside it: an EHR's self-harm episode of unrecorded intent is in episodeCount, not here
		out.addParameter().setName("nssiEpisodeCount").setValue(new IntegerType(nonSuicidal));

		LocalDate thisWeek = today.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
		for (int w = 11; w >= 0; w--) {
			LocalDate start = thisWeek.minusWeeks(w);
			LocalDate end = start.plusWeeks(1);
			long count = dates.stream().filter(d -> !d.isBefore(start) && d.isBefore(end)).count();
			Parameters.ParametersParameterComponent week = out.addParameter().setName("week");
			week.addPart().setName("start").setValue(new DateType(Date.valueOf(start)));
			week.addPart().setName("count").setValue(new IntegerType((int) count));
		}
		YearMonth thisMonth = YearMonth.from(today);
		for (int m = 11; m >= 0; m--) {
			YearMonth month = thisMonth.minusMonths(m);
			long count = dates.stream().filter(d -> YearMonth.from(d).equals(month)).count();
			Parameters.ParametersParameterComponent part = out.addParameter().setName("month");
			part.addPart().setName("month").setValue(new StringType(month.toString()));
			part.addPart().setName("count").setValue(new IntegerType((int) count));
		}
		seen(out, "method", methods);
		seen(out, "function", functions);
		if (!dates.isEmpty()) {
			LocalDate last = dates.get(dates.size() - 1);
			out.addParameter().setName("lastEpisode").setValue(new DateType(Date.valueOf(last)));
			out.addParameter().setName("daysSinceLastEpisode").setValue(new IntegerType((int) ChronoUnit.DAYS.between(last, today)));
		}
		// trend: the last window against the average of the baseline windows before it (the escalation rule's windows)
		Trend trend = trend(dates, today, settings);
		Parameters.ParametersParameterComponent t = out.addParameter().setName("trend");
		t.addPart().setName("direction").setValue(new CodeType(trend.direction()));
		t.addPart().setName("windowDays").setValue(new IntegerType(settings.windowDays()));
		t.addPart().setName("recentCount").setValue(new IntegerType((int) trend.recent()));
		t.addPart().setName("baselinePerWindow").setValue(new DecimalType(String.format(Locale.ROOT, "%.2f", trend.baselinePerWindow())));
	}

	/** Episodes in the last window, the average per window before it, and the direction (rising/falling/stable). */
	public record Trend(String direction, long recent, double baselinePerWindow) {}

	/** The trend of these episode days as of {@code today} (also used by the CDS Hooks service). */
	public static Trend trend(List<LocalDate> dates, LocalDate today, NssiProperties.Escalation settings) {
		LocalDate recentStart = today.minusDays(settings.windowDays() - 1L);
		LocalDate baselineStart = recentStart.minusDays((long) settings.windowDays() * settings.baselineWindows());
		long recent = dates.stream().filter(d -> !d.isBefore(recentStart) && !d.isAfter(today)).count();
		long baseline = dates.stream().filter(d -> !d.isBefore(baselineStart) && d.isBefore(recentStart)).count();
		double baselinePerWindow = (double) baseline / settings.baselineWindows();
		String direction = recent > baselinePerWindow * 1.25 && recent - baselinePerWindow >= 1
				? "rising"
				: recent < baselinePerWindow * 0.75 && baselinePerWindow - recent >= 1 ? "falling" : "stable";
		return new Trend(direction, recent, baselinePerWindow);
	}

	private static void seen(Parameters out, String name, Map<String, Integer> counts) {
		counts.entrySet().stream()
				.sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
				.forEach(e -> {
					Parameters.ParametersParameterComponent p = out.addParameter().setName(name);
					int bar = e.getKey().indexOf('|');
					p.addPart().setName("code").setValue(new Coding(e.getKey().substring(0, bar), e.getKey().substring(bar + 1), null));
					p.addPart().setName("count").setValue(new IntegerType(e.getValue()));
				});
	}

	private void latestScores(IdType patient, SystemRequestDetails system, Parameters out) {
		TokenOrListParam codes = new TokenOrListParam()
				.add(NssiCanonicals.LOINC, "44261-6")
				.add(CONCEPTS_SYSTEM, "nssi-days-past-year")
				.add(CONCEPTS_SYSTEM, "nssi-frequency-criterion-met");
		SearchParameterMap map = WholeHistory.search()
				.add(Observation.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(Observation.SP_CODE, codes);
		map.setSort(new SortSpec(Observation.SP_DATE, SortOrderEnum.DESC));
		Set<String> done = new HashSet<>();
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("Observation").search(map, system))) {
			Observation obs = (Observation) r;
			String code = obs.getCode().getCodingFirstRep().getCode();
			if (obs.getStatus() == Observation.ObservationStatus.ENTEREDINERROR || !done.add(code)) {
				continue;
			}
			Parameters.ParametersParameterComponent score = out.addParameter().setName("score");
			score.addPart().setName("code").setValue(obs.getCode().getCodingFirstRep().copy());
			score.addPart().setName("value").setValue(obs.getValue().copy());
			score.addPart().setName("date").setValue(obs.getEffective().copy());
			score.addPart().setName("observation").setValue(new Reference("Observation/" + obs.getIdElement().getIdPart()));
			obs.getComponent().stream()
					.filter(c -> c.getCode().getCoding().stream().anyMatch(k -> CONCEPTS_SYSTEM.equals(k.getSystem()) && "phq9-severity".equals(k.getCode())))
					.findFirst()
					.ifPresent(c -> score.addPart().setName("band").setValue(((CodeableConcept) c.getValue()).getCodingFirstRep().copy()));
		}
	}

	private void openAlerts(IdType patient, SystemRequestDetails system, Parameters out) {
		SearchParameterMap flags = WholeHistory.search().add(Flag.SP_PATIENT, new ReferenceParam(patient.getValue()));
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("Flag").search(flags, system))) {
			Flag flag = (Flag) r;
			if (flag.getStatus() == Flag.FlagStatus.ACTIVE) {
				Parameters.ParametersParameterComponent p = out.addParameter().setName("openFlag");
				p.addPart().setName("flag").setValue(new Reference("Flag/" + flag.getIdElement().getIdPart()));
				p.addPart().setName("code").setValue(flag.getCode().getCodingFirstRep().copy());
				if (flag.getPeriod().hasStart()) {
					p.addPart().setName("since").setValue(flag.getPeriod().getStartElement().copy());
				}
			}
		}
		SearchParameterMap tasks = WholeHistory.search().add(Task.SP_PATIENT, new ReferenceParam(patient.getValue()));
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("Task").search(tasks, system))) {
			Task task = (Task) r;
			if (OPEN_TASK.contains(task.getStatus())) {
				Parameters.ParametersParameterComponent p = out.addParameter().setName("openTask");
				p.addPart().setName("task").setValue(new Reference("Task/" + task.getIdElement().getIdPart()));
				if (task.hasPriority()) {
					p.addPart().setName("priority").setValue(new CodeType(task.getPriority().toCode()));
				}
				if (task.hasCode()) {
					p.addPart().setName("code").setValue(task.getCode().getCodingFirstRep().copy());
				}
				p.addPart().setName("status").setValue(new CodeType(task.getStatus().toCode()));
			}
		}
	}

	private void carePlan(IdType patient, LocalDate today, SystemRequestDetails system, Parameters out) {
		SearchParameterMap map = WholeHistory.search()
				.add(CarePlan.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(CarePlan.SP_STATUS, new TokenParam("active"));
		map.setSort(new SortSpec("_lastUpdated", SortOrderEnum.DESC));
		List<IBaseResource> plans = WholeHistory.all(daoRegistry.getResourceDao("CarePlan").search(map, system));
		if (plans.isEmpty()) {
			return;
		}
		// the treatment plan, not the relapse-prevention plan that is part of it
		CarePlan plan = plans.stream().map(CarePlan.class::cast).filter(progress::isTreatmentPlan).findFirst()
				.orElse((CarePlan) plans.get(0));
		Parameters.ParametersParameterComponent p = out.addParameter().setName("activeCarePlan");
		p.addPart().setName("carePlan").setValue(new Reference("CarePlan/" + plan.getIdElement().getIdPart()));
		if (plan.hasTitle()) {
			p.addPart().setName("title").setValue(new StringType(plan.getTitle()));
		}
		int total = plan.getActivity().size();
		long completed = plan.getActivity().stream()
				.filter(a -> a.hasDetail() && a.getDetail().getStatus() == CarePlan.CarePlanActivityStatus.COMPLETED)
				.count();
		long inProgress = plan.getActivity().stream()
				.filter(a -> a.hasDetail() && a.getDetail().getStatus() == CarePlan.CarePlanActivityStatus.INPROGRESS)
				.count();
		p.addPart().setName("activities").setValue(new IntegerType(total));
		p.addPart().setName("activitiesCompleted").setValue(new IntegerType((int) completed));
		p.addPart().setName("activitiesInProgress").setValue(new IntegerType((int) inProgress));
		if (progress.isTreatmentPlan(plan)) {
			progress.writeProgress(plan, today, p.addPart().setName("progress"));
		}
	}
}
