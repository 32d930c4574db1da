package org.nssifhir.server.bulk;

import ca.uhn.fhir.batch2.jobs.imprt.BulkImportAppCtx;
import ca.uhn.fhir.batch2.jobs.imprt.BulkImportJobParameters;
import ca.uhn.fhir.batch2.model.JobInstance;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import org.nssifhir.server.security.SmartAccess;

/**
 * Records which OAuth client started a bulk import, in the job itself ({@code triggeringClientId}, stored with the
 * job), so that its status and report answer that client only ({@link BulkImportGuard}). A storage hook: HAPI calls
 * it on its global interceptor service as the job is created, in the kick-off request's thread.
 *
 * <p>It also sets the job's chunk size where the kick-off left it open ({@code storageDetail.maxBatchResourceCount},
 * HAPI's own job parameter, so the job stays HAPI's and resumes as HAPI's): {@code batchSize} resources per database
 * transaction instead of HAPI's 800. Every alert an imported resource raises flushes the transaction's session, whose
 * cost grows with what the transaction already holds. Measured on the cohort (60 people, about 5,500 resources, one
 * alert per eight resources; one server, imports one after another on a shared machine): 7 resources/s at HAPI's
 * default (800 or 2 MB), 29-37/s at 100, 44-57/s at 50, 70-76/s at 25, 64/s at 10 (the job's own bookkeeping per
 * chunk starts to count).
 */
@Interceptor
public class BulkImportJobOwner {

	private final int batchSize;

	public BulkImportJobOwner(int batchSize) {
		this.batchSize = batchSize;
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_BATCH_JOB_CREATE)
	public void stampOwner(JobInstance job) {
		if (BulkImportAppCtx.JOB_BULK_IMPORT_PULL.equals(job.getJobDefinitionId())) {
			SmartAccess.current().ifPresent(access -> job.setTriggeringClientId(access.clientId()));
			BulkImportJobParameters parameters = job.getParameters(BulkImportJobParameters.class);
			if (parameters.getMaxBatchResourceCount() == null && batchSize > 0) {
				parameters.setMaxBatchResourceCount(batchSize);
				job.setParameters(parameters);
			}
		}
	}
}
