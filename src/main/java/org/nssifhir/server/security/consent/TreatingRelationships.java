package org.nssifhir.server.security.consent;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.Map;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.nssifhir.server.support.RequestScoped;
import org.springframework.stereotype.Component;

/**
 * Whether a clinician treats a patient: a member of one of the patient's active CareTeams, or one of the
 * patient's general practitioners. Looked up once per patient per request.
 */
@Component
public class TreatingRelationships {

	private static final String CACHE = TreatingRelationships.class.getName();

	private final DaoRegistry daos;

	public TreatingRelationships(DaoRegistry daos) {
		this.daos = daos;
	}

	public boolean treats(RequestDetails request, String clinician, String patientId) {
		// looked up outside any lock: the entries of a batch ask on several threads at once
		Map<String, Boolean> cache = RequestScoped.cache(request, CACHE);
		String key = clinician + "|" + patientId;
		Boolean known = cache.get(key);
		if (known == null) {
			known = lookUp(clinician, patientId);
			cache.put(key, known);
		}
		return known;
	}

	private boolean lookUp(String clinician, String patientId) {
		SearchParameterMap careTeams = SearchParameterMap.newSynchronous()
				.add(CareTeam.SP_PATIENT, new ReferenceParam("Patient/" + patientId))
				.add(CareTeam.SP_PARTICIPANT, new ReferenceParam(clinician))
				.add(CareTeam.SP_STATUS, new TokenParam("active"));
		careTeams.setLoadSynchronousUpTo(1);
		if (!daos.getResourceDao(CareTeam.class).search(careTeams, new SystemRequestDetails()).isEmpty()) {
			return true;
		}
		try {
			Patient patient = daos.getResourceDao(Patient.class).read(new IdType("Patient", patientId), new SystemRequestDetails());
			return patient.getGeneralPractitioner().stream().anyMatch(gp -> clinician.equals(gp.getReferenceElement().toUnqualifiedVersionless().getValue()));
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			return false;
		}
	}
}
