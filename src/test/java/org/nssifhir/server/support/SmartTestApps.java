package org.nssifhir.server.support;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
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
	public static final String RESOURCE_SERVER = "test-resource-server";
	public static final String RESOURCE_SERVER_SECRET = "test-resource-server-secret";

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

	public static final String BACKEND_RS384 = "test-backend-rs384";
	public static final String ASYMMETRIC_APP = "test-app-asymmetric";
	public static final String BACKEND_ES384 = "test-backend-es384";
	/** A backend client allowed to bulk export (system/*.read, or the granular scopes below). */
	public static final String BACKEND_BULK = "test-backend-bulk";
	public static final List<String> BACKEND_BULK_SCOPES = List.of("system/*.read", "system/Patient.rs", "system/Observation.rs");
	public static final String CDS_CLIENT_ISSUER = "https://ehr.test.example/cds-client";
	/** The backend clients' private keys; their public halves are served by {@link #jwksServer()}. */
	public static final RSAKey BACKEND_RSA_KEY = generateRsa();
	public static final ECKey BACKEND_EC_KEY = generateEc();
	private static JwksServer jwks;

	private SmartTestApps() {}

	private static RSAKey generateRsa() {
		try {
			return new RSAKeyGenerator(2048).keyID("backend-rsa").generate();
		} catch (JOSEException e) {
			throw new IllegalStateException(e);
		}
	}

	private static ECKey generateEc() {
		try {
			return new ECKeyGenerator(Curve.P_384).keyID("backend-ec").generate();
		} catch (JOSEException e) {
			throw new IllegalStateException(e);
		}
	}

	/** The backend clients' JWKS on a real HTTP server, as an EHR would publish it. Started once per JVM. */
	static synchronized String jwksServer() {
		if (jwks == null) {
			jwks = JwksServer.start(List.of(BACKEND_RSA_KEY, BACKEND_EC_KEY));
		}
		return jwks.url();
	}

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
		// the clinician app at /app/ (ClinicianApp), on whatever database the tests run
		registry.add("nssi.app.redirect-uris", () -> "http://127.0.0.1/app/");
		// the person's app at /patient/ (PatientApp), and a synthetic crisis contact for it to show
		registry.add("nssi.patient-app.redirect-uris[0]", () -> "http://127.0.0.1/patient/");
		registry.add("nssi.patient-app.crisis-contacts[0].name", () -> "Test crisis line (synthetic)");
		registry.add("nssi.patient-app.crisis-contacts[0].phone", () -> "+99 000 000 000");
		registry.add("nssi.patient-app.crisis-contacts[0].text", () -> "Day and night, free");
		String jwksUrl = jwksServer();
		backend(registry, 5, BACKEND_RS384, jwksUrl, "RS384");
		backend(registry, 6, BACKEND_ES384, jwksUrl, "ES384");
		// a confidential app that authenticates with private_key_jwt (client-confidential-asymmetric)
		app(registry, 7, ASYMMETRIC_APP, null);
		registry.add("nssi.security.clients[7].jwk-set-url", () -> jwksUrl);
		registry.add("nssi.security.clients[7].jwt-algorithm", () -> "RS384");
		registry.add("nssi.security.clients[8].client-id", () -> BACKEND_BULK);
		registry.add("nssi.security.clients[8].jwk-set-url", () -> jwksUrl);
		registry.add("nssi.security.clients[8].jwt-algorithm", () -> "RS384");
		for (int i = 0; i < BACKEND_BULK_SCOPES.size(); i++) {
			String scope = BACKEND_BULK_SCOPES.get(i);
			registry.add("nssi.security.clients[8].scopes[" + i + "]", () -> scope);
		}
		// a resource server allowed to introspect any token (nssi.security.introspection-clients)
		registry.add("nssi.security.clients[9].client-id", () -> RESOURCE_SERVER);
		registry.add("nssi.security.clients[9].client-secret", () -> RESOURCE_SERVER_SECRET);
		registry.add("nssi.security.introspection-clients[0]", () -> RESOURCE_SERVER);
		// the administrator may also read metrics
		registry.add("nssi.security.clients[3].scopes[2]", () -> "metrics.read");
		// an EHR calling the CDS Hooks services, signing its JWTs with the RSA key above
		registry.add("nssi.integration.cds-clients[0].issuer", () -> CDS_CLIENT_ISSUER);
		registry.add("nssi.integration.cds-clients[0].jwk-set-url", () -> jwksUrl);
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

	private static void backend(DynamicPropertyRegistry registry, int index, String clientId, String jwksUrl, String algorithm) {
		String prefix = "nssi.security.clients[" + index + "].";
		registry.add(prefix + "client-id", () -> clientId);
		registry.add(prefix + "jwk-set-url", () -> jwksUrl);
		registry.add(prefix + "jwt-algorithm", () -> algorithm);
		registry.add(prefix + "scopes[0]", () -> "system/Patient.rs");
	}

	private static void user(DynamicPropertyRegistry registry, int index, String username, String fhirUser) {
		String prefix = "nssi.security.users[" + index + "].";
		registry.add(prefix + "username", () -> username);
		registry.add(prefix + "password", () -> "{noop}" + PASSWORD);
		registry.add(prefix + "fhir-user", () -> fhirUser);
	}
}
