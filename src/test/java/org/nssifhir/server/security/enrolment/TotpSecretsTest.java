package org.nssifhir.server.security.enrolment;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The authenticator secrets' encryption at rest: AES-256-GCM, bound to the account, key from a file. */
class TotpSecretsTest {

	private static final String SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

	@TempDir
	Path dir;

	@Test
	void aSealedSecretOpensOnlyForItsAccountWithItsKey() throws Exception {
		TotpSecrets secrets = TotpSecrets.fromFile(dir.resolve("key"));
		String sealed = secrets.seal(SECRET, "Patient/1");
		assertThat(sealed).startsWith(TotpSecrets.PREFIX).doesNotContain(SECRET);
		// a fresh nonce each time: the same secret never seals to the same value
		assertThat(secrets.seal(SECRET, "Patient/1")).isNotEqualTo(sealed);
		assertThat(secrets.open(sealed, "Patient/1")).contains(SECRET);
		assertThat(secrets.open(sealed, "Patient/2")).isEmpty();
		assertThat(TotpSecrets.fromFile(dir.resolve("other-key")).open(sealed, "Patient/1")).isEmpty();
		// the same file gives the same key (a restart, another node)
		assertThat(TotpSecrets.fromFile(dir.resolve("key")).open(sealed, "Patient/1")).contains(SECRET);
	}

	@Test
	void aChangedOrTruncatedValueDoesNotOpen() {
		TotpSecrets secrets = new TotpSecrets(new byte[32]);
		String sealed = secrets.seal(SECRET, "Patient/1");
		byte[] raw = Base64.getDecoder().decode(sealed.substring(TotpSecrets.PREFIX.length()));
		raw[raw.length - 1] ^= 1;
		assertThat(secrets.open(TotpSecrets.PREFIX + Base64.getEncoder().encodeToString(raw), "Patient/1")).isEmpty();
		assertThat(secrets.open(TotpSecrets.PREFIX + "AAAA", "Patient/1")).isEmpty();
		assertThat(secrets.open(TotpSecrets.PREFIX + "not base64!", "Patient/1")).isEmpty();
	}

	@Test
	void aSecretStoredBeforeEncryptionIsReadAsItIs() {
		assertThat(new TotpSecrets(new byte[32]).open(SECRET, "Patient/1")).contains(SECRET);
	}

	@Test
	void theKeyFileIsCreatedOwnerReadableOnly() throws Exception {
		Path file = dir.resolve("sub").resolve("totp-key");
		TotpSecrets.fromFile(file);
		assertThat(Base64.getDecoder().decode(Files.readString(file).trim())).hasSize(32);
		assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
	}

	@Test
	void noCodeMatchesASecretThatDidNotOpen() {
		assertThat(Totp.verify("", "123456", java.time.Instant.now())).isFalse();
	}
}
