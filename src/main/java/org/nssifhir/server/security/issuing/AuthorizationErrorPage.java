package org.nssifhir.server.security.issuing;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.nssifhir.server.security.launch.Pages;
import org.nssifhir.server.security.launch.SignInSite;
import org.springframework.http.ResponseEntity;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * An authorization request refused without a redirect (an unregistered redirect URI, a clinician at the person's
 * app) gets a page saying why, in the sign-in pages' style, instead of the bare error page (which shows no message:
 * {@code server.error.include-message=never}). Spring Authorization Server answers those with
 * {@code sendError(400, "[code] description")}; errors sent back to the app's redirect URI are untouched. The page goes
 * by the name of the sign-in it belongs to ({@link SignInSite}): a young person at their app's link reads its name.
 */
final class AuthorizationErrorPage extends OncePerRequestFilter {

	private final SignInSite site;

	AuthorizationErrorPage(SignInSite site) {
		this.site = site;
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !"/oauth2/authorize".equals(request.getRequestURI().substring(request.getContextPath().length()));
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		chain.doFilter(request, new HttpServletResponseWrapper(response) {
			@Override
			public void sendError(int status, String message) throws IOException {
				if (status != 400 || message == null || isCommitted()) {
					super.sendError(status, message);
					return;
				}
				// "[code] description": the description is the server's own words, escaped anyway
				String text = message.replaceFirst("^\\[[^\\]]*\\]\\s*", "");
				ResponseEntity<String> page = Pages.page(org.springframework.http.HttpStatus.BAD_REQUEST, site.name(request), "Sign-in not possible",
						"<h1>This sign-in is not possible</h1><p class='error' role='alert' id='authorize-error'>" + Pages.esc(text) + "</p>");
				setStatus(400);
				page.getHeaders().forEach((name, values) -> values.forEach(value -> setHeader(name, value)));
				setHeader("Cache-Control", "no-store");
				setContentType("text/html;charset=UTF-8");
				getOutputStream().write(page.getBody().getBytes(StandardCharsets.UTF_8));
				flushBuffer();
			}
		});
	}
}
