package org.nssifhir.server.escalation;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.model.ResourceVersionConflictResolutionStrategy;
import ca.uhn.fhir.rest.api.server.RequestDetails;

/**
 * Alerts are created exactly once by a conditional create on the alert's event key, inside the transaction of the
 * write that raised them. When two writes raise the same alert at the same moment (two nodes, or two threads), one
 * of them loses the race on HAPI's unique search-URL index at commit and fails with a version conflict (409): a
 * valid episode refused for a reason that is not the client's. HAPI retries the whole transaction when asked to;
 * on the retry, the conditional create finds the alert the other write created.
 */
@Interceptor
public class ConcurrentAlertRetry {

	static final int MAX_RETRIES = 3;

	@Hook(Pointcut.STORAGE_VERSION_CONFLICT)
	public ResourceVersionConflictResolutionStrategy retry(RequestDetails request) {
		if (request == null || request.getHeader("If-Match") != null) {
			return null; // a stale If-Match stays stale: that conflict is the client's (412), retrying changes nothing
		}
		ResourceVersionConflictResolutionStrategy strategy = new ResourceVersionConflictResolutionStrategy();
		strategy.setRetry(true);
		strategy.setMaxRetries(MAX_RETRIES);
		return strategy;
	}
}
