package org.nssifhir.server.security.issuing;

import jakarta.servlet.http.HttpSession;
import java.time.Instant;
import java.util.Optional;
import org.nssifhir.server.security.enrolment.Accounts;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;
import org.springframework.security.web.authentication.SavedRequestAwareAuthenticationSuccessHandler;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * Ends the browser sign-in sessions of an enrolled person that were opened before their current password: a new
 * password from a new invitation (a lost phone) must sign the old phone out, not only revoke its tokens. The session
 * remembers when its user signed in; at the authorization endpoint a session older than the account's
 * {@code password_set_at} is invalidated and the request refused, so the next launch asks for the password. Sessions
 * live in each node's memory: comparing times against the database works across nodes without tracking sessions.
 */
final class SignInSessions {

	static final String SIGNED_IN_AT = SignInSessions.class.getName() + ".signedInAt";

	private final Accounts accounts;

	SignInSessions(Accounts accounts) {
		this.accounts = accounts;
	}

	/** Spring's usual success handler (back to the saved authorization request), after noting when the user signed in. */
	static AuthenticationSuccessHandler successHandler() {
		SavedRequestAwareAuthenticationSuccessHandler saved = new SavedRequestAwareAuthenticationSuccessHandler();
		return (request, response, authentication) -> {
			request.getSession().setAttribute(SIGNED_IN_AT, Instant.now());
			saved.onAuthenticationSuccess(request, response, authentication);
		};
	}

	/**
	 * Whether the current request's session may still act for the username: always for configured users; for an
	 * enrolled person only if it was signed in after the password was last set (otherwise it is invalidated here).
	 */
	boolean currentSessionValid(String username) {
		Optional<Instant> passwordSetAt = accounts.passwordSetAt(username);
		if (passwordSetAt.isEmpty() || !(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)) {
			return true;
		}
		HttpSession session = attributes.getRequest().getSession(false);
		if (session == null) {
			return true; // no browser session (the principal came from elsewhere): nothing to end
		}
		Object signedInAt = session.getAttribute(SIGNED_IN_AT);
		if (signedInAt instanceof Instant at && !at.isBefore(passwordSetAt.get())) {
			return true;
		}
		session.invalidate();
		return false;
	}
}
