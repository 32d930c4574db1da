package org.nssifhir.server.support;

import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Reference;

/** A patient's privacy Consent releasing their labelled data to a proxy (RelatedPerson), as the tests record it. */
public final class TestConsents {

	private TestConsents() {}

	/** Releases data carrying {@code labels} (none: every label) to the proxy; tagged as test data. */
	public static Consent releaseTo(String patientId, String relatedPersonId, Coding... labels) {
		Consent consent = new Consent();
		consent.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
		consent.setStatus(Consent.ConsentState.ACTIVE);
		consent.setScope(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy", null)));
		consent.addCategory(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IDSCL", null)));
		consent.setPatient(new Reference("Patient/" + patientId));
		consent.addPolicy().setUri("https://nssi-fhir.org/fhir/policy/adolescent-disclosure");
		Consent.ProvisionComponent provision = consent.getProvision().setType(Consent.ConsentProvisionType.PERMIT);
		for (Coding label : labels) {
			provision.addSecurityLabel(label);
		}
		provision.addActor().setReference(new Reference("RelatedPerson/" + relatedPersonId))
				.setRole(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP", null)));
		return consent;
	}
}
