package org.nssifhir.server.security.enrolment;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Locale;
import java.util.OptionalLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the optional second step of
 * sign-in that authenticator apps implement. A code is accepted one step either side of now (clock drift).
 */
public final class Totp {

	private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	private static final SecureRandom RANDOM = new SecureRandom();
	private static final long STEP_SECONDS = 30;

	private Totp() {}

	/** A new shared secret (160 bits), in base32 as authenticator apps take it. */
	static String newSecret() {
		byte[] bytes = new byte[20];
		RANDOM.nextBytes(bytes);
		StringBuilder out = new StringBuilder();
		int buffer = 0;
		int bits = 0;
		for (byte b : bytes) {
			buffer = (buffer << 8) | (b & 0xff);
			bits += 8;
			while (bits >= 5) {
				out.append(ALPHABET.charAt((buffer >> (bits - 5)) & 31));
				bits -= 5;
			}
		}
		return out.toString();
	}

	/** Whether the code is the secret's code for now or the step before or after. */
	static boolean verify(String secret, String code, Instant now) {
		return matchingStep(secret, code, now).isPresent();
	}

	/**
	 * The 30-second step whose code this is (now, or the step before or after), if any: the caller remembers the
	 * last accepted step so that a code is good once (RFC 6238, section 5.2), never again within its window.
	 */
	static OptionalLong matchingStep(String secret, String code, Instant now) {
		if (secret == null || secret.isEmpty() || code == null || !code.trim().matches("\\d{6}")) {
			return OptionalLong.empty();
		}
		long step = now.getEpochSecond() / STEP_SECONDS;
		byte[] given = code.trim().getBytes(StandardCharsets.US_ASCII);
		long matched = -1;
		for (long s = step - 1; s <= step + 1; s++) {
			// compared in constant time, and every step is computed whatever matched
			if (MessageDigest.isEqual(code(secret, s).getBytes(StandardCharsets.US_ASCII), given)) {
				matched = s;
			}
		}
		return matched < 0 ? OptionalLong.empty() : OptionalLong.of(matched);
	}

	/** The code of a 30-second step (public for tests, which play the authenticator app). */
	public static String code(String secret, long step) {
		try {
			Mac mac = Mac.getInstance("HmacSHA1");
			mac.init(new SecretKeySpec(decode(secret), "HmacSHA1"));
			byte[] hash = mac.doFinal(ByteBuffer.allocate(8).putLong(step).array());
			int offset = hash[hash.length - 1] & 0x0f;
			int binary = ((hash[offset] & 0x7f) << 24) | ((hash[offset + 1] & 0xff) << 16) | ((hash[offset + 2] & 0xff) << 8) | (hash[offset + 3] & 0xff);
			return String.format(Locale.ROOT, "%06d", binary % 1_000_000);
		} catch (GeneralSecurityException e) {
			throw new IllegalStateException(e);
		}
	}

	/** The current step (public for tests). */
	public static long step(Instant now) {
		return now.getEpochSecond() / STEP_SECONDS;
	}

	static byte[] decode(String base32) {
		String clean = base32.replace("=", "").replace(" ", "").toUpperCase(Locale.ROOT);
		ByteBuffer out = ByteBuffer.allocate(clean.length() * 5 / 8);
		int buffer = 0;
		int bits = 0;
		for (char c : clean.toCharArray()) {
			int value = ALPHABET.indexOf(c);
			if (value < 0) {
				throw new IllegalArgumentException("Not base32");
			}
			buffer = (buffer << 5) | value;
			bits += 5;
			if (bits >= 8) {
				out.put((byte) (buffer >> (bits - 8)));
				bits -= 8;
			}
		}
		return out.array();
	}
}
