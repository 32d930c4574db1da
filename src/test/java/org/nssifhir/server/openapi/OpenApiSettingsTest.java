package org.nssifhir.server.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.openapi.OpenApiInterceptor;
import ca.uhn.fhir.rest.server.RestfulServer;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * Off in production (a real database), on in the embedded default, and either way when configured. A unit test
 * binds the real properties and checks what is registered on a RestfulServer: a second Spring context (about a
 * minute of CI time) would only show the same decision being applied.
 */
class OpenApiSettingsTest {

	private static NssiProperties bind(Map<String, String> values) {
		return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("nssi", NssiProperties.class);
	}

	private static boolean registered(NssiProperties properties) {
		RestfulServer server = new RestfulServer(FhirContext.forR4Cached());
		OpenApiSettings.registerWith(server, properties);
		return server.getInterceptorService().getAllRegisteredInterceptors().stream().anyMatch(i -> i instanceof OpenApiInterceptor);
	}

	@Test
	void offWithARealDatabase() {
		NssiProperties production = bind(Map.of("nssi.db.url", "jdbc:postgresql://db:5432/nssi"));
		assertThat(OpenApiSettings.enabled(production)).isFalse();
		assertThat(registered(production)).isFalse();
		assertThat(OpenApiSettings.webSecurity(production).publicPaths()).as("nothing public when off").isEmpty();
	}

	@Test
	void onInTheEmbeddedDefault() {
		NssiProperties embedded = bind(Map.of());
		assertThat(OpenApiSettings.enabled(embedded)).isTrue();
		assertThat(registered(embedded)).isTrue();
		assertThat(OpenApiSettings.webSecurity(embedded).publicPaths()).containsExactly("/fhir/api-docs", "/fhir/swagger-ui/**");
	}

	@Test
	void configuredValueWins() {
		assertThat(OpenApiSettings.enabled(bind(Map.of("nssi.db.url", "jdbc:postgresql://db/nssi", "nssi.integration.openapi", "true")))).isTrue();
		assertThat(OpenApiSettings.enabled(bind(Map.of("nssi.integration.openapi", "false")))).isFalse();
	}
}
