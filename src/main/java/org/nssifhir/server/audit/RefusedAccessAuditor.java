package org.nssifhir.server.audit;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import java.util.Date;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.springframework.stereotype.Component;

/**
 * Audits what BALP does not: requests that were refused (401 from the token check inside the FHIR layer, 403 from
 * the scope rules) and failed authentication at the Spring Security layer. The record names who tried, which
 * interaction on which resource type, and the outcome; never query values or resource content.
 */
@Interceptor
@Component
public class RefusedAccessAuditor {

	static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";
	static final String REST_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-type";

	private final AuditEventWriter writer;
	private final SmartAuditContext context;

	public RefusedAccessAuditor(AuditEventWriter writer, SmartAuditContext context) {
		this.writer = writer;
		this.context = context;
	}

	@Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
	public BaseServerResponseException auditRefusal(RequestDetails request, Throwable exception) {
		if (exception instanceof ForbiddenOperationException || exception instanceof AuthenticationException) {
			AuditEvent event = base(exception instanceof AuthenticationException ? "authentication" : "authorization");
			event.setOutcomeDesc(exception instanceof AuthenticationException ? "refused: no valid token" : "refused: scope does not allow");
			String what = (request.getRestOperationType() == null ? "request" : request.getRestOperationType().getCode())
					+ (request.getResourceName() == null ? "" : " " + request.getResourceName());
			event.getSubtypeFirstRep().setSystem("http://hl7.org/fhir/restful-interaction").setCode(
					request.getRestOperationType() == null ? "operation" : request.getRestOperationType().getCode());
			event.addAgent().setRequestor(true).setWho(context.getAgentClientWho(request)).setName(what);
			event.addAgent().setRequestor(false).setWho(context.getAgentUserWho(request));
			writer.recordAuditEvent(event);
		}
		return null;
	}

	/** Authentication failed before reaching FHIR (no token, bad signature, expired): no agent is known. */
	public void authenticationFailed(String path) {
		AuditEvent event = base("authentication");
		event.setOutcomeDesc("refused: no valid token");
		event.addAgent().setRequestor(true).setName("unauthenticated request to " + path);
		writer.recordAuditEvent(event);
	}

	private static AuditEvent base(String kind) {
		AuditEvent event = new AuditEvent();
		event.getMeta().addTag("urn:nssi-fhir:audit", "refused-" + kind, null);
		event.setType(new Coding(DCM, "110114", "User Authentication"));
		if (!"authentication".equals(kind)) {
			event.setType(new Coding(REST_TYPE_SYSTEM, "rest", "Restful Operation"));
		}
		event.setAction(AuditEvent.AuditEventAction.E);
		event.setRecorded(new Date());
		event.setOutcome(AuditEvent.AuditEventOutcome._4);
		event.getSource().setObserver(new org.hl7.fhir.r4.model.Reference().setDisplay("NSSI FHIR Server"));
		return event;
	}
}
