package org.nssifhir.server.security.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import java.util.List;
import org.hl7.fhir.r4.model.Appointment;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.settings.NssiProperties;

/** Whose record a resource is (primary patient vs. every patient named), and that every HAPI interaction is classified. */
class AccessPolicyTest {

	private final FhirContext fhir = FhirContext.forR4Cached();
	private final AccessPolicy policy = new AccessPolicy(fhir, null, null, null, new NssiProperties.Policy(List.of(), List.of(), List.of(), java.time.Duration.ZERO, List.of()));

	@Test
	void aPractitionerPerformingAnActivityIsNotAnOwnerOfTheRecord() {
		CarePlan plan = new CarePlan();
		plan.setSubject(new Reference("Patient/p1"));
		plan.addContributor(new Reference("Patient/p1"));
		CarePlan.CarePlanActivityDetailComponent contact = plan.addActivity().getDetail();
		contact.addPerformer(new Reference("Practitioner/dr1"));
		contact.addPerformer(new Reference().setDisplay("Crisis line"));
		assertThat(policy.compartmentPatients(plan)).containsExactly("p1");
		assertThat(policy.primaryPatients(plan)).containsExactly("p1");
	}

	@Test
	void aPatientNamedAsPerformerIsInTheCompartmentButNotThePrimaryPatient() {
		Observation obs = new Observation();
		obs.setSubject(new Reference("Patient/p1"));
		obs.addPerformer(new Reference("Patient/p2"));
		obs.addPerformer(new Reference("Practitioner/dr1"));
		assertThat(policy.compartmentPatients(obs)).containsExactlyInAnyOrder("p1", "p2");
		assertThat(policy.primaryPatients(obs)).containsExactly("p1");
		assertThat(policy.isPrimaryPatient(obs, "p2")).isFalse();
		assertThat(policy.isPrimaryPatient(obs, "p1")).isTrue();
	}

	@Test
	void aRecordAboutNoIdentifiedPatientHasNoOwners() {
		Observation obs = new Observation();
		obs.addPerformer(new Reference("Practitioner/dr1"));
		assertThat(policy.compartmentPatients(obs)).isEmpty();
		assertThat(policy.isPrimaryPatient(obs, "p1")).isFalse();
	}

	@Test
	void aTaskIsAboutItsForPatient_AndAnAppointmentHasNoPrimaryPatient() {
		Task task = new Task();
		task.setFor(new Reference("Patient/p1"));
		assertThat(policy.compartmentPatients(task)).containsExactly("p1");
		Appointment appointment = new Appointment();
		appointment.addParticipant().setActor(new Reference("Patient/p1"));
		assertThat(policy.primaryPatients(appointment)).isEmpty();
	}

	/** Who may invite a person to sign in for a patient: a treating clinician in their own name, a backend, an administrator. */
	@Test
	void invitationsAreForTreatingCliniciansBackendsAndAdministrators_neverPatientsOrProxies() {
		org.nssifhir.server.security.consent.TreatingRelationships relationships =
				org.mockito.Mockito.mock(org.nssifhir.server.security.consent.TreatingRelationships.class);
		org.mockito.Mockito.when(relationships.treats(org.mockito.ArgumentMatchers.any(), org.mockito.ArgumentMatchers.eq("Practitioner/dr1"),
				org.mockito.ArgumentMatchers.eq("p1"))).thenReturn(true);
		AccessPolicy withTeam = new AccessPolicy(fhir, relationships, null, null,
				new NssiProperties.Policy(List.of("Practitioner/admin"), List.of(), List.of(), java.time.Duration.ZERO, List.of()));
		assertThat(withTeam.enrolmentRefusal(null, who(RequestIdentity.Kind.CLINICIAN, "Practitioner/dr1", false), "p1")).isEmpty();
		assertThat(withTeam.enrolmentRefusal(null, who(RequestIdentity.Kind.CLINICIAN, "Practitioner/dr1", true), "p1"))
				.as("break-the-glass reads in an emergency; it does not hand out sign-ins").isPresent();
		assertThat(withTeam.enrolmentRefusal(null, who(RequestIdentity.Kind.CLINICIAN, "Practitioner/dr2", false), "p1")).isPresent();
		assertThat(withTeam.enrolmentRefusal(null, who(RequestIdentity.Kind.CLINICIAN, "Practitioner/admin", false), "p1")).isEmpty();
		assertThat(withTeam.enrolmentRefusal(null, who(RequestIdentity.Kind.BACKEND, null, false), "p1")).isEmpty();
		assertThat(withTeam.enrolmentRefusal(null, who(RequestIdentity.Kind.PATIENT, "Patient/p1", false), "p1")).isPresent();
		assertThat(withTeam.enrolmentRefusal(null, who(RequestIdentity.Kind.PROXY, "RelatedPerson/rp1", false), "p1")).isPresent();
		assertThat(withTeam.enrolmentRefusal(null, who(RequestIdentity.Kind.UNKNOWN, null, false), "p1")).isPresent();
	}

	private static RequestIdentity who(RequestIdentity.Kind kind, String fhirUser, boolean breakTheGlass) {
		java.util.Optional<String> user = java.util.Optional.ofNullable(fhirUser);
		org.nssifhir.server.security.SmartAccess access = new org.nssifhir.server.security.SmartAccess(
				List.of(), List.of(), java.util.Optional.empty(), "client", "subject", user, List.of());
		return new RequestIdentity(kind, access, user, java.util.Optional.empty(), "client", breakTheGlass);
	}

	/** HAPI's own list of interactions: each one has a handling (a new one fails to compile, and fails here). */
	@ParameterizedTest
	@EnumSource(RestOperationTypeEnum.class)
	void everyInteractionHapiSupportsIsClassified(RestOperationTypeEnum op) {
		assertThat(AccessPolicyInterceptor.handling(op)).isNotNull();
	}
}
