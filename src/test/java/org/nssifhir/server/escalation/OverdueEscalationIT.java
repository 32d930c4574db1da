package org.nssifhir.server.escalation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.support.BaseIT;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Re-escalation of alerts left untouched: a real alert (an episode with suicidal intent, written through the API)
 * whose Task is made overdue through the API, then the scheduled job's method called directly.
 */
class OverdueEscalationIT extends BaseIT {

	@Autowired
	OverdueEscalation overdue;

	@Autowired
	EscalationTaskMigration migration;

	@Autowired
	ca.uhn.fhir.interceptor.api.IInterceptorService interceptors;

	@Autowired
	org.nssifhir.server.conformance.NssiWriteInterceptor profileValidation;

	@Autowired
	ca.uhn.fhir.jpa.api.dao.DaoRegistry daoRegistry;

	@Autowired
	UnknownIntentConditionMigration unknownIntent;

	@Autowired
	EscalationInterceptor escalationInterceptor;

	@Test
	void anAlertTaskStoredBeforeItsProfile_isMigrated_andThenHeldToTheProfileOnEveryUpdate() {
		Task task = alertTask();
		// as stored before package 0.6.0: no due time (written with the profile check off, as the old server did)
		Task old = read(task);
		old.setRestriction(null);
		old.setPriority(Task.TaskPriority.URGENT); // the old server's (inverted) priority for suicide risk
		interceptors.unregisterInterceptor(profileValidation);
		try {
			daoRegistry.getResourceDao(Task.class).update(old, new ca.uhn.fhir.rest.api.server.SystemRequestDetails());
		} finally {
			interceptors.registerInterceptor(profileValidation);
		}
		Task stored = read(task);
		assertThat(stored.getRestriction().getPeriod().hasEnd()).isFalse();
		// before the migration the profile, implied by the Task's code, refuses a client's update of it
		stored.setStatus(Task.TaskStatus.RECEIVED);
		assertFailsWithStatus(422, () -> client().update().resource(stored).execute());

		assertThat(migration.migrate()).isGreaterThanOrEqualTo(1);
		Task migrated = read(task);
		assertThat(migrated.getRestriction().getPeriod().getEnd())
				.isEqualTo(Date.from(migrated.getAuthoredOn().toInstant().plus(EscalationService.PROMPT_DUE)));
		assertThat(migrated.getNoteFirstRep().getText()).contains("package 0.6.0");
		assertThat(migrated.getPriority()).as("suicide risk above urgent, as FHIR ranks them").isEqualTo(Task.TaskPriority.ASAP);
		assertThat(migrated.getMeta().getProfile()).anyMatch(p -> p.getValue().endsWith("/nssi-escalation-task"));
		// idempotent: nothing left to migrate for this Task
		String version = migrated.getMeta().getVersionId();
		migration.migrate();
		assertThat(read(task).getMeta().getVersionId()).isEqualTo(version);

		// a client's update that keeps the profile is taken; one that breaks it (no due time, no priority) is refused
		migrated.setStatus(Task.TaskStatus.RECEIVED);
		client().update().resource(migrated).execute();
		Task broken = read(task);
		broken.setRestriction(null);
		broken.setPriority(null);
		assertFailsWithStatus(422, () -> client().update().resource(broken).execute());
		assertThat(read(task).getRestriction().getPeriod().hasEnd()).isTrue();
	}

