package org.nssifhir.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.server.provider.HashMapResourceProvider;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;

/**
 * {@link AuditTrailProtectionInterceptor} on an in-memory FHIR server (middle tier: no database). HAPI's HashMap
 * provider fires the same storage hooks as JPA for the writes it handles.
 */
class AuditTrailProtectionInterceptorTest {

	private final InMemoryFhirServer server = new InMemoryFhirServer(
			new AuditTrailProtectionInterceptor(),
			new InMemoryFhirServer.Provider(new HashMapResourceProvider<>(InMemoryFhirServer.FHIR, AuditEvent.class)));

	@Test
	void testClientCreatesAuditEvent_Refused() {
		AuditEvent event = new AuditEvent();
		event.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"));
		InMemoryFhirServer.Response response = server.post("/AuditEvent", event);
		assertThat(response.status()).isEqualTo(403);
		assertThat(response.diagnostics()).startsWith(ErrorCode.SCOPE_DOES_NOT_ALLOW.code() + ":");
	}

	@Test
	void testClientCreatesPatient_Allowed() {
		assertThat(server.post("/Patient", new Patient().setActive(true)).status()).isEqualTo(201);
	}
}
