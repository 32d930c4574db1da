package org.nssifhir.server.security.enrolment;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.nssifhir.server.security.launch.SignInPages;
import org.nssifhir.server.support.ErrorCode;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.authentication.event.AuthenticationFailureBadCredentialsEvent;
import org.springframework.security.web.authentication.WebAuthenticationDetails;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Before a password is checked at {@code POST /login}: an address over its failure limit, or a username whose
 * sign-in is paused, is answered 429 with the sign-in form and the reason ({@code NSSI-0323}, {@code NSSI-0324}),
 * without checking the password at all (so a paused account cannot be probed, and the answer is the same for a
 * username that has no account).
 */
public class SignInGuardFilter extends OncePerRequestFilter {

	private final SignInThrottle throttle;
	private final Accounts accounts;
	private final ApplicationEventPublisher publisher;

	public SignInGuardFilter(SignInThrottle throttle, Accounts accounts, ApplicationEventPublisher publisher) {
		this.throttle = throttle;
		this.accounts = accounts;
		this.publisher = publisher;
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !("POST".equals(request.getMethod()) && "/login".equals(request.getServletPath()));
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		String message = null;
		if (throttle.addressLimited(request.getRemoteAddr())) {
			message = ErrorCode.SIGN_IN_RATE_LIMITED.message("There have been too many failed sign-ins from here. Please wait a few minutes and try again.");
		} else if (throttle.locked(request.getParameter("username"))) {
			message = ErrorCode.SIGN_IN_LOCKED.message("Sign-in for this username is paused for a while after several failed attempts."
					+ " Please try again later, or ask your care team for a new link to set a new password.");
		}
		int status = 429;
		if (message == null) {
			// the second step, for people who set it up: a wrong or missing code is a failed sign-in like a wrong
			// password (counted, same words), decided before the password is looked at
			String username = request.getParameter("username");
			// (a code is good once: the same code again is refused like a wrong one)
			if (accounts.hasSecondStep(username) && !accounts.acceptCode(username, request.getParameter("code"), Instant.now())) {
				// a failed sign-in like a wrong password: counted towards the pause (SignInThrottle) and audited (SignInAuditor)
				UsernamePasswordAuthenticationToken attempt = UsernamePasswordAuthenticationToken.unauthenticated(username, "");
				attempt.setDetails(new WebAuthenticationDetails(request));
				publisher.publishEvent(new AuthenticationFailureBadCredentialsEvent(attempt, new BadCredentialsException("Wrong code")));
				message = "Wrong username, password or code.";
				status = 401;
			}
		}
		if (message == null) {
			chain.doFilter(request, response);
			return;
		}
		response.setStatus(status);
		response.setHeader("Cache-Control", "no-store");
		response.setContentType("text/html;charset=UTF-8");
		response.getOutputStream().write(SignInPages.loginPage(request, message).getBytes(StandardCharsets.UTF_8));
	}
}
