package org.nssifhir.server.security.enrolment;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * People who enrolled by invitation: a username of their choice, the FHIR resource they act as (a Patient or a
 * RelatedPerson) and their password's hash, in {@code nssi_account}. One account per FHIR user; a new invitation
 * lets the person set a new password (the username stays). The authenticator secret of the optional second step is
 * stored encrypted ({@link TotpSecrets}); without a key the second step is not offered.
 */
public class Accounts {

	/** Usernames: short, plain, case-insensitive (stored lower case), so that nothing hostile reaches a page or log. */
	static final Pattern USERNAME = Pattern.compile("[a-z0-9][a-z0-9._@-]{2,63}");

	/** The bcrypt cost of enrolled people's passwords (also of the stand-in hash an unknown username is checked against). */
	static final int BCRYPT_STRENGTH = 12;

	/** One enrolled person. */
	public record Account(String username, String fhirUser, String passwordHash, boolean disabled) {}

	private final JdbcTemplate jdbc;
	private final Optional<TotpSecrets> secrets;

	public Accounts(JdbcTemplate jdbc, Optional<TotpSecrets> secrets) {
		this.jdbc = jdbc;
		this.secrets = secrets;
	}

	/** Whether the second step can be set up: only with a key to encrypt its secret at rest. */
	boolean secondStepAvailable() {
		return secrets.isPresent();
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
	void setPassword(String username, String fhirUser, String passwordHash, String totpSecret, Long totpConfirmedStep, Instant now) {
		Timestamp at = Timestamp.from(now);
		if (totpSecret != null) {
			totpSecret = secrets.orElseThrow(() -> new IllegalStateException("No key to encrypt the authenticator secret")).seal(totpSecret, fhirUser);
		}
		// the code that confirmed the secret counts as used: it cannot also sign in
		Long lastStep = totpSecret == null ? null : totpConfirmedStep;
		int updated = jdbc.update("UPDATE nssi_account SET password_hash = ?, totp_secret = ?, totp_last_step = ?, password_set_at = ?, disabled = false"
				+ " WHERE fhir_user = ?", passwordHash, totpSecret, lastStep, at, fhirUser);
		if (updated == 0) {
			jdbc.update("INSERT INTO nssi_account (username, fhir_user, password_hash, totp_secret, totp_last_step, created_at, password_set_at)"
					+ " VALUES (?, ?, ?, ?, ?, ?, ?)", username, fhirUser, passwordHash, totpSecret, lastStep, at, at);
		}
	}

	/** Whether the username set up the second step (its code is asked for after the password). */
	public boolean hasSecondStep(String username) {
		return totpSecret(username).isPresent();
	}

	/**
	 * Accepts the authenticator code of an enrolled username once: it must be the code of a 30-second step later than
	 * the last one accepted, which is stored with the account in the same statement that checks it, so the same
	 * code (or an older one) is refused afterwards, by every node and after a restart (RFC 6238, section 5.2).
	 */
	public boolean acceptCode(String username, String code, Instant now) {
		Optional<String> secret = totpSecret(username);
		if (secret.isEmpty()) {
			return false;
		}
		OptionalLong step = Totp.matchingStep(secret.get(), code, now);
		return step.isPresent() && jdbc.update("UPDATE nssi_account SET totp_last_step = ? WHERE username = ? AND totp_secret IS NOT NULL"
				+ " AND (totp_last_step IS NULL OR totp_last_step < ?)", step.getAsLong(), username.toLowerCase(Locale.ROOT), step.getAsLong()) == 1;
	}

	/**
	 * The authenticator secret of an enrolled username that set up the second step, decrypted. A stored secret that
	 * does not open (no key or another key) is an empty string: the step is still required, and no code matches it.
	 */
	public Optional<String> totpSecret(String username) {
		if (username == null) {
			return Optional.empty();
		}
		return jdbc.query("SELECT fhir_user, totp_secret FROM nssi_account WHERE username = ? AND totp_secret IS NOT NULL",
						(rs, n) -> open(rs.getString(2), rs.getString(1)), username.toLowerCase(Locale.ROOT))
				.stream().findFirst();
	}

	private String open(String stored, String fhirUser) {
		if (!TotpSecrets.isSealed(stored)) {
			return stored; // stored before encryption (sealPlainSecrets encrypts it at the next start with a key)
		}
		return secrets.flatMap(s -> s.open(stored, fhirUser)).orElse("");
	}

	/** Encrypts the authenticator secrets stored in plain before encryption at rest (run at startup); how many. */
	int sealPlainSecrets() {
		if (secrets.isEmpty()) {
			return 0;
		}
		List<String[]> plain = jdbc.query("SELECT fhir_user, totp_secret FROM nssi_account WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE ?",
				(rs, n) -> new String[] {rs.getString(1), rs.getString(2)}, TotpSecrets.PREFIX + "%");
		int sealed = 0;
		for (String[] row : plain) {
			// only if unchanged meanwhile (another node, a new invitation): never overwrite a newer secret
			sealed += jdbc.update("UPDATE nssi_account SET totp_secret = ? WHERE fhir_user = ? AND totp_secret = ?",
					secrets.get().seal(row[1], row[0]), row[0], row[1]);
		}
		return sealed;
	}

	/** Disables the FHIR user's account: the authorization server no longer knows the username (see EnrolmentConfig.asUser). */
	void disable(String fhirUser) {
		jdbc.update("UPDATE nssi_account SET disabled = true WHERE fhir_user = ?", fhirUser);
	}

	/** When the enrolled username last set a password (a sign-in session opened before then is no longer valid). */
	public Optional<Instant> passwordSetAt(String username) {
		if (username == null) {
			return Optional.empty();
		}
		return jdbc.query("SELECT password_set_at FROM nssi_account WHERE username = ?", (rs, n) -> rs.getTimestamp(1).toInstant(),
				username.toLowerCase(Locale.ROOT)).stream().findFirst();
	}

	boolean usernameTaken(String username) {
		Integer n = jdbc.queryForObject("SELECT count(*) FROM nssi_account WHERE username = ?", Integer.class, username);
		return n != null && n > 0;
	}

	/**
	 * Whether a registered client (configured ones are written to the same table at every start) has this id,
	 * ignoring case and surrounding blanks. Usernames and client ids end up in one namespace (the principal name of
	 * an authorization), so a person must never be given a client's id: disabling them would reach the client.
	 */
	boolean clientIdTaken(String username) {
		Integer n = jdbc.queryForObject("SELECT count(*) FROM oauth2_registered_client WHERE lower(trim(client_id)) = ?", Integer.class,
				username.trim().toLowerCase(Locale.ROOT));
		return n != null && n > 0;
	}
}
