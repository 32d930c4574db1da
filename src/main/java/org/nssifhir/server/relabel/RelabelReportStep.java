package org.nssifhir.server.relabel;

import ca.uhn.fhir.batch2.api.IReductionStepWorker;
import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.base.BaseBulkModifyOrRewriteGenerateReportStep;
import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.common.BulkModifyResourcesChunkOutcomeJson;
import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.common.BulkModifyResourcesResultsJson;
import jakarta.annotation.Nonnull;

/** The job's last step: HAPI's bulk modification report (changed, unchanged and failed resources, per type). */
class RelabelReportStep extends BaseBulkModifyOrRewriteGenerateReportStep<RelabelJobParameters> {

	@Nonnull
	@Override
	protected String provideJobName() {
		return "NSSI relabel";
	}

	@Override
	public IReductionStepWorker<RelabelJobParameters, BulkModifyResourcesChunkOutcomeJson, BulkModifyResourcesResultsJson> newInstance() {
		return new RelabelReportStep();
	}
}
