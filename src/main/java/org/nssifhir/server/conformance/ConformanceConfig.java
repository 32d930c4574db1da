package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.validation.JpaValidationSupportChain;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.persistence.EntityManagerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.nssifhir.server.audit.AuditReferencesInterceptor;
import org.nssifhir.server.fhir.PublishedOperations;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.orm.jpa.SharedEntityManagerCreator;

/** Our FHIR package and the write-time enforcement of its profiles. */
@Configuration(proxyBeanMethods = false)
class ConformanceConfig {

	@Bean
	ConformancePackage conformancePackage() {
		return ConformancePackage.fromClasspath();
	}

	/**
	 * The package's OperationDefinitions by the operation they define ({@code Type/$code}, or {@code $code} at system
	 * level), as versioned canonicals: the CapabilityStatement names them as the definitions of our operations.
	 */
	@Bean
	PublishedOperations publishedOperations(ConformancePackage conformancePackage) {
		Map<String, String> definitions = new TreeMap<>();
		ObjectMapper json = new ObjectMapper();
		for (String file : conformancePackage.conformanceFiles().values()) {
			JsonNode node;
			try {
				node = json.readTree(file);
			} catch (IOException e) {
				throw new UncheckedIOException(e);
			}
			if (!"OperationDefinition".equals(node.path("resourceType").asText())) {
				continue;
			}
			String canonical = node.path("url").asText() + "|" + node.path("version").asText();
			String code = "$" + node.path("code").asText();
			if (node.path("system").asBoolean()) {
				definitions.put(code, canonical);
			}
			node.path("resource").forEach(type -> definitions.put(type.asText() + "/" + code, canonical));
		}
		Map<String, String> published = Collections.unmodifiableMap(definitions);
		return () -> published;
	}

	/**
	 * First in HAPI's JPA validation support chain (writes, {@code $validate}, the write interceptor's validator):
	 * an unknown code of our own CodeSystems is an error, see {@link OwnCodeSystemsValidationSupport}.
	 */
	@Bean
	OwnCodeSystemsValidationSupport ownCodeSystemsValidationSupport(
			FhirContext fhirContext, ConformancePackage conformancePackage, JpaValidationSupportChain chain) {
		OwnCodeSystemsValidationSupport support = new OwnCodeSystemsValidationSupport(fhirContext, conformancePackage);
		chain.addValidationSupport(0, support);
		chain.invalidateCaches();
		return support;
	}

	@Bean
	AuditReferencesInterceptor auditReferencesInterceptor(
			IInterceptorService interceptors, EntityManagerFactory entityManagerFactory, JpaStorageSettings storageSettings) {
		AuditReferencesInterceptor interceptor = new AuditReferencesInterceptor(
				SharedEntityManagerCreator.createSharedEntityManager(entityManagerFactory), storageSettings);
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}

	@Bean
	NssiWriteInterceptor nssiWriteInterceptor(
			FhirContext fhirContext, NssiProfileValidator validator, IInterceptorService interceptors,
			// not used here: asked for so the chain knows our codes before the first write is validated
			OwnCodeSystemsValidationSupport ownCodes) {
		NssiWriteInterceptor interceptor = new NssiWriteInterceptor(fhirContext, validator);
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}
}
