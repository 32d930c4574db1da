package org.nssifhir.server.relabel;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.batch2.api.IJobCoordinator;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.gclient.ReferenceClientParam;
import ca.uhn.fhir.rest.gclient.TokenClientParam;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.escalation.EscalationInterceptor;
import org.nssifhir.server.labeling.SecurityLabelingInterceptor;
import org.nssifhir.server.labeling.SecurityLabelingService;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.SecurityLabels;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Relabelling stored data ({@code $nssi-relabel}): resources stored before the labelling and escalation rules (seeded
 * here through the DAO with the labelling and escalation hooks unregistered, which is how such data looks: no labels,
 * no rule tags, no alerts) get R, BH, ADOL and their rule tags as a new version; each risk signal raises exactly one
 * Flag and one Task, including a signal that had already raised its alert and a second run of the job; resources no
 * rule matches are left at their version; the job is audited at kick-off and at completion; and only a backend
 * client may start it or read its status.
 */
class RelabelIT extends BaseIT {

	private static final String ICD = "http://hl7.org/fhir/sid/icd-10-cm";
	private static final String SNOMED = "http://snomed.info/sct";
	private static final String LOINC = "http://loinc.org";
	private static final String HTEST = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

	@Autowired
	private DaoRegistry daoRegistry;

	@Autowired
	private IInterceptorService interceptors;

	@Autowired
	private SecurityLabelingInterceptor labelingInterceptor;

	@Autowired
	private EscalationInterceptor escalationInterceptor;

	@Autowired
	private RelabelService relabelService;

	@Autowired
	private IJobCoordinator jobCoordinator;

	@Autowired
	private JdbcTemplate jdbc;

	private static <T extends Resource> T tagged(T r) {
		r.getMeta().addSecurity(HTEST, "HTEST", null);
		return r;
	}

