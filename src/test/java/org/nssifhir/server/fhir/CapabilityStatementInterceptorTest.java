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

	/** Two server operations: one the access policy can allow, one it refuses to everyone. */
	public static final class Operations {
		@ca.uhn.fhir.rest.annotation.Operation(name = "$nssi-offered", idempotent = true)
		public org.hl7.fhir.r4.model.Parameters offered() {
			return new org.hl7.fhir.r4.model.Parameters();
		}

		@ca.uhn.fhir.rest.annotation.Operation(name = "$expunge", idempotent = true)
		public org.hl7.fhir.r4.model.Parameters expunge() {
			return new org.hl7.fhir.r4.model.Parameters();
		}
	}

	private static CapabilityStatement metadata(Map<String, String> settings) {
		return metadata(settings, new org.springframework.beans.factory.support.StaticListableBeanFactory());
	}

	private static CapabilityStatement metadata(
			Map<String, String> settings, org.springframework.beans.factory.support.StaticListableBeanFactory beans) {
		Map<String, String> all = new java.util.HashMap<>(settings);
		all.put("nssi.security.issuer", "https://nssi.example");
		NssiProperties properties = new Binder(new MapConfigurationPropertySource(all)).bindOrCreate("nssi", NssiProperties.class);
		ServerAddress address = new ServerAddress(properties, new MockEnvironment());
		InMemoryFhirServer server = new InMemoryFhirServer(new CapabilityStatementInterceptor(properties, address,
				new ca.uhn.fhir.jpa.api.config.JpaStorageSettings(),
				beans.getBeanProvider(OfferedOperations.class), beans.getBeanProvider(PublishedOperations.class)),
				new InMemoryFhirServer.Provider(new Operations()));
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

	@Test
	void testSecurityOn_OnlyOfferedOperationsListed() {
		org.springframework.beans.factory.support.StaticListableBeanFactory beans = new org.springframework.beans.factory.support.StaticListableBeanFactory();
		beans.addBean("offeredOperations", (OfferedOperations) () -> java.util.Set.of("$nssi-offered"));
		CapabilityStatement cs = metadata(Map.of("nssi.security.enabled", "true", "nssi.security.mode", "BUILTIN"), beans);
		assertThat(cs.getRestFirstRep().getOperation()).extracting(o -> o.getName()).containsExactly("nssi-offered");

		CapabilityStatement off = metadata(Map.of("nssi.security.enabled", "false"), beans);
		assertThat(off.getRestFirstRep().getOperation()).as("security off: nothing is refused, all are listed")
				.extracting(o -> o.getName()).contains("nssi-offered", "expunge");
	}

	@Test
	void testOurOperations_NameThePackagesOperationDefinition() {
		org.springframework.beans.factory.support.StaticListableBeanFactory beans = new org.springframework.beans.factory.support.StaticListableBeanFactory();
		String canonical = "https://nssi-fhir.org/fhir/OperationDefinition/nssi-offered|0.8.0";
		beans.addBean("publishedOperations", (PublishedOperations) () -> Map.of("$nssi-offered", canonical));
		CapabilityStatement cs = metadata(Map.of("nssi.security.enabled", "false"), beans);
		assertThat(cs.getRestFirstRep().getOperation()).filteredOn(o -> o.getName().equals("nssi-offered"))
				.singleElement().satisfies(o -> assertThat(o.getDefinition()).isEqualTo(canonical));
		assertThat(cs.getRestFirstRep().getOperation()).filteredOn(o -> o.getName().equals("expunge"))
				.singleElement().satisfies(o -> assertThat(o.getDefinition()).as("HAPI's own operations keep HAPI's definition").doesNotStartWith("https://nssi-fhir.org"));
	}
}
