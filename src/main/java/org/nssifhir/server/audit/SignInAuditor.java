package org.nssifhir.server.audit;

import java.util.Date;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.context.event.EventListener;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.authentication.event.AbstractAuthenticationFailureEvent;
import org.springframework.security.authentication.event.AuthenticationSuccessEvent;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.stereotype.Component;

/**
 * Audits authentication at the authorization server: a person signing in (or failing to), and a client
 * authenticating at the token endpoint (or failing to). DICOM "User Authentication" events, tagged
 * {@code urn:nssi-fhir:audit|sign-in} or {@code |refused-authentication}; who is named by username or client id,
 * never by the secret. Bearer-token failures on the FHIR API are audited by {@link RefusedAccessAuditor}.
 */
@Component
public class SignInAuditor {

	static final String USERNAME_SYSTEM = "urn:nssi-fhir:username";

	private final AuditEventWriter writer;

	public SignInAuditor(AuditEventWriter writer) {
		this.writer = writer;
	}

	@EventListener
	public void succeeded(AuthenticationSuccessEvent event) {
		// client authentication succeeds on every token request; the token issue itself is what matters there
		if (event.getAuthentication() instanceof UsernamePasswordAuthenticationToken user) {
			writer.recordAuditEvent(event(user, AuditEvent.AuditEventOutcome._0, "sign-in", "signed in"));
		}
	}

	@EventListener
	public void failed(AbstractAuthenticationFailureEvent event) {
		Authentication attempt = event.getAuthentication();
		if (attempt instanceof UsernamePasswordAuthenticationToken || attempt instanceof OAuth2ClientAuthenticationToken) {
			writer.recordAuditEvent(event(attempt, AuditEvent.AuditEventOutcome._4, "refused-authentication", "refused: authentication failed"));
		}
	}

	private static AuditEvent event(Authentication who, AuditEvent.AuditEventOutcome outcome, String tag, String description) {
		AuditEvent audit = new AuditEvent();
		audit.getMeta().addTag("urn:nssi-fhir:audit", tag, null);
		audit.setType(new Coding(RefusedAccessAuditor.DCM, "110114", "User Authentication"));
		audit.setAction(AuditEvent.AuditEventAction.E);
		audit.setRecorded(new Date());
		audit.setOutcome(outcome);
		audit.setOutcomeDesc(description);
		audit.getSource().setObserver(new Reference().setDisplay("NSSI FHIR Server"));
		boolean client = who instanceof OAuth2ClientAuthenticationToken;
		// what was typed or sent, unverified: bounded, so a failed attempt cannot write an arbitrarily large record
		String name = who.getName() == null ? "" : who.getName().length() > 100 ? who.getName().substring(0, 100) : who.getName();
		Reference agent = new Reference().setDisplay(client ? "client " + name : name);
		agent.getIdentifier().setSystem(client ? SmartAuditContext.CLIENT_SYSTEM : USERNAME_SYSTEM).setValue(name);
		audit.addAgent().setRequestor(true).setWho(agent);
		return audit;
	}
}