	@Test
	void anOverdueTaskNotStarted_isRaisedOnceForEachDuePeriod() throws Exception {
		Task task = alertTask();
		assertThat(task.getPriority()).isEqualTo(Task.TaskPriority.ASAP);
		makeOverdue(task);

		// two nodes (here two threads) running the job at once: the Task is re-escalated once
		ExecutorService pool = Executors.newFixedThreadPool(2);
		try {
			Callable<Integer> run = overdue::reescalateOverdue;
			List<Future<Integer>> runs = pool.invokeAll(List.of(run, run));
			for (Future<Integer> f : runs) {
				f.get();
			}
		} finally {
			pool.shutdown();
		}
		Task raised = read(task);
		assertThat(raised.getPriority()).isEqualTo(Task.TaskPriority.STAT);
		assertThat(raised.getStatus()).isEqualTo(Task.TaskStatus.REQUESTED);
		assertThat(raised.getNote()).hasSize(1);
		assertThat(raised.getNoteFirstRep().getText()).startsWith("Re-escalated: not started by its due time").contains("asap → stat");
		assertThat(raised.getRestriction().getPeriod().getEnd()).isInTheFuture();
		assertThat(raised.getOwner().getReference()).as("still the team it was routed to").isEqualTo(task.getOwner().getReference());

		// the same due period again: nothing more
		overdue.reescalateOverdue();
		assertThat(read(raised).getMeta().getVersionId()).isEqualTo(raised.getMeta().getVersionId());

		// overdue again: stat stays stat, with another note
		makeOverdue(raised);
		overdue.reescalateOverdue();
		Task stat = read(raised);
		assertThat(stat.getPriority()).isEqualTo(Task.TaskPriority.STAT);
		assertThat(stat.getNote()).hasSize(2);
	}

	@Test
	void aRequestForSupportNobodyPicksUp_isChasedLikeAnAlert() {
		IIdType patient = AssessmentFixtures.patient(client());
		Task request = new Task();
		request.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		request.setStatus(Task.TaskStatus.REQUESTED).setIntent(Task.TaskIntent.ORDER).setPriority(Task.TaskPriority.URGENT);
		request.getCode().addCoding().setSystem(org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM).setCode("support-request");
		request.setFor(new org.hl7.fhir.r4.model.Reference(patient)).setRequester(new org.hl7.fhir.r4.model.Reference(patient));
		// the phone cannot postpone it: the server sets the due time (informaticist review s7, H2)
		request.getRestriction().getPeriod().setEnd(Date.from(Instant.now().plus(Duration.ofDays(3650))));
		IIdType id = client().create().resource(request).execute().getId();
		Task stored = client().read().resource(Task.class).withId(id.toUnqualifiedVersionless()).execute();
		assertThat(stored.getRestriction().getPeriod().getEnd()).isInTheFuture()
				.isBefore(Date.from(Instant.now().plus(Duration.ofHours(25))));
		assertThat(stored.hasOwner()).isTrue();

		makeOverdue(stored);
		overdue.reescalateOverdue();
		Task raised = read(stored);
		assertThat(raised.getPriority()).isEqualTo(Task.TaskPriority.ASAP);
		assertThat(raised.getNoteFirstRep().getText()).startsWith("Re-escalated: not started by its due time").contains("urgent → asap");
		assertThat(raised.getRestriction().getPeriod().getEnd()).isInTheFuture();
	}

	@Test
	void aStartedTask_isLeftAlone() {
		Task task = alertTask();
		task.setStatus(Task.TaskStatus.INPROGRESS);
		client().update().resource(task).execute();
		Task started = read(task);
		makeOverdue(started);
		Task before = read(started);

		overdue.reescalateOverdue();

		Task after = read(before);
		assertThat(after.getMeta().getVersionId()).isEqualTo(before.getMeta().getVersionId());
		assertThat(after.getPriority()).isEqualTo(Task.TaskPriority.ASAP);
		assertThat(after.getNote()).isEmpty();
	}

	/** A real alert: an episode with suicidal intent raises a Flag and an urgent Task, owned by the care team. */
	/** Stores the resource as the server before 0.7.0 did, without the profile check it would now fail. */
	private void storeAsBefore(org.hl7.fhir.r4.model.Resource resource) {
		interceptors.unregisterInterceptor(profileValidation);
		try {
			daoRegistry.getResourceDao(resource.fhirType()).update(resource, new ca.uhn.fhir.rest.api.server.SystemRequestDetails());
		} finally {
			interceptors.registerInterceptor(profileValidation);
		}
	}

