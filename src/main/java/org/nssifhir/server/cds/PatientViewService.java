package org.nssifhir.server.cds;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.ParamPrefixEnum;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Date;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.assessment.EpisodeIndex;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.WholeHistory;

/**
 * The {@code patient-view} CDS Service: its description for discovery (with prefetch templates) and its cards.
 * Data comes from the prefetch the CDS Client sent when it sent it (CDS Hooks: a prefetch key that is present is
 * the client's answer to that template), otherwise from this server's own storage. Read with system access: the
 * caller is an EHR authenticated by its signed JWT (see {@link CdsJwtVerifier}), a trusted system integration, so
 * consent filtering is not applied, as for backend-services tokens.
 */
public class PatientViewService {

	public static final String ID = "nssi-patient-view";
	/** Enough episodes for the trend windows of any realistic history; a Bundle with a next link is not trusted for the trend. */
	static final int EPISODE_PREFETCH_COUNT = 200;

	private final FhirContext fhirContext;
	private final DaoRegistry daoRegistry;
	private final EpisodeIndex episodeIndex;
	private final NssiProperties.Escalation settings;

	public PatientViewService(FhirContext fhirContext, DaoRegistry daoRegistry, EpisodeIndex episodeIndex, NssiProperties.Escalation settings) {
		this.fhirContext = fhirContext;
		this.daoRegistry = daoRegistry;
		this.episodeIndex = episodeIndex;
		this.settings = settings;
	}

	/** The prefetch templates the CDS Client may fill in (FHIR queries relative to its FHIR server). */
	public static Map<String, String> prefetchTemplates() {
		Map<String, String> prefetch = new LinkedHashMap<>();
		prefetch.put("patient", "Patient/{{context.patientId}}");
		// R4 Flag has no status search parameter: all of them, the open ones are picked here
		prefetch.put("flags", "Flag?patient={{context.patientId}}");
		prefetch.put("tasks", "Task?patient={{context.patientId}}&status=draft,requested,received,accepted,ready,in-progress,on-hold");
		prefetch.put("episodes", "Observation?subject=Patient/{{context.patientId}}&code=" + CONCEPTS_SYSTEM
				+ "|nssi-episode&_sort=-date&_count=" + EPISODE_PREFETCH_COUNT);
		prefetch.put("conditions", "Condition?patient={{context.patientId}}&clinical-status=active");
		prefetch.put("carePlans", "CarePlan?subject=Patient/{{context.patientId}}&status=active");
		return prefetch;
	}

	/** Cards for the patient; empty when the patient is unknown here and nothing was prefetched. */
	public List<PatientViewCards.Card> cards(String patientId, JsonNode prefetch, LocalDate today) {
		boolean prefetched = prefetch != null && prefetch.isObject() && prefetch.size() > 0;
		Optional<Long> pid = episodeIndex.patientPid(patientId);
		if (pid.isEmpty() && !prefetched) {
			return List.of();
		}
		String patient = "Patient/" + patientId;
		SystemRequestDetails system = new SystemRequestDetails();

		List<Flag> flags = bundle(prefetch, "flags", Flag.class).orElseGet(() ->
				search("Flag", WholeHistory.search().add(Flag.SP_PATIENT, new ReferenceParam(patient)), system, Flag.class));
		List<Task> tasks = bundle(prefetch, "tasks", Task.class).orElseGet(() ->
				search("Task", WholeHistory.search().add(Task.SP_PATIENT, new ReferenceParam(patient)), system, Task.class));
		List<Condition> conditions = bundle(prefetch, "conditions", Condition.class).orElseGet(() ->
				search("Condition", WholeHistory.search().add(Condition.SP_PATIENT, new ReferenceParam(patient)), system, Condition.class));
		List<CarePlan> plans = bundle(prefetch, "carePlans", CarePlan.class).orElseGet(() -> search("CarePlan",
				WholeHistory.search().add(CarePlan.SP_SUBJECT, new ReferenceParam(patient)).add(CarePlan.SP_STATUS, new TokenParam("active")),
				system, CarePlan.class));

		Optional<Bundle> episodeBundle = rawBundle(prefetch, "episodes");
		List<Observation> recent = episodeBundle.map(b -> resources(b, Observation.class)).orElseGet(() -> search("Observation",
				WholeHistory.search()
						.add(Observation.SP_SUBJECT, new ReferenceParam(patient))
						.add(Observation.SP_CODE, new TokenParam(CONCEPTS_SYSTEM, "nssi-episode"))
						.add(Observation.SP_DATE, new DateParam(ParamPrefixEnum.GREATERTHAN_OR_EQUALS,
								Date.valueOf(today.minusDays(PatientViewCards.RECENT_DAYS + 1L)))),
				system, Observation.class));
		List<LocalDate> days;
		if (episodeBundle.isPresent() && episodeBundle.get().getLink(Bundle.LINK_NEXT) == null) {
			days = recent.stream().filter(o -> o.getStatus() != Observation.ObservationStatus.ENTEREDINERROR)
					.map(PatientViewCards::day).filter(d -> d != null).toList();
		} else {
			// not prefetched, or more episodes than one page: the whole history from the index (as $nssi-summary)
			days = pid.map(id -> episodeIndex.episodes(id).stream().map(EpisodeIndex.Episode::day).toList()).orElse(List.of());
		}
		return PatientViewCards.cards(new PatientViewCards.PatientData(flags, tasks, recent, days, conditions, plans), today, settings);
	}

	public List<PatientViewCards.Card> cards(String patientId, JsonNode prefetch) {
		return cards(patientId, prefetch, LocalDate.now(ZoneOffset.UTC));
	}

	private <T extends IBaseResource> List<T> search(String type, SearchParameterMap map, SystemRequestDetails system, Class<T> cls) {
		return WholeHistory.all(daoRegistry.getResourceDao(type).search(map, system)).stream().map(cls::cast).toList();
	}

	private Optional<Bundle> rawBundle(JsonNode prefetch, String key) {
		if (prefetch == null || !prefetch.hasNonNull(key)) {
			return Optional.empty();
		}
		IBaseResource parsed = fhirContext.newJsonParser().parseResource(prefetch.get(key).toString());
		if (!(parsed instanceof Bundle bundle)) {
			throw new IllegalArgumentException("prefetch '" + key + "' must be a Bundle");
		}
		return Optional.of(bundle);
	}

	private <T extends IBaseResource> Optional<List<T>> bundle(JsonNode prefetch, String key, Class<T> cls) {
		return rawBundle(prefetch, key).map(b -> resources(b, cls));
	}

	private static <T extends IBaseResource> List<T> resources(Bundle bundle, Class<T> cls) {
		return bundle.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(cls::isInstance).map(cls::cast).toList();
	}
}
