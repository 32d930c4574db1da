package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.UriType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.mock.env.MockEnvironment;

/** {@link CapabilityStatementInterceptor} on an in-memory FHIR server (middle tier: no database). */
class CapabilityStatementInterceptorTest {

	private static CapabilityStatement metadata(Map<String, String> settings) {
		Map<String, String> all = new java.util.HashMap<>(settings);
		all.put("nssi.security.issuer", "https://nssi.example");
		NssiProperties properties = new Binder(new MapConfigurationPropertySource(all)).bindOrCreate("nssi", NssiProperties.class);
		ServerAddress address = new ServerAddress(properties, new MockEnvironment());
		InMemoryFhirServer server = new InMemoryFhirServer(new CapabilityStatementInterceptor(properties, address,
				new ca.uhn.fhir.jpa.api.config.JpaStorageSettings(),
				new org.springframework.beans.factory.support.StaticListableBeanFactory()
						.getBeanProvider(OfferedOperations.class)));
		InMemoryFhirServer.Response response = server.get("/metadata");
		assertThat(response.status()).isEqualTo(200);
		return (CapabilityStatement) response.resource();
	}

	@Test
	void testBuiltinSecurity_AdvertisesSmartEndpoints() {
		CapabilityStatement cs = metadata(Map.of("nssi.security.enabled", "true", "nssi.security.mode", "BUILTIN"));
		CapabilityStatement.CapabilityStatementRestSecurityComponent security = cs.getRestFirstRep().getSecurity();
		assertThat(security.getServiceFirstRep().getCodingFirstRep().getCode()).isEqualTo("SMART-on-FHIR");
		Extension uris = security.getExtensionByUrl("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
		assertThat(((UriType) uris.getExtensionByUrl("token").getValue()).getValue()).isEqualTo("https://nssi.example/oauth2/token");
		assertThat(security.getCors()).as("no CORS headers are sent unless configured").isFalse();
		assertThat(cs.getPublisher()).isEqualTo("NSSI FHIR Server project");
	}

	@Test
	void testSecurityOff_NoSecuritySection() {
		CapabilityStatement cs = metadata(Map.of("nssi.security.enabled", "false"));
		assertThat(cs.getRestFirstRep().hasSecurity()).isFalse();
		assertThat(cs.getPublisher()).isEqualTo("NSSI FHIR Server project");
	}
}
