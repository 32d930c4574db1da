package org.nssifhir.server.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import java.util.Map;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.security.DeclaredOperations;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link StrictInputInterceptor} on an in-memory FHIR server (middle tier: no database). */
class StrictInputInterceptorTest {

	/** Stand-ins for declared operations (a Patient's $everything and $nssi-summary), answering empty. */
	public static class Operations {
		@Operation(name = "$everything", idempotent = true, typeName = "Patient")
		public Parameters everything(@IdParam IdType id, @OperationParam(name = "start") DateType start) {
			return new Parameters();
		}

		@Operation(name = "$nssi-summary", idempotent = true, typeName = "Patient")
		public Parameters summary(@IdParam IdType id, @OperationParam(name = "start") DateType start) {
			return new Parameters();
		}

		@Operation(name = "$undeclared", idempotent = true, typeName = "Patient")
		public Parameters undeclared(@IdParam IdType id, @OperationParam(name = "x") StringType x) {
			return new Parameters();
		}
	}

	/** With the operations' input rules as the features declare them (security.FeatureOperations). */
	private final InMemoryFhirServer server = new InMemoryFhirServer(
			new StrictInputInterceptor(InMemoryFhirServer.FHIR, DeclaredOperations.all()), new InMemoryFhirServer.Provider(new Operations()));

	@Test
	void testRepeatedParameterOfSingleValuedOperation_Refused() {
		// $everything is declared SINGLE_VALUED (security/BuiltInOperations): HAPI would bind the first start only
		InMemoryFhirServer.Response response = server.get("/Patient/p1/$everything?start=2026-01-01&start=2020-01-01");
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.OPERATION_PARAMETER_INVALID.code() + ":");
		assertThat(server.get("/Patient/p1/$everything?start=2026-01-01").status()).isEqualTo(200);
		// an operation that declares no input rule binds as HAPI does
		assertThat(server.get("/Patient/p1/$undeclared?x=1&x=2").status()).isEqualTo(200);
	}

	@Test
	void testBareResourceForParametersOnlyOperation_Refused() {
		// $nssi-summary is declared PARAMETERS_SINGLE_VALUED (assessment/AssessmentOperations)
		InMemoryFhirServer.Response response = server.send("POST", "/Patient/p1/$nssi-summary", "{\"resourceType\":\"Patient\"}", Map.of());
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.OPERATION_PARAMETER_INVALID.code() + ":").contains("Parameters");
		InMemoryFhirServer.Response twice = server.send("POST", "/Patient/p1/$nssi-summary",
				"{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"start\",\"valueDate\":\"2026-01-01\"},"
						+ "{\"name\":\"start\",\"valueDate\":\"2025-01-01\"}]}", Map.of());
		assertThat(twice.status()).isEqualTo(400);
		assertThat(twice.diagnostics()).contains("only once");
	}

	@Test
	void testMalformedSearchValue_RefusedNamingParameterAndValue() {
		for (String[] search : new String[][] {{"/Observation?date=notadate", "date", "notadate"},
				{"/Observation?value-quantity=lots", "value-quantity", "lots"}, {"/Observation?subject=Patient/", "subject", "Patient/"}}) {
			InMemoryFhirServer.Response response = server.get(search[0]);
			assertThat(response.status()).as(search[0]).isEqualTo(400);
			assertThat(response.diagnostics()).startsWith(ErrorCode.SEARCH_VALUE_INVALID.code() + ":").contains(search[1])
					.contains("\"" + search[2] + "\"");
		}
		// modifiers take other values; well-formed values pass to the provider
		assertThat(server.get("/Observation?date:missing=true").status()).isNotEqualTo(400);
		assertThat(server.get("/Observation?date=ge2024-05-01").status()).isEqualTo(200);
	}

	@Test
	void testPageOffsetNotANumber_Refused() {
		InMemoryFhirServer.Response response = server.get("?_getpages=abc&_getpagesoffset=-1");
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.INVALID_PARAMETER.code() + ":");
	}

	@Test
	void testParseError_NamesTheElement() {
		InMemoryFhirServer.Response response = server.send("POST", "/Patient", "{\"resourceType\":\"Patient\",\"gender\":\"bogus\"}", Map.of());
		assertThat(response.status()).isEqualTo(400);
		var issue = ((org.hl7.fhir.r4.model.OperationOutcome) response.resource()).getIssueFirstRep();
		assertThat(issue.getDiagnostics()).startsWith(ErrorCode.INVALID_RESOURCE_CONTENT.code() + ":").contains("bogus");
		assertThat(issue.getExpression()).extracting(Object::toString).containsExactly("gender");
	}

	@Test
	void testWellFormedPatient_Created() {
		InMemoryFhirServer.Response response = server.send("POST", "/Patient", "{\"resourceType\":\"Patient\",\"active\":true}", Map.of());
		assertThat(response.status()).isEqualTo(201);
	}

	@Test
	void testDuplicateJsonKey_Refused() {
		// HAPI's lenient parser would keep one of the two values; the client must learn we did not store what it sent
		InMemoryFhirServer.Response response =
				server.send("POST", "/Patient", "{\"resourceType\":\"Patient\",\"active\":true,\"active\":false}", Map.of());
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.MALFORMED_BODY.code() + ":");
	}

	@Test
	void testIdNotAFhirId_Refused() {
		InMemoryFhirServer.Response response = server.get("/Patient/" + "x".repeat(65));
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.INVALID_ID.code() + ":");
	}

	@Test
	void testSummaryValueHapiWouldIgnore_Refused() {
		InMemoryFhirServer.Response response = server.get("/Patient?_summary=maybe");
		assertThat(response.status()).isEqualTo(400);
	}

	@Test
	void testNumberSearchValuesBeyondDouble_Refused() {
		// beyond a double the database either failed (a 500) or matched value 0 (a wrong answer)
		for (String query : new String[] {"/Observation?value-quantity=1e999999", "/Observation?value-quantity=ap1e400|http://unitsofmeasure.org|mg",
				"/Observation?value-quantity=1e-400", "/Observation?value-quantity=5,1e400",
				"/Observation?component-code-value-quantity=http://loinc.org|8480-6$lt1e400",
				"/Patient?_has:Observation:subject:value-quantity=1e400", "/Observation?value-quantity:missing=1e99999999999"}) {
			InMemoryFhirServer.Response response = server.get(query);
			assertThat(response.status()).as(query).isEqualTo(400);
			assertThat(response.diagnostics()).as(query).startsWith(ErrorCode.INVALID_PARAMETER.code() + ":").contains("out of range");
		}
	}

	@Test
	void testNumberSearchValuesInRange_PassedOn() {
		for (String query : new String[] {"/Observation?value-quantity=5.4|http://unitsofmeasure.org|mg", "/Observation?value-quantity=0",
				"/Observation?value-quantity=ge1.7e308", "/Patient?identifier=1e999999"}) {
			assertThat(server.get(query).status()).as(query).isEqualTo(200);
		}
	}
}
