package org.nssifhir.server.security.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.security.consent.ProxyPatients;
import org.nssifhir.server.security.consent.TreatingRelationships;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.nssifhir.server.support.SecurityLabels;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * {@link AccessPolicyInterceptor} on an in-memory server: what it enforces around the policy's decision (which is
 * {@code AccessPolicyTest}'s subject; here a stand-in refuses every restricted-labelled resource to everyone).
 */
class AccessPolicyInterceptorTest {

	/** Two operations on Patient; only {@code $declared} is declared by a feature. */
	public static class Operations {
		@Operation(name = "$declared", idempotent = true, typeName = "Patient")
		public Parameters declared(@IdParam IdType id) {
			return new Parameters();
		}

		@Operation(name = "$undeclared", idempotent = true, typeName = "Patient")
		public Parameters undeclared(@IdParam IdType id) {
			return new Parameters();
		}
	}

	private final AccessPolicy policy = mock(AccessPolicy.class);
	private final InMemoryFhirServer server;

	AccessPolicyInterceptorTest() {
		NssiProperties properties = new Binder(new MapConfigurationPropertySource(Map.of("nssi.policy.not-found-floor", "0s")))
				.bindOrCreate("nssi", NssiProperties.class);
		when(policy.settings()).thenReturn(properties.policy());
		when(policy.mayRead(any(), any(), any())).thenAnswer(call -> !restricted(call.getArgument(2)));
		server = new InMemoryFhirServer(
				new AccessPolicyInterceptor(InMemoryFhirServer.FHIR, policy, mock(TreatingRelationships.class), mock(DaoRegistry.class),
						mock(SecurityEventSink.class), mock(ProxyPatients.class), Set.of("$declared")),
				new InMemoryFhirServer.Provider(new Operations()));
		server.store(new Patient().setId("p1"));
		server.store(new Observation().setSubject(new Reference("Patient/p1")).setId("open"));
		Observation hidden = new Observation().setSubject(new Reference("Patient/p1"));
		hidden.getMeta().addSecurity(SecurityLabels.CONFIDENTIALITY_SYSTEM, SecurityLabels.RESTRICTED, null);
		server.store(hidden.setId("hidden"));
	}

	private static boolean restricted(IBaseResource resource) {
		return resource.getMeta().getSecurity().stream().anyMatch(c -> SecurityLabels.RESTRICTED.equals(c.getCode()));
	}

	private InMemoryFhirServer clinician() {
		return server.as(InMemoryFhirServer.token(Map.of("scope", "user/*.rs", "fhirUser", "Practitioner/d1")));
	}

	private InMemoryFhirServer backend() {
		return server.as(InMemoryFhirServer.token(Map.of("scope", "system/*.rs", "client_id", "ehr")));
	}

	@Test
	void testOperationNoFeatureDeclares_Refused() {
		InMemoryFhirServer.Response response = clinician().get("/Patient/p1/$undeclared");
		assertThat(response.status()).isEqualTo(403);
		assertThat(response.diagnostics()).startsWith(ErrorCode.POLICY_REFUSED.code() + ":");
		assertThat(clinician().get("/Patient/p1/$declared").status()).isEqualTo(200);
	}

	@Test
	void testHistoryAcrossPatients_ForBackendsOnly() {
		assertThat(clinician().get("/Observation/_history").status()).isEqualTo(403);
		assertThat(backend().get("/Observation/_history").status()).isEqualTo(200);
	}

	@Test
	void testSearchAnswer_HiddenRecordLeftOutAndNoTotal() {
		InMemoryFhirServer.Response response = clinician().get("/Observation");
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.bundle().getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly("open");
		assertThat(response.bundle().hasTotal()).isFalse();
	}

	@Test
	void testReadOfHiddenRecord_AnsweredExactlyAsAMissingOne() {
		InMemoryFhirServer.Response hidden = clinician().get("/Observation/hidden");
		InMemoryFhirServer.Response missing = clinician().get("/Observation/nothere");
		assertThat(hidden.status()).isEqualTo(404);
		assertThat(missing.status()).isEqualTo(404);
		assertThat(hidden.diagnostics()).isEqualTo(missing.diagnostics().replace("nothere", "hidden"));
	}
}
