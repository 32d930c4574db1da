package org.nssifhir.server.hardening;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.RestfulServer;
import java.util.List;
import org.nssifhir.server.security.FeatureOperations;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Hostile-input hardening of the FHIR endpoint. The interceptors are registered on the RestfulServer here rather
 * than in FhirServerConfig so the feature stays in one package; they act on every request whether or not security
 * is switched on, because malformed input is refused on its own merits.
 */
@Configuration(proxyBeanMethods = false)
public class HardeningConfig {

	/** The operations' input rules come from their features' declarations (security's extension point). */
	@Bean
	StrictInputInterceptor strictInputInterceptor(FhirContext fhirContext, RestfulServer server, List<FeatureOperations> features) {
		StrictInputInterceptor interceptor = new StrictInputInterceptor(fhirContext, features);
		server.registerInterceptor(interceptor);
		return interceptor;
	}

	@Bean
	ClientErrorMappingInterceptor clientErrorMappingInterceptor(RestfulServer server) {
		ClientErrorMappingInterceptor interceptor = new ClientErrorMappingInterceptor();
		server.registerInterceptor(interceptor);
		return interceptor;
	}
}