	@Test
	void ownerlessOpenTasksAndSevereDepressionAlertsCodedSuicideRisk_arePutRightByTheStartupMigration() {
		// an alert for a person with no care team, GP or organisation, stored by 0.6.0 without an owner
		IIdType alone = AssessmentFixtures.patient(client());
		client().create().resource(AssessmentFixtures.episode(alone, Date.from(Instant.now().minus(Duration.ofHours(1))), "intent-present", null)).execute();
		Task ownerless = client().search().forResource(Task.class).where(Task.PATIENT.hasId(alone)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> (Task) e.getResource()).findFirst().orElseThrow();
		String queue = ownerless.getOwner().getReference();
		ownerless.setOwner(null);
		storeAsBefore(ownerless);
		assertThat(read(ownerless).hasOwner()).isFalse();

		// a severe PHQ-9 with item 9 at 0, alerted by 0.6.0 as suicide risk (Flag with the safety category)
		IIdType severe = AssessmentFixtures.patient(client());
		client().create().resource(AssessmentFixtures.phq9(severe, 3, 3, 3, 3, 2, 2, 2, 2, 0)).execute();
		Task depression = client().search().forResource(Task.class).where(Task.PATIENT.hasId(severe)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> (Task) e.getResource()).findFirst().orElseThrow();
		org.hl7.fhir.r4.model.Flag flag = client().read().resource(org.hl7.fhir.r4.model.Flag.class).withId(depression.getFocus().getReference()).execute();
		String cs = org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;
		depression.getCode().getCodingFirstRep().setCode("suicide-risk").setDisplay("Suicide risk");
		storeAsBefore(depression);
		flag.getCode().getCodingFirstRep().setCode("suicide-risk").setDisplay("Suicide risk");
		flag.addCategory().addCoding(new org.hl7.fhir.r4.model.Coding(EscalationService.FLAG_CATEGORY, "safety", "Safety"));
		storeAsBefore(flag);

		assertThat(migration.migrate()).isGreaterThanOrEqualTo(2);
		Task owned = read(ownerless);
		assertThat(owned.getOwner().getReference()).as("the clinical triage queue").isEqualTo(queue);
		assertThat(owned.getNote()).anySatisfy(n -> assertThat(n.getText()).contains("Owner added"));
		Task recoded = read(depression);
		assertThat(recoded.getCode().getCoding()).extracting(c -> c.getSystem() + "#" + c.getCode()).containsExactly(cs + "#severe-depression-score");
		assertThat(recoded.getPriority()).isEqualTo(Task.TaskPriority.URGENT);
		org.hl7.fhir.r4.model.Flag recodedFlag = client().read().resource(org.hl7.fhir.r4.model.Flag.class).withId(flag.getIdElement().toUnqualifiedVersionless()).execute();
		assertThat(recodedFlag.getCode().getCoding()).extracting(c -> c.getCode()).containsExactly("severe-depression-score");
		assertThat(recodedFlag.getCategory()).flatExtracting(org.hl7.fhir.r4.model.CodeableConcept::getCoding).extracting(c -> c.getCode()).containsExactly("clinical");
		assertThat(recodedFlag.getStatus()).isEqualTo(org.hl7.fhir.r4.model.Flag.FlagStatus.ACTIVE);
		// idempotent
		String version = recoded.getMeta().getVersionId();
		migration.migrate();
		assertThat(read(depression).getMeta().getVersionId()).isEqualTo(version);
	}

