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
		return client().search().byUrl("AuditEvent?" + query).returnBundle(Bundle.class).execute();
	}

	private int refusals(String kind) {
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
