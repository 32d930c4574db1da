package org.nssifhir.server.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import org.springframework.stereotype.Component;

/**
 * FHIR says a write whose {@code If-Match} version is not the current one fails with 412 Precondition Failed;
 * HAPI answers 409 Conflict. A client doing optimistic locking must be able to tell "someone else changed it"
 * (412) from other conflicts, so on a request that carried If-Match we turn HAPI's version conflict into 412,
 * keeping its OperationOutcome. This includes two writers racing with the same If-Match version.
 */
@Interceptor
@Component
public class IfMatchPreconditionInterceptor {

	@Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
	public BaseServerResponseException toPreconditionFailed(RequestDetails request, Throwable exception) {
		if (request != null
				&& exception instanceof ResourceVersionConflictException conflict
				&& request.getHeader(Constants.HEADER_IF_MATCH) != null) {
			PreconditionFailedException precondition =
					new PreconditionFailedException(conflict.getMessage(), conflict.getOperationOutcome());
			precondition.initCause(conflict);
			return precondition;
		}
		return null;
	}
}
