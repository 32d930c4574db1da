package org.nssifhir.server.fhir;

import ca.uhn.fhir.rest.server.RestfulServer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Registers {@link DeleteConflictDiagnosticsInterceptor} on the FHIR endpoint whether or not security is on: which
 * resources reference which is never the caller's business. Kept out of FhirServerConfig so the feature stays here.
 */
@Configuration(proxyBeanMethods = false)
public class ConflictDiagnosticsConfig {

	@Bean
	DeleteConflictDiagnosticsInterceptor deleteConflictDiagnosticsInterceptor(RestfulServer server) {
		DeleteConflictDiagnosticsInterceptor interceptor = new DeleteConflictDiagnosticsInterceptor();
		server.registerInterceptor(interceptor);
		return interceptor;
	}
}
