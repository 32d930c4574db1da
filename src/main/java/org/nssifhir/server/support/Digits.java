package org.nssifhir.server.support;

import java.util.Optional;

/** Answer codes that are numbers ("0".."3" on a PHQ-9 item), read without ever overflowing. */
public final class Digits {

	private Digits() {}

	/**
	 * The value of a code made only of digits; a value beyond {@code int} is {@link Integer#MAX_VALUE} (still a
	 * number above 0, which is what safety checks ask). Empty for anything else. Found by the fuzz test:
	 * "2222222222" used to throw.
	 */
	public static Optional<Integer> of(String code) {
		if (code == null || !code.matches("\\d+")) {
			return Optional.empty();
		}
		String significant = code.replaceFirst("^0+(?=\\d)", "");
		return Optional.of(significant.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(significant));
	}
}
