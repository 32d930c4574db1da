package org.nssifhir.server.security.enrolment;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What a password chosen at enrolment must be, after NIST SP 800-63B: long rather than complicated (12 to 128
 * characters, any characters, spaces allowed), not the username, not one character repeated, not a well-known
 * password. No composition rules and no forced changes: they make people write passwords down.
 */
final class PasswordRules {

	static final int MIN = 12;
	static final int MAX = 128;

	/** A few of the passwords (and patterns) at the top of every breach list, long enough to pass the length rule. */
	private static final Set<String> COMMON = Set.of(
			"password1234", "password12345", "password123456", "123456789012", "1234567890123", "qwertyuiop12",
			"qwertyuiopas", "iloveyou1234", "letmein12345", "welcome12345", "passwordpassword", "abcdefghijkl",
			"abc123abc123", "111111111111", "changeme1234", "administrator");

	private PasswordRules() {}

	/** What is wrong with the password, in words for the person; empty when it is acceptable. */
	static Optional<String> problem(String password, String username) {
		if (password == null || password.codePointCount(0, password.length()) < MIN) {
			return Optional.of("Choose a password of at least " + MIN + " characters. A few words you can remember work well.");
		}
		if (password.length() > MAX) {
			return Optional.of("Choose a password of at most " + MAX + " characters.");
		}
		String lower = password.toLowerCase(Locale.ROOT);
		if (username != null && !username.isBlank() && lower.contains(username.toLowerCase(Locale.ROOT))) {
			return Optional.of("Your password must not contain your username.");
		}
		if (lower.chars().distinct().count() < 4) {
			return Optional.of("Your password needs more different characters.");
		}
		if (COMMON.contains(lower)) {
			return Optional.of("That password is too well known. Choose another.");
		}
		return Optional.empty();
	}
}
