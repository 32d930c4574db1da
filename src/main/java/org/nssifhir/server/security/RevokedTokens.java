package org.nssifhir.server.security;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.Jwt;

/**
 * Refuses a token this server issued and then revoked (/oauth2/revoke, a replayed code, a reused refresh token), at once rather than at
 * expiry. It runs on every FHIR request, so it reads only the token's metadata column through its hash index
 * instead of loading and deserialising the whole authorization as Spring's {@code findByToken} would.
 */
public class RevokedTokens implements OAuth2TokenValidator<Jwt> {

	private static final String INVALIDATED = "metadata.token.invalidated";

	private final JdbcTemplate jdbc;
	private final ObjectMapper json = new ObjectMapper();

	RevokedTokens(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	@Override
	public OAuth2TokenValidatorResult validate(Jwt token) {
		// one round trip: the token's own row, and (for an access token replaced by a refresh) the family it belongs to,
		// revoked when a spent refresh token was presented again (RefreshTokenFamilies)
		List<String> metadata = jdbc.queryForList(
				"SELECT access_token_metadata FROM oauth2_authorization WHERE access_token_value = ?"
						+ " UNION ALL SELECT '{\"" + INVALIDATED + "\":true}' FROM nssi_token_family WHERE token_hash = ? AND revoked",
				String.class, token.getTokenValue(), hash(token.getTokenValue()));
		for (String value : metadata) {
			if (value != null && invalidated(value)) {
				return OAuth2TokenValidatorResult.failure(new OAuth2Error("invalid_token", "The token has been revoked", null));
			}
		}
		return OAuth2TokenValidatorResult.success();
	}

	private boolean invalidated(String metadata) {
		try {
			return json.readTree(metadata).path(INVALIDATED).asBoolean(false);
		} catch (JsonProcessingException e) {
			return true; // unreadable metadata: fail closed
		}
	}

	/** How token values are stored for these checks: SHA-256, hex (never the token itself). */
	public static String hash(String token) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}
}
