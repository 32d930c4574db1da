package org.nssifhir.server.escalation;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Safety escalation on every write: when an Observation or QuestionnaireResponse that shows a suicide-risk or
 * NSSI-escalation signal is created or updated, the Flag and Task are written in the same database transaction
 * (the pre-commit hook runs inside it), whatever the route: create, update, transaction, {@code $extract} or an
 * internal service. Registered with HAPI's global interceptor service for that reason. A person's request for
 * support ("I need support now") is routed before it is stored, as the alerts are.
 */
@Interceptor
public class EscalationInterceptor {

	private final EscalationService escalation;

	public EscalationInterceptor(EscalationService escalation) {
		this.escalation = escalation;
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
	public void creating(IBaseResource resource) {
		escalation.routeSupportRequest(resource);
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_CREATED)
	public void created(IBaseResource resource) {
		escalation.escalate(resource);
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_UPDATED)
	public void updated(IBaseResource previous, IBaseResource resource) {
		escalation.escalate(resource);
	}
}
