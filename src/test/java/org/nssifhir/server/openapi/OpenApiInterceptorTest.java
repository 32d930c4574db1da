package org.nssifhir.server.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** HAPI's OpenApiInterceptor as {@link OpenApiSettings} configures it: the API description, on only where enabled. */
class OpenApiInterceptorTest {

	private static InMemoryFhirServer server(Map<String, String> settings) {
		InMemoryFhirServer server = new InMemoryFhirServer();
		OpenApiSettings.registerWith(server.restfulServer(),
				new Binder(new MapConfigurationPropertySource(settings)).bindOrCreate("nssi", NssiProperties.class));
		return server;
	}

	@Test
	void testEmbeddedDefault_DescribesTheApi() {
		InMemoryFhirServer.Response response = server(Map.of()).send("GET", OpenApiSettings.DOCS_PATH, null, Map.of("Accept", "application/json"));
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.body()).contains("openapi: 3", "/Patient/{id}");
	}

	@Test
	void testRealDatabase_NoDescription() {
		InMemoryFhirServer.Response response = server(Map.of("nssi.db.url", "jdbc:postgresql://db:5432/nssi"))
				.send("GET", OpenApiSettings.DOCS_PATH, null, Map.of("Accept", "application/json"));
		assertThat(response.status()).isBetween(400, 404);
		assertThat(response.body()).doesNotContain("openapi: 3");
	}
}
