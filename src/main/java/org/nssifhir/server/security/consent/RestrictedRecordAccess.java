package org.nssifhir.server.security.consent;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import java.util.Optional;
import java.util.Set;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.security.policy.AccessPolicy;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.SecurityLabels;

/**
 * The rule for restricted records, for operations that compute answers from a patient's NSSI record instead of
 * returning resources (the summary, pre-filled assessments, plans, progress): their answers are not filtered per
 * resource by {@link SensitiveDataConsentService}, so they ask here first.
 */
public class RestrictedRecordAccess {

	private final AccessPolicy policy;
	private final ComputedReadAudit audit;

	public RestrictedRecordAccess(AccessPolicy policy, ComputedReadAudit audit) {
		this.policy = policy;
		this.audit = audit;
	}

	/**
	 * For operations that compute answers from a patient's NSSI record instead of returning resources (the
	 * summary, pre-filled assessments): the same rule as for the restricted resources they draw on. Returns
	 * normally if this user may see the patient's restricted data, and the access is audited (the answer shows no
	 * stored resource for HAPI's audit capture to record), otherwise refuses with a 403 (audited as a refusal).
	 */
	public void require(RequestDetails request, String patientId) {
		Optional<RequestIdentity> who = RequestIdentity.of(request);
		if (who.isEmpty()) {
			return;
		}
		// the record may carry ADOL (from the patient's minority): a proxy's Consent must release both
		if (!policy.mayHandleRestricted(request, who.get(), patientId, Set.of(SecurityLabels.RESTRICTED, SecurityLabels.ADOLESCENT))) {
			throw new ForbiddenOperationException(ErrorCode.RESTRICTED_NO_RELATIONSHIP.message(
					"This operation reads the patient's restricted record: it needs a treating relationship, the patient's "
							+ "Consent for a proxy, or break-the-glass"));
		}
		audit.recordComputedRead(request, patientId);
	}
}
