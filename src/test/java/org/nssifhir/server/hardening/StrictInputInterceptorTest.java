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
}