	/**
	 * Package 0.8.0 (informaticist review s8, H3): a Condition stored by 0.7.0 with only an intent-neutral SNOMED CT
	 * self-harm concept was an NSSI diagnosis and raised nothing; the startup migration gives it the suicide-risk alert
	 * of an unrecorded intent, once, and none to one that states the intent (R45.88).
	 */
	@Test
	void aStoredSnomedOnlySelfHarmCondition_getsTheUnknownIntentAlertAtStartup_once() {
		IIdType patient = AssessmentFixtures.patient(client());
		org.hl7.fhir.r4.model.Condition unknown = selfHarmCondition(patient, "c-unknown-" + patient.getIdPart());
		org.hl7.fhir.r4.model.Condition nssi = selfHarmCondition(patient, "c-nssi-" + patient.getIdPart());
		nssi.getCode().addCoding(new org.hl7.fhir.r4.model.Coding(org.nssifhir.server.conformance.NssiCanonicals.ICD10CM, "R45.88", null));
		// as 0.7.0 stored them: no alert for either
		interceptors.unregisterInterceptor(escalationInterceptor);
		try {
			daoRegistry.getResourceDao(org.hl7.fhir.r4.model.Condition.class).update(unknown, new ca.uhn.fhir.rest.api.server.SystemRequestDetails());
			daoRegistry.getResourceDao(org.hl7.fhir.r4.model.Condition.class).update(nssi, new ca.uhn.fhir.rest.api.server.SystemRequestDetails());
		} finally {
			interceptors.registerInterceptor(escalationInterceptor);
		}
		assertThat(flags(patient)).isEmpty();

		unknownIntent.migrate();
		unknownIntent.migrate();

		assertThat(flags(patient)).singleElement().satisfies(f -> {
			assertThat(f.getCode().getCoding()).anySatisfy(c -> assertThat(c.getCode()).isEqualTo("suicide-risk"));
			assertThat(((org.hl7.fhir.r4.model.Reference) f.getExtensionByUrl("http://hl7.org/fhir/StructureDefinition/flag-detail").getValue())
					.getReference()).isEqualTo("Condition/" + unknown.getIdElement().getIdPart());
		});
		assertThat(client().search().forResource(Task.class).where(Task.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntry())
				.extracting(e -> (Task) e.getResource())
				.filteredOn(t -> t.getCode().getCoding().stream().anyMatch(c -> "suicide-risk".equals(c.getCode())))
				.singleElement().satisfies(t -> assertThat(t.getPriority()).isEqualTo(Task.TaskPriority.ASAP));
	}

	private static org.hl7.fhir.r4.model.Condition selfHarmCondition(IIdType patient, String id) {
		org.hl7.fhir.r4.model.Condition c = new org.hl7.fhir.r4.model.Condition();
		c.setId("Condition/" + id);
		c.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		c.setClinicalStatus(new org.hl7.fhir.r4.model.CodeableConcept(
				new org.hl7.fhir.r4.model.Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", null)));
		c.addCategory().addCoding(new org.hl7.fhir.r4.model.Coding("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", null));
		c.getCode().addCoding(new org.hl7.fhir.r4.model.Coding(org.nssifhir.server.conformance.NssiCanonicals.SNOMED, "276853009", "Self inflicted injury"));
		c.setSubject(new org.hl7.fhir.r4.model.Reference(patient));
		return c;
	}

	private List<org.hl7.fhir.r4.model.Flag> flags(IIdType patient) {
		return client().search().forResource(org.hl7.fhir.r4.model.Flag.class).where(org.hl7.fhir.r4.model.Flag.PATIENT.hasId(patient))
				.returnBundle(Bundle.class).execute().getEntry().stream().map(e -> (org.hl7.fhir.r4.model.Flag) e.getResource()).toList();
	}

	private Task alertTask() {
		IIdType patient = AssessmentFixtures.patient(client());
		org.hl7.fhir.r4.model.CareTeam team = new org.hl7.fhir.r4.model.CareTeam();
		team.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		team.setStatus(org.hl7.fhir.r4.model.CareTeam.CareTeamStatus.ACTIVE);
		team.setSubject(new org.hl7.fhir.r4.model.Reference(patient));
		client().create().resource(team).execute();
		client().create().resource(AssessmentFixtures.episode(patient, Date.from(Instant.now().minus(Duration.ofHours(1))), "intent-present", null)).execute();
		List<Task> tasks = client().search().forResource(Task.class).where(Task.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> (Task) e.getResource()).toList();
		assertThat(tasks).hasSize(1);
		assertThat(tasks.get(0).getOwner().getReference()).startsWith("CareTeam/");
		return tasks.get(0);
	}

	/** Through the API, as a clinician's system would: the due period ended an hour ago. */
	private void makeOverdue(Task task) {
		Task t = read(task);
		t.getRestriction().getPeriod().setStart(Date.from(Instant.now().minus(Duration.ofHours(25))))
				.setEnd(Date.from(Instant.now().minus(Duration.ofHours(1))));
		client().update().resource(t).execute();
	}

	private Task read(Task task) {
		return client().read().resource(Task.class).withId(task.getIdElement().toUnqualifiedVersionless()).execute();
	}
}
