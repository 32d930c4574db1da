package org.nssifhir.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.InMemoryFhirServer;

/** HAPI's CorsInterceptor as {@link FhirServerConfig} configures it: registered origins only, no credentials. */
class CorsInterceptorTest {

	private final InMemoryFhirServer server =
			new InMemoryFhirServer(FhirServerConfig.corsInterceptor(List.of("https://app.example.org")));

	private static Map<String, String> preflight(String origin) {
		return Map.of("Origin", origin, "Access-Control-Request-Method", "PUT",
				"Access-Control-Request-Headers", "authorization,if-match,content-type");
	}

	@Test
	void testPreflightFromRegisteredOrigin_Allowed() {
		InMemoryFhirServer.Response response = server.send("OPTIONS", "/Patient/1", null, preflight("https://app.example.org"));
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.raw().getHeader("Access-Control-Allow-Origin")).isEqualTo("https://app.example.org");
		assertThat(response.raw().getHeader("Access-Control-Allow-Methods")).contains("PUT");
		assertThat(response.raw().getHeader("Access-Control-Allow-Credentials")).isNull();
	}

	@Test
	void testPreflightFromOtherOrigin_Refused() {
		InMemoryFhirServer.Response response = server.send("OPTIONS", "/Patient/1", null, preflight("https://evil.example.com"));
		assertThat(response.status()).isEqualTo(403);
		assertThat(response.raw().getHeader("Access-Control-Allow-Origin")).isNull();
	}

	@Test
	void testRequestFromRegisteredOrigin_ExposesLocationAndEtag() {
		InMemoryFhirServer.Response response = server.send("GET", "/Patient", null, Map.of("Origin", "https://app.example.org"));
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.raw().getHeader("Access-Control-Allow-Origin")).isEqualTo("https://app.example.org");
		assertThat(response.raw().getHeader("Access-Control-Expose-Headers")).contains("Location", "ETag");
	}
}
