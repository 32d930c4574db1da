package org.nssifhir.server.bulk;

import ca.uhn.fhir.batch2.api.IJobCoordinator;
import ca.uhn.fhir.batch2.jobs.imprt.BulkDataImportProvider;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.rest.server.RestfulServer;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * FHIR Bulk Data {@code $import} (NDJSON files fetched from allow-listed URLs) on HAPI's batch2 import job
 * ({@code BULK_IMPORT_PULL}): HAPI's provider, our {@link BulkImportGuard} in front of it, and the scope rules in
 * {@link BulkImportOperations}. The job stores each file's resources as a batch through the system DAO, so every
 * storage hook runs on them: labels, profile validation, escalation. Kick-offs are audited by
 * {@link BulkExportAuditor}.
 */
@Configuration(proxyBeanMethods = false)
public class BulkImportConfig {

	@Bean
	FeatureOperations bulkImportOperations() {
		return new BulkImportOperations();
	}

	/** HAPI's provider (HAPI's own bean, {@code bulkImportProvider}), registered like every feature provider. */
	@Bean
	FhirOperationProvider bulkImportOperationProvider(BulkDataImportProvider provider) {
		return new FhirOperationProvider() {
			@Override
			public Object hapiProvider() {
				return provider;
			}
		};
	}

	/** Registered once the server exists; the source allow-list applies whether or not security is on. */
	@Bean
	BulkImportGuard bulkImportGuard(RestfulServer server, FhirContext fhirContext, IJobCoordinator jobs, NssiProperties properties) {
		BulkImportGuard guard = new BulkImportGuard(
				fhirContext, jobs, properties.integration().importSources(), properties.security().enabled());
		server.registerInterceptor(guard);
		return guard;
	}

	/** On HAPI's global interceptor service: HAPI announces a new batch job there, not to the REST server. */
	@Bean
	BulkImportJobOwner bulkImportJobOwner(IInterceptorService interceptors, NssiProperties properties) {
		BulkImportJobOwner owner = new BulkImportJobOwner(properties.integration().importBatchSize());
		interceptors.registerInterceptor(owner);
		return owner;
	}
}
