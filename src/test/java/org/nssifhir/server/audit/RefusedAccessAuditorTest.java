package org.nssifhir.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.Mockito;
import org.nssifhir.server.security.SmartAuthorizationInterceptor;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * {@link RefusedAccessAuditor} behind the scope rules that refuse ({@link SmartAuthorizationInterceptor}): every
 * refusal is recorded with who asked and which patient or record was tried, never a query value.
 */
class RefusedAccessAuditorTest {

	private final AuditEventWriter writer = mock(AuditEventWriter.class);
	private final InMemoryFhirServer server = new InMemoryFhirServer(
			new SmartAuthorizationInterceptor(new Binder(new MapConfigurationPropertySource(Map.of())).bindOrCreate("nssi", NssiProperties.class).security(),
					null, List.of()),
			new RefusedAccessAuditor(writer, new SmartAuditContext(), mock(DaoRegistry.class)));
	private final InMemoryFhirServer patientApp =
			server.as(InMemoryFhirServer.token(Map.of("scope", "patient/*.rs", "patient", "p1", "fhirUser", "Patient/p1", "client_id", "patient-app")));

	RefusedAccessAuditorTest() {
		server.store(new Patient().setId("p1"));
		server.store(new Patient().setId("p2"));
	}

	private List<AuditEvent> recorded() {
		ArgumentCaptor<AuditEvent> events = ArgumentCaptor.forClass(AuditEvent.class);
		verify(writer, Mockito.atLeast(0)).recordAuditEvent(events.capture());
		return events.getAllValues();
	}

	private static List<String> entities(AuditEvent event) {
		return event.getEntity().stream()
				.map(e -> e.getWhat().hasReference() ? e.getWhat().getReference() : e.getWhat().getIdentifier().getValue()).toList();
	}

	@Test
	void testOtherPatientsRecord_RefusalAuditedWithClientUserAndTarget() {
		assertThat(patientApp.get("/Patient/p2").status()).isEqualTo(403);
		List<AuditEvent> events = recorded();
		assertThat(events).hasSize(1);
		AuditEvent event = events.get(0);
		assertThat(event.getMeta().getTagFirstRep().getCode()).isEqualTo("refused-authorization");
		assertThat(event.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._4);
		assertThat(event.getAgent()).extracting(a -> a.getWho().getIdentifier().getValue()).contains("patient-app", "Patient/p1");
		assertThat(entities(event)).containsExactly("Patient/p2");
	}

	@Test
	void testRefusedSearch_PatientRecordedButNoOtherQueryValue() {
		assertThat(patientApp.get("/Observation?patient=p2&code=secret-code").status()).isEqualTo(403);
		AuditEvent event = recorded().get(0);
		assertThat(entities(event)).containsExactly("Patient/p2");
		assertThat(InMemoryFhirServer.FHIR.newJsonParser().encodeResourceToString(event)).doesNotContain("secret-code");
	}

	@Test
	void testNoToken_AuditedAsAuthenticationRefusal() {
		assertThat(server.get("/Patient/p1").status()).isEqualTo(401);
		assertThat(recorded()).extracting(e -> e.getMeta().getTagFirstRep().getCode()).containsExactly("refused-authentication");
	}

	@Test
	void testAllowedRequest_NotAudited() {
		assertThat(patientApp.get("/Patient/p1").status()).isEqualTo(200);
		assertThat(recorded()).isEmpty();
	}
}
