package org.nssifhir.server.security.issuing;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The FHIR resources behind the development sign-ins (embedded default only): Practitioner/dev-clinician, a
 * synthetic adolescent Patient/dev-patient and her parent RelatedPerson/dev-proxy. Created once if missing, tagged
 * as test data; no care relationship or consent is created, so the refusals can be tried as well as the grants.
 */
@Component
public class DevUserRecords {

	private static final String ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

	private final DevClient devClient;
	private final DaoRegistry daos;

	public DevUserRecords(DevClient devClient, DaoRegistry daos) {
		this.devClient = devClient;
		this.daos = daos;
	}

	@EventListener(ApplicationReadyEvent.class)
	public void createIfMissing() {
		if (!devClient.active()) {
			return;
		}
		Practitioner clinician = new Practitioner();
		clinician.addName().setFamily("Development").addGiven("Clinician");
		ensure(DevClient.FHIR_USER, clinician);
		Patient patient = new Patient();
		patient.addName().setFamily("Development").addGiven("Sam");
		patient.setBirthDateElement(new DateType("2011-06-01"));
		ensure(DevClient.PATIENT_FHIR_USER, patient);
		RelatedPerson parent = new RelatedPerson();
		parent.setPatient(new Reference(DevClient.PATIENT_FHIR_USER));
		parent.addName().setFamily("Development").addGiven("Parent");
		ensure(DevClient.PROXY_FHIR_USER, parent);
	}

	private void ensure(String reference, Resource resource) {
		IdType id = new IdType(reference);
		var dao = daos.getResourceDao(id.getResourceType());
		try {
			dao.read(id, new SystemRequestDetails());
		} catch (ResourceNotFoundException | ResourceGoneException missing) {
			resource.setId(id);
			resource.getMeta().addSecurity(ACT_REASON, "HTEST", "test health data");
			dao.update(resource, new SystemRequestDetails());
		}
	}
}
