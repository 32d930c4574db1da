package org.nssifhir.server.fhir;

import ca.uhn.fhir.interceptor.api.IInterceptorService;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Registers {@link PatientSearchPaging} on HAPI's storage interceptors (its hook is a storage one), security on or off. */
@Configuration(proxyBeanMethods = false)
public class PatientSearchPagingConfig {

	@Bean
	PatientSearchPaging patientSearchPaging(IInterceptorService interceptors, NssiProperties properties) {
		PatientSearchPaging paging = new PatientSearchPaging(properties.fhir().defaultPageSize());
		interceptors.registerInterceptor(paging);
		return paging;
	}
}
