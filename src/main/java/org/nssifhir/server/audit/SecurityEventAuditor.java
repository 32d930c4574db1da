package org.nssifhir.server.audit;

import java.util.Date;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.security.policy.SecurityEventSink;
import org.springframework.stereotype.Component;

/**
 * Audits the security events the access policy reports, besides the ordinary record of each request: a change to
 * a fact that decides access (a care relationship, a consent, a proxy, a subscription) is tagged
 * {@code urn:nssi-fhir:audit|security-fact-change} so a privacy officer can list every such change; each
 * subscription notification is tagged {@code subscription-delivery} with the resource and the endpoint's host.
 */
@Component
public class SecurityEventAuditor implements SecurityEventSink {

	static final String TAG_SYSTEM = "urn:nssi-fhir:audit";

	private final AuditEventWriter writer;

	public SecurityEventAuditor(AuditEventWriter writer) {
		this.writer = writer;
	}

	@Override
	public void securityFactChanged(RequestIdentity who, String interaction, String resourceReference) {
		AuditEvent event = base("security-fact-change", "Security fact " + interaction);
		event.setAction("delete".equals(interaction) ? AuditEvent.AuditEventAction.D
				: "create".equals(interaction) ? AuditEvent.AuditEventAction.C : AuditEvent.AuditEventAction.U);
		event.addAgent().setRequestor(true).setWho(new Reference().setIdentifier(
				new Identifier().setValue(who.fhirUser().orElse(who.clientId()))));
		event.addAgent().setRequestor(false).setName("client " + who.clientId());
		if ("delete".equals(interaction)) {
			// a reference to a deleted resource cannot be stored: name it by identifier
			event.addEntity().setWhat(new Reference().setIdentifier(
					new Identifier().setSystem("urn:nssi-fhir:resource").setValue(resourceReference)));
		} else {
			event.addEntity().setWhat(new Reference(resourceReference));
		}
		writer.recordAuditEvent(event);
	}

	@Override
	public void disclosedByConditionalMatch(RequestIdentity who, String resourceReference) {
		AuditEvent event = base("conditional-match", "Existing resource returned by a conditional create");
		event.setAction(AuditEvent.AuditEventAction.R);
		event.addAgent().setRequestor(true).setWho(new Reference().setIdentifier(
				new Identifier().setSystem("urn:nssi-fhir:fhir-user").setValue(who.fhirUser().orElse(who.clientId()))));
		event.addAgent().setRequestor(false).setName("client " + who.clientId());
		event.addEntity().setWhat(new Reference(resourceReference));
		writer.recordAuditEvent(event);
	}

	@Override
	public void subscriptionDelivery(String subscriptionReference, String resourceReference, String endpointHost, boolean delivered) {
		AuditEvent event = base("subscription-delivery", delivered ? "Subscription notification sent to " + endpointHost
				: "Subscription notification withheld (subscriber no longer allowed) for " + endpointHost);
		event.setAction(AuditEvent.AuditEventAction.R);
		// by identifier: the Subscription may be gone by the time the record is stored
		event.addAgent().setRequestor(true).setWho(new Reference().setIdentifier(
				new Identifier().setSystem("urn:nssi-fhir:subscription").setValue(subscriptionReference)));
		if (resourceReference != null && resourceReference.contains("/")) {
			event.addEntity().setWhat(new Reference(resourceReference));
		}
		writer.recordAuditEvent(event);
	}

	@Override
	public void accountEvent(String actor, String event, String fhirUser) {
		AuditEvent audit = base("enrolment", "Enrolment: " + event);
		audit.setAction(event.startsWith("invitation-created") ? AuditEvent.AuditEventAction.C : AuditEvent.AuditEventAction.U);
		audit.getMeta().addTag(TAG_SYSTEM, "security-fact-change", null);
		audit.addAgent().setRequestor(true).setWho(new Reference().setIdentifier(
				new Identifier().setSystem("urn:nssi-fhir:fhir-user").setValue(actor)));
		// by identifier: the person's resource is named, never the invitation token or password
		audit.addEntity().setWhat(new Reference().setIdentifier(
				new Identifier().setSystem("urn:nssi-fhir:resource").setValue(fhirUser)));
		writer.recordAuditEvent(audit);
	}

	private static AuditEvent base(String tag, String description) {
		AuditEvent event = new AuditEvent();
		event.getMeta().addTag(TAG_SYSTEM, tag, null);
		event.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"));
		event.setRecorded(new Date());
		event.setOutcome(AuditEvent.AuditEventOutcome._0);
		event.setOutcomeDesc(description);
		event.getSource().setObserver(new Reference().setDisplay("NSSI FHIR Server"));
		return event;
	}
}
