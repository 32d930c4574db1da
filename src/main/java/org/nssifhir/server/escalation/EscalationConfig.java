package org.nssifhir.server.escalation;

import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import org.nssifhir.server.config.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Safety escalation: registered on HAPI's global interceptor service, so it runs for every write path. */
@Configuration(proxyBeanMethods = false)
class EscalationConfig {

	@Bean
	EscalationService escalationService(DaoRegistry daoRegistry, NssiProperties properties) {
		return new EscalationService(daoRegistry, properties.escalation());
	}

	@Bean
	EscalationInterceptor escalationInterceptor(EscalationService service, IInterceptorService interceptors) {
		EscalationInterceptor interceptor = new EscalationInterceptor(service);
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}

	@Bean
	TaskClosureInterceptor taskClosureInterceptor(IInterceptorService interceptors) {
		TaskClosureInterceptor interceptor = new TaskClosureInterceptor();
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}
}
