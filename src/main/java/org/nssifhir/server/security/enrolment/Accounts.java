package org.nssifhir.server.security.enrolment;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * People who enrolled by invitation: a username of their choice, the FHIR resource they act as (a Patient or a
 * RelatedPerson) and their password's hash, in {@code nssi_account}. One account per FHIR user; a new invitation
 * lets the person set a new password (the username stays).
 */
public class Accounts {

	/** Usernames: short, plain, case-insensitive (stored lower case), so that nothing hostile reaches a page or log. */
	static final Pattern USERNAME = Pattern.compile("[a-z0-9][a-z0-9._@-]{2,63}");

	/** One enrolled person. */
	public record Account(String username, String fhirUser, String passwordHash, boolean disabled) {}

	private final JdbcTemplate jdbc;

	public Accounts(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	public Optional<Account> byUsername(String username) {
		if (username == null) {
			return Optional.empty();
		}
		return jdbc.query("SELECT username, fhir_user, password_hash, disabled FROM nssi_account WHERE username = ?",
				(rs, n) -> new Account(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4)),
				username.toLowerCase(Locale.ROOT)).stream().findFirst();
	}

	public Optional<Account> byFhirUser(String fhirUser) {
		return jdbc.query("SELECT username, fhir_user, password_hash, disabled FROM nssi_account WHERE fhir_user = ?",
				(rs, n) -> new Account(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4)), fhirUser).stream().findFirst();
	}

	/**
	 * Creates the account, or sets a new password for the FHIR user's existing one, with the authenticator secret of
	 * the optional second step (null: none; a new invitation sets both afresh, so it also resets a lost phone).
	 */
	void setPassword(String username, String fhirUser, String passwordHash, String totpSecret, Instant now) {
		Timestamp at = Timestamp.from(now);
		int updated = jdbc.update("UPDATE nssi_account SET password_hash = ?, totp_secret = ?, password_set_at = ?, disabled = false WHERE fhir_user = ?",
				passwordHash, totpSecret, at, fhirUser);
		if (updated == 0) {
			jdbc.update("INSERT INTO nssi_account (username, fhir_user, password_hash, totp_secret, created_at, password_set_at) VALUES (?, ?, ?, ?, ?, ?)",
					username, fhirUser, passwordHash, totpSecret, at, at);
		}
	}

	/** The authenticator secret of an enrolled username that set up the second step. */
	public Optional<String> totpSecret(String username) {
		if (username == null) {
			return Optional.empty();
		}
		return jdbc.queryForList("SELECT totp_secret FROM nssi_account WHERE username = ? AND totp_secret IS NOT NULL", String.class,
				username.toLowerCase(Locale.ROOT)).stream().findFirst();
	}

	boolean usernameTaken(String username) {
		Integer n = jdbc.queryForObject("SELECT count(*) FROM nssi_account WHERE username = ?", Integer.class, username);
		return n != null && n > 0;
	}
}
