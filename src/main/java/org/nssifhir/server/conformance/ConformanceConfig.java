package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
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
			FhirContext fhirContext, NssiProfileValidator validator, IInterceptorService interceptors) {
		NssiWriteInterceptor interceptor = new NssiWriteInterceptor(fhirContext, validator);
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}
}
