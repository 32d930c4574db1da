package org.nssifhir.server.security.issuing;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import org.nssifhir.server.security.RevokedTokens;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.core.oidc.OidcIdToken;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2RefreshTokenAuthenticationToken;

/**
 * Refresh token rotation with reuse detection (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2). Every refresh
 * replaces the refresh token (all clients rotate); the spent one, and the access token issued with it, are
 * remembered (as SHA-256 hashes) for the authorization they belong to. Presenting a spent refresh token again means
 * it was copied: the whole authorization is revoked, the tokens it holds now and every access token issued in it
 * before (checked by {@link RevokedTokens}), and the request fails with {@code invalid_grant}. A refresh for a
 * user who can no longer sign in (an enrolled account disabled, a user removed from the configuration) fails the
 * same way, and its authorization is revoked.
 */
final class RefreshTokenFamilies implements AuthenticationProvider {

	private final AuthenticationProvider delegate;
	private final OAuth2AuthorizationService authorizations;
	private final JdbcTemplate jdbc;
	private final Predicate<String> activeUser;

	RefreshTokenFamilies(
			AuthenticationProvider delegate, OAuth2AuthorizationService authorizations, JdbcTemplate jdbc, Predicate<String> activeUser) {
		this.delegate = delegate;
		this.authorizations = authorizations;
		this.jdbc = jdbc;
		this.activeUser = activeUser;
	}

	@Override
	public boolean supports(Class<?> authentication) {
		return delegate.supports(authentication);
	}

	@Override
	public Authentication authenticate(Authentication authentication) {
		String presented = ((OAuth2RefreshTokenAuthenticationToken) authentication).getRefreshToken();
		String hash = hash(presented);
		List<String> spentIn = jdbc.queryForList(
				"SELECT authorization_id FROM nssi_token_family WHERE token_hash = ? AND kind = 'refresh'", String.class, hash);
		if (!spentIn.isEmpty()) {
			revoke(spentIn.get(0));
			throw reused();
		}
		OAuth2Authorization before = authorizations.findByToken(presented, OAuth2TokenType.REFRESH_TOKEN);
		if (before != null && AuthorizationGrantType.AUTHORIZATION_CODE.equals(before.getAuthorizationGrantType())
				&& !activeUser.test(before.getPrincipalName())) {
			revoke(before.getId());
			throw new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT,
					"This sign-in is no longer valid. Sign in again.", null));
		}
		Authentication result = delegate.authenticate(authentication);
		if (before != null) {
			OAuth2Authorization.Token<?> refresh = before.getRefreshToken();
			int recorded = remember(hash, before.getId(), "refresh", expiry(refresh));
			OAuth2Authorization.Token<?> access = before.getAccessToken();
			if (access != null) {
				remember(hash(access.getToken().getTokenValue()), before.getId(), "access", expiry(access));
			}
			if (recorded == 0) {
				// the same refresh token was spent twice at the same moment: one of the two callers copied it
				revoke(before.getId());
				throw reused();
			}
		}
		return result;
	}

	private int remember(String hash, String authorizationId, String kind, Instant expires) {
		jdbc.update("DELETE FROM nssi_token_family WHERE expires_at < ?", Timestamp.from(Instant.now().minusSeconds(3600)));
		return jdbc.update(
				"INSERT INTO nssi_token_family (token_hash, authorization_id, kind, expires_at) VALUES (?,?,?,?) ON CONFLICT (token_hash) DO NOTHING",
				hash, authorizationId, kind, Timestamp.from(expires));
	}

	/** Revokes the family: every access token it issued before, and the tokens it holds now. */
	void revoke(String authorizationId) {
		revoke(authorizationId, authorizations, jdbc);
	}

	/**
	 * Revokes every authorization of a user (an account disabled): their refresh tokens and the access tokens issued
	 * with them. Only the user's sign-ins: a client's own {@code client_credentials} authorizations carry its client id
	 * as principal name too, and a username equal to a client id must never reach the client's tokens.
	 */
	static int revokeUser(String principalName, OAuth2AuthorizationService authorizations, JdbcTemplate jdbc) {
		List<String> ids = jdbc.queryForList("SELECT id FROM oauth2_authorization WHERE principal_name = ? AND authorization_grant_type IN (?, ?)",
				String.class, principalName, AuthorizationGrantType.AUTHORIZATION_CODE.getValue(), AuthorizationGrantType.REFRESH_TOKEN.getValue());
		ids.forEach(id -> revoke(id, authorizations, jdbc));
		return ids.size();
	}

	static void revoke(String authorizationId, OAuth2AuthorizationService authorizations, JdbcTemplate jdbc) {
		jdbc.update("UPDATE nssi_token_family SET revoked = true WHERE authorization_id = ?", authorizationId);
		OAuth2Authorization authorization = authorizations.findById(authorizationId);
		if (authorization == null) {
			return;
		}
		OAuth2Authorization.Builder builder = OAuth2Authorization.from(authorization);
		for (OAuth2Authorization.Token<?> token : new OAuth2Authorization.Token<?>[] {
				authorization.getAccessToken(), authorization.getRefreshToken(), authorization.getToken(OidcIdToken.class)}) {
			if (token != null) {
				builder.invalidate(token.getToken());
			}
		}
		authorizations.save(builder.build());
	}

	private static Instant expiry(OAuth2Authorization.Token<?> token) {
		OAuth2Token value = token == null ? null : token.getToken();
		return value != null && value.getExpiresAt() != null ? value.getExpiresAt() : Instant.now().plusSeconds(86400L * 90);
	}

	private static OAuth2AuthenticationException reused() {
		return new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT,
				"The refresh token was already used; the authorization has been revoked. Sign in again.", null));
	}

	static String hash(String token) {
		return RevokedTokens.hash(token);
	}
}
