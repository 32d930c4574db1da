package org.nssifhir.server.hardening;

import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.rest.server.RestfulServer;
import org.nssifhir.server.conformance.NssiWriteInterceptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * Benchmark baseline only ({@code nssi.benchmark.baseline=true}, together with {@code nssi.security.enabled=false},
 * which already removes authorization, consent and audit): also unregisters our profile validation and security
 * labelling of writes and the strict input checks, so the server is as close to stock HAPI JPA as this build gets.
 * The benchmark reports each of our workloads as a ratio to the same workload on this baseline. Never for real use:
 * the server then stores unvalidated, unlabelled NSSI data.
 */
@Component
@ConditionalOnProperty(name = "nssi.benchmark.baseline", havingValue = "true")
class BaselineMode {

	private static final Logger log = LoggerFactory.getLogger(BaselineMode.class);

	BaselineMode(IInterceptorService storageInterceptors, NssiWriteInterceptor validation, RestfulServer server,
			StrictInputInterceptor strictInput) {
		storageInterceptors.unregisterInterceptor(validation);
		server.unregisterInterceptor(strictInput);
		log.warn("BENCHMARK BASELINE: NSSI profile validation, labelling and strict input checks are OFF");
	}
}
