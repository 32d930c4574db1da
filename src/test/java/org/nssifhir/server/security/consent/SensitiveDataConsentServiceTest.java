package org.nssifhir.server.security.consent;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

/** Whose record a labelled resource is: only the patients it is about, never the clinicians named in it. */
class SensitiveDataConsentServiceTest {

	private final FhirContext fhir = FhirContext.forR4Cached();

	@Test
	void aPractitionerPerformingAnActivityIsNotAnOwnerOfTheRecord() {
		CarePlan plan = new CarePlan();
		plan.setSubject(new Reference("Patient/p1"));
		plan.addContributor(new Reference("Patient/p1"));
		CarePlan.CarePlanActivityDetailComponent contact = plan.addActivity().getDetail();
		contact.addPerformer(new Reference("Practitioner/dr1"));
		contact.addPerformer(new Reference().setDisplay("Crisis line"));
		assertThat(SensitiveDataConsentService.patientsOf(fhir, plan)).containsExactly("p1");
	}

	@Test
	void everyPatientARecordIsAboutCounts() {
		Observation obs = new Observation();
		obs.setSubject(new Reference("Patient/p1"));
		obs.addPerformer(new Reference("Patient/p2"));
		obs.addPerformer(new Reference("Practitioner/dr1"));
		assertThat(SensitiveDataConsentService.patientsOf(fhir, obs)).containsExactlyInAnyOrder("p1", "p2");
	}

	@Test
	void aRecordAboutNoIdentifiedPatientHasNoOwners() {
		Observation obs = new Observation();
		obs.addPerformer(new Reference("Practitioner/dr1"));
		assertThat(SensitiveDataConsentService.patientsOf(fhir, obs)).isEmpty();
	}
}
