package org.nssifhir.server.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Which redirect URI the clinician app gets, and when it is not registered at all. */
class ClinicianAppTest {

	private static NssiProperties properties(Map<String, String> values) {
		Map<String, String> all = new HashMap<>(Map.of("nssi.db.url", ""));
		all.putAll(values);
		return new Binder(new MapConfigurationPropertySource(all)).bindOrCreate("nssi", NssiProperties.class);
	}

	@Test
	void configuredRedirectUrisWin() {
		ClinicianApp app = new ClinicianApp(properties(Map.of()), "https://ehr.example.org/app/, https://b.example.org/app/");
		assertThat(app.client()).hasValueSatisfying(c -> {
			assertThat(c.redirectUris()).containsExactly("https://ehr.example.org/app/", "https://b.example.org/app/");
			assertThat(c.confidential()).isFalse();
			assertThat(c.launchUrl()).isEqualTo("/app/launch.html");
			assertThat(c.scopes()).doesNotContain("patient/*.rs", "user/*.cruds", "offline_access");
		});
	}

	@Test
	void behindAPublicAddressTheAppIsAtItsOrigin() {
		ClinicianApp app = new ClinicianApp(properties(Map.of("nssi.db.url", "jdbc:postgresql://db/nssi",
				"nssi.fhir.server-address", "https://nssi.example.org/fhir")), "");
		assertThat(app.client()).hasValueSatisfying(c -> assertThat(c.redirectUris()).containsExactly("https://nssi.example.org/app/"));
	}

	@Test
	void theEmbeddedDefaultUsesTheLoopbackAddress() {
		assertThat(new ClinicianApp(properties(Map.of()), "").client())
				.hasValueSatisfying(c -> assertThat(c.redirectUris()).containsExactly("http://127.0.0.1/app/"));
	}

	@Test
	void aRealDatabaseWithoutAPublicAddressRegistersNoApp() {
		assertThat(new ClinicianApp(properties(Map.of("nssi.db.url", "jdbc:postgresql://db/nssi")), "").client()).isEmpty();
		assertThat(new ClinicianApp(properties(Map.of("nssi.security.dev-client", "false")), "").client()).isEmpty();
	}
}
