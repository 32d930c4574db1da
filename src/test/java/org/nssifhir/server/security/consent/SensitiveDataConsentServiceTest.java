package org.nssifhir.server.security.consent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.security.policy.AccessPolicy;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.nssifhir.server.support.SecurityLabels;

/**
 * {@link SensitiveDataConsentService} with HAPI's consent interceptor, as the pipeline registers them: which requests
 * are filtered, what filtered users may not search by, break-the-glass, and the policy's verdict per returned resource
 * (the policy itself is a stand-in here that refuses restricted-labelled resources).
 */
class SensitiveDataConsentServiceTest {

	private final AccessPolicy policy = mock(AccessPolicy.class);
	private final InMemoryFhirServer server;

	SensitiveDataConsentServiceTest() {
		when(policy.mayRead(any(), any(), any())).thenAnswer(call -> !restricted(call.getArgument(2)));
		SensitiveDataConsentService service = new SensitiveDataConsentService(policy);
		server = new InMemoryFhirServer(new SensitiveDataConsentInterceptor(service));
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
	void testClinicianSearch_RestrictedRecordLeftOut() {
		InMemoryFhirServer.Response response = clinician().get("/Observation");
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.bundle().getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly("open");
	}

	@Test
	void testBackendSearch_NotFilteredAndMayCount() {
		assertThat(backend().get("/Observation").bundle().getEntry()).hasSize(2);
		assertThat(backend().get("/Observation?_summary=count").status()).isEqualTo(200);
	}

	@Test
	void testFilteredUserSearchThatCouldRevealHiddenRecords_Refused() {
		for (String query : new String[] {"/Observation?_has:Provenance:target:agent=x", "/Observation?_security=R", "/Observation?subject.name=x"}) {
			InMemoryFhirServer.Response response = clinician().get(query);
			assertThat(response.status()).as(query).isEqualTo(400);
			assertThat(response.diagnostics()).as(query).startsWith(ErrorCode.SEARCH_NOT_AVAILABLE_WHEN_FILTERED.code() + ":");
		}
		// a count would count what filtering hides: HAPI's consent interceptor refuses it for every filtered request
		assertThat(clinician().get("/Observation?_summary=count").status()).isEqualTo(400);
	}

	@Test
	void testPurposeOfUseOtherThanBtg_Refused() {
		InMemoryFhirServer.Response response = clinician().send("GET", "/Observation/open", null, Map.of(BreakTheGlass.HEADER, "TREAT"));
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.PURPOSE_OF_USE_UNSUPPORTED.code() + ":");
	}

	@Test
	void testBreakTheGlass_ClinicianForOnePatientOnly() {
		Map<String, String> btg = Map.of(BreakTheGlass.HEADER, BreakTheGlass.CODE);
		InMemoryFhirServer.Response patient = server.as(InMemoryFhirServer.token(Map.of("scope", "patient/*.rs", "patient", "p1",
				"fhirUser", "Patient/p1"))).send("GET", "/Observation/open", null, btg);
		assertThat(patient.status()).isEqualTo(403);
		assertThat(patient.diagnostics()).startsWith(ErrorCode.BREAK_GLASS_NOT_ALLOWED.code() + ":");
		InMemoryFhirServer.Response acrossPatients = clinician().send("GET", "/Observation?code=x", null, btg);
		assertThat(acrossPatients.status()).isEqualTo(403);
		assertThat(clinician().send("GET", "/Observation?subject=Patient/p1", null, btg).status()).isEqualTo(200);
	}
}
