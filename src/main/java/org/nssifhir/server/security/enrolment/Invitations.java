package org.nssifhir.server.security.enrolment;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * One-time invitation links: 256 random bits, given once to the inviter and stored only as a SHA-256 hash (a
 * database reader cannot sign anyone up), usable once, until they expire or are revoked. A new invitation for the
 * same person revokes the ones still open, so at most one link works at a time.
 */
public class Invitations {

	/** An invitation as created: the token (never stored) and when it expires. */
	public record Created(String token, Instant expires) {}

	private static final SecureRandom RANDOM = new SecureRandom();

	private final JdbcTemplate jdbc;

	public Invitations(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	Created create(String fhirUser, String invitedBy, Instant now, Duration ttl) {
		revokeOpen(fhirUser, now);
		byte[] bytes = new byte[32];
		RANDOM.nextBytes(bytes);
		String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
		Instant expires = now.plus(ttl);
		jdbc.update("INSERT INTO nssi_invitation (token_hash, fhir_user, invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
				hash(token), fhirUser, invitedBy, Timestamp.from(now), Timestamp.from(expires));
		return new Created(token, expires);
	}

	/** Revokes every open invitation of the person; the number revoked. */
	int revokeOpen(String fhirUser, Instant now) {
		return jdbc.update("UPDATE nssi_invitation SET revoked_at = ? WHERE fhir_user = ? AND used_at IS NULL AND revoked_at IS NULL",
				Timestamp.from(now), fhirUser);
	}

	/** The person an unused, unexpired, unrevoked invitation is for (the link is not spent by looking). */
	Optional<String> usable(String token, Instant now) {
		if (token == null || token.length() > 100) {
			return Optional.empty();
		}
		return jdbc.queryForList("SELECT fhir_user FROM nssi_invitation WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
				String.class, hash(token), Timestamp.from(now)).stream().findFirst();
	}

	/**
	 * Spends the invitation: exactly one caller gets the person back, however many try at once (the row is
	 * updated only while unused).
	 */
	Optional<String> redeem(String token, Instant now) {
		if (token == null || token.length() > 100) {
			return Optional.empty();
		}
		return jdbc.queryForList("UPDATE nssi_invitation SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?"
				+ " RETURNING fhir_user", String.class, Timestamp.from(now), hash(token), Timestamp.from(now)).stream().findFirst();
	}

	static String hash(String token) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}
}
