package org.nssifhir.server.security;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/**
 * What the bearer token of the current request grants: its SMART resource scopes, the patient in context (if
 * any), and who is asking. Built from the validated JWT that Spring Security put in the security context.
 */
public record SmartAccess(
		List<SmartScope> scopes,
		List<String> unparsedResourceScopes,
		Optional<String> patientId,
		String clientId,
		String subject,
		/* the user's FHIR resource as a relative reference (Practitioner/1), from the fhirUser claim */
		Optional<String> fhirUser,
		List<String> audiences) {

	private static final String CACHE = SmartAccess.class.getName();

	/** The token's access, parsed once per HTTP request (the interceptors and the consent check ask per resource). */
	private record Parsed(Jwt jwt, SmartAccess access) {}

	public static Optional<SmartAccess> current() {
		Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
		if (!(authentication instanceof JwtAuthenticationToken token)) {
			return Optional.empty();
		}
		RequestAttributes request = RequestContextHolder.getRequestAttributes();
		if (request != null && request.getAttribute(CACHE, RequestAttributes.SCOPE_REQUEST) instanceof Parsed parsed && parsed.jwt() == token.getToken()) {
			return Optional.of(parsed.access());
		}
		SmartAccess access = from(token.getToken());
		if (request != null) {
			request.setAttribute(CACHE, new Parsed(token.getToken(), access), RequestAttributes.SCOPE_REQUEST);
		}
		return Optional.of(access);
	}

	static SmartAccess from(Jwt jwt) {
		List<SmartScope> scopes = new ArrayList<>();
		List<String> unparsed = new ArrayList<>();
		for (String scope : scopeNames(jwt)) {
			if (scope.startsWith("patient/") || scope.startsWith("user/") || scope.startsWith("system/")) {
				SmartScope.parse(scope).ifPresentOrElse(scopes::add, () -> unparsed.add(scope));
			}
		}
		String clientId = Optional.ofNullable(jwt.getClaimAsString("client_id")).orElse(jwt.getClaimAsString("azp"));
		return new SmartAccess(
				List.copyOf(scopes),
				List.copyOf(unparsed),
				Optional.ofNullable(jwt.getClaimAsString("patient")),
				clientId == null ? jwt.getSubject() : clientId,
				jwt.getSubject(),
				Optional.ofNullable(jwt.getClaimAsString("fhirUser")).map(SmartAccess::relative),
				jwt.getAudience() == null ? List.of() : jwt.getAudience());
	}

	private static Collection<String> scopeNames(Jwt jwt) {
		Object scope = jwt.getClaims().get("scope");
		if (scope instanceof String s) {
			return List.of(s.trim().split("\\s+"));
		}
		if (scope instanceof Collection<?> c) {
			return c.stream().map(String::valueOf).toList();
		}
		Object scp = jwt.getClaims().get("scp");
		if (scp instanceof Collection<?> c) {
			return c.stream().map(String::valueOf).toList();
		}
		return List.of();
	}

	/** {@code https://host/fhir/Practitioner/1} becomes {@code Practitioner/1}: the type and id are what rules need. */
	static String relative(String fhirUser) {
		String[] parts = fhirUser.split("/");
		return parts.length >= 2 ? parts[parts.length - 2] + "/" + parts[parts.length - 1] : fhirUser;
	}

	public boolean isPatientLevelOnly() {
		return !scopes.isEmpty() && scopes.stream().allMatch(s -> s.context() == SmartScope.Context.PATIENT);
	}
}
