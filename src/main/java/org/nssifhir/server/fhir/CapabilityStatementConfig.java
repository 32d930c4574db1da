package org.nssifhir.server.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The cached CapabilityStatement ({@link CapabilityStatementCache}): served from the REST server, registered after
 * the request pipeline (so it answers last), and invalidated by a storage hook on HAPI's global interceptor service
 * (so the package install and other server-side writes count). Kept here so the feature stays in one package.
 */
@Configuration(proxyBeanMethods = false)
public class CapabilityStatementConfig {

	@Bean
	CapabilityStatementCache capabilityStatementCache(RestfulServer server) {
		CapabilityStatementCache cache = new CapabilityStatementCache(server, Clock.systemUTC());
		server.registerInterceptor(cache);
		return cache;
	}

	@Bean
	CapabilityStatementCache.CapabilityStatementInvalidation capabilityStatementInvalidation(
			CapabilityStatementCache cache, FhirContext fhirContext, ISearchParamRegistry searchParamRegistry,
			IInterceptorService interceptors) {
		CapabilityStatementCache.CapabilityStatementInvalidation invalidation =
				new CapabilityStatementCache.CapabilityStatementInvalidation(cache, fhirContext, searchParamRegistry::forceRefresh);
		interceptors.registerInterceptor(invalidation);
		return invalidation;
	}
}
