package org.nssifhir.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.ErrorCode;

/**
 * The audit trail does not weaken the rest of the record: AuditEvents referencing a resource never hide the clinical
 * references that must block its deletion, a refused delete does not name who references the resource, and a
 * refused request is audited with the record (and patient) it tried to reach.
 */
class AuditIntegrityIT extends BaseIT {

	private IIdType newPatient() {
		Patient p = new Patient();
		p.addName().setFamily("Integrity");
		return client().create().resource(p).execute().getId().toUnqualifiedVersionless();
	}

	private IIdType observationOf(IIdType patient) {
		Observation o = new Observation();
		o.setStatus(Observation.ObservationStatus.FINAL);
		o.getCode().addCoding().setSystem("urn:example:test").setCode("integrity");
		o.setSubject(new Reference(patient));
		o.setValue(new StringType("v"));
		return client().create().resource(o).execute().getId().toUnqualifiedVersionless();
	}

	/** Reads the patient {@code times} times, so that as many AuditEvents reference it, and waits for them to be stored. */
	private void auditedReads(IIdType patient, int times) {
		for (int i = 0; i < times; i++) {
			client().read().resource(Patient.class).withId(patient).execute();
		}
		awaitAuditTrail();
		int referencing = client().search().byUrl("AuditEvent?entity=" + patient.getValue() + "&_summary=count")
				.returnBundle(Bundle.class).execute().getTotal();
		assertThat(referencing).as("AuditEvents referencing " + patient.getValue()).isGreaterThanOrEqualTo(times);
	}

	private HttpResponse<String> delete(IIdType id) throws Exception {
		return http.send(fhirRequest("/" + id.getValue()).DELETE().build(), HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void aPatientWithClinicalDataCannotBeDeleted_howeverManyAuditEventsReferenceIt() throws Exception {
		IIdType patient = newPatient();
		IIdType observation = observationOf(patient);
		auditedReads(patient, 3);

		HttpResponse<String> refused = delete(patient);
		assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
		// still there, and so is what references it
		client().read().resource(Patient.class).withId(patient).execute();
		client().read().resource(Observation.class).withId(observation).execute();
	}

	@Test
	void aPatientReferencedOnlyByAuditEventsCanBeDeleted() throws Exception {
		IIdType patient = newPatient();
		auditedReads(patient, 3);
		assertThat(delete(patient).statusCode()).isIn(200, 204);
	}

	@Test
	void aTransactionDeletingThePatientAndWhatReferencesItSucceeds() throws Exception {
		IIdType patient = newPatient();
		IIdType observation = observationOf(patient);
		auditedReads(patient, 3);
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		tx.addEntry().getRequest().setMethod(Bundle.HTTPVerb.DELETE).setUrl(patient.getValue());
		tx.addEntry().getRequest().setMethod(Bundle.HTTPVerb.DELETE).setUrl(observation.getValue());
		HttpResponse<String> answered = http.send(fhirRequest("").header("Content-Type", "application/fhir+json")
				.POST(HttpRequest.BodyPublishers.ofString(fhirContext.newJsonParser().encodeResourceToString(tx))).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(answered.statusCode()).as(answered.body()).isEqualTo(200);
	}

	@Test
	void aRefusedDeleteDoesNotNameTheResourcesThatReferenceTheTarget() throws Exception {
		IIdType patient = newPatient();
		IIdType observation = observationOf(patient);

		HttpResponse<String> refused = delete(patient);
		assertThat(refused.statusCode()).isEqualTo(409);
		assertThat(refused.body())
				.doesNotContain(observation.getIdPart())
				.doesNotContain("Observation")
				.contains(ErrorCode.DELETE_TARGET_REFERENCED.code())
				.contains("referenced by other resources");
		OperationOutcome outcome = fhirContext.newJsonParser().parseResource(OperationOutcome.class, refused.body());
		assertThat(outcome.getIssue()).singleElement().satisfies(issue -> {
			assertThat(issue.getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
			assertThat(issue.getCode()).isEqualTo(OperationOutcome.IssueType.CONFLICT);
		});
	}

	@Test
	void aRefusedDeleteInsideATransactionDoesNotNameThemEither() throws Exception {
		IIdType patient = newPatient();
		IIdType observation = observationOf(patient);
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		tx.addEntry().getRequest().setMethod(Bundle.HTTPVerb.DELETE).setUrl(patient.getValue());
		HttpResponse<String> refused = http.send(fhirRequest("").header("Content-Type", "application/fhir+json")
				.POST(HttpRequest.BodyPublishers.ofString(fhirContext.newJsonParser().encodeResourceToString(tx))).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(refused.statusCode()).isEqualTo(409);
		assertThat(refused.body()).doesNotContain(observation.getIdPart()).contains(ErrorCode.DELETE_TARGET_REFERENCED.code());
	}

	@Test
	void aBatchDeleteRefusedForReferencesDoesNotNameThem() throws Exception {
		IIdType patient = newPatient();
		IIdType observation = observationOf(patient);
		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.DELETE).setUrl(patient.getValue());
		HttpResponse<String> answered = http.send(fhirRequest("").header("Content-Type", "application/fhir+json")
				.POST(HttpRequest.BodyPublishers.ofString(fhirContext.newJsonParser().encodeResourceToString(batch))).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(answered.statusCode()).isEqualTo(200);
		Bundle response = fhirContext.newJsonParser().parseResource(Bundle.class, answered.body());
		assertThat(response.getEntryFirstRep().getResponse().getStatus()).startsWith("409");
		assertThat(answered.body()).doesNotContain(observation.getIdPart()).contains(ErrorCode.DELETE_TARGET_REFERENCED.code());
	}

	@Test
	void aRefusedReadIsAuditedWithTheRecordItTriedToRead() throws Exception {
		IIdType patient = newPatient();
		IIdType observation = observationOf(patient);
		HttpResponse<Void> refused = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + observation.getValue()))
				.header("Authorization", "Bearer " + tokens().system("system/Patient.rs")).build(), HttpResponse.BodyHandlers.discarding());
		assertThat(refused.statusCode()).isEqualTo(403);

		AuditEvent event = refusalNaming(observation.getValue());
		assertThat(event.getEntity()).anySatisfy(entity -> assertThat(entity.getWhat().getReference()).isEqualTo(observation.getValue()));
	}

	@Test
	void aRefusedSearchIsAuditedWithThePatientItNamed_butNotWithOtherQueryValues() throws Exception {
		IIdType patient = newPatient();
		String secret = unique("searched-for");
		HttpResponse<Void> refused = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Observation?subject=" + patient.getValue()
				+ "&value-string=" + secret)).header("Authorization", "Bearer " + tokens().system("system/Patient.rs")).build(),
				HttpResponse.BodyHandlers.discarding());
		assertThat(refused.statusCode()).isEqualTo(403);

