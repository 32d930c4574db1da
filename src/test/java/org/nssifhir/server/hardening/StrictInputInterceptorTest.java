package org.nssifhir.server.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link StrictInputInterceptor} on an in-memory FHIR server (middle tier: no database). */
class StrictInputInterceptorTest {

	private final InMemoryFhirServer server = new InMemoryFhirServer(new StrictInputInterceptor(InMemoryFhirServer.FHIR));

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
