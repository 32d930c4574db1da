package org.nssifhir.server.bulk;

import ca.uhn.fhir.batch2.jobs.imprt.BulkImportAppCtx;
import ca.uhn.fhir.batch2.model.JobInstance;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import org.nssifhir.server.security.SmartAccess;

/**
 * Records which OAuth client started a bulk import, in the job itself ({@code triggeringClientId}, stored with the
 * job), so that its status and report answer that client only ({@link BulkImportGuard}). A storage hook: HAPI calls
 * it on its global interceptor service as the job is created, in the kick-off request's thread.
 */
@Interceptor
public class BulkImportJobOwner {

	@Hook(Pointcut.STORAGE_PRESTORAGE_BATCH_JOB_CREATE)
	public void stampOwner(JobInstance job) {
		if (BulkImportAppCtx.JOB_BULK_IMPORT_PULL.equals(job.getJobDefinitionId())) {
			SmartAccess.current().ifPresent(access -> job.setTriggeringClientId(access.clientId()));
		}
	}
}
