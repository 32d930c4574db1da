package org.nssifhir.server.security.issuing;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.authorization.authentication.JwtClientAssertionDecoderFactory;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;

/**
 * SMART Backend Services rules for {@code private_key_jwt} client assertions, on top of Spring Authorization
 * Server's (signature with the client's registered key and algorithm, iss = sub = client_id, aud = token
 * endpoint, not expired): an assertion must carry a {@code jti}, expire at most five minutes ahead, and never be
 * used twice. Used ids are recorded in the database, so a replay is refused by every node.
 */
class ClientAssertionReplayGuard {

	static final Duration MAX_LIFETIME = Duration.ofMinutes(5);

	private final JdbcTemplate jdbc;

	ClientAssertionReplayGuard(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	Function<RegisteredClient, OAuth2TokenValidator<Jwt>> validatorFactory() {
		return client -> new DelegatingOAuth2TokenValidator<>(
				JwtClientAssertionDecoderFactory.DEFAULT_JWT_VALIDATOR_FACTORY.apply(client), jwt -> check(client, jwt));
	}

	private OAuth2TokenValidatorResult check(RegisteredClient client, Jwt assertion) {
		String jti = assertion.getId();
		Instant expires = assertion.getExpiresAt();
		Instant now = Instant.now();
		if (jti == null || jti.isBlank() || jti.length() > 200) {
			return failure("The client assertion needs a jti");
		}
		if (expires == null || expires.isAfter(now.plus(MAX_LIFETIME).plusSeconds(60))) {
			return failure("The client assertion must expire within five minutes");
		}
		jdbc.update("DELETE FROM nssi_client_assertion WHERE expires_at < ?", Timestamp.from(now.minus(Duration.ofMinutes(10))));
		int inserted = jdbc.update(
				"INSERT INTO nssi_client_assertion (client_id, jti, expires_at) VALUES (?,?,?) ON CONFLICT DO NOTHING",
				client.getClientId(), jti, Timestamp.from(expires));
		return inserted == 1 ? OAuth2TokenValidatorResult.success() : failure("The client assertion has been used before");
	}

	private static OAuth2TokenValidatorResult failure(String description) {
		return OAuth2TokenValidatorResult.failure(new OAuth2Error(OAuth2ErrorCodes.INVALID_CLIENT, description, null));
	}
}
