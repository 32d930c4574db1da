package org.nssifhir.server.security.issuing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.nssifhir.server.settings.NssiProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The development client {@code nssi-dev}, so a developer can get a token for curl on the embedded default, and a
 * development sign-in {@code dev-clinician} for trying SMART launches. They
 * exists only when the server runs on the embedded database (never against a configured production database)
 * and {@code nssi.security.dev-client} is on. The secret and
 * password are random, created on first start and kept, readable by the owner only, in
 * {@code <data>/dev-client-secret} and {@code <data>/dev-user-password} next to the embedded database; never logged.
 */
@Component
public class DevClient {

	public static final String CLIENT_ID = "nssi-dev";
	static final List<String> SCOPES = List.of("system/*.cruds", "system/*.rs", "system/*.read", "system/*.write", "client.create", "client.read", ClientPolicy.METRICS_SCOPE);

	private static final Logger log = LoggerFactory.getLogger(DevClient.class);

	/** The development sign-in (a clinician) for trying SMART app launches on the embedded default. */
	public static final String USERNAME = "dev-clinician";
	public static final String FHIR_USER = "Practitioner/dev-clinician";

	private final Optional<String> secret;
	private final Optional<String> userPassword;
	private final Path secretFile;

	public DevClient(NssiProperties properties) {
		Path dataDir = Path.of(properties.db().embeddedDataDir()).toAbsolutePath().normalize();
		this.secretFile = dataDir.resolveSibling("dev-client-secret");
		boolean active = properties.security().enabled() && properties.security().devClient() && properties.db().embedded();
		this.secret = active ? Optional.of(loadOrCreate(secretFile)) : Optional.empty();
		Path passwordFile = dataDir.resolveSibling("dev-user-password");
		this.userPassword = active ? Optional.of(loadOrCreate(passwordFile)) : Optional.empty();
		if (active) {
			log.info("Development client '{}' is registered; its secret is in {}", CLIENT_ID, secretFile);
			log.info("Development sign-ins '{}' ({}), '{}' ({}) and '{}' ({}); their password is in {}", USERNAME, FHIR_USER,
					PATIENT_USERNAME, PATIENT_FHIR_USER, PROXY_USERNAME, PROXY_FHIR_USER, passwordFile);
		}
	}

	/** A synthetic adolescent patient and her parent (a proxy), so patient and proxy sign-ins can be tried too. */
	public static final String PATIENT_USERNAME = "dev-patient";
	public static final String PATIENT_FHIR_USER = "Patient/dev-patient";
	public static final String PROXY_USERNAME = "dev-proxy";
	public static final String PROXY_FHIR_USER = "RelatedPerson/dev-proxy";

	/** The development users (clinician, patient, proxy; one password), when the development client is active. */
	public List<NssiProperties.User> users() {
		return userPassword.map(password -> List.of(
						new NssiProperties.User(USERNAME, "{noop}" + password, FHIR_USER),
						new NssiProperties.User(PATIENT_USERNAME, "{noop}" + password, PATIENT_FHIR_USER),
						new NssiProperties.User(PROXY_USERNAME, "{noop}" + password, PROXY_FHIR_USER)))
				.orElse(List.of());
	}

	public boolean active() {
		return secret.isPresent();
	}

	public Optional<String> secret() {
		return secret;
	}

	public Path secretFile() {
		return secretFile;
	}

	private static String loadOrCreate(Path file) {
		try {
			if (Files.exists(file)) {
				return Files.readString(file).trim();
			}
			Files.createDirectories(file.getParent());
			byte[] bytes = new byte[24];
			new SecureRandom().nextBytes(bytes);
			String value = HexFormat.of().formatHex(bytes);
			Files.writeString(file, value + "\n");
			try {
				Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
			} catch (UnsupportedOperationException notPosix) {
				// e.g. Windows: rely on the data directory's permissions
			}
			return value;
		} catch (IOException e) {
			throw new UncheckedIOException("Cannot read or create " + file, e);
		}
	}
}
