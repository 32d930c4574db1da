package org.nssifhir.server.treatment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.nssifhir.server.support.WholeHistory;

/** The triggers recorded on a person's episodes, most frequent first (ties: first seen first). */
final class RecordedTriggers {

	private RecordedTriggers() {}

	static List<Coding> mostFrequent(DaoRegistry daos, IdType patient, SystemRequestDetails system, int limit) {
		var map = WholeHistory.search()
				.add(Observation.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(Observation.SP_CODE, new TokenParam(CONCEPTS_SYSTEM, "nssi-episode"));
		Map<String, Coding> codings = new LinkedHashMap<>();
		Map<String, Integer> counts = new LinkedHashMap<>();
		for (IBaseResource r : WholeHistory.all(daos.getResourceDao("Observation").search(map, system))) {
			Observation episode = (Observation) r;
			if (episode.getStatus() == Observation.ObservationStatus.ENTEREDINERROR) {
				continue;
			}
			for (Observation.ObservationComponentComponent c : episode.getComponent()) {
				boolean isTrigger = c.getCode().getCoding().stream()
						.anyMatch(k -> CONCEPTS_SYSTEM.equals(k.getSystem()) && "trigger".equals(k.getCode()));
				// our own trigger codes only: the relapse-prevention profile asks for one of them (nssi-rpp-2)
				Coding coding = c.getValue() instanceof CodeableConcept value ? value.getCoding().stream()
						.filter(k -> CONCEPTS_SYSTEM.equals(k.getSystem()) && k.getCode() != null && k.getCode().startsWith("trigger-"))
						.findFirst().orElse(null) : null;
				if (isTrigger && coding != null) {
					String key = coding.getSystem() + "|" + coding.getCode();
					codings.putIfAbsent(key, coding);
					counts.merge(key, 1, Integer::sum);
				}
			}
		}
		return counts.entrySet().stream()
				.sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
				.limit(limit)
				.map(e -> codings.get(e.getKey()))
				.toList();
	}
}
