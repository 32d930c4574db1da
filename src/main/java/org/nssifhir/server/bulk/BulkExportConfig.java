package org.nssifhir.server.bulk;

import ca.uhn.fhir.batch2.api.IJobCoordinator;
import ca.uhn.fhir.batch2.api.IJobMaintenanceService;
import ca.uhn.fhir.batch2.jobs.export.BulkDataExportProvider;
import ca.uhn.fhir.batch2.maintenance.JobMaintenanceServiceImpl;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.RestfulServer;
import java.time.Duration;
import org.nssifhir.server.audit.AuditEventWriter;
import org.nssifhir.server.audit.SmartAuditContext;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * FHIR Bulk Data Access 2.0 {@code $export} (system, Patient, Group) on HAPI's batch2 export job, NDJSON files
 * stored as Binary resources. Who may export what, and who may fetch the files, is in {@link BulkExportGuard}
 * and {@link BulkExportFileGuard}; the scope rules in {@link BulkExportOperations} let system tokens reach
 * the operations at all.
 */
@Configuration(proxyBeanMethods = false)
public class BulkExportConfig {

	/** HAPI's provider; its collaborators are field-injected by Spring. */
	@Bean
	public BulkDataExportProvider bulkDataExportProvider() {
		return new BulkDataExportProvider();
	}

	/**
	 * Batch job steps advance on HAPI's maintenance pass; once a minute would make even a tiny export take
	 * minutes. Set before the scheduler starts (it schedules the pass when the context has refreshed).
	 */
	@Bean
	public BatchJobInterval batchJobInterval(IJobMaintenanceService maintenance, NssiProperties properties) {
		if (maintenance instanceof JobMaintenanceServiceImpl impl) {
			impl.setScheduledJobFrequencyMillis(properties.integration().batchJobInterval().toMillis());
		}
		return new BatchJobInterval(properties.integration().batchJobInterval());
	}

	/** The interval in effect (a bean so that it is set when the context starts). */
	public record BatchJobInterval(Duration interval) {}

	@Bean
	FeatureOperations bulkExportOperations() {
		return new BulkExportOperations();
	}

	@Bean
	public BulkExport bulkExport(
			BulkDataExportProvider provider, IJobCoordinator jobs, FhirContext fhirContext, AuditEventWriter writer, SmartAuditContext context) {
		return new BulkExport(provider, new BulkExportGuard(jobs), new BulkExportFileGuard(fhirContext), new BulkExportAuditor(writer, context));
	}

	/**
	 * Everything the FHIR endpoint registers for bulk export: HAPI's provider (as every {@link FhirOperationProvider})
	 * and, with security on, the guards, at their place in config/RequestPipeline.
	 */
	public record BulkExport(
			BulkDataExportProvider provider, BulkExportGuard guard, BulkExportFileGuard fileGuard, BulkExportAuditor auditor)
			implements FhirOperationProvider {

		@Override
		public Object hapiProvider() {
			return provider;
		}

		public void registerGuards(RestfulServer server) {
			server.registerInterceptor(guard);
			server.registerInterceptor(fileGuard);
			server.registerInterceptor(auditor);
		}
	}
}
