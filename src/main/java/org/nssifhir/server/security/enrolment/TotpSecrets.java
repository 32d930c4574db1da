package org.nssifhir.server.security.enrolment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The authenticator secrets of the optional second sign-in step, encrypted at rest: AES-256-GCM with a key kept
 * outside the database (a file, like the token signing key), so a copy of the database alone (a backup, a dump, a
 * read-only SQL injection) does not give the second factor away with the password hashes. Each sealed value is
 * {@code aes-gcm:} + base64 of a fresh 96-bit nonce and the ciphertext with its tag; the account's FHIR user is the
 * additional authenticated data, so a sealed secret copied onto another account's row does not open there.
 *
 * <p>Secrets stored in plain before this (base32, as authenticator apps take them) are still read, and
 * {@link Accounts#sealPlainSecrets} encrypts them at startup.
 */
public final class TotpSecrets {

	static final String PREFIX = "aes-gcm:";
	private static final int NONCE_BYTES = 12;
	private static final int TAG_BITS = 128;
	private static final SecureRandom RANDOM = new SecureRandom();

	private final SecretKey key;

	TotpSecrets(byte[] key) {
		if (key.length != 32) {
			throw new IllegalArgumentException("The authenticator-secret key must be 256 bits (32 bytes)");
		}
		this.key = new SecretKeySpec(key, "AES");
	}

	/**
	 * The key from a file holding it in base64 (created with a new random key, readable by the owner only, if it does
	 * not exist: keep it with the signing key, and give every node the same file).
	 */
	static TotpSecrets fromFile(Path file) {
		try {
			if (Files.exists(file)) {
				return new TotpSecrets(Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).trim()));
			}
			byte[] key = new byte[32];
			RANDOM.nextBytes(key);
			Path parent = file.toAbsolutePath().getParent();
			if (parent != null) {
				Files.createDirectories(parent);
			}
			Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII);
			try {
				Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
			} catch (UnsupportedOperationException notPosix) {
				// rely on the directory's permissions
			}
			return new TotpSecrets(key);
		} catch (IOException | IllegalArgumentException e) {
			throw new IllegalStateException("Cannot read or create the authenticator-secret key " + file, e);
		}
	}

	/** The secret, encrypted for the account of this FHIR user. */
	String seal(String secret, String fhirUser) {
		try {
			byte[] nonce = new byte[NONCE_BYTES];
			RANDOM.nextBytes(nonce);
			Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
			cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
			cipher.updateAAD(fhirUser.getBytes(StandardCharsets.UTF_8));
			byte[] sealed = cipher.doFinal(secret.getBytes(StandardCharsets.US_ASCII));
			byte[] out = new byte[nonce.length + sealed.length];
			System.arraycopy(nonce, 0, out, 0, nonce.length);
			System.arraycopy(sealed, 0, out, nonce.length, sealed.length);
			return PREFIX + Base64.getEncoder().encodeToString(out);
		} catch (GeneralSecurityException e) {
			throw new IllegalStateException("AES-GCM is not available", e);
		}
	}

	/**
	 * The secret as stored for this FHIR user: decrypted, or as it is when it was stored before encryption; empty
	 * when it does not open (another key, another account's row, a changed value): the code then never matches.
	 */
	Optional<String> open(String stored, String fhirUser) {
		if (stored == null) {
			return Optional.empty();
		}
		if (!isSealed(stored)) {
			return Optional.of(stored);
		}
		try {
			byte[] in = Base64.getDecoder().decode(stored.substring(PREFIX.length()));
			if (in.length <= NONCE_BYTES) {
				return Optional.empty();
			}
			Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
			cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 0, NONCE_BYTES));
			cipher.updateAAD(fhirUser.getBytes(StandardCharsets.UTF_8));
			return Optional.of(new String(cipher.doFinal(in, NONCE_BYTES, in.length - NONCE_BYTES), StandardCharsets.US_ASCII));
		} catch (GeneralSecurityException | IllegalArgumentException e) {
			return Optional.empty();
		}
	}

	static boolean isSealed(String stored) {
		return stored.startsWith(PREFIX);
	}
}
