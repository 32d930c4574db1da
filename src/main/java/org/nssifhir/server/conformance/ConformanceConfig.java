package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.validation.JpaValidationSupportChain;
import jakarta.persistence.EntityManagerFactory;
import org.nssifhir.server.audit.AuditReferencesInterceptor;
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
