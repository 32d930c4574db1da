package org.nssifhir.server.security;

import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;

/**
 * The extension point security offers to features for the web layer, as {@link FeatureOperations} is for FHIR
 * operations: a feature whose HTTP paths need something other than the default (a token on {@code /fhir/**}) declares
 * one bean of this type in its own package, and {@link SecurityConfig} collects them. Security keeps no list of the
 * features' paths, so it imports none of them ({@code ArchitectureTest} checks).
 */
public interface WebSecurityContribution {

	/**
	 * Paths readable without a token, as patterns for Spring Security's {@code requestMatchers(String...)} (e.g.
	 * {@code /fhir/swagger-ui/**}). They are matched before the rule that {@code /fhir/**} needs a token, so only
	 * paths that hold no data belong here.
	 */
	default List<String> publicPaths() {
		return List.of();
	}

	/**
	 * Path prefixes (after the context path) whose {@code Authorization} header is not one of our access tokens, e.g.
	 * the CDS Client's JWT on {@code /cds-services}: the resource server reads no bearer token there (it would refuse
	 * it with a 401), and the feature checks the header its own way.
	 */
	default List<String> ownCredentialPaths() {
		return List.of();
	}

	/** Paths no contribution makes public; none when no feature contributes any. */
	static String[] publicPaths(List<? extends WebSecurityContribution> contributions) {
		return contributions.stream().flatMap(c -> c.publicPaths().stream()).toArray(String[]::new);
	}

	/**
	 * The standard bearer-token resolver, except on the contributions' own-credential paths, where it resolves no
	 * token.
	 */
	static BearerTokenResolver bearerTokenResolver(List<? extends WebSecurityContribution> contributions) {
		List<String> prefixes = contributions.stream().flatMap(c -> c.ownCredentialPaths().stream()).toList();
		BearerTokenResolver standard = new DefaultBearerTokenResolver();
		return request -> hasOwnCredentials(request, prefixes) ? null : standard.resolve(request);
	}

	private static boolean hasOwnCredentials(HttpServletRequest request, List<String> prefixes) {
		String path = request.getRequestURI().substring(request.getContextPath().length());
		return prefixes.stream().anyMatch(path::startsWith);
	}
}
