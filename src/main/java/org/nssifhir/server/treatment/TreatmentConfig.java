package org.nssifhir.server.treatment;

import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.dao.tx.IHapiTransactionService;
import jakarta.persistence.EntityManagerFactory;
import org.nssifhir.server.assessment.EpisodeIndex;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.consent.RestrictedRecordAccess;
import org.opencds.cqf.fhir.cr.CrSettings;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.orm.jpa.SharedEntityManagerCreator;

/**
 * Treatment planning: PlanDefinition/$apply, CarePlan/$nssi-progress, Goal status following the data, and the
 * patient's own edits of their relapse-prevention plan. FhirServerConfig registers the operation providers; the
 * interceptors go on HAPI's global interceptor service, so they run for every write path.
 */
@Configuration(proxyBeanMethods = false)
class TreatmentConfig {

	/** One settings object for the server's life: it holds the compiled-CQL and model caches. */
	@Bean
	CrSettings crSettings() {
		return CrSettings.getDefault();
	}

	@Bean
	CarePlanAssembler carePlanAssembler(DaoRegistry daoRegistry, IHapiTransactionService transactions) {
		return new CarePlanAssembler(daoRegistry, transactions);
	}

	@Bean
	PlanApplication planApplication(
			DaoRegistry daoRegistry, CrSettings crSettings, CarePlanAssembler assembler, RestrictedRecordAccess consent) {
		return new PlanApplication(daoRegistry, crSettings, assembler, consent);
	}

	@Bean
	PlanApplyProvider planApplyProvider(PlanApplication plans) {
		return new PlanApplyProvider(plans);
	}

	@Bean
	FeatureOperations treatmentOperations() {
		return new TreatmentOperations();
	}

	@Bean
	TreatmentProgress treatmentProgress(DaoRegistry daoRegistry, EpisodeIndex episodeIndex) {
		return new TreatmentProgress(daoRegistry, episodeIndex);
	}

	@Bean
	CarePlanProgressProvider carePlanProgressProvider(
			DaoRegistry daoRegistry, TreatmentProgress progress, RestrictedRecordAccess consent) {
		return new CarePlanProgressProvider(daoRegistry, progress, consent);
	}

	@Bean(destroyMethod = "shutdown")
	GoalRefreshInterceptor goalRefreshInterceptor(DaoRegistry daoRegistry, TreatmentProgress progress, IInterceptorService interceptors) {
		GoalRefreshInterceptor interceptor = new GoalRefreshInterceptor(daoRegistry, progress);
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}

	@Bean
	SuicideRiskPathwayInterceptor suicideRiskPathwayInterceptor(
			DaoRegistry daoRegistry, CarePlanAssembler assembler, EntityManagerFactory entityManagerFactory, IInterceptorService interceptors) {
		// the shared (transaction-bound) EntityManager: the one HAPI's DAOs use in the current transaction
		SuicideRiskPathwayInterceptor interceptor = new SuicideRiskPathwayInterceptor(
				daoRegistry, assembler, SharedEntityManagerCreator.createSharedEntityManager(entityManagerFactory));
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}

	@Bean
	RelapsePlanEditRule relapsePlanEditRule(IInterceptorService interceptors) {
		RelapsePlanEditRule rule = new RelapsePlanEditRule();
		interceptors.registerInterceptor(rule);
		return rule;
	}
}
