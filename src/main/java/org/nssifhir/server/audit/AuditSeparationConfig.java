package org.nssifhir.server.audit;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import jakarta.persistence.EntityManagerFactory;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.SharedEntityManagerCreator;

/**
 * Where the audit trail lives: with the clinical data in HAPI's one partition, kept out of every clinical read by
 * the queries themselves ({@link ClinicalReadsInterceptor} for {@code $everything} and reverse includes,
 * {@link ClinicalHistory} for system history). Why not a partition of its own: see the README's "Audit trail and
 * clinical reads".
 */
@Configuration(proxyBeanMethods = false)
class AuditSeparationConfig {

	@Bean
	ClinicalReadsInterceptor clinicalReadsInterceptor(FhirContext fhirContext, IInterceptorService interceptors, NssiProperties properties) {
		ClinicalReadsInterceptor interceptor = new ClinicalReadsInterceptor(fhirContext, properties.fhir().maxPageSize());
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}

	/** Primary over HAPI's own, which HAPI's DAOs and paging provider autowire by type. */
	@Primary
	@Bean
	ClinicalHistory.BundleProviderFactory clinicalHistoryBundleProviderFactory(FhirContext fhirContext) {
		return new ClinicalHistory.BundleProviderFactory(fhirContext);
	}

	/** Primary over HAPI's own, which HAPI's bundle providers autowire by type. */
	@Primary
	@Bean
	ClinicalHistory.BuilderFactory clinicalHistoryBuilderFactory(EntityManagerFactory entityManagerFactory) {
		return new ClinicalHistory.BuilderFactory(SharedEntityManagerCreator.createSharedEntityManager(entityManagerFactory));
	}
}
