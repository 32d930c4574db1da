package org.nssifhir.server.security.enrolment;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.nssifhir.server.security.launch.SignInPages;
import org.nssifhir.server.security.launch.SignInSite;
import org.nssifhir.server.support.ErrorCode;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Before a password or an authenticator code is checked ({@code POST /login}, {@code POST /login/code}): an address
 * over its failure limit, or a username whose sign-in is paused, is answered 429 with the sign-in form and the
 * reason ({@code NSSI-0323}, {@code NSSI-0324}, kept in the page for support, the words plain), without checking the
 * password at all (so a paused account cannot be probed, and the answer is the same for a username that has no
 * account). The second step is asked for only after a right password ({@link PasswordFirst}, {@link SecondStep}).
 */
public class SignInGuardFilter extends OncePerRequestFilter {

	private final SignInThrottle throttle;
	/** The deployment's crisis contacts: a pause must never leave someone in crisis with nothing to turn to. */
	private final String crisisContacts;

	private final SignInSite site;

	public SignInGuardFilter(SignInThrottle throttle, SignInSite site, List<String> crisisContacts) {
		this.throttle = throttle;
		this.site = site;
		this.crisisContacts = crisisContacts.isEmpty() ? "" : " If you need help now: " + String.join("; ", crisisContacts) + ".";
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !("POST".equals(request.getMethod())
				&& ("/login".equals(request.getServletPath()) || SecondStep.PATH.equals(request.getServletPath())));
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		// the code's page names no username: it is the one whose password this browser gave
		String username = SecondStep.PATH.equals(request.getServletPath()) ? SecondStep.pendingUsername(request) : request.getParameter("username");
		ErrorCode code = null;
		String message = null;
		if (throttle.addressLimited(request.getRemoteAddr())) {
			code = ErrorCode.SIGN_IN_RATE_LIMITED;
			message = "There have been too many failed sign-ins from here. Please wait a few minutes and try again.";
		} else if (throttle.locked(username)) {
			code = ErrorCode.SIGN_IN_LOCKED;
			message = "Sign-in for this username is paused for a while after several failed attempts."
					+ " Please try again later, or ask your care team for a new link to set a new password.";
		}
		if (code == null) {
			chain.doFilter(request, response);
			return;
		}
		SecondStep.clear(request);
		// a young person may be signing in because they need support now (review s7): the pause says where to turn
		message += crisisContacts;
		response.setStatus(429);
		response.setHeader("Cache-Control", "no-store");
		response.setContentType("text/html;charset=UTF-8");
		response.getOutputStream().write(SignInPages.loginPage(request, site, message, code.code()).getBytes(StandardCharsets.UTF_8));
	}
}
