package org.nssifhir.server.security.issuing;

import java.util.Set;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenIntrospection;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2TokenIntrospectionAuthenticationToken;

/**
 * Who may learn what a token is ({@code /oauth2/introspect}, RFC 7662 section 4): the resource servers named in
 * {@code nssi.security.introspection-clients}, and the client the token was issued to. Anyone else is told
 * {@code {"active":false}}, as for an unknown token, so one client cannot read another's grants, patient or user.
 */
final class IntrospectionPolicy implements AuthenticationProvider {

	private final AuthenticationProvider delegate;
	private final Set<String> resourceServers;

	IntrospectionPolicy(AuthenticationProvider delegate, Set<String> resourceServers) {
		this.delegate = delegate;
		this.resourceServers = Set.copyOf(resourceServers);
	}

	@Override
	public boolean supports(Class<?> authentication) {
		return delegate.supports(authentication);
	}

	@Override
	public Authentication authenticate(Authentication authentication) {
		OAuth2TokenIntrospectionAuthenticationToken result = (OAuth2TokenIntrospectionAuthenticationToken) delegate.authenticate(authentication);
		if (result == null || !result.getTokenClaims().isActive()) {
			return result;
		}
		OAuth2ClientAuthenticationToken caller = (OAuth2ClientAuthenticationToken) result.getPrincipal();
		String callerId = caller.getRegisteredClient() == null ? null : caller.getRegisteredClient().getClientId();
		if (callerId != null && (callerId.equals(result.getTokenClaims().getClientId()) || resourceServers.contains(callerId))) {
			return result;
		}
		return new OAuth2TokenIntrospectionAuthenticationToken(result.getToken(), caller, OAuth2TokenIntrospection.builder(false).build());
	}
}
