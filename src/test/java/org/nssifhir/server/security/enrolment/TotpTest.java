package org.nssifhir.server.security.enrolment;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** RFC 6238's own test vectors (SHA-1, 8 digits there; the last 6 here) and the accepted window. */
class TotpTest {

	/** The RFC's SHA-1 seed "12345678901234567890" in base32. */
	private static final String RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

	@Test
	void matchesTheRfcTestVectors() {
		assertThat(new String(Totp.decode(RFC_SECRET), StandardCharsets.US_ASCII)).isEqualTo("12345678901234567890");
		assertThat(Totp.code(RFC_SECRET, Totp.step(Instant.ofEpochSecond(59)))).isEqualTo("287082");
		assertThat(Totp.code(RFC_SECRET, Totp.step(Instant.ofEpochSecond(1111111109)))).isEqualTo("081804");
		assertThat(Totp.code(RFC_SECRET, Totp.step(Instant.ofEpochSecond(1234567890)))).isEqualTo("005924");
	}

	@Test
	void acceptsOneStepEitherSideOnly() {
		String secret = Totp.newSecret();
		assertThat(secret).hasSize(32).matches("[A-Z2-7]+");
		Instant now = Instant.ofEpochSecond(1_800_000_000L);
		long step = Totp.step(now);
		assertThat(Totp.verify(secret, Totp.code(secret, step), now)).isTrue();
		assertThat(Totp.verify(secret, Totp.code(secret, step - 1), now)).isTrue();
		assertThat(Totp.verify(secret, Totp.code(secret, step + 2), now)).isFalse();
		assertThat(Totp.verify(secret, "12345", now)).isFalse();
		assertThat(Totp.verify(secret, null, now)).isFalse();
	}
}
