package org.nssifhir.server.bulk;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.batch2.jobs.imprt.BulkImportAppCtx;
import ca.uhn.fhir.batch2.jobs.imprt.BulkImportJobParameters;
import ca.uhn.fhir.batch2.model.JobInstance;
import org.junit.jupiter.api.Test;

/**
 * The import job's chunk size: ours where the kick-off named none (HAPI's 800 per transaction made alert-raising
 * cohorts four times slower), the client's where it named one; other jobs are left alone.
 */
class BulkImportJobOwnerTest {

	private static JobInstance job(String definition, Integer maxBatch) {
		JobInstance job = new JobInstance();
		job.setJobDefinitionId(definition);
		BulkImportJobParameters parameters = new BulkImportJobParameters().addNdJsonUrl("http://127.0.0.1:1/Patient.ndjson");
		parameters.setMaxBatchResourceCount(maxBatch);
		job.setParameters(parameters);
		return job;
	}

	@Test
	void testChunkSize_OursWhenTheKickOffNamesNone() {
		JobInstance job = job(BulkImportAppCtx.JOB_BULK_IMPORT_PULL, null);
		new BulkImportJobOwner(100).stampOwner(job);
		BulkImportJobParameters parameters = job.getParameters(BulkImportJobParameters.class);
		assertThat(parameters.getMaxBatchResourceCount()).isEqualTo(100);
		assertThat(parameters.getNdJsonUrls()).containsExactly("http://127.0.0.1:1/Patient.ndjson");
	}

	@Test
	void testChunkSize_TheClientsWhenNamed() {
		JobInstance job = job(BulkImportAppCtx.JOB_BULK_IMPORT_PULL, 500);
		new BulkImportJobOwner(100).stampOwner(job);
		assertThat(job.getParameters(BulkImportJobParameters.class).getMaxBatchResourceCount()).isEqualTo(500);
	}

	@Test
	void testChunkSize_OtherJobsUntouched() {
		JobInstance job = job("NSSI_RELABEL", null);
		String before = job.getParameters();
		new BulkImportJobOwner(100).stampOwner(job);
		assertThat(job.getParameters()).isEqualTo(before);
	}
}
