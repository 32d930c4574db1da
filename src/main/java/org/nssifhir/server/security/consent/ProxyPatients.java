package org.nssifhir.server.security.consent;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirResourceDao;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.Optional;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.springframework.stereotype.Component;

/**
 * Whether a patient or proxy user still stands where their sign-in put them: the patient of a proxy's (active)
 * {@code RelatedPerson}, and whether a Patient record is active. Asked at every token (sign-in, refresh) and, for
 * proxies, at every FHIR request ({@code security.policy.AccessPolicyInterceptor}): a clinician ends a proxy's
 * access by setting the RelatedPerson inactive or deleting it, and that must not wait for the token to expire.
 */
@Component
public class ProxyPatients {

	private final DaoRegistry daos;

	public ProxyPatients(DaoRegistry daos) {
		this.daos = daos;
	}

	/** The patient an active RelatedPerson acts for; empty when it is inactive, deleted, missing or not a RelatedPerson. */
	public Optional<String> patientOf(String relatedPersonReference) {
		if (!relatedPersonReference.startsWith("RelatedPerson/")) {
			return Optional.empty();
		}
		IFhirResourceDao<RelatedPerson> dao = daos.getResourceDao(RelatedPerson.class);
		try {
			RelatedPerson person = dao.read(new IdType(relatedPersonReference).toUnqualifiedVersionless(), new SystemRequestDetails());
			if (person.hasActive() && !person.getActive()) {
				return Optional.empty();
			}
			return Optional.ofNullable(person.getPatient().getReferenceElement().getIdPart());
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			return Optional.empty();
		}
	}

	/**
	 * Whether a Patient record exists and is not marked {@code active: false} (a record closed as a duplicate or
	 * merged into another one: its person signs in through the record that remains).
	 */
	public boolean patientRecordActive(String patientId) {
		try {
			Patient patient = daos.getResourceDao(Patient.class).read(new IdType("Patient", patientId), new SystemRequestDetails());
			return !patient.hasActive() || patient.getActive();
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			return false;
		}
	}
}
