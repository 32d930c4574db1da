package org.nssifhir.server.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link ClientErrorMappingInterceptor} on an in-memory FHIR server (middle tier: no database). */
class ClientErrorMappingInterceptorTest {

	/** {@code $parse?value=x}: parses a number as an operation would, and fails like a server fault on anything else. */
	public static class Parsing {
		@Operation(name = "$parse", idempotent = true)
		public Parameters parse(@OperationParam(name = "value") StringType value) {
			if ("boom".equals(value.getValue())) {
				throw new IllegalStateException("a real server fault");
			}
			return new Parameters().addParameter("number", Integer.parseInt(value.getValue()));
		}
	}

	private final InMemoryFhirServer server =
			new InMemoryFhirServer(new ClientErrorMappingInterceptor(), new InMemoryFhirServer.Provider(new Parsing()));

	@Test
	void testUnparsableNumber_MappedToBadRequest() {
		InMemoryFhirServer.Response response = server.get("/$parse?value=twelve");
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.UNPROCESSABLE_REQUEST.code() + ":");
	}

	@Test
	void testRealServerFault_StaysServerError() {
		assertThat(server.get("/$parse?value=boom").status()).isEqualTo(500);
	}

	@Test
	void testValidNumber_Answered() {
		assertThat(server.get("/$parse?value=12").status()).isEqualTo(200);
	}
}
