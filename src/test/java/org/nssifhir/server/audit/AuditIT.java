package org.nssifhir.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;

/** Every access leaves an AuditEvent, refusals included, and nobody can change the audit trail through the API. */
class AuditIT extends BaseIT {

	@org.springframework.beans.factory.annotation.Autowired
	private javax.sql.DataSource dataSource;

	@org.springframework.beans.factory.annotation.Autowired
	private org.springframework.transaction.PlatformTransactionManager transactionManager;

	@org.springframework.beans.factory.annotation.Autowired
	private AuditEventWriter auditEventWriter;

	@org.springframework.beans.factory.annotation.Autowired
	private AuditOutboxDrain auditDrain;

	private IIdType observationOfNewPatient() {
		IGenericClient admin = client();
		Patient p = new Patient();
		p.addName().setFamily("Audited");
		IIdType patient = admin.create().resource(p).execute().getId().toUnqualifiedVersionless();
		Observation o = new Observation();
		o.setStatus(Observation.ObservationStatus.FINAL);
		o.getCode().addCoding().setSystem("urn:example:test").setCode("audit");
		o.setSubject(new Reference(patient));
		o.setValue(new StringType("v"));
		return admin.create().resource(o).execute().getId().toUnqualifiedVersionless();
	}

	private Bundle audits(String query) {
		awaitAuditTrail();
		return client().search().byUrl("AuditEvent?" + query).returnBundle(Bundle.class).execute();
	}

	private int refusals(String kind) {
		awaitAuditTrail();
		return client().search().byUrl("AuditEvent?_tag=urn:nssi-fhir:audit|refused-" + kind + "&_summary=count")
				.returnBundle(Bundle.class).execute().getTotal();
	}

	@Test
	void aReadIsAuditedWithWhoAndWhat() {
		IIdType obs = observationOfNewPatient();
		client(tokens().token().scopes("system/Observation.rs").claim("client_id", "audit-reader").sign())
				.read().resource(Observation.class).withId(obs).execute();
		Bundle found = audits("entity=" + obs.getValue());
		assertThat(found.getEntry()).isNotEmpty();
		assertThat(found.getEntry()).anySatisfy(e -> {
			AuditEvent event = (AuditEvent) e.getResource();
			assertThat(event.getAgent()).anySatisfy(a -> assertThat(a.getWho().getIdentifier().getValue()).isEqualTo("audit-reader"));
			assertThat(event.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._0);
		});
	}

	@Test
	void aSearchIsAuditedForThePatient() {
		IIdType obs = observationOfNewPatient();
		String patient = client().read().resource(Observation.class).withId(obs).execute().getSubject().getReference();
		int before = audits("patient=" + patient).getEntry().size();
		client().search().byUrl("Observation?subject=" + patient).returnBundle(Bundle.class).execute();
		assertThat(audits("patient=" + patient).getEntry().size()).isGreaterThan(before);
	}

	@Test
	void failedAuthenticationAndRefusedRequestsAreAudited() throws Exception {
		IIdType obs = observationOfNewPatient();
		int unauthenticated = refusals("authentication");
		HttpResponse<Void> noToken = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Observation/" + obs.getIdPart())).build(),
				HttpResponse.BodyHandlers.discarding());
		assertThat(noToken.statusCode()).isEqualTo(401);
		assertThat(refusals("authentication")).isEqualTo(unauthenticated + 1);

