package org.nssifhir.server.security;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.interceptor.auth.AuthorizedList;
import ca.uhn.fhir.rest.server.interceptor.auth.SearchNarrowingInterceptor;

/**
 * For a token that only has patient-level scopes, adds the patient's compartment to every search, so the
 * database returns that patient's data only (the authorization rules then check each resource again). Without
 * this, a patient app searching {@code Observation?code=…} would be refused rather than answered.
 */
public class SmartSearchNarrowingInterceptor extends SearchNarrowingInterceptor {

	@Override
	protected AuthorizedList buildAuthorizedList(RequestDetails request) {
		return SmartAccess.current()
				.filter(SmartAccess::isPatientLevelOnly)
				.flatMap(SmartAccess::patientId)
				.map(patient -> new AuthorizedList().addCompartment("Patient/" + patient))
				.orElse(null);
	}
}
