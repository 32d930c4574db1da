package org.nssifhir.server.support;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.UUID;
import org.nssifhir.server.NssiServerApplication;
import org.nssifhir.server.audit.AuditOutbox;
import org.nssifhir.server.audit.AuditOutboxBacklog;
import org.nssifhir.server.audit.AuditOutboxDrain;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of every integration test: the whole application on a random port, over real HTTP, against a real
 * PostgreSQL (see {@link TestDatabase}). All subclasses share one Spring context, so do not add per-class
 * properties or {@code @MockBean}s here or in subclasses: each would start another server. Tests make their own
 * data (unique identifiers) and never depend on what other tests stored.
 */
// metrics export is off in Spring Boot tests unless asked for; the Prometheus endpoint is part of what we test
@AutoConfigureObservability
@SpringBootTest(classes = NssiServerApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class BaseIT {

	/** The one browser origin the shared test server allows (CORS), as an EHR's web front end would be configured. */
	protected static final String TRUSTED_ORIGIN = "https://ehr.example.test";

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		TestDatabase.register(registry);
		registry.add("nssi.cors.allowed-origins", () -> TRUSTED_ORIGIN);
		// the test client may subscribe, to receivers the tests start on loopback (never allowed by default)
		registry.add("nssi.policy.subscription-clients", () -> "test-client");
		registry.add("nssi.policy.subscription-endpoints", () -> "http://127.0.0.1:");
		// a user's "not found" is padded to a floor (150 ms by default); lower here, the matrix asks for hundreds
		registry.add("nssi.policy.not-found-floor", () -> NOT_FOUND_FLOOR_MILLIS + "ms");
		// Bulk Data $import from files the tests serve on loopback (never allowed by default)
		registry.add("nssi.integration.import-sources", () -> "http://127.0.0.1:");
		// the key that encrypts authenticator secrets at rest (created on first start, as in a deployment)
		registry.add("nssi.enrolment.totp-key-file", () -> "target/test-totp-key");
	}

	/** {@code nssi.policy.not-found-floor} of the shared test server. */
	protected static final long NOT_FOUND_FLOOR_MILLIS = 40;

	@LocalServerPort
	protected int port;

	@Autowired
	protected FhirContext fhirContext;

	protected final HttpClient http = HttpClient.newHttpClient();

	/**
	 * The server's pinned address (config.ServerAddress: with no issuer configured, {@code http://127.0.0.1:PORT}).
	 * Tokens are issued for and accepted at this address only, whatever Host header a request carries.
	 */
	protected String baseUrl() {
		return "http://127.0.0.1:" + port;
	}

	protected String fhirBase() {
		return baseUrl() + "/fhir";
	}

	@Autowired
	protected JWKSource<SecurityContext> serverKeys;

	/** Tokens signed by the server's own key, audience = this server's FHIR base URL. */
	protected TestTokens tokens() {
		return new TestTokens(serverKeys, fhirBase());
	}

	/**
	 * Full system access: every type, and the audit trail, which a wildcard never reaches (it needs a scope naming
	 * AuditEvent). For tests about something other than security.
	 */
	protected static final String FULL_ACCESS = "system/*.cruds system/AuditEvent.rs";

	/** A FHIR client with full system access ({@link #FULL_ACCESS}), for tests about something other than security. */
	protected IGenericClient client() {
		return client(tokens().system(FULL_ACCESS));
	}

	/** A FHIR client that sends the given bearer token. */
	protected IGenericClient client(String token) {
		fhirContext.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
		// CI machines are slow and shared: the first call of an operation may compile (CQL) or warm caches
		fhirContext.getRestfulClientFactory().setSocketTimeout(60_000);
		IGenericClient client = fhirContext.newRestfulGenericClient(fhirBase());
		client.registerInterceptor(new BearerTokenAuthInterceptor(token));
		return client;
	}

	/** A raw HTTP request to the FHIR endpoint with a full-access token. */
	protected HttpRequest.Builder fhirRequest(String pathAndQuery) {
		return HttpRequest.newBuilder(URI.create(fhirBase() + pathAndQuery))
				.header("Authorization", "Bearer " + tokens().system(FULL_ACCESS));
	}

	/** A value no other test uses, for identifiers and names that searches must find exactly. */
	/** The call fails with a FHIR error of this HTTP status (an OperationOutcome, parsed by the HAPI client). */
	protected static void assertFailsWithStatus(int status, org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
		org.assertj.core.api.Assertions.assertThatThrownBy(call)
				.isInstanceOf(ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException.class)
				.satisfies(e -> org.assertj.core.api.Assertions.assertThat(
						((ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException) e).getStatusCode()).isEqualTo(status));
	}

	@Autowired
	private AuditOutboxDrain auditDrain;

	@Autowired
	private AuditOutboxBacklog auditBacklog;

	/**
	 * Waits until every access so far is in the audit trail as an AuditEvent resource (it is recorded durably
	 * before each response and stored as a resource a moment later: see {@link AuditOutbox}). Call before
	 * searching AuditEvents for what a test just did.
	 */
	protected void awaitAuditTrail() {
		org.assertj.core.api.Assertions.assertThat(auditDrain.awaitDrained(java.time.Duration.ofSeconds(30)))
				.as("audit outbox drained").isTrue();
		org.assertj.core.api.Assertions.assertThat(auditBacklog.stuck()).as("audit records refused for good").isZero();
	}

	protected static String unique(String prefix) {
		return prefix + "-" + UUID.randomUUID();
	}
}
