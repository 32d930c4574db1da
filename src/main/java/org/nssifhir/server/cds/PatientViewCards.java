package org.nssifhir.server.cds;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.assessment.NssiSummaryService;
import org.nssifhir.server.conformance.NssiResourceClassifier;
import org.nssifhir.server.settings.NssiProperties;

/**
 * The cards of the {@code patient-view} service, decided from a patient's data however it was obtained (sent
 * by the EHR as prefetch, or read here). Pure: no I/O, so the rules are easy to test and the same either way.
 * <ul>
 *   <li>critical: an open suicide-risk Flag, or an open asap or stat Task (what escalation raises for suicide risk);</li>
 *   <li>warning: an episode in the last 30 days that needed medical or emergency care;</li>
 *   <li>warning: episodes rising (the trend of {@code $nssi-summary}, with at least the escalation rule's
 *       minimum number of episodes in the window, so one recent episode after a quiet spell is not a "rise");</li>
 *   <li>info: an active NSSI Condition without an active CarePlan.</li>
 * </ul>
 */
public final class PatientViewCards {

	/** The data the rules look at. {@code episodeDays}: all episode days of at least the trend's windows. */
	public record PatientData(
			List<Flag> flags, List<Task> tasks, List<Observation> recentEpisodes, List<LocalDate> episodeDays,
			List<Condition> conditions, List<CarePlan> carePlans) {}

	public enum Indicator {
		info,
		warning,
		critical
	}

	/** One card, before it is written as CDS Hooks JSON. {@code id}: which rule made it (stable, for tests and UIs). */
	public record Card(String id, Indicator indicator, String summary, String detail) {}

	static final int RECENT_DAYS = 30;
	private static final Set<String> HIGH_CARE = Set.of("care-medical", "care-emergency");
	private static final Set<Task.TaskStatus> OPEN_TASK = Set.of(
			Task.TaskStatus.DRAFT, Task.TaskStatus.REQUESTED, Task.TaskStatus.RECEIVED, Task.TaskStatus.ACCEPTED,
			Task.TaskStatus.READY, Task.TaskStatus.INPROGRESS, Task.TaskStatus.ONHOLD);
	// asap as escalation raises for suicide risk, or stat once re-escalated (FHIR: routine < urgent < asap < stat; an
	// NSSI escalation's Task is 'urgent' and has its own cards)
	private static final Set<Task.TaskPriority> URGENT = Set.of(Task.TaskPriority.ASAP, Task.TaskPriority.STAT);

	private PatientViewCards() {}

	public static List<Card> cards(PatientData data, LocalDate today, NssiProperties.Escalation settings) {
		List<Card> cards = new ArrayList<>();
		long riskFlags = data.flags().stream()
				.filter(f -> f.getStatus() == Flag.FlagStatus.ACTIVE && hasLocal(f.getCode(), "suicide-risk"))
				.count();
		long urgentTasks = data.tasks().stream()
				.filter(t -> OPEN_TASK.contains(t.getStatus()) && URGENT.contains(t.getPriority()))
				.count();
		if (riskFlags > 0 || urgentTasks > 0) {
			cards.add(new Card("safety-alert", Indicator.critical,
					"Open self-harm safety alert: review suicide risk now",
					(riskFlags > 0 ? "An open suicide-risk flag is recorded. " : "")
							+ (urgentTasks > 0 ? urgentTasks + " urgent follow-up task(s) are open. " : "")
							+ "Review the safety plan and the latest episode with the patient."));
		}
		LocalDate recentFrom = today.minusDays(RECENT_DAYS);
		long highCare = data.recentEpisodes().stream()
				.filter(o -> o.getStatus() != Observation.ObservationStatus.ENTEREDINERROR)
				.filter(o -> day(o) != null && !day(o).isBefore(recentFrom) && !day(o).isAfter(today))
				.filter(o -> o.getComponent().stream().anyMatch(c -> hasLocal(c.getCode(), "care-level")
						&& c.getValue() instanceof CodeableConcept v
						&& v.getCoding().stream().anyMatch(k -> CONCEPTS_SYSTEM.equals(k.getSystem()) && HIGH_CARE.contains(k.getCode()))))
				.count();
		if (highCare > 0) {
			cards.add(new Card("recent-medical-care", Indicator.warning,
					"Self-injury needing medical care in the last " + RECENT_DAYS + " days",
					highCare + " episode(s) in the last " + RECENT_DAYS + " days needed medical or emergency care."));
		}
		NssiSummaryService.Trend trend = NssiSummaryService.trend(
				data.episodeDays().stream().filter(d -> !d.isAfter(today)).toList(), today, settings);
		if ("rising".equals(trend.direction()) && trend.recent() >= settings.minEpisodes()) {
			cards.add(new Card("rising-frequency", Indicator.warning,
					"Self-injury episodes are becoming more frequent",
					String.format(Locale.ROOT, "%d episodes in the last %d days, against %.1f per %d days before.",
							trend.recent(), settings.windowDays(), trend.baselinePerWindow(), settings.windowDays())));
		}
		boolean nssiCondition = data.conditions().stream()
				.filter(c -> c.getClinicalStatus().getCoding().stream().anyMatch(k -> "active".equals(k.getCode())))
				.anyMatch(c -> NssiResourceClassifier.profilesFor(c).contains("nssi-condition"));
		boolean activePlan = data.carePlans().stream().anyMatch(p -> p.getStatus() == CarePlan.CarePlanStatus.ACTIVE);
		if (nssiCondition && !activePlan) {
			cards.add(new Card("no-care-plan", Indicator.info,
					"Active NSSI diagnosis without an active care plan",
					"Consider starting a treatment plan (for example DBT or CBT) and a safety plan."));
		}
		return cards;
	}

	static LocalDate day(Observation obs) {
		Date when = obs.hasEffectiveDateTimeType() ? obs.getEffectiveDateTimeType().getValue()
				: obs.hasEffectivePeriod() ? obs.getEffectivePeriod().getStart() : null;
		return when == null ? null : when.toInstant().atZone(ZoneOffset.UTC).toLocalDate();
	}

	private static boolean hasLocal(CodeableConcept concept, String code) {
		return concept.getCoding().stream().anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && code.equals(c.getCode()));
	}
}
