package org.nssifhir.server.escalation;

import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.dao.tx.IHapiTransactionService;
import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import org.nssifhir.server.labeling.QuestionnaireItemCodes;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.orm.jpa.SharedEntityManagerCreator;

/** Safety escalation: registered on HAPI's global interceptor service, so it runs for every write path. */
@Configuration(proxyBeanMethods = false)
class EscalationConfig {

	@Bean
	TriageQueue triageQueue(DaoRegistry daoRegistry, NssiProperties properties) {
		return new TriageQueue(daoRegistry, properties.escalation().fallbackOwner());
	}

	@Bean
	EscalationService escalationService(DaoRegistry daoRegistry, EntityManagerFactory entityManagerFactory, NssiProperties properties,
			QuestionnaireItemCodes itemCodes, TriageQueue triageQueue) {
		// the shared (transaction-bound) EntityManager: the one HAPI's DAOs use in the current transaction
		EntityManager entityManager = SharedEntityManagerCreator.createSharedEntityManager(entityManagerFactory);
		return new EscalationService(daoRegistry, entityManager, properties.escalation(), itemCodes, triageQueue);
	}

	@Bean
	EscalationInterceptor escalationInterceptor(EscalationService service, IInterceptorService interceptors) {
		EscalationInterceptor interceptor = new EscalationInterceptor(service);
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}

	@Bean(initMethod = "start", destroyMethod = "stop")
	OverdueEscalation overdueEscalation(DaoRegistry daoRegistry, EscalationService service, NssiProperties properties) {
		return new OverdueEscalation(daoRegistry, service, properties.escalation().overdueCheck());
	}

	@Bean
	EscalationTaskMigration escalationTaskMigration(DaoRegistry daoRegistry, EscalationService service) {
		return new EscalationTaskMigration(daoRegistry, service);
	}

	@Bean
	UnknownIntentConditionMigration unknownIntentConditionMigration(
			DaoRegistry daoRegistry, EscalationService service, IHapiTransactionService transactions) {
		return new UnknownIntentConditionMigration(daoRegistry, service, transactions);
	}

	@Bean
	ConcurrentAlertRetry concurrentAlertRetry(IInterceptorService interceptors) {
		ConcurrentAlertRetry retry = new ConcurrentAlertRetry();
		interceptors.registerInterceptor(retry);
		return retry;
	}

	@Bean
	TaskClosureInterceptor taskClosureInterceptor(IInterceptorService interceptors, DaoRegistry daoRegistry) {
		TaskClosureInterceptor interceptor = new TaskClosureInterceptor(daoRegistry);
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}
}
