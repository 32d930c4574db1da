package org.nssifhir.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

import ca.uhn.fhir.storage.interceptor.balp.BalpAuditCaptureInterceptor;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.Mockito;
import org.nssifhir.server.support.InMemoryFhirServer;

/**
 * HAPI's BALP capture as the pipeline configures it ({@link SmartAuditContext} and our {@link AuditEventWriter}):
 * who (client and fhirUser from the token) read or wrote which resource, by relative reference.
 */
class BalpAuditCaptureInterceptorTest {

	private final AuditEventWriter writer = mock(AuditEventWriter.class);
	private final InMemoryFhirServer server = new InMemoryFhirServer(new BalpAuditCaptureInterceptor(writer, new SmartAuditContext()));
	private final InMemoryFhirServer clinician = server.as(InMemoryFhirServer.token(Map.of("scope", "user/*.cruds", "client_id", "clinic-app",
			"fhirUser", InMemoryFhirServer.BASE + "/Practitioner/d1")));

	BalpAuditCaptureInterceptorTest() {
		server.store(new Patient().setId("p1"));
		server.store(new Observation().setSubject(new Reference("Patient/p1")).setId("o1"));
	}

	private List<AuditEvent> recorded() {
		ArgumentCaptor<AuditEvent> events = ArgumentCaptor.forClass(AuditEvent.class);
		verify(writer, Mockito.atLeast(0)).recordAuditEvent(events.capture());
		return events.getAllValues();
	}

	private static List<String> agents(AuditEvent event) {
		return event.getAgent().stream().map(a -> a.getWho().getIdentifier().getValue()).toList();
	}

	@Test
	void testRead_AuditedWithClientUserAndPatient() {
		assertThat(clinician.get("/Observation/o1").status()).isEqualTo(200);
		List<AuditEvent> events = recorded();
		assertThat(events).hasSize(1);
		AuditEvent event = events.get(0);
		assertThat(event.getSubtypeFirstRep().getCode()).isEqualTo("read");
		assertThat(agents(event)).contains("clinic-app", "Practitioner/d1");
		// relative references, with the version read: this server's own resources, never an absolute URL
		assertThat(event.getEntity()).extracting(e -> e.getWhat().getReference()).contains("Observation/o1/_history/1", "Patient/p1")
				.noneMatch(reference -> reference != null && reference.startsWith("http"));
	}

	@Test
	void testCreate_Audited() {
		assertThat(clinician.post("/Observation", new Observation().setSubject(new Reference("Patient/p1"))).status()).isEqualTo(201);
		assertThat(recorded()).extracting(e -> e.getAction()).contains(AuditEvent.AuditEventAction.C);
	}

	@Test
	void testDelete_NamesTheDeletedResourceWithoutLinkingToIt() {
		clinician.send("DELETE", "/Observation/o1", null, Map.of());
		assertThat(recorded()).filteredOn(e -> e.getAction() == AuditEvent.AuditEventAction.D)
				.flatExtracting(AuditEvent::getEntity)
				.extracting(e -> e.getWhat().getReference())
				.contains(SmartAuditContext.DELETED_PREFIX + "Observation/o1");
	}
}
