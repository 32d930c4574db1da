package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** {@link SmartAuthorizationInterceptor}: a token's SMART scopes, and the features' rules, as HAPI rules over requests. */
class SmartAuthorizationInterceptorTest {

	static final NssiProperties PROPERTIES = new Binder(new MapConfigurationPropertySource(Map.of())).bindOrCreate("nssi", NssiProperties.class);

	/** A feature's server operation. */
	public static class Ping {
		@Operation(name = "$ping", idempotent = true)
		public Parameters ping() {
			return new Parameters();
		}
	}

	/** The feature declaring it: any user-level scope may ping. */
	static final FeatureOperations PING_OPERATIONS = new FeatureOperations() {
		@Override
		public List<OperationAccess> operations() {
			return List.of(new OperationAccess("$ping", Protection.DEFINITIONAL));
		}

		@Override
		public void addRules(ScopeGrant grant, RuleBuilder rules) {
			if (grant.scope().context() == SmartScope.Context.USER) {
				rules.allow().operation().named("$ping").onServer().andAllowAllResponses();
			}
		}
	};

	private final InMemoryFhirServer server = new InMemoryFhirServer(
			new SmartAuthorizationInterceptor(PROPERTIES.security(), null, List.of(PING_OPERATIONS)),
			new InMemoryFhirServer.Provider(new Ping()));

	SmartAuthorizationInterceptorTest() {
		server.store(new Patient().setId("p1"));
		server.store(new Patient().setId("p2"));
		server.store(new Observation().setSubject(new Reference("Patient/p1")).setId("o1"));
		server.store(new Observation().setSubject(new Reference("Patient/p2")).setId("o2"));
	}

	private InMemoryFhirServer patient(String scope) {
		return server.as(InMemoryFhirServer.token(Map.of("scope", scope, "patient", "p1", "fhirUser", "Patient/p1")));
	}

	private InMemoryFhirServer clinician(String scope) {
		return server.as(InMemoryFhirServer.token(Map.of("scope", scope, "fhirUser", "Practitioner/d1")));
	}

	@Test
	void testNoToken_401ButCapabilityStatementPublic() {
		InMemoryFhirServer.Response response = server.get("/Patient/p1");
		assertThat(response.status()).isEqualTo(401);
		assertThat(response.diagnostics()).startsWith(ErrorCode.UNAUTHENTICATED.code() + ":");
		assertThat(server.get("/metadata").status()).isEqualTo(200);
	}

	@Test
	void testTokenForAnotherServer_401() {
		InMemoryFhirServer.Response response = server.as(InMemoryFhirServer.token(Map.of("scope", "system/*.rs", "aud", "https://other.example.org/fhir")))
				.get("/Patient/p1");
		assertThat(response.status()).isEqualTo(401);
	}

	@Test
	void testPatientScope_OwnCompartmentOnly() {
		InMemoryFhirServer token = patient("patient/Patient.rs patient/Observation.rs");
		assertThat(token.get("/Patient/p1").status()).isEqualTo(200);
		assertThat(token.get("/Observation/o1").status()).isEqualTo(200);
		assertThat(token.get("/Patient/p2").status()).isEqualTo(403);
		assertThat(token.get("/Observation/o2").status()).isEqualTo(403);
	}

	@Test
	void testSearchLetterWithoutRead_ReadRefused() {
		// SMART v2 separates r and s; HAPI's read rule covers both, so the letter is checked before the rules
		InMemoryFhirServer.Response read = clinician("user/Observation.s").get("/Observation/o1");
		assertThat(read.status()).isEqualTo(403);
		assertThat(read.diagnostics()).startsWith(ErrorCode.SCOPE_DOES_NOT_ALLOW.code() + ":").contains("'read'");
		assertThat(clinician("user/Observation.s").get("/Observation").status()).isEqualTo(200);
	}

	@Test
	void testReadScope_WriteRefused() {
		InMemoryFhirServer.Response response = clinician("user/Observation.rs").post("/Observation",
				new Observation().setStatus(Observation.ObservationStatus.FINAL).setSubject(new Reference("Patient/p1")));
		assertThat(response.status()).isEqualTo(403);
		assertThat(response.diagnostics()).startsWith(ErrorCode.SCOPE_DOES_NOT_ALLOW.code() + ":");
	}

	@Test
	void testUnenforceableScopeQuery_Refused() {
		InMemoryFhirServer.Response response = clinician("user/Observation.rs?subject=Patient/p1").get("/Observation");
		assertThat(response.status()).isEqualTo(403);
		assertThat(response.diagnostics()).startsWith(ErrorCode.SCOPE_NOT_ENFORCEABLE.code() + ":");
	}

	@Test
	void testFeatureOperation_OpenedByTheFeaturesRule() {
		assertThat(clinician("user/Observation.rs").get("/$ping").status()).isEqualTo(200);
		// the feature opens it for user scopes only: a patient token meets the final deny
		assertThat(patient("patient/Observation.rs").get("/$ping").status()).isEqualTo(403);
	}
}
