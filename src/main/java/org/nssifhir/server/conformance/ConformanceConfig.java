package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Our FHIR package and the write-time enforcement of its profiles. */
@Configuration(proxyBeanMethods = false)
class ConformanceConfig {

	@Bean
	ConformancePackage conformancePackage() {
		return ConformancePackage.fromClasspath();
	}

	@Bean
	org.nssifhir.server.audit.AuditReferencesInterceptor auditReferencesInterceptor(IInterceptorService interceptors) {
		org.nssifhir.server.audit.AuditReferencesInterceptor interceptor = new org.nssifhir.server.audit.AuditReferencesInterceptor();
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}

	@Bean
	NssiWriteInterceptor nssiWriteInterceptor(
			FhirContext fhirContext, NssiProfileValidator validator, DaoRegistry daoRegistry, IInterceptorService interceptors) {
		NssiWriteInterceptor interceptor = new NssiWriteInterceptor(fhirContext, validator, new AdolescentLabeler(fhirContext, daoRegistry));
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}
}
