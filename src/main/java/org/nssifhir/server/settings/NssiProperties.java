package org.nssifhir.server.settings;

import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * All of the server's own settings ({@code nssi.*} in application.yaml). Validated at startup so a bad value
 * stops the server with a clear message instead of misbehaving later.
 */
@Validated
@ConfigurationProperties("nssi")
public record NssiProperties(
		@Valid @NotNull @DefaultValue Db db,
		@Valid @NotNull @DefaultValue Fhir fhir,
		@Valid @NotNull @DefaultValue Limits limits,
		@Valid @NotNull @DefaultValue Cors cors,
		@Valid @NotNull @DefaultValue Security security,
		@Valid @NotNull @DefaultValue Policy policy,
		@Valid @NotNull @DefaultValue Escalation escalation,
		@Valid @NotNull @DefaultValue Integration integration,
		@Valid @NotNull @DefaultValue Demo demo,
		@Valid @NotNull @DefaultValue Audit audit,
		/* Lucene index of terminology concepts (HAPI uses it for $expand filters and $subsumes). */
		@NotBlank @DefaultValue("./data/lucene") String searchIndexDir,
		@Valid @NotNull @DefaultValue App app,
		/* On SIGTERM: readiness DOWN at once, then keep serving this long before the web server stops taking
		   connections, so a load balancer checking readiness stops sending requests first (0 = no wait; see
		   web.ShutdownDrainDelay). */
		@NotNull @DefaultValue("0s") Duration shutdownDrainDelay) {

	/**
	 * Database. When {@code url} is blank the server starts an embedded PostgreSQL whose data lives in
	 * {@code embeddedDataDir}, so the server runs with no setup and keeps its data between restarts.
	 */
	public record Db(
			String url,
			String username,
			String password,
			@NotBlank @DefaultValue("./data/postgres") String embeddedDataDir,
			@Min(0) @Max(65535) @DefaultValue("0") int embeddedPort,
			@Min(1) @Max(500) @DefaultValue("20") int maxPoolSize) {

		public boolean embedded() {
			return url == null || url.isBlank();
		}
	}

	/** FHIR endpoint behaviour. */
	public record Fhir(
			/* Public base URL (e.g. https://fhir.example.org/fhir); blank = the issuer + /fhir, else
			   http://127.0.0.1:<port>/fhir (never from a request's Host header). */
			String serverAddress,
			@Min(1) @DefaultValue("20") int defaultPageSize,
			@Min(1) @DefaultValue("200") int maxPageSize,
			/* The most results one search loads when it names no count of its own. HAPI's bulk export reads up to
			   800 resources per synchronous query and fails outright when that query is capped below them. */
			@Min(800) @DefaultValue("10000") int maxSearchResults) {}

	/** Request limits; exceeding any of them is a 4xx with an OperationOutcome, never a silent truncation. */
	public record Limits(
			@NotNull @DefaultValue("5MB") DataSize maxRequestBody,
			@Min(1) @DefaultValue("500") int maxBundleEntries,
			@Min(0) @DefaultValue("10") int maxIncludeParameters,
			@Min(1) @DefaultValue("1000") int maxIncludedResourcesPerPage) {}

	/**
	 * SMART on FHIR. On by default. {@code BUILTIN}: this server is also the authorization server (tokens signed
	 * with its own key); {@code EXTERNAL}: tokens come from another OIDC issuer (Keycloak, an EHR) and are only
	 * validated here.
	 */
	public record Security(
			@DefaultValue("true") boolean enabled,
			@NotNull @DefaultValue("BUILTIN") Mode mode,
			/* BUILTIN: the issuer URL to put in tokens (blank = nssi.fhir.server-address without /fhir, else
			   http://127.0.0.1:<port>; never the request's Host). EXTERNAL: the issuer to trust. */
			String issuer,
			/* EXTERNAL: the issuer's JWKS URL (blank = discovered from the issuer). */
			String jwkSetUri,
			/* Accepted token audiences; blank = this server's pinned FHIR base URL (see config.ServerAddress). */
			@DefaultValue List<String> audiences,
			@NotNull @DefaultValue("PT1H") Duration accessTokenTtl,
			/* Refresh tokens (offline_access / online_access, confidential app clients only). */
			@NotNull @DefaultValue("P30D") Duration refreshTokenTtl,
			/* How long a launch context (EHR launch, patient picked in a standalone launch) can be used. */
			@NotNull @DefaultValue("PT10M") Duration launchTtl,
			/* BUILTIN: private JWK file for signing tokens (created if missing); blank = next to the embedded data, or per process. */
			String signingKeyFile,
			/* EXTERNAL: claims every token must carry (e.g. fhirUser), besides the standard ones. */
			@DefaultValue List<String> requiredClaims,
			/* Register client "nssi-dev" (secret in <data>/dev-client-secret) when running on the embedded database. */
			@DefaultValue("true") boolean devClient,
			@Valid @DefaultValue List<Client> clients,
			/* People who sign in to authorize SMART apps (BUILTIN mode), each linked to a FHIR resource. */
			@Valid @DefaultValue List<User> users,
			/* BUILTIN: client ids of resource servers that may introspect any token (/oauth2/introspect); any other
			   client learns only about its own tokens. */
			@DefaultValue List<String> introspectionClients) {

		public enum Mode {
			BUILTIN,
			EXTERNAL
		}

		@AssertTrue(message = "nssi.security.access-token-ttl must be at most 1 hour (SMART App Launch)")
		public boolean isAccessTokenTtlAtMostOneHour() {
			return accessTokenTtl.compareTo(Duration.ofHours(1)) <= 0 && !accessTokenTtl.isNegative();
		}

		@AssertTrue(message = "nssi.security.issuer is required in EXTERNAL mode")
		public boolean isIssuerSetForExternalMode() {
			return mode != Mode.EXTERNAL || (issuer != null && !issuer.isBlank());
		}
	}

	/**
	 * Who may change the facts that decide access (security.policy.AccessPolicy). {@code relationshipAdministrators}:
	 * fhirUser references (e.g. {@code Practitioner/admin-1}) who may assert care relationships and record consents
	 * besides the EHR's backend clients. {@code subscriptionClients}: backend client ids that may create
	 * Subscriptions; {@code subscriptionEndpoints}: URL prefixes their notifications may go to (none by default).
	 * {@code auditReaders}: fhirUser references (privacy officers) who may read the audit trail with a {@code user/}
	 * AuditEvent scope; backend clients read it with a {@code system/} one.
	 */
	public record Policy(
			@DefaultValue List<String> relationshipAdministrators,
			@DefaultValue List<String> subscriptionClients,
			@DefaultValue List<String> subscriptionEndpoints,
			/* the least time a user's "not found" takes, so a hidden record (found, then refused) and a missing one answer alike */
			@DefaultValue("PT0.15S") Duration notFoundFloor,
			/* users (fhirUser references: privacy officers) who may read the audit trail with a user-level AuditEvent scope */
			@DefaultValue List<String> auditReaders) {}

	/**
	 * A registered client. Without {@code redirectUris} it is a backend-services client (client_credentials) that
	 * authenticates with {@code jwkSetUrl} (private_key_jwt, RS384/ES384, as SMART Backend Services requires) or,
	 * for development, with a secret. With {@code redirectUris} it is a SMART app (authorization code with PKCE):
	 * confidential when it has a secret or a JWKS, public otherwise. {@code launchUrl} is where an EHR launch
	 * sends the browser ({@code ?iss=...&launch=...}).
	 */
	public record Client(
			@NotBlank String clientId,
			String clientName,
			String clientSecret,
			String jwkSetUrl,
			@DefaultValue List<String> scopes,
			@DefaultValue List<String> redirectUris,
			String launchUrl,
			/* private_key_jwt: the client's signing algorithm, RS384 or ES384 (SMART Backend Services) */
			@Pattern(regexp = "RS384|ES384", message = "jwt-algorithm must be RS384 or ES384")
					@DefaultValue("RS384") String jwtAlgorithm) {

		public boolean app() {
			return redirectUris != null && !redirectUris.isEmpty();
		}

		public boolean confidential() {
			return (clientSecret != null && !clientSecret.isBlank()) || (jwkSetUrl != null && !jwkSetUrl.isBlank());
		}
	}

	/**
	 * A person who can sign in to the built-in authorization server. {@code password} is a Spring Security encoded
	 * value ({@code {bcrypt}...}; {@code {noop}...} only for tests). {@code fhirUser} is the FHIR resource the
	 * person is ({@code Practitioner/..}, {@code PractitionerRole/..}, {@code Patient/..}, {@code RelatedPerson/..}).
	 */
	public record User(@NotBlank String username, @NotBlank String password, @NotBlank @Pattern(
			regexp = "(Practitioner|PractitionerRole|Patient|RelatedPerson|Person)/[A-Za-z0-9\\-.]{1,64}",
			message = "fhirUser must be a relative reference such as Practitioner/123") String fhirUser) {}

	/** CORS is off unless at least one origin is configured. */
	public record Cors(@DefaultValue List<String> allowedOrigins) {

		public boolean enabled() {
			return allowedOrigins != null && !allowedOrigins.isEmpty();
		}
	}

	/**
	 * Safety escalation (see {@code escalation/}). A rise in NSSI frequency is: at least {@code minEpisodes}
	 * episodes in the last {@code windowDays} days, and more than {@code riseFactor} times the average per window
	 * over the {@code baselineWindows} windows before it.
	 */
	public record Escalation(
			@Min(1) @Max(366) @DefaultValue("28") int windowDays,
			@Min(1) @Max(24) @DefaultValue("3") int baselineWindows,
			@Min(1) @DefaultValue("3") int minEpisodes,
			@DecimalMin("1.0") @DefaultValue("2.0") double riseFactor,
			/* how often each node looks for escalation Tasks not started by their due time (0 = never) */
			@NotNull @DefaultValue("PT5M") Duration overdueCheck,
			/* owner of an escalation Task when no care team, GP or managing organisation is recorded: the deployment's
			   clinical triage queue; blank = the server's own "Clinical triage queue" Organization (escalation/TriageQueue) */
			@Pattern(regexp = "^$|^(Organization|PractitionerRole|CareTeam)/[A-Za-z0-9\\-.]{1,64}$",
					message = "must be Organization/<id>, PractitionerRole/<id> or CareTeam/<id>") String fallbackOwner) {}

	/**
	 * EHR integration (see {@code bulk/}, {@code cds/}, {@code openapi/}). {@code batchJobInterval}: how often
	 * HAPI's batch jobs (bulk export) move to their next step (HAPI's default is once a minute, which makes a small
	 * export wait minutes). {@code openapi}: serve the OpenAPI description and Swagger UI; blank = only on the
	 * embedded database (development), off with a real database (production).
	 */
	public record Integration(
			@NotNull @DefaultValue("PT5S") Duration batchJobInterval,
			Boolean openapi,
			/* CDS Hooks: EHRs allowed to call our services, each with the JWKS its JWTs are signed with */
			@Valid @DefaultValue List<CdsClient> cdsClients,
			/* Bulk Data $import: URL prefixes the server may fetch NDJSON files from (e.g. https://files.example.org/export/);
			   empty = no import */
			@DefaultValue List<String> importSources,
			/* Bulk Data $import: resources per database transaction when the kick-off does not say (HAPI's own default is
			   800, or 2 MB of NDJSON): every alert an imported resource raises flushes the transaction's whole session, so
			   a transaction of 800 validated resources spends most of its time re-checking what it already wrote; 25 was
			   the fastest of 10, 25, 50, 100 and 800 on the cohort (see BulkImportJobOwner) */
			@DefaultValue("25") int importBatchSize) {}

	/** An EHR allowed to call the CDS Hooks services: the JWT's {@code iss} and where its public keys are. */
	public record CdsClient(@NotBlank String issuer, @NotBlank String jwkSetUrl) {}

	/**
	 * Demo mode ({@code --nssi.demo.enabled=true}): on the embedded database only, load a small synthetic cohort
	 * at startup (see {@code cohort/}); people already loaded are skipped, so restarts change nothing.
	 */
	public record Demo(
			@DefaultValue("false") boolean enabled,
			@Min(1) @Max(500) @DefaultValue("8") int patients,
			@DefaultValue("42") long seed) {}

	/**
	 * The audit trail's outbox (see {@code audit.AuditOutbox}, {@code audit.AuditOutboxPool}, {@code audit.AuditDrainThreads}). {@code poolSize}: connections of a pool of its own
	 * for records written outside a write's transaction (reads in a read-only transaction, sign-ins, refusals), so
	 * that a request holding a connection of the main pool never waits for a second one from it.
	 * {@code drainThreads}: threads storing waiting records as AuditEvents (each claims its own rows).
	 */
	public record Audit(
			@Min(1) @Max(50) @DefaultValue("4") int poolSize,
			@Min(1) @Max(16) @DefaultValue("2") int drainThreads) {}

	/**
	 * The clinician app at {@code /app/}. {@code redirectUris}: its redirect URI(s), comma-separated; blank = derived
	 * from {@code nssi.fhir.server-address}, else the embedded default's loopback (see {@code app.ClinicianApp}).
	 */
	public record App(String redirectUris) {}
}
