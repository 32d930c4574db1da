package org.nssifhir.server.support;

import java.util.List;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * SMART apps and people registered for the tests (clients[0] is the backend client in {@link TestDatabase}).
 * Passwords use {@code {noop}} because they are test fixtures; production configuration uses bcrypt.
 */
public final class SmartTestApps {

	public static final String REDIRECT_URI = "http://127.0.0.1:9/callback";
	public static final String LAUNCH_URL = "http://127.0.0.1:9/launch";
	public static final String PUBLIC_APP = "test-app-public";
	public static final String CONFIDENTIAL_APP = "test-app-confidential";
	public static final String CONFIDENTIAL_SECRET = "test-app-secret";
	public static final String FHIRCLIENT_APP = "test-fhirclient";
	public static final String ADMIN_CLIENT = "test-admin";
	public static final String ADMIN_SECRET = "test-admin-secret";

	public static final String CLINICIAN = "dr-test";
	public static final String PATIENT_USER = "pat-test";
	public static final String PROXY_USER = "proxy-test";
	public static final String PASSWORD = "correct-horse-test";
	/** Client-assigned ids the tests create, so that users can point at them. */
	public static final String PATIENT_ID = "smart-pat-a";
	public static final String PROXY_ID = "smart-proxy-a";
	public static final String PRACTITIONER_ID = "smart-dr";

	private static final List<String> APP_SCOPES = List.of(
			"openid", "fhirUser", "launch", "launch/patient", "offline_access", "patient/*.rs", "patient/*.cruds", "user/*.rs");

	private SmartTestApps() {}

	static void register(DynamicPropertyRegistry registry) {
		app(registry, 1, PUBLIC_APP, null);
		app(registry, 2, CONFIDENTIAL_APP, CONFIDENTIAL_SECRET);
		registry.add("nssi.security.clients[3].client-id", () -> ADMIN_CLIENT);
		registry.add("nssi.security.clients[3].client-secret", () -> ADMIN_SECRET);
		registry.add("nssi.security.clients[3].scopes[0]", () -> "client.create");
		registry.add("nssi.security.clients[3].scopes[1]", () -> "client.read");
		// a public app served by the server itself in the tests (src/test/resources/static/smart-test-app), used
		// with the fhirclient library in Chromium; a loopback redirect URI matches whatever port the test runs on
		String prefix = "nssi.security.clients[4].";
		registry.add(prefix + "client-id", () -> FHIRCLIENT_APP);
		registry.add(prefix + "redirect-uris[0]", () -> "http://127.0.0.1/smart-test-app/index.html");
		registry.add(prefix + "launch-url", () -> "/smart-test-app/launch.html");
		List<String> scopes = List.of("launch", "openid", "fhirUser", "patient/*.rs");
		for (int i = 0; i < scopes.size(); i++) {
			String scope = scopes.get(i);
			registry.add(prefix + "scopes[" + i + "]", () -> scope);
		}
		user(registry, 0, CLINICIAN, "Practitioner/" + PRACTITIONER_ID);
		user(registry, 1, PATIENT_USER, "Patient/" + PATIENT_ID);
		user(registry, 2, PROXY_USER, "RelatedPerson/" + PROXY_ID);
	}

	private static void app(DynamicPropertyRegistry registry, int index, String clientId, String secret) {
		String prefix = "nssi.security.clients[" + index + "].";
		registry.add(prefix + "client-id", () -> clientId);
		if (secret != null) {
			registry.add(prefix + "client-secret", () -> secret);
		}
		registry.add(prefix + "redirect-uris[0]", () -> REDIRECT_URI);
		registry.add(prefix + "launch-url", () -> LAUNCH_URL);
		for (int i = 0; i < APP_SCOPES.size(); i++) {
			String scope = APP_SCOPES.get(i);
			registry.add(prefix + "scopes[" + i + "]", () -> scope);
		}
	}

	private static void user(DynamicPropertyRegistry registry, int index, String username, String fhirUser) {
		String prefix = "nssi.security.users[" + index + "].";
		registry.add(prefix + "username", () -> username);
		registry.add(prefix + "password", () -> "{noop}" + PASSWORD);
		registry.add(prefix + "fhir-user", () -> fhirUser);
	}
}