	private static Condition condition(IIdType patient, Coding code) {
		Condition c = tagged(new Condition());
		c.setSubject(new Reference(patient));
		c.getClinicalStatus().addCoding(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", null));
		c.getCode().addCoding(code);
		c.setRecordedDate(new java.util.Date());
		return c;
	}

	private static Observation phq9Item9(IIdType patient, int score) {
		Observation o = tagged(new Observation());
		o.setStatus(Observation.ObservationStatus.FINAL);
		o.getCode().addCoding(new Coding(LOINC, "44260-8", null));
		o.setSubject(new Reference(patient));
		o.setEffective(DateTimeType.now());
		o.setValue(new IntegerType(score));
		return o;
	}

	/** Stores the resources as data written before the rules: no labelling hook, no escalation hook. */
	private List<IIdType> storeWithoutRules(Resource... resources) {
		List<IIdType> ids = new ArrayList<>();
		interceptors.unregisterInterceptor(labelingInterceptor);
		interceptors.unregisterInterceptor(escalationInterceptor);
		try {
			for (Resource r : resources) {
				@SuppressWarnings("unchecked")
				var dao = (ca.uhn.fhir.jpa.api.dao.IFhirResourceDao<Resource>) daoRegistry.getResourceDao(r.fhirType());
				ids.add(dao.create(r, new SystemRequestDetails()).getId().toUnqualifiedVersionless());
			}
		} finally {
			interceptors.registerInterceptor(labelingInterceptor);
			interceptors.registerInterceptor(escalationInterceptor);
		}
		return ids;
	}

	private Resource read(IIdType id) {
		return (Resource) client().read().resource(id.getResourceType()).withId(id.getIdPart()).execute();
	}

	private static boolean safeguardingReview(Task t) {
		return t.getCode().getCoding().stream()
				.anyMatch(c -> NssiCanonicals.CONCEPTS_SYSTEM.equals(c.getSystem()) && "safeguarding-review".equals(c.getCode()));
	}

	private static List<String> labels(Resource r) {
		List<String> out = new ArrayList<>();
		r.getMeta().getSecurity().forEach(c -> out.add(c.getSystem() + "|" + c.getCode()));
		r.getMeta().getTag().stream().filter(t -> SecurityLabelingService.RULE_SYSTEM.equals(t.getSystem()))
				.forEach(t -> out.add("rule|" + t.getCode()));
		return out;
	}

	private Parameters start(IGenericClient client, List<String> urls) {
		Parameters in = new Parameters();
		urls.forEach(u -> in.addParameter("url", new StringType(u)));
		return client.operation().onServer().named(RelabelService.OPERATION).withParameters(in).execute();
	}

	private static final Pattern RUNNING = Pattern.compile("Relabelling job (\\S+) has not finished");

	/** Starts a job; if another one (the startup run, another test) is unfinished, waits for it first. */
	private String startWhenFree(List<String> urls) throws InterruptedException {
		Instant deadline = Instant.now().plus(Duration.ofMinutes(5));
		while (true) {
			try {
				return value(start(client(), urls), "jobId");
			} catch (BaseServerResponseException e) {
				Matcher running = RUNNING.matcher(String.valueOf(e.getMessage()));
				assertThat(e.getStatusCode()).as(e.getMessage()).isEqualTo(409);
				assertThat(running.find()).isTrue();
				awaitEnded(running.group(1), deadline);
			}
		}
	}

	private Parameters status(IGenericClient client, String jobId) {
		return client.operation().onServer().named(RelabelService.STATUS_OPERATION)
				.withParameter(Parameters.class, "jobId", new StringType(jobId)).useHttpGet().execute();
	}

	private Parameters awaitEnded(String jobId, Instant deadline) throws InterruptedException {
		while (true) {
			Parameters status = status(client(), jobId);
			String state = value(status, "status");
			if (List.of("COMPLETED", "FAILED", "CANCELLED").contains(state)) {
				return status;
			}
			assertThat(Instant.now()).as("relabelling job " + jobId + " still " + state).isBefore(deadline);
			Thread.sleep(500);
		}
	}

	private static String value(Parameters p, String name) {
		return p.getParameter().stream().filter(x -> name.equals(x.getName())).findFirst()
				.map(x -> x.getValue().primitiveValue()).orElse(null);
	}

	private <T extends Resource> List<T> forPatient(Class<T> type, IIdType patient) {
		return client().search().forResource(type).where(new ReferenceClientParam("patient").hasId(patient.getIdPart()))
				.returnBundle(Bundle.class).execute().getEntry().stream().map(e -> type.cast(e.getResource())).toList();
	}

	@Test
	void relabel_labelsWhatWasStoredBeforeTheRules_raisesEachAlertOnce_andChangesNothingTheSecondTime() throws Exception {
		// the run at startup (a new database: no rules applied yet) would relabel what this test seeds: let it finish
		java.util.Optional<String> startupRun = relabelService.unfinishedJobId();
		if (startupRun.isPresent()) {
			awaitEnded(startupRun.get(), Instant.now().plus(Duration.ofMinutes(5)));
		}
		IGenericClient client = client();
		Patient teen = tagged(new Patient());
		teen.setBirthDateElement(new DateType(LocalDate.now(ZoneOffset.UTC).minusYears(15).minusDays(20).toString()));
		IIdType patient = client.create().resource(teen).execute().getId().toUnqualifiedVersionless();

		// written under the rules: labelled, and its alert raised (the job must not raise it again)
		IIdType attempt = client.create().resource(condition(patient, new Coding(ICD, "T14.91XA", "Suicide attempt, initial encounter")))
				.execute().getId().toUnqualifiedVersionless();
		assertThat(forPatient(Flag.class, patient)).hasSize(1);

		// stored before the rules: no labels, no alerts
		Condition ideation = condition(patient, new Coding(ICD, "R45.851", "Suicidal ideations"));
		Observation item9 = phq9Item9(patient, 2);
		Condition nssi = condition(patient, new Coding(ICD, "R45.88", null));
		nssi.getMeta().addSecurity(SecurityLabels.CONFIDENTIALITY_SYSTEM, "N", null); // an integration engine's N
		Observation behaviour = tagged(new Observation());
		behaviour.setStatus(Observation.ObservationStatus.FINAL);
		behaviour.getCode().addCoding(new Coding(SNOMED, "248062006", "Self-injurious behavior"));
		behaviour.setSubject(new Reference(patient));
		Observation plain = tagged(new Observation());
		plain.setStatus(Observation.ObservationStatus.FINAL);
		plain.getCode().setText("Body temperature");
		plain.setSubject(new Reference(patient));
		List<IIdType> seeded = storeWithoutRules(ideation, item9, nssi, behaviour, plain);
		IIdType ideationId = seeded.get(0);
		MedicationRequest order = tagged(new MedicationRequest());
		order.setStatus(MedicationRequest.MedicationRequestStatus.ACTIVE);
		order.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
		order.getMedicationCodeableConcept().setText("sertraline 25 mg tablet");
		order.setSubject(new Reference(patient));
		order.addReasonReference(new Reference(ideationId));
		IIdType orderId = storeWithoutRules(order).get(0);
		for (IIdType id : seeded) {
			assertThat(labels(read(id))).as("seeded without rules: " + id).noneMatch(l -> l.startsWith("rule|")
					|| l.equals(SecurityLabels.CONFIDENTIALITY_SYSTEM + "|R"));
		}
		assertThat(forPatient(Flag.class, patient)).hasSize(1);

		// a user token, even one that may write everything it may see, is refused; so is a read-only backend
		Practitioner clinician = tagged(new Practitioner());
		clinician.addName().setFamily("Relabel");
		String clinicianId = client.create().resource(clinician).execute().getId().getIdPart();
		String user = tokens().token().scopes("user/*.cruds").claim("fhirUser", fhirBase() + "/Practitioner/" + clinicianId).sign();
		assertFailsWithStatus(403, () -> start(client(user), List.of()));
		assertFailsWithStatus(403, () -> status(client(user), "any"));
		assertFailsWithStatus(403, () -> start(client(tokens().system("system/*.rs")), List.of()));
		assertFailsWithStatus(404, () -> status(client(), "no-such-job"));
		assertFailsWithStatus(400, () -> start(client(), List.of("AuditEvent?")));

		// this patient's records only (the shared test database holds every other test's data too)
		List<String> urls = List.of("Observation?subject=Patient/" + patient.getIdPart(), "Condition?subject=Patient/" + patient.getIdPart(),
				"MedicationRequest?subject=Patient/" + patient.getIdPart(), "Flag?subject=Patient/" + patient.getIdPart(),
				"Task?patient=Patient/" + patient.getIdPart());
		String job = startWhenFree(urls);
		Parameters done = awaitEnded(job, Instant.now().plus(Duration.ofMinutes(3)));
		assertThat(value(done, "status")).isEqualTo("COMPLETED");
		assertThat(value(done, "reason")).isEqualTo("operation");
		// ideation, item 9, NSSI, behaviour, order: relabelled; the attempt, its Flag and Task, the plain one: unchanged
		assertThat(value(done, "resourcesRelabelled")).isEqualTo("5");
		assertThat(value(done, "resourcesFailed")).isEqualTo("0");
		assertThat(Integer.parseInt(value(done, "resourcesExamined"))).isGreaterThanOrEqualTo(9);

		for (IIdType id : List.of(ideationId, seeded.get(1), seeded.get(2), seeded.get(3), orderId)) {
			Resource r = read(id);
			assertThat(labels(r)).as(id.getValue()).contains(SecurityLabels.CONFIDENTIALITY_SYSTEM + "|R",
					SecurityLabels.ACT_CODE_SYSTEM + "|BH", SecurityLabels.ACT_CODE_SYSTEM + "|ADOL", "rule|" + SecurityLabelingService.RULE_ADOLESCENT);
			assertThat(labels(r)).as(id.getValue()).filteredOn(l -> l.startsWith(SecurityLabels.CONFIDENTIALITY_SYSTEM)).hasSize(1);
			assertThat(r.getMeta().getVersionId()).as("relabelled as a new version: " + id).isEqualTo("2");
		}
		assertThat(labels(read(ideationId))).contains("rule|self-harm-suicidality");
		assertThat(labels(read(orderId))).contains("rule|" + SecurityLabelingService.RULE_REFERENCE);
		Resource plainNow = read(seeded.get(4));
		assertThat(plainNow.getMeta().getVersionId()).isEqualTo("1");
		assertThat(labels(plainNow)).noneMatch(l -> l.startsWith("rule|"));
		assertThat(read(attempt).getMeta().getVersionId()).isEqualTo("1");

		// one Flag and one Task per signal: the attempt (raised on write), ideation, item 9 and the SNOMED-only self-harm
		// Observation with no intent recorded (raised by the job)
		List<Flag> flags = forPatient(Flag.class, patient);
		List<Task> tasks = forPatient(Task.class, patient);
		List<String> evidence = flags.stream().map(f -> ((Reference) f.getExtensionByUrl(
				"http://hl7.org/fhir/StructureDefinition/flag-detail").getValue()).getReference()).toList();
		assertThat(evidence).containsExactlyInAnyOrder(attempt.getValue(), ideationId.getValue(), seeded.get(1).getValue(), seeded.get(3).getValue());
		// four alert Tasks and the one safeguarding review the 15-year-old's alerts share (issue 19, item 8)
		assertThat(tasks).hasSize(5);
		assertThat(tasks).filteredOn(RelabelIT::safeguardingReview).hasSize(1);
		tasks.forEach(t -> assertThat(labels(t)).contains(SecurityLabels.CONFIDENTIALITY_SYSTEM + "|R", SecurityLabels.ACT_CODE_SYSTEM + "|ADOL"));

		// a second run: nothing to change, nothing raised again
		String again = startWhenFree(urls);
		Parameters second = awaitEnded(again, Instant.now().plus(Duration.ofMinutes(3)));
		assertThat(value(second, "status")).isEqualTo("COMPLETED");
		assertThat(value(second, "resourcesRelabelled")).isEqualTo("0");
		assertThat(forPatient(Flag.class, patient)).hasSize(4);
		assertThat(forPatient(Task.class, patient)).hasSize(5);

		// audited: the kick-off (by this client) and the completion, each naming the job
		awaitAuditTrail();
		Instant auditDeadline = Instant.now().plus(Duration.ofSeconds(30));
		List<AuditEvent> events;
		do {
			events = client.search().forResource(AuditEvent.class)
					.where(new TokenClientParam("_tag").exactly().systemAndCode(RelabelService.AUDIT_TAG_SYSTEM, RelabelService.AUDIT_TAG))
					.count(100).returnBundle(Bundle.class).execute().getEntry().stream()
					.map(e -> (AuditEvent) e.getResource())
					.filter(e -> e.getEntity().stream().anyMatch(x -> job.equals(x.getWhat().getIdentifier().getValue())))
					.toList();
			if (events.size() >= 2) {
				break;
			}
			Thread.sleep(500);
			awaitAuditTrail();
		} while (Instant.now().isBefore(auditDeadline));
		assertThat(events).extracting(AuditEvent::getOutcomeDesc)
				.anySatisfy(d -> assertThat(d).startsWith("relabelling started (operation)"))
				.anySatisfy(d -> assertThat(d).startsWith("relabelling completed: 5 relabelled"));
	}

	@Test
	void anAutomaticRunThatFailed_isStartedAgainAtTheNextStartup_aFinishedOneIsNot() throws Exception {
		Instant deadline = Instant.now().plus(Duration.ofMinutes(5));
		String recorded = jdbc.queryForObject("SELECT job_id FROM nssi_relabel_state WHERE id = 1", String.class);
		// a job limited to some searches: it must not stand in for the run over everything
		String limited = startWhenFree(List.of("Observation?_id=" + unique("none")));
		assertThat(value(awaitEnded(limited, deadline), "status")).isEqualTo("COMPLETED");
		assertThat(jdbc.queryForObject("SELECT job_id FROM nssi_relabel_state WHERE id = 1", String.class)).isEqualTo(recorded);
		try {
			// as if it were the automatic run for the current rules: finished, so nothing to do at the next start
			jdbc.update("UPDATE nssi_relabel_state SET job_id = ? WHERE id = 1", limited);
			assertThat(relabelService.startIfRulesChanged()).isEmpty();

			// the same run failed: the next start runs it again, says why, and records the new job
			jdbc.update("UPDATE bt2_job_instance SET stat = 'FAILED' WHERE id = ?", limited);
			String retry = relabelService.startIfRulesChanged().orElseThrow(() -> new AssertionError("no retry after a failed run"));
			assertThat(retry).isNotEqualTo(limited);
			assertThat(value(status(client(), retry), "reason")).isEqualTo(RelabelService.REASON_RETRY);
			assertThat(jdbc.queryForObject("SELECT job_id FROM nssi_relabel_state WHERE id = 1", String.class)).isEqualTo(retry);
			assertThat(relabelService.startIfRulesChanged()).as("the retry is running: not started twice").isEmpty();
			// the retry covers every stored resource: stop it here, the other tests relabel what they need
			jobCoordinator.cancelInstance(retry);
			awaitEnded(retry, deadline);
		} finally {
			jdbc.update("UPDATE nssi_relabel_state SET job_id = ? WHERE id = 1", recorded);
		}
	}
}
