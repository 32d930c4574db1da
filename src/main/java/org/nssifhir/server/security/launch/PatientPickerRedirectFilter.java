package org.nssifhir.server.security.launch;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Function;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Standalone launch with {@code launch/patient}: a signed-in clinician who has no patient in context yet is sent to
 * the patient picker first, which comes back to the same authorization request with a {@code launch} id for the
 * chosen patient. Patients and proxies are never asked: their patient is known.
 */
public class PatientPickerRedirectFilter extends OncePerRequestFilter {

	private final Function<String, Boolean> isClinician;

	public PatientPickerRedirectFilter(Function<String, Boolean> isClinician) {
		this.isClinician = isClinician;
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !"GET".equals(request.getMethod()) || !"/oauth2/authorize".equals(request.getRequestURI());
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		Authentication user = SecurityContextHolder.getContext().getAuthentication();
		String scope = request.getParameter("scope");
		boolean wantsPatient = scope != null && Arrays.asList(scope.split(" ")).contains("launch/patient");
		boolean signedIn = user != null && user.isAuthenticated() && !(user instanceof AnonymousAuthenticationToken);
		if (wantsPatient && request.getParameter("launch") == null && signedIn && isClinician.apply(user.getName())) {
			response.sendRedirect(request.getContextPath() + LaunchPages.PICKER + "?request="
					+ URLEncoder.encode(request.getQueryString(), StandardCharsets.UTF_8));
			return;
		}
		chain.doFilter(request, response);
	}
}
