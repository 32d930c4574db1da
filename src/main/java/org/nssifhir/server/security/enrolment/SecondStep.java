package org.nssifhir.server.security.enrolment;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import java.io.Serializable;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import org.nssifhir.server.security.launch.Pages;
import org.nssifhir.server.security.launch.SignInSite;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.web.authentication.AuthenticationFailureHandler;
import org.springframework.security.web.authentication.SimpleUrlAuthenticationFailureHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The second step of sign-in, for people who set up an authenticator app: asked for only after their password was
 * right ({@link PasswordFirst}), on a page of its own ({@code /login/code}); the browser session remembers for a few
 * minutes whose password it was (never the password). The code is checked by {@link SecondStepFilter}.
 */
@RestController
@ConditionalOnProperty(name = "nssi.security.mode", havingValue = "BUILTIN", matchIfMissing = true)
public class SecondStep {

	public static final String PATH = "/login/code";

	private final SignInSite site;

	public SecondStep(SignInSite site) {
		this.site = site;
	}
	/** How long after the password the code may be given (an authenticator app is at hand, or sign-in starts again). */
	static final Duration WINDOW = Duration.ofMinutes(5);
	static final String PENDING = SecondStep.class.getName() + ".pending";

	/** Whose password was right, and when. */
	record Pending(String username, Instant at) implements Serializable {}

	/**
	 * The sign-in form's failure handler: a right password of an account with the second step goes on to the code
	 * page (in a renamed session: the step belongs to this browser only); anything else is Spring's usual answer, the
	 * same for every account ({@code /login?error}).
	 */
	public static AuthenticationFailureHandler passwordFailureHandler() {
		SimpleUrlAuthenticationFailureHandler wrong = new SimpleUrlAuthenticationFailureHandler("/login?error");
		return (request, response, exception) -> {
			if (exception instanceof SecondStepRequired step) {
				request.getSession();
				request.changeSessionId();
				request.getSession().setAttribute(PENDING, new Pending(step.username(), Instant.now()));
				response.sendRedirect(request.getContextPath() + PATH);
				return;
			}
			HttpSession session = request.getSession(false);
			if (session != null) {
				session.removeAttribute(PENDING);
			}
			wrong.onAuthenticationFailure(request, response, exception);
		};
	}

	/** The username whose password this browser gave within the window, if any. */
	static String pendingUsername(HttpServletRequest request) {
		HttpSession session = request.getSession(false);
		if (session != null && session.getAttribute(PENDING) instanceof Pending pending) {
			if (pending.at().plus(WINDOW).isAfter(Instant.now())) {
				return pending.username();
			}
			session.removeAttribute(PENDING);
		}
		return null;
	}

	static void clear(HttpServletRequest request) {
		HttpSession session = request.getSession(false);
		if (session != null) {
			session.removeAttribute(PENDING);
		}
	}

	@GetMapping(value = PATH, produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> page(HttpServletRequest http) {
		if (pendingUsername(http) == null) {
			return ResponseEntity.status(HttpStatus.FOUND).location(URI.create("/login")).build();
		}
		return Pages.page(HttpStatus.OK, site.name(http), "Sign in: code", body(http, http.getParameter("error") != null ? WRONG_CODE : null));
	}

	static final String WRONG_CODE = "That code did not work. Codes change every 30 seconds and each works once: type the one your app shows now.";

	/** The code page (for the filter's answer to a wrong code too). */
	static String body(HttpServletRequest http, String error) {
		StringBuilder body = new StringBuilder("<h1>One more step</h1>");
		if (error != null) {
			body.append("<p class='error' role='alert' id='login-error'>").append(Pages.esc(error)).append("</p>");
		}
		return body.append("<form method='post' action='").append(PATH).append("'>").append(Pages.csrf(http))
				.append("<p><label for='code'>The 6-digit code from your authenticator app</label> <input id='code' name='code'"
						+ " inputmode='numeric' autocomplete='one-time-code' pattern='[0-9]{6}' maxlength='6' required autofocus></p>")
				.append("<button type='submit'>Sign in</button></form>")
				.append("<p><a href='/login'>Start again</a></p>")
				.toString();
	}
}
