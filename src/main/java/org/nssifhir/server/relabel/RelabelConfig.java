package org.nssifhir.server.relabel;

import ca.uhn.fhir.batch2.api.IJobCoordinator;
import ca.uhn.fhir.batch2.api.IJobMaintenanceService;
import ca.uhn.fhir.batch2.api.IJobPartitionProvider;
import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.common.BulkModifyResourcesChunkOutcomeJson;
import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.common.BulkModifyResourcesResultsJson;
import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.common.TypedPidToTypedPidAndNullVersionStep;
import ca.uhn.fhir.batch2.jobs.chunk.ChunkRangeJson;
import ca.uhn.fhir.batch2.jobs.chunk.ResourceIdListWorkChunkJson;
import ca.uhn.fhir.batch2.jobs.chunk.TypedPidAndVersionListWorkChunkJson;
import ca.uhn.fhir.batch2.jobs.step.GenerateRangeChunksStep;
import ca.uhn.fhir.batch2.jobs.step.LoadIdsStep;
import ca.uhn.fhir.batch2.model.JobDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.svc.IBatch2DaoSvc;
import javax.sql.DataSource;
import org.nssifhir.server.audit.AuditEventWriter;
import org.nssifhir.server.audit.SmartAuditContext;
import org.nssifhir.server.escalation.EscalationService;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.labeling.SecurityLabelingService;
import org.nssifhir.server.labeling.SensitiveCategories;
import org.nssifhir.server.security.FeatureOperations;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Relabelling of stored data: a HAPI batch2 job ({@value RelabelService#JOB_ID}, registered by being a
 * {@link JobDefinition} bean, as HAPI's own jobs are) built like HAPI's bulk modification jobs (bulk patch, reindex
 * v3): ranges of resources per type → ids in chunks of {@value RelabelService#CHUNK_SIZE} → relabel each chunk
 * ({@link RelabelResourcesStep}) → report. Gated: each step finishes before the next, and every chunk is a row of
 * HAPI's {@code BT2_WORK_CHUNK}, so a restarted server continues the job where it stopped.
 */
@Configuration(proxyBeanMethods = false)
class RelabelConfig {

	@Bean
	RelabelResourcesStep relabelResourcesStep(SecurityLabelingService labeling, EscalationService escalation) {
		return new RelabelResourcesStep(labeling, escalation);
	}

	@Bean
	JobDefinition<RelabelJobParameters> relabelJobDefinition(
			IJobPartitionProvider partitions, IBatch2DaoSvc batch2Dao, RelabelResourcesStep relabelStep, RelabelService relabel) {
		return JobDefinition.newBuilder()
				.setJobDefinitionId(RelabelService.JOB_ID)
				.setJobDescription("Apply the current security labelling and escalation rules to stored resources")
				.setJobDefinitionVersion(1)
				.gatedExecution()
				.setParametersType(RelabelJobParameters.class)
				.addFirstStep("generate-ranges", "Ranges of resources to relabel, per type", ChunkRangeJson.class,
						new GenerateRangeChunksStep<RelabelJobParameters>(partitions))
				.addIntermediateStep("load-ids", "Ids of the resources to relabel", ResourceIdListWorkChunkJson.class,
						new LoadIdsStep<RelabelJobParameters>(batch2Dao))
				.addIntermediateStep("expand-id-versions", "Current versions", TypedPidAndVersionListWorkChunkJson.class,
						new TypedPidToTypedPidAndNullVersionStep<RelabelJobParameters>())
				.addIntermediateStep(RelabelService.RELABEL_STEP, "Relabel and escalate", BulkModifyResourcesChunkOutcomeJson.class, relabelStep)
				.addFinalReducerStep("report", "Count relabelled, unchanged and failed resources", BulkModifyResourcesResultsJson.class,
						new RelabelReportStep())
				.completionHandler(relabel::completed)
				.errorHandler(relabel::failed)
				.build();
	}

	@Bean
	RelabelService relabelService(
			IJobCoordinator jobs, IJobMaintenanceService maintenance, IJobPartitionProvider partitions, FhirContext fhirContext,
			DaoRegistry daoRegistry, SensitiveCategories categories, AuditEventWriter audit, SmartAuditContext auditContext,
			DataSource dataSource, PlatformTransactionManager transactionManager) {
		return new RelabelService(jobs, maintenance, partitions, fhirContext, daoRegistry, categories, audit, auditContext,
				new JdbcTemplate(dataSource), new TransactionTemplate(transactionManager));
	}

	@Bean
	FhirOperationProvider relabelOperationProvider(RelabelService relabel) {
		return new RelabelOperationProvider(relabel);
	}

	@Bean
	FeatureOperations relabelOperations() {
		return new RelabelOperations();
	}

	@Bean(destroyMethod = "stop")
	RelabelBackground relabelBackground(RelabelService relabel, RelabelProperties properties) {
		return new RelabelBackground(relabel, properties);
	}
}
