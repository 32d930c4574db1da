package org.nssifhir.server.security.issuing;

import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.crypto.keygen.Base64StringKeyGenerator;
import org.springframework.security.crypto.keygen.StringKeyGenerator;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2RefreshToken;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenContext;
import org.springframework.security.web.authentication.AuthenticationConverter;

/**
 * Refresh tokens for public clients (SMART App Launch 2.2 allows them for apps that asked for {@code offline_access};
 * the person's app on a phone would otherwise ask for the password every hour). Spring Authorization Server issues
 * none to public clients and cannot authenticate one at the token endpoint without a PKCE verifier, so this adds
 * both, narrowly:
 *
 * <ul>
 *   <li>{@link #converter()}: a {@code refresh_token} request that names exactly one {@code client_id} and carries no
 *       credentials is a public client's; {@link #provider} accepts it only for a registered public client
 *       ({@code none} authentication) allowed the refresh grant, else {@code invalid_client}. Spring's refresh-token
 *       provider then refuses a refresh token issued to another client ({@code invalid_grant}): the token is bound
 *       to the client it was issued to.
 *   <li>{@link #generate}: the refresh token itself (random, 96 bytes), when the public client's user granted
 *       {@code offline_access}.
 * </ul>
 *
 * Rotation and reuse detection are the same as for every client ({@code RefreshTokenFamilies}); a disabled account
 * cannot refresh.
 */
final class PublicClientRefresh {

	private static final StringKeyGenerator TOKENS = new Base64StringKeyGenerator(Base64.getUrlEncoder().withoutPadding(), 96);
	private static final String PUBLIC_REFRESH = "nssi-public-refresh";
	/** Spring Authorization Server's revocation endpoint (its default, which this server keeps). */
	static final String REVOCATION_PATH = "/oauth2/revoke";

	private PublicClientRefresh() {}

	static boolean isPublic(RegisteredClient client) {
		return client.getClientAuthenticationMethods().contains(ClientAuthenticationMethod.NONE)
				&& client.getClientAuthenticationMethods().size() == 1;
	}

	/** A refresh token for a public client, or null when this is not one's authorization-code grant. */
	static OAuth2RefreshToken generate(OAuth2TokenContext context) {
		if (!OAuth2TokenType.REFRESH_TOKEN.equals(context.getTokenType()) || !isPublic(context.getRegisteredClient())
				|| !context.getRegisteredClient().getAuthorizationGrantTypes().contains(AuthorizationGrantType.REFRESH_TOKEN)) {
			return null;
		}
		Instant issuedAt = Instant.now();
		return new OAuth2RefreshToken(TOKENS.generateKey(), issuedAt,
				issuedAt.plus(context.getRegisteredClient().getTokenSettings().getRefreshTokenTimeToLive()));
	}

	/**
	 * A public client's refresh request ({@code grant_type=refresh_token}) or revocation request ({@code token} at the
	 * revocation endpoint): one {@code client_id}, no credentials.
	 */
	static AuthenticationConverter converter() {
		return (HttpServletRequest request) -> {
			boolean refresh = AuthorizationGrantType.REFRESH_TOKEN.getValue().equals(request.getParameter(OAuth2ParameterNames.GRANT_TYPE));
			// RFC 7009 revocation by the same public client, authenticated the same way as its refresh ("sign out"):
			// Spring's revocation provider then revokes only a token issued to that client
			boolean revocation = REVOCATION_PATH.equals(request.getRequestURI().substring(request.getContextPath().length()))
					&& request.getParameter(OAuth2ParameterNames.TOKEN) != null;
			if (!"POST".equals(request.getMethod())
					|| !(refresh || revocation)
					|| request.getHeader("Authorization") != null
					|| request.getParameter(OAuth2ParameterNames.CLIENT_SECRET) != null
					|| request.getParameter(OAuth2ParameterNames.CLIENT_ASSERTION) != null) {
				return null;
			}
			String[] ids = request.getParameterValues(OAuth2ParameterNames.CLIENT_ID);
			if (ids == null) {
				return null;
			}
			if (ids.length != 1 || ids[0].isBlank()) {
				throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_REQUEST);
			}
			return new OAuth2ClientAuthenticationToken(ids[0], ClientAuthenticationMethod.NONE, null, Map.of(PUBLIC_REFRESH, true));
		};
	}

	/** Authenticates what {@link #converter()} made: a registered public client allowed the refresh grant. */
	static AuthenticationProvider provider(RegisteredClientRepository clients) {
		return new AuthenticationProvider() {
			@Override
			public Authentication authenticate(Authentication authentication) {
				OAuth2ClientAuthenticationToken request = (OAuth2ClientAuthenticationToken) authentication;
				if (!Boolean.TRUE.equals(request.getAdditionalParameters().get(PUBLIC_REFRESH))) {
					return null; // not ours: the other client authentication providers decide
				}
				RegisteredClient client = clients.findByClientId((String) request.getPrincipal());
				if (client == null || !isPublic(client) || !client.getAuthorizationGrantTypes().contains(AuthorizationGrantType.REFRESH_TOKEN)) {
					throw new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INVALID_CLIENT,
							"Client authentication failed: only a public client refreshes with its client_id alone", null));
				}
				return new OAuth2ClientAuthenticationToken(client, ClientAuthenticationMethod.NONE, null);
			}

			@Override
			public boolean supports(Class<?> authentication) {
				return OAuth2ClientAuthenticationToken.class.isAssignableFrom(authentication);
			}
		};
	}
}
