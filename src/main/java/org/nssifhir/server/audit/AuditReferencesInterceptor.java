package org.nssifhir.server.audit;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.model.DeleteConflictList;
import ca.uhn.fhir.jpa.delete.DeleteConflictOutcome;

/**
 * Audit records point at what was accessed, and must outlive it: a reference from an AuditEvent never blocks the
 * deletion of the resource it names (otherwise, with referential integrity on, nothing that was ever read could be
 * deleted). Registered with HAPI's global interceptor service, where delete conflicts are resolved.
 */
@Interceptor
public class AuditReferencesInterceptor {

	@Hook(Pointcut.STORAGE_PRESTORAGE_DELETE_CONFLICTS)
	public DeleteConflictOutcome ignoreAuditReferences(DeleteConflictList conflicts) {
		conflicts.removeIf(conflict -> "AuditEvent".equals(conflict.getSourceId().getResourceType()));
		return null;
	}
}