		AuditEvent event = refusalNaming(patient.getValue());
		assertThat(event.getEntity()).anySatisfy(entity -> {
			assertThat(entity.getWhat().getReference()).isEqualTo(patient.getValue());
			assertThat(entity.getRole().getCode()).isEqualTo("1");
		});
		assertThat(fhirContext.newJsonParser().encodeResourceToString(event)).doesNotContain(secret);
	}

	@Test
	void aRefusedReadOfAPatientIsAuditedWithThatPatient() throws Exception {
		IIdType patient = newPatient();
		HttpResponse<Void> refused = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + patient.getValue()))
				.header("Authorization", "Bearer " + tokens().system("system/Observation.rs")).build(), HttpResponse.BodyHandlers.discarding());
		assertThat(refused.statusCode()).isEqualTo(403);

		AuditEvent event = refusalNaming(patient.getValue());
		assertThat(event.getEntity()).anySatisfy(entity -> {
			assertThat(entity.getWhat().getReference()).isEqualTo(patient.getValue());
			assertThat(entity.getRole().getCode()).isEqualTo("1");
		});
	}

	private AuditEvent refusalNaming(String reference) {
		awaitAuditTrail();
		IGenericClient admin = client();
		Bundle found = admin.search().byUrl("AuditEvent?_tag=urn:nssi-fhir:audit|refused-authorization&entity=" + reference)
				.returnBundle(Bundle.class).execute();
		assertThat(found.getEntry()).as("refusal naming " + reference).isNotEmpty();
		return (AuditEvent) found.getEntryFirstRep().getResource();
	}
}
