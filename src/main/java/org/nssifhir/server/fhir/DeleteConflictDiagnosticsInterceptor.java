package org.nssifhir.server.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;
import org.nssifhir.server.support.ErrorCode;

/**
 * A delete refused because other resources reference the target stays a 409, but its OperationOutcome no longer
 * names them. HAPI's message ({@code HAPI-0515: Unable to delete Patient/1 because at least one resource has a
 * reference to this resource. First reference found was resource Observation/2 in path Observation.subject}) would
 * tell the caller the id (and type) of a record it may not be allowed to see, such as another patient's restricted
 * Observation. The replacement says only that there are references, not how many or which: {@code NSSI-0309}.
 *
 * <p>A plain delete and a transaction fail with HAPI's exception, replaced here before it is answered (order -90:
 * before the other outgoing-exception hooks, so If-Match handling does not turn it into a 412 quoting the original).
 * A batch answers each entry on its own, with the exception's message in the entry's outcome; those outcomes are
 * replaced on the way out.
 */
@Interceptor
public class DeleteConflictDiagnosticsInterceptor {

	/** HAPI's code for "Unable to delete ... because at least one resource has a reference to this resource". */
	static final String HAPI_DELETE_CONFLICT = "HAPI-0515";
	static final String HAPI_DELETE_CONFLICT_TEXT = "because at least one resource has a reference to this resource";
	static final String MESSAGE = ErrorCode.DELETE_TARGET_REFERENCED.message(
			"The resource cannot be deleted: the resource is referenced by other resources");

	@Hook(value = Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION, order = -90)
	public BaseServerResponseException replaceConflictDiagnostics(RequestDetails request, Throwable exception) {
		if (exception instanceof BaseServerResponseException e && e.getStatusCode() == 409 && namesReferences(e)) {
			// no cause: HAPI's message would reach whatever logs or answers with the cause
			return new ResourceVersionConflictException(MESSAGE, outcome());
		}
		return null;
	}

	@Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
	public void replaceConflictDiagnosticsInBundleEntries(RequestDetails request, ResponseDetails response) {
		if (!(response.getResponseResource() instanceof Bundle bundle)) {
			return;
		}
		for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
			Resource outcome = entry.getResponse().getOutcome();
			if (outcome instanceof OperationOutcome oo && namesReferences(oo)) {
				entry.getResponse().setOutcome(outcome());
			}
			if (entry.getResource() instanceof OperationOutcome oo && namesReferences(oo)) {
				entry.setResource(outcome());
			}
		}
	}

	private static boolean namesReferences(BaseServerResponseException e) {
		if (isConflictText(e.getMessage())) {
			return true;
		}
		IBaseOperationOutcome oo = e.getOperationOutcome();
		return oo instanceof OperationOutcome r4 && namesReferences(r4);
	}

	private static boolean namesReferences(OperationOutcome oo) {
		return oo.getIssue().stream().anyMatch(issue -> isConflictText(issue.getDiagnostics()));
	}

	private static boolean isConflictText(String text) {
		return text != null && (text.contains(HAPI_DELETE_CONFLICT) || text.contains(HAPI_DELETE_CONFLICT_TEXT));
	}

	private static OperationOutcome outcome() {
		OperationOutcome oo = new OperationOutcome();
		oo.addIssue()
				.setSeverity(OperationOutcome.IssueSeverity.ERROR)
				.setCode(OperationOutcome.IssueType.CONFLICT)
				.setDiagnostics(MESSAGE);
		return oo;
	}
}
