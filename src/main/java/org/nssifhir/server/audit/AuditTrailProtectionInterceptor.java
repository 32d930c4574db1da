package org.nssifhir.server.audit;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.AuditEvent;
import org.nssifhir.server.support.ErrorCode;

/**
 * No client can create, change or delete an AuditEvent, whatever its scopes, directly or inside a transaction.
 * Registered on the REST server only, so it sees exactly the writes that come from clients; the server's own
 * audit writes ({@link AuditEventWriter}) do not pass through it.
 */
@Interceptor
public class AuditTrailProtectionInterceptor {

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
	public void created(IBaseResource resource) {
		refuseIfAudit(resource);
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
	public void updated(IBaseResource previous, IBaseResource resource) {
		refuseIfAudit(resource);
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_DELETED)
	public void deleted(IBaseResource resource) {
		refuseIfAudit(resource);
	}

	private static void refuseIfAudit(IBaseResource resource) {
		if (resource instanceof AuditEvent) {
			throw new ForbiddenOperationException(ErrorCode.SCOPE_DOES_NOT_ALLOW.message("Audit records cannot be changed through the API"));
		}
	}
}
