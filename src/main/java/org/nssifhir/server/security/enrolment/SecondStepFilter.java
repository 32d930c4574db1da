package org.nssifhir.server.security.enrolment;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.nssifhir.server.security.launch.Pages;
import org.nssifhir.server.security.launch.SignInSite;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.authentication.event.AuthenticationFailureBadCredentialsEvent;
import org.springframework.security.authentication.event.AuthenticationSuccessEvent;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;
import org.springframework.security.web.authentication.AbstractAuthenticationProcessingFilter;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;
import org.springframework.security.web.authentication.WebAuthenticationDetails;
import org.springframework.security.web.authentication.session.ChangeSessionIdAuthenticationStrategy;
import org.springframework.security.web.authentication.session.CompositeSessionAuthenticationStrategy;
import org.springframework.security.web.context.DelegatingSecurityContextRepository;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;
import org.springframework.security.web.context.RequestAttributeSecurityContextRepository;
import org.springframework.security.web.csrf.CsrfAuthenticationStrategy;
import org.springframework.security.web.csrf.HttpSessionCsrfTokenRepository;

/**
 * {@code POST /login/code}: the authenticator code of the person whose password this browser gave a moment ago
 * ({@link SecondStep}). A right code, not used before ({@link Accounts#acceptCode}), completes the sign-in as the
 * password form would (a renamed session, a new CSRF token, back to the authorization request). A wrong or reused
 * code is a failed sign-in like a wrong password: the same events, so it is counted towards the pause
 * ({@link SignInThrottle}) and audited; the page asks again until sign-in is paused ({@link SignInGuardFilter}).
 */
public class SecondStepFilter extends AbstractAuthenticationProcessingFilter {

	private final Accounts accounts;
	private final UserDetailsService users;
	private final ApplicationEventPublisher publisher;
	private final SignInSite site;

	public SecondStepFilter(Accounts accounts, UserDetailsService users, ApplicationEventPublisher publisher, SignInSite site,
			AuthenticationSuccessHandler success) {
		super(request -> "POST".equals(request.getMethod()) && SecondStep.PATH.equals(request.getServletPath()));
		this.accounts = accounts;
		this.users = users;
		this.publisher = publisher;
		this.site = site;
		setAuthenticationSuccessHandler(success);
		setAuthenticationFailureHandler(this::failed);
		// as the sign-in form does: the signed-in context kept in the session, the session renamed, a new CSRF token
		setSecurityContextRepository(new DelegatingSecurityContextRepository(
				new RequestAttributeSecurityContextRepository(), new HttpSessionSecurityContextRepository()));
		setSessionAuthenticationStrategy(new CompositeSessionAuthenticationStrategy(List.of(
				new ChangeSessionIdAuthenticationStrategy(), new CsrfAuthenticationStrategy(new HttpSessionCsrfTokenRepository()))));
	}

	@Override
	public Authentication attemptAuthentication(HttpServletRequest request, HttpServletResponse response) throws AuthenticationException {
		String username = SecondStep.pendingUsername(request);
		if (username == null) {
			throw new NoPendingStep();
		}
		UsernamePasswordAuthenticationToken attempt = UsernamePasswordAuthenticationToken.unauthenticated(username, "");
		attempt.setDetails(new WebAuthenticationDetails(request));
		if (!accounts.acceptCode(username, request.getParameter("code"), Instant.now())) {
			BadCredentialsException wrong = new BadCredentialsException("Wrong authenticator code");
			publisher.publishEvent(new AuthenticationFailureBadCredentialsEvent(attempt, wrong));
			throw wrong;
		}
		SecondStep.clear(request);
		UserDetails user;
		try {
			user = users.loadUserByUsername(username);
		} catch (UsernameNotFoundException gone) {
			throw new NoPendingStep(); // disabled meanwhile: no sign-in
		}
		if (!user.isEnabled() || !user.isAccountNonLocked() || !user.isAccountNonExpired() || !user.isCredentialsNonExpired()) {
			throw new NoPendingStep(); // the password form checks these; the account may have changed since it was given
		}
		UsernamePasswordAuthenticationToken signedIn = UsernamePasswordAuthenticationToken.authenticated(user, null, user.getAuthorities());
		signedIn.setDetails(attempt.getDetails());
		// what the password form's success publishes: audited as a sign-in, the failure count cleared
		publisher.publishEvent(new AuthenticationSuccessEvent(signedIn));
		return signedIn;
	}

	private void failed(HttpServletRequest request, HttpServletResponse response, AuthenticationException exception)
			throws java.io.IOException {
		if (exception instanceof NoPendingStep) {
			// no password given in this browser lately (or the account is gone): sign in from the start
			response.sendRedirect(request.getContextPath() + "/login");
			return;
		}
		response.setStatus(401);
		response.setHeader("Cache-Control", "no-store");
		response.setContentType("text/html;charset=UTF-8");
		response.getOutputStream().write(Pages.page(org.springframework.http.HttpStatus.UNAUTHORIZED, site.name(request), "Sign in: code",
				SecondStep.body(request, SecondStep.WRONG_CODE)).getBody()
				.getBytes(StandardCharsets.UTF_8));
	}

	/** No password was given in this browser within the window. */
	private static final class NoPendingStep extends AuthenticationException {
		NoPendingStep() {
			super("Sign in again");
		}
	}
}
