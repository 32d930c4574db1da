package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
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
	NssiWriteInterceptor nssiWriteInterceptor(FhirContext fhirContext, NssiProfileValidator validator, IInterceptorService interceptors) {
		NssiWriteInterceptor interceptor = new NssiWriteInterceptor(fhirContext, validator);
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}
}
