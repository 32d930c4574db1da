package org.nssifhir.server.relabel;

import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.api.ResourceModificationRequest;
import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.api.ResourceModificationResponse;
import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.base.BaseBulkModifyResourcesIndividuallyStep;
import ca.uhn.fhir.rest.api.server.storage.TransactionDetails;
import jakarta.annotation.Nonnull;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.Resource;
import org.nssifhir.server.escalation.EscalationService;
import org.nssifhir.server.labeling.SecurityLabelingService;

/**
 * The work of a relabelling chunk, on HAPI's bulk modification framework (it reads each chunk's resources, stores
 * the changed ones as new versions through the DAO in one database transaction, retries one by one on a failure, and
 * counts changed, unchanged and failed resources for the report).
 *
 * <p>Per resource: the current rules ({@link SecurityLabelingService#label}, the code a write runs) are applied to a
 * copy. Only when its security labels or rule tags differ is it stored, as a new version through the DAO, where the
 * storage hooks label it again (the same result) and raise its alerts as on any write. An unchanged resource is
 * stored as it is, but the current escalation rules are still applied to it ({@link EscalationService#escalate}): an
 * alert is a conditional create on the event's identifier, so a signal that already raised one raises nothing more,
 * and a chunk processed twice (a retry, a resumed job) raises nothing twice.
 */
class RelabelResourcesStep extends BaseBulkModifyResourcesIndividuallyStep<RelabelJobParameters, Void> {

	private final SecurityLabelingService labeling;
	private final EscalationService escalation;

	RelabelResourcesStep(SecurityLabelingService labeling, EscalationService escalation) {
		this.labeling = labeling;
		this.escalation = escalation;
	}

	@Override
	protected ResourceModificationResponse modifyResource(
			RelabelJobParameters parameters, Void context, @Nonnull ResourceModificationRequest request) {
		Resource stored = (Resource) request.getResource();
		Resource relabelled = stored.copy();
		// as an update of the stored version: a label is never lowered (high-water mark), only raised
		labeling.label(relabelled, stored, null, new TransactionDetails());
		if (labels(relabelled).equals(labels(stored))) {
			escalation.escalate(stored);
			return ResourceModificationResponse.noChange();
		}
		return ResourceModificationResponse.updateResource(relabelled);
	}

	/** What the rules decide: the security labels and the rule tags (displays and order do not matter). */
	static Set<String> labels(Resource r) {
		Set<String> labels = new TreeSet<>();
		r.getMeta().getSecurity().forEach(c -> labels.add("security " + c.getSystem() + "|" + c.getCode()));
		r.getMeta().getTag().stream()
				.filter(t -> SecurityLabelingService.RULE_SYSTEM.equals(t.getSystem()))
				.forEach(t -> labels.add("rule " + t.getCode()));
		return labels;
	}

	@Override
	protected String getJobNameForLogging() {
		return RelabelService.OPERATION;
	}
}
