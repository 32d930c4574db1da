package org.nssifhir.server.escalation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.assessment.AssessmentFixtures.CS;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;

/**
 * Safety escalation over HTTP on PostgreSQL: every trigger by every write path raises exactly one Flag and one
 * Task, in the same transaction as the data; clean data raises nothing; closing the Task records who and when.
 */
class EscalationIT extends BaseIT {

	private static final String FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail";

	private List<Flag> flags(IIdType patient) {
		return client().search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> (Flag) e.getResource()).toList();
	}

	private List<Task> tasks(IIdType patient) {
		return client().search().forResource(Task.class).where(Task.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> (Task) e.getResource()).toList();
	}

	private static Date daysAgo(int days) {
		return Date.from(Instant.now().minus(days, ChronoUnit.DAYS));
	}

	private static boolean hasCode(CodeableConcept cc, String code) {
		return cc.getCoding().stream().anyMatch(c -> CS.equals(c.getSystem()) && code.equals(c.getCode()));
	}

	@Test
	void episodeWithIntentUnsure_raisesProfiledSuicideRiskFlagAndUrgentTaskForTheGp_whenNoCareTeam_onCreate() {
		IGenericClient client = client();
		Practitioner gp = new Practitioner();
		gp.addName().setFamily("Synthetic GP");
		IIdType gpId = client.create().resource(gp).execute().getId().toUnqualifiedVersionless();
		IIdType patient = AssessmentFixtures.patient(client);
		Patient p = client.read().resource(Patient.class).withId(patient).execute();
		p.addGeneralPractitioner(new Reference(gpId));
		client.update().resource(p).execute();

		IIdType episode = client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-unsure", null)).execute().getId();

		List<Flag> flags = flags(patient);
		assertThat(flags).hasSize(1);
		Flag flag = flags.get(0);
		assertThat(hasCode(flag.getCode(), "suicide-risk")).isTrue();
		assertThat(flag.getStatus()).isEqualTo(Flag.FlagStatus.ACTIVE);
		assertThat(flag.getMeta().hasProfile(NssiCanonicals.profile("nssi-suicide-risk-flag"))).isTrue();
		assertThat(((Reference) flag.getExtensionByUrl(FLAG_DETAIL).getValue()).getReference())
				.isEqualTo("Observation/" + episode.getIdPart());
		assertThat(flag.getMeta().getSecurity()).extracting(Coding::getCode).contains("HTEST", "R", "BH");

		List<Task> tasks = tasks(patient);
		assertThat(tasks).hasSize(1);
		Task task = tasks.get(0);
		assertThat(task.getPriority()).isEqualTo(Task.TaskPriority.ASAP);
		assertThat(task.getStatus()).isEqualTo(Task.TaskStatus.REQUESTED);
		assertThat(task.getFocus().getReference()).isEqualTo("Flag/" + flag.getIdElement().getIdPart());
		assertThat(task.getOwner().getReference()).isEqualTo(gpId.getValue());
		assertThat(task.getReasonReference().getReference()).isEqualTo("Observation/" + episode.getIdPart());
	}

	@Test
	void aPersonWithNoCareTeamGpOrOrganisation_getsTasksOwnedByTheClinicalTriageQueue() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-present", null)).execute();

		Task task = tasks(patient).get(0);
		assertThat(task.getMeta().hasProfile(NssiCanonicals.profile("nssi-escalation-task"))).isTrue();
		Organization queue = client.read().resource(Organization.class).withId(task.getOwner().getReference()).execute();
		assertThat(queue.getName()).isEqualTo(TriageQueue.NAME);
		assertThat(queue.getIdentifierFirstRep().getSystem()).isEqualTo(TriageQueue.IDENTIFIER_SYSTEM);
		assertThat(queue.getMeta().getTag()).anyMatch(t -> TriageQueue.SYSTEM_MADE_TAG_SYSTEM.equals(t.getSystem()));
		// one queue for every such person: made once (at startup), found by its identifier afterwards
		assertThat(client.search().forResource(Organization.class)
				.where(Organization.IDENTIFIER.exactly().systemAndCode(TriageQueue.IDENTIFIER_SYSTEM, TriageQueue.IDENTIFIER_VALUE))
				.returnBundle(Bundle.class).execute().getEntry()).hasSize(1);

		// the person's own request for support from their app goes to the same queue
		Task request = new Task();
		request.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		request.setStatus(Task.TaskStatus.REQUESTED);
		request.setIntent(Task.TaskIntent.ORDER);
		request.getCode().addCoding(new Coding(CS, "support-request", null));
		request.setFor(new Reference(patient));
		request.setDescription("I need support now");
		Task stored = client.read().resource(Task.class)
				.withId(client.create().resource(request).execute().getId().toUnqualifiedVersionless()).execute();
		assertThat(stored.getOwner().getReference()).isEqualTo(task.getOwner().getReference());

		// an escalation Task without an owner is refused (the profile requires one since 0.7.0)
		Task ownerless = task.copy();
		ownerless.setOwner(null);
		ownerless.setStatus(Task.TaskStatus.RECEIVED);
		try {
			client.update().resource(ownerless).execute();
			org.assertj.core.api.Assertions.fail("an ownerless escalation Task was stored");
		} catch (ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException e) {
			assertThat(e.getStatusCode()).isEqualTo(422);
		}
		// nor one owned by a name alone: no one's work list (nssi-task-2, informaticist review s8, W1)
		Task byName = task.copy();
		byName.setOwner(new Reference().setDisplay("Adolescent team"));
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.update().resource(byName).execute())
				.isInstanceOfSatisfying(ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException.class,
						e -> assertThat(e.getResponseBody()).contains("NSSI-0201").contains("nssi-task-2"));
	}

	@Test
	void updatingTheSameEpisodeAgain_doesNotDuplicateTheAlerts() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		Observation episode = AssessmentFixtures.episode(patient, daysAgo(2), "intent-present", null);
		IIdType id = client.create().resource(episode).execute().getId().toUnqualifiedVersionless();
		episode.setId(id);
		episode.addNote().setText("clinician reviewed");
		client.update().resource(episode).execute();
		client.update().resource(episode).execute();

		assertThat(flags(patient)).hasSize(1);
		assertThat(tasks(patient)).hasSize(1);
	}

	@Test
	void episodeUpdatedToIntentPresent_raisesTheAlertOnUpdate() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		Observation episode = AssessmentFixtures.episode(patient, daysAgo(3), "intent-none", null);
		IIdType id = client.create().resource(episode).execute().getId().toUnqualifiedVersionless();
		assertThat(flags(patient)).isEmpty();

		Observation changed = AssessmentFixtures.episode(patient, daysAgo(3), "intent-present", null);
		changed.setId(id);
		client.update().resource(changed).execute();

		assertThat(flags(patient)).singleElement().satisfies(f -> assertThat(hasCode(f.getCode(), "suicide-risk")).isTrue());
		assertThat(tasks(patient)).hasSize(1);
	}

	@Test
	void episodeInATransaction_raisesTheAlert_andAFailedTransactionRaisesNothing() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);

		Bundle ok = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		ok.addEntry().setFullUrl("urn:uuid:" + java.util.UUID.randomUUID()).setResource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-unsure", null))
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		client.transaction().withBundle(ok).execute();
		assertThat(flags(patient)).hasSize(1);
		assertThat(tasks(patient)).hasSize(1);

		// the same signal in a transaction that fails (an invalid episode: no method) stores no data and no alert
		IIdType other = AssessmentFixtures.patient(client);
		Observation invalid = AssessmentFixtures.episode(other, daysAgo(1), "intent-unsure", null);
		invalid.getComponent().removeIf(c -> hasCode(c.getCode(), "method"));
		Bundle bad = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		bad.addEntry().setResource(AssessmentFixtures.episode(other, daysAgo(1), "intent-present", null))
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		bad.addEntry().setResource(invalid).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		assertFailsWithStatus(422, () -> client.transaction().withBundle(bad).execute());
		assertThat(flags(other)).isEmpty();
		assertThat(tasks(other)).isEmpty();
	}

	@Test
	void responseAndItsItem9ObservationInOneTransaction_raiseOneAlert() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		String responseUrn = "urn:uuid:" + java.util.UUID.randomUUID();
		Observation item9 = new Observation();
		item9.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		item9.setStatus(Observation.ObservationStatus.FINAL);
		item9.getCode().addCoding(new Coding(NssiCanonicals.LOINC, "44260-8", null));
		item9.setSubject(new Reference(patient));
		item9.setValue(new org.hl7.fhir.r4.model.IntegerType(2));
		item9.addDerivedFrom(new Reference(responseUrn));
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		tx.addEntry().setFullUrl(responseUrn).setResource(AssessmentFixtures.phq9(patient, 0, 0, 0, 0, 0, 0, 0, 0, 2))
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("QuestionnaireResponse");
		tx.addEntry().setResource(item9).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		client.transaction().withBundle(tx).execute();

		// both entries show the same event (the response): one Flag, one Task
		assertThat(flags(patient)).hasSize(1);
		assertThat(tasks(patient)).hasSize(1);
	}

	@Test
	void phq9WithItem9AboveZero_raisesSuicideRisk_andItem9ZeroRaisesNothing() {
		IGenericClient client = client();
		IIdType clean = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.phq9(clean, 1, 1, 1, 1, 1, 1, 1, 1, 0)).execute();
		assertThat(flags(clean)).isEmpty();
		assertThat(tasks(clean)).isEmpty();

		IIdType risky = AssessmentFixtures.patient(client);
		IIdType qr = client.create().resource(AssessmentFixtures.phq9(risky, 0, 0, 0, 0, 0, 0, 0, 0, 1)).execute().getId();
		assertThat(flags(risky)).singleElement().satisfies(f -> {
			assertThat(hasCode(f.getCode(), "suicide-risk")).isTrue();
			assertThat(((Reference) f.getExtensionByUrl(FLAG_DETAIL).getValue()).getReference()).isEqualTo("QuestionnaireResponse/" + qr.getIdPart());
		});
		assertThat(tasks(risky)).singleElement().satisfies(t -> assertThat(t.getPriority()).isEqualTo(Task.TaskPriority.ASAP));
	}

	@Test
	void assessmentWithSuicidalIdeation_raisesSuicideRisk_andACleanAssessmentRaisesNothing() {
		IGenericClient client = client();
		IIdType clean = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.assessment(clean, false, "intent-none", 2, List.of(), List.of(), List.of())).execute();
		assertThat(flags(clean)).isEmpty();

		IIdType ideation = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.assessment(ideation, true, "intent-none", 2, List.of(), List.of(), List.of())).execute();
		assertThat(flags(ideation)).singleElement().satisfies(f -> assertThat(hasCode(f.getCode(), "suicide-risk")).isTrue());
		assertThat(tasks(ideation)).hasSize(1);
	}

	@Test
	void episodeNeedingEmergencyCare_raisesAnNssiEscalationFlagAndTask() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-none", "care-emergency")).execute();

		assertThat(flags(patient)).singleElement().satisfies(f -> {
			assertThat(hasCode(f.getCode(), "nssi-escalation")).isTrue();
			assertThat(f.getMeta().hasProfile(NssiCanonicals.profile("nssi-escalation-flag"))).isTrue();
		});
		assertThat(tasks(patient)).singleElement().satisfies(t -> {
			assertThat(t.getPriority()).isEqualTo(Task.TaskPriority.URGENT);
			assertThat(hasCode(t.getCode(), "nssi-escalation")).isTrue();
		});
	}

	@Test
	void riseInEpisodeFrequencyOverTheBaseline_raisesOneNssiEscalation() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		// baseline: one episode in the 84 days before the 28-day window (0.33 per window)
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(60), "intent-none", "care-self")).execute();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(20), "intent-none", "care-self")).execute();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(10), "intent-none", "care-self")).execute();
		assertThat(flags(patient)).as("two episodes in the window: below the minimum of three").isEmpty();

		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-none", "care-self")).execute();
		assertThat(flags(patient)).singleElement().satisfies(f -> {
			assertThat(hasCode(f.getCode(), "nssi-escalation")).isTrue();
			assertThat(f.getIdentifierFirstRep().getValue()).startsWith("nssi-frequency:Patient/" + patient.getIdPart());
		});
		// more episodes while the alert is open do not raise it again
		client.create().resource(AssessmentFixtures.episode(patient, new Date(), "intent-none", "care-self")).execute();
		assertThat(flags(patient)).hasSize(1);
		assertThat(tasks(patient)).hasSize(1);
	}

	@Test
	void steadyEpisodeFrequency_raisesNothing() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		// weekly episodes for four months: the last 28 days are no different from the baseline
		for (int day = 112; day >= 1; day -= 7) {
			client.create().resource(AssessmentFixtures.episode(patient, daysAgo(day), "intent-none", "care-none")).execute();
		}
		assertThat(flags(patient)).isEmpty();
	}

	@Test
	void closingTheTask_recordsWhoAndWhen() {
		IGenericClient client = client();
		Practitioner clinician = new Practitioner();
		clinician.addName().setFamily("Synthetic Clinician");
		IIdType clinicianId = client.create().resource(clinician).execute().getId().toUnqualifiedVersionless();
		IIdType patient = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-present", null)).execute();
		Task task = tasks(patient).get(0);
		// no care team, GP or organisation yet: the clinical triage queue holds it (never nobody)
		String queue = task.getOwner().getReference();
		assertThat(queue).startsWith("Organization/");
		// the Task is restricted data: only a clinician treating the patient may change it (asserted by the EHR)
		org.hl7.fhir.r4.model.CareTeam team = new org.hl7.fhir.r4.model.CareTeam();
		team.setStatus(org.hl7.fhir.r4.model.CareTeam.CareTeamStatus.ACTIVE);
		team.setSubject(new org.hl7.fhir.r4.model.Reference(patient));
		team.addParticipant().setMember(new org.hl7.fhir.r4.model.Reference(clinicianId));
		client.create().resource(team).execute();

		String token = tokens().token().scopes("user/*.cruds").claim("fhirUser", clinicianId.getValue()).sign();
		task.setStatus(Task.TaskStatus.COMPLETED);
		// completing it needs a documented risk assessment (issue 19): here the clinician's Procedure
		org.hl7.fhir.r4.model.Procedure assessed = new org.hl7.fhir.r4.model.Procedure();
		assessed.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		assessed.setStatus(org.hl7.fhir.r4.model.Procedure.ProcedureStatus.COMPLETED);
		assessed.setSubject(new Reference(patient));
		assessed.getCode().addCoding(new Coding(NssiCanonicals.SNOMED, "225337009", "Suicide risk assessment"));
		task.addOutput().setValue(new Reference(client.create().resource(assessed).execute().getId().toUnqualifiedVersionless()))
				.getType().setText("Suicide risk assessment");
		client(token).update().resource(task).execute();

		Task closed = client().read().resource(Task.class).withId(task.getIdElement().toUnqualifiedVersionless()).execute();
		assertThat(closed.getStatus()).isEqualTo(Task.TaskStatus.COMPLETED);
		assertThat(closed.getOwner().getReference()).as("the owner it was routed to stays; the note says who closed it").isEqualTo(queue);
		assertThat(closed.getNoteFirstRep().getAuthorReference().getReference()).isEqualTo(clinicianId.getValue());
		assertThat(closed.getLastModified()).isAfter(task.getLastModified());
		// the event that raised it, written again, does not open a new Task
		assertThat(tasks(patient)).hasSize(1);
	}

	@Test
	void unrelatedResourcesPassThrough() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse other = new QuestionnaireResponse();
		other.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.COMPLETED);
		other.setSubject(new Reference(patient));
		other.addItem().setLinkId("suicidal-ideation").addAnswer().setValue(new org.hl7.fhir.r4.model.BooleanType(true));
		client.create().resource(other).execute();
		assertThat(flags(patient)).isEmpty();
	}
}
