package org.nssifhir.server.fhir;

import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Registers {@link ClientCompatibilityInterceptor} on the FHIR endpoint whether or not security is on. Registered
 * after the access policy and consent interceptors (they are registered with the server itself), so a warning it
 * adds to a search answer is added after they checked the answer.
 */
@Configuration(proxyBeanMethods = false)
public class ClientCompatibilityConfig {

	@Bean
	ClientCompatibilityInterceptor clientCompatibilityInterceptor(RestfulServer server, ISearchParamRegistry searchParameters) {
		ClientCompatibilityInterceptor interceptor = new ClientCompatibilityInterceptor(searchParameters);
		server.registerInterceptor(interceptor);
		return interceptor;
	}
}