		int refused = refusals("authorization");
		assertThatThrownBy(() -> client(tokens().system("system/Patient.rs")).read().resource(Observation.class).withId(obs).execute())
				.isInstanceOf(ForbiddenOperationException.class);
		assertThat(refusals("authorization")).isEqualTo(refused + 1);
	}

	@Test
	void anAccessIsRecordedDurablyBeforeItsResponse_andBecomesAnAuditEventWithoutBeingAsked() throws Exception {
		IIdType obs = observationOfNewPatient();
		awaitAuditTrail();
		int before = audits("entity=" + obs.getValue()).getEntry().size();

		client().read().resource(Observation.class).withId(obs).execute();
		// the moment the response is in: the read's record is committed, still in the outbox or already stored (one
		// statement, one snapshot, so a drain committing in between cannot hide it)
		String names = "\"reference\":\"" + obs.getValue() + "(/_history/[0-9]+)?\"";
		Long recorded = jdbc().queryForObject("select (select count(*) from nssi_audit_outbox where event ~ ?)"
				+ " + (select count(*) from hfj_res_ver v join hfj_resource r on r.res_id = v.res_id"
				+ " where r.res_type = 'AuditEvent' and v.res_text_vc ~ ?)", Long.class, names, names);
		assertThat(recorded).isEqualTo(before + 1L);

		// and the background drain makes it searchable by itself, soon
		java.time.Instant deadline = java.time.Instant.now().plusSeconds(10);
		int now;
		do {
			Thread.sleep(50);
			now = client().search().byUrl("AuditEvent?entity=" + obs.getValue()).returnBundle(Bundle.class).execute().getEntry().size();
		} while (now == before && java.time.Instant.now().isBefore(deadline));
		assertThat(now).isEqualTo(before + 1);
	}

	@Test
	void theRecordOfADeletionIsStored_namingWhatWasDeleted() {
		IIdType obs = observationOfNewPatient();
		String patient = client().read().resource(Observation.class).withId(obs).execute().getSubject().getReference();
		client().delete().resourceById(obs).execute();
		Bundle deletions = audits("patient=" + patient + "&action=D");
		assertThat(deletions.getEntry()).singleElement().satisfies(e -> assertThat(((AuditEvent) e.getResource()).getEntity())
				.anySatisfy(entity -> assertThat(entity.getWhat().getReference()).isEqualTo(SmartAuditContext.DELETED_PREFIX + obs.getValue())));
	}

	@Test
	void aRecordNamingWhatNoLongerExistsIsStoredWithThatNameKeptAsAnIdentifier() {
		IIdType obs = observationOfNewPatient();
		String patient = client().read().resource(Observation.class).withId(obs).execute().getSubject().getReference();
		String gone = "Observation/" + unique("gone");
		AuditEvent event = new AuditEvent();
		event.getType().setSystem("http://dicom.nema.org/resources/ontology/DCM").setCode("110110");
		event.setAction(AuditEvent.AuditEventAction.R).setRecorded(new java.util.Date()).setOutcome(AuditEvent.AuditEventOutcome._0);
		event.getSource().setObserver(new Reference().setDisplay("AuditIT"));
		event.addAgent().setRequestor(true).setWho(new Reference(patient));
		event.addEntity().setWhat(new Reference(gone));
		event.addEntity().setWhat(new Reference(patient));
		// as a request would record it; the server would refuse to store it as is (referential integrity)
		Long row = jdbc().queryForObject("insert into nssi_audit_outbox (event) values (?) returning id", Long.class,
				fhirContext.newJsonParser().encodeResourceToString(event));
		awaitAuditTrail();

		assertThat(jdbc().queryForObject("select count(*) from nssi_audit_outbox where id = ?", Long.class, row)).as("drained").isZero();
		AuditEvent stored = audits("entity=" + patient + "&action=R").getEntry().stream().map(e -> (AuditEvent) e.getResource())
				.filter(e -> e.getEntity().stream().anyMatch(entity -> gone.equals(entity.getWhat().getIdentifier().getValue())))
				.findFirst().orElseThrow(() -> new AssertionError("record naming " + gone + " not stored"));
		assertThat(stored.getEntity()).anySatisfy(entity -> {
			assertThat(entity.getWhat().getIdentifier().getSystem()).isEqualTo(AuditOutboxDrain.UNLINKED_SYSTEM);
			assertThat(entity.getWhat().hasReference()).isFalse();
		});
		// what still exists stays a searchable reference
		assertThat(stored.getEntity()).anySatisfy(entity -> assertThat(entity.getWhat().getReference()).isEqualTo(patient));
		assertThat(stored.getAgentFirstRep().getWho().getReference()).isEqualTo(patient);
	}

	@Test
	void theRecordOfAWriteCommitsWithTheWrite_orNotAtAll() {
		// as BALP records a write: from inside the write's transaction (HAPI holds its pre-commit hooks back until
		// a whole transaction Bundle has succeeded, so a failing Bundle records nothing in the first place)
		String rolledBack = unique("rolled-back");
		String committed = unique("committed");
		for (String marker : java.util.List.of(rolledBack, committed)) {
			new org.springframework.transaction.support.TransactionTemplate(transactionManager).executeWithoutResult(status -> {
				AuditEvent event = new AuditEvent();
				event.getType().setSystem("http://dicom.nema.org/resources/ontology/DCM").setCode("110110");
				event.setAction(AuditEvent.AuditEventAction.C).setRecorded(new java.util.Date()).setOutcomeDesc(marker);
				event.getSource().setObserver(new Reference().setDisplay("AuditIT"));
				event.addAgent().setRequestor(true).setName("AuditIT");
				Integer backend = jdbc().queryForObject("select pg_backend_pid()", Integer.class);
				auditEventWriter.recordAuditEvent(event);
				// the row went through the write's own connection (the same database session)
				assertThat(jdbc().queryForObject("select count(*) from nssi_audit_outbox where event like ? and pg_backend_pid() = ?",
						Long.class, "%" + marker + "%", backend)).isEqualTo(1L);
				if (marker.equals(rolledBack)) {
					status.setRollbackOnly();
				}
			});
		}
		String records = "select (select count(*) from nssi_audit_outbox where event like ?)"
				+ " + (select count(*) from hfj_res_ver where res_type = 'AuditEvent' and res_text_vc like ?)";
		assertThat(jdbc().queryForObject(records, Long.class, "%" + rolledBack + "%", "%" + rolledBack + "%")).isZero();
		assertThat(jdbc().queryForObject(records, Long.class, "%" + committed + "%", "%" + committed + "%")).isEqualTo(1L);
	}

	/**
	 * A synchronous search runs in a read-only transaction, so its audit record cannot join it and needs a connection
	 * of its own. Taken from the same pool, enough such searches at once (more than the pool holds) would each hold
	 * one connection while waiting for a second: a deadlock until the pool's timeout, then a 500 for all of them.
	 * With every pooled connection but one in use, the search must still be answered and audited.
	 */
	@Test
	void aSynchronousSearchIsAuditedEvenWhenItHoldsTheLastPooledConnection() throws Exception {
		IIdType obs = observationOfNewPatient();
		String patient = client().read().resource(Observation.class).withId(obs).execute().getSubject().getReference();
		com.zaxxer.hikari.HikariDataSource pool = (com.zaxxer.hikari.HikariDataSource) dataSource;
		java.util.List<java.sql.Connection> held = new java.util.ArrayList<>();
		HttpResponse<String> response;
		awaitAuditTrail(); // so the drain threads are idle, not competing for the one connection left
		try {
			for (int i = 0; i < pool.getMaximumPoolSize() - 1; i++) {
				held.add(pool.getConnection());
			}
			// Cache-Control: no-store makes HAPI search synchronously (read-only transaction, nothing cached)
			response = http.send(fhirRequest("/Observation?subject=" + patient).header("Cache-Control", "no-store").GET().build(),
					HttpResponse.BodyHandlers.ofString());
		} finally {
			for (java.sql.Connection c : held) {
				c.close();
			}
		}
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(fhirContext.newJsonParser().parseResource(Bundle.class, response.body()).getEntry()).hasSize(1);
		assertThat(audits("patient=" + patient + "&_count=100").getEntry()).as("the search's own record")
				.anySatisfy(e -> assertThat(((AuditEvent) e.getResource()).getSubtype())
						.anySatisfy(subtype -> assertThat(subtype.getCode()).isEqualTo("search-type")));
	}

	/**
	 * A record refused for good is missing from the searchable trail until an operator looks at it: the health
	 * component and the metric say so, while readiness stays UP (the node still records every access durably).
	 */
	@Test
	void aRecordRefusedForGoodTurnsTheAuditHealthDownAndShowsInTheMetrics() throws Exception {
		awaitAuditTrail();
		assertThat(actuator("/actuator/health/audit").statusCode()).isEqualTo(200);
		assertThat(actuator("/actuator/prometheus").body()).containsPattern("(?m)^nssi_audit_outbox_refused(\\{[^}]*})? 0\\.0$");
		Long row = jdbc().queryForObject("INSERT INTO nssi_audit_outbox (event, attempts, last_error) VALUES ('{}', ?, 'test') RETURNING id",
				Long.class, AuditOutboxDrain.MAX_ATTEMPTS);
		try {
			org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
				HttpResponse<String> health = actuator("/actuator/health/audit");
				assertThat(health.statusCode()).isEqualTo(503);
				assertThat(health.body()).contains("\"status\":\"DOWN\"").contains("\"refused\":1");
				assertThat(actuator("/actuator/health").statusCode()).isEqualTo(503);
				assertThat(actuator("/actuator/prometheus").body()).containsPattern("(?m)^nssi_audit_outbox_refused(\\{[^}]*})? 1\\.0$");
			});
			assertThat(actuator("/actuator/health/readiness").statusCode()).isEqualTo(200);
		} finally {
			jdbc().update("DELETE FROM nssi_audit_outbox WHERE id = ?", row);
		}
		org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(actuator("/actuator/health/audit").statusCode()).isEqualTo(200));
	}

	private HttpResponse<String> actuator(String path) throws Exception {
		// /actuator/prometheus needs a token with metrics.read; health ignores it
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).header("Authorization", "Bearer " + tokens().system("metrics.read")).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	/** Several drains at once (threads here, nodes in production) store every record exactly once. */
	@Test
	void concurrentDrainsStoreEveryRecordExactlyOnce() throws Exception {
		String marker = unique("drained-once");
		int records = 300;
		for (int i = 0; i < records; i++) {
			AuditEvent event = new AuditEvent();
			event.getType().setSystem("http://dicom.nema.org/resources/ontology/DCM").setCode("110110");
			event.setAction(AuditEvent.AuditEventAction.R).setRecorded(new java.util.Date()).setOutcomeDesc(marker + "-" + i + "-");
			event.getSource().setObserver(new Reference().setDisplay("AuditIT"));
			event.addAgent().setRequestor(true).setName("AuditIT");
			auditEventWriter.recordAuditEvent(event);
		}
		java.util.concurrent.ExecutorService drains = java.util.concurrent.Executors.newFixedThreadPool(4);
		try {
			java.util.List<java.util.concurrent.Future<?>> running = new java.util.ArrayList<>();
			for (int t = 0; t < 4; t++) {
				running.add(drains.submit(() -> {
					while (auditDrain.drainOnce() > 0) {
						// the background drain threads compete for the same rows
					}
				}));
			}
			for (java.util.concurrent.Future<?> f : running) {
				f.get(60, java.util.concurrent.TimeUnit.SECONDS);
			}
		} finally {
			drains.shutdownNow();
		}
		awaitAuditTrail();
		java.util.List<String> stored = jdbc().queryForList(
				"SELECT substring(res_text_vc from ?) FROM hfj_res_ver WHERE res_type = 'AuditEvent' AND res_text_vc LIKE ?",
				String.class, marker + "-[0-9]+-", "%" + marker + "-%");
		assertThat(stored).hasSize(records).doesNotHaveDuplicates();
	}

	private org.springframework.jdbc.core.JdbcTemplate jdbc() {
		return new org.springframework.jdbc.core.JdbcTemplate(dataSource);
	}

	@Test
	void theAuditTrailCannotBeChangedThroughTheApi() {
		IGenericClient all = client(tokens().system("system/*.cruds"));
		IIdType obs = observationOfNewPatient();
		all.read().resource(Observation.class).withId(obs).execute();
		AuditEvent existing = (AuditEvent) audits("entity=" + obs.getValue()).getEntryFirstRep().getResource();
		existing.setOutcomeDesc("tampered");
		assertThatThrownBy(() -> all.update().resource(existing).execute()).isInstanceOf(ForbiddenOperationException.class);
		assertThatThrownBy(() -> all.delete().resourceById(existing.getIdElement().toUnqualifiedVersionless()).execute())
				.isInstanceOf(ForbiddenOperationException.class);
		AuditEvent forged = new AuditEvent();
		forged.setType(existing.getType());
		forged.setRecorded(new java.util.Date());
		forged.getSource().setObserver(new Reference().setDisplay("forger"));
		forged.addAgent().setRequestor(true).setName("forger");
		assertThatThrownBy(() -> all.create().resource(forged).execute()).isInstanceOf(ForbiddenOperationException.class);
	}
}
