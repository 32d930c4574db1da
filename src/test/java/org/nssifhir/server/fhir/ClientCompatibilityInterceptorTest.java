package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.RequiredParam;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Validate;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.server.FifoMemoryPagingProvider;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.UriType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link ClientCompatibilityInterceptor} on an in-memory FHIR server (middle tier: no database). */
class ClientCompatibilityInterceptorTest {

	/** Condition?patient=… (answers one Condition naming the patient it was asked for) and Patient/$validate (echoes the profile). */
	public static class Conditions {
		@Search(type = Condition.class)
		public List<Condition> byPatient(@RequiredParam(name = "patient") ReferenceParam patient) {
			Condition condition = new Condition();
			condition.setId("Condition/for-" + patient.getIdPart());
			condition.getSubject().setReference(patient.getValue());
			return List.of(condition);
		}

		@Validate(type = Patient.class)
		public MethodOutcome validate(@ResourceParam Patient patient, @Validate.Profile String profile) {
			OperationOutcome outcome = new OperationOutcome();
			outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.INFORMATION).setDiagnostics("profile=" + profile);
			return new MethodOutcome().setOperationOutcome(outcome);
		}
	}

	private final InMemoryFhirServer server =
			new InMemoryFhirServer(new ClientCompatibilityInterceptor(null), new InMemoryFhirServer.Provider(new Conditions()));

	@Test
	void testCompartmentSearch_AnsweredAsTheSearchByPrimaryPatient() {
		InMemoryFhirServer.Response response = server.get("/Patient/p1/Condition");
		assertThat(response.status()).isEqualTo(200);
		Condition found = (Condition) response.bundle().getEntryFirstRep().getResource();
		assertThat(found.getSubject().getReference()).isEqualTo("Patient/p1");
	}

	@Test
	void testCompartmentParameter_PrimaryPatientOnly() {
		var fhir = InMemoryFhirServer.FHIR;
		// Observation is in the Patient compartment through subject and performer: the primary patient is meant
		assertThat(ClientCompatibilityInterceptor.compartmentParameter(fhir, "Patient", "Observation")).isEqualTo("patient");
		// R4 leaves Task out of the Patient compartment
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> ClientCompatibilityInterceptor.compartmentParameter(fhir, "Patient", "Task"))
				.hasMessageStartingWith(ErrorCode.COMPARTMENT_SEARCH_UNSUPPORTED.code());
		assertThat(ClientCompatibilityInterceptor.compartmentParameter(fhir, "Patient", "Condition")).isEqualTo("patient");
		assertThat(ClientCompatibilityInterceptor.compartmentParameter(fhir, "Patient", "ExplanationOfBenefit")).isEqualTo("patient");
	}

	@Test
	void testCompartmentSearch_TypeNotInTheCompartment_Refused() {
		InMemoryFhirServer.Response response = server.get("/Patient/p1/Questionnaire");
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.COMPARTMENT_SEARCH_UNSUPPORTED.code() + ":");
	}

	@Test
	void testTypedPageLink_AnsweredAsThePage() {
		server.restfulServer().setPagingProvider(new FifoMemoryPagingProvider(10));
		for (int i = 0; i < 3; i++) {
			server.store(new Observation().setStatus(Observation.ObservationStatus.FINAL));
		}
		Bundle first = server.get("/Observation?_count=1").bundle();
		String next = first.getLink("next").getUrl();
		assertThat(next).startsWith(InMemoryFhirServer.BASE + "?_getpages=");
		// what Medplum's searchResourcePages sends: the link's query, on the resource type's URL
		InMemoryFhirServer.Response typed = server.get("/Observation" + next.substring(InMemoryFhirServer.BASE.length()));
		assertThat(typed.status()).isEqualTo(200);
		assertThat(typed.bundle().getEntry()).hasSize(1);
		assertThat(typed.bundle().getEntryFirstRep().getResource().getIdElement().getIdPart())
				.isNotEqualTo(first.getEntryFirstRep().getResource().getIdElement().getIdPart());
		// and the link as HAPI writes it still works
		assertThat(server.get(next.substring(InMemoryFhirServer.BASE.length())).status()).isEqualTo(200);
	}

	@Test
	void testPreferLenient_UnknownParameterIgnoredWithAWarning() {
		server.store(new Observation().setStatus(Observation.ObservationStatus.FINAL));
		InMemoryFhirServer.Response response = server.send("GET", "/Observation?not-a-parameter=secret-value", null,
				Map.of("Prefer", "handling=lenient"));
		assertThat(response.status()).isEqualTo(200);
		Bundle bundle = response.bundle();
		assertThat(bundle.getEntry()).anySatisfy(e -> assertThat(e.getResource()).isInstanceOf(Observation.class));
		Bundle.BundleEntryComponent warning = bundle.getEntry().stream()
				.filter(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.OUTCOME).findFirst().orElseThrow();
		String diagnostics = ((OperationOutcome) warning.getResource()).getIssueFirstRep().getDiagnostics();
		assertThat(diagnostics).contains("not-a-parameter").doesNotContain("secret-value");
	}

	@Test
	void testPreferStrictOrNone_NothingLeftOut() {
		// (HAPI's in-memory providers accept unknown parameters; the JPA server refuses them: IntegratorErgonomicsIT)
		for (Map<String, String> headers : List.of(Map.of("Prefer", "handling=strict"), Map.<String, String>of())) {
			Bundle bundle = server.send("GET", "/Observation?not-a-parameter=x", null, headers).bundle();
			assertThat(bundle.getEntry()).noneMatch(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.OUTCOME);
		}
	}

	@Test
	void testValidateProfileInParametersBody_BoundAsItsUrl() {
		Parameters parameters = new Parameters();
		parameters.addParameter().setName("resource").setResource(new Patient().setActive(true));
		parameters.addParameter().setName("profile").setValue(new UriType("https://example.org/StructureDefinition/p"));
		InMemoryFhirServer.Response response = server.post("/Patient/$validate", parameters);
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.diagnostics()).isEqualTo("profile=https://example.org/StructureDefinition/p");
	}

	@Test
	void testSummaryTextOfAResourceWithoutNarrative_AnsweredNot500() {
		String id = server.store(new Patient().setActive(true));
		InMemoryFhirServer.Response response = server.get("/" + id + "?_summary=text");
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.body()).contains("No narrative");
	}
}
