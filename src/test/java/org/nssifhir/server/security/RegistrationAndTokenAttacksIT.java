package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.*;

import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.fhir.CapabilityStatementInterceptor;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.SmartBrowser;
import org.nssifhir.server.support.SmartBrowser.Pkce;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * Issue 17, class 7 ("Registration and tokens"): each test replays an attack from the external review of the
 * embedded default server against the running server over real HTTP. Each failed before its fix.
 */
class RegistrationAndTokenAttacksIT extends BaseIT {

	private static final String XSS = "<svg/onload=alert(document.domain)>";
	private final ObjectMapper json = new ObjectMapper();

	@Autowired
	private ServerAddress serverAddress;

	@BeforeEach
	void people() {
		Patient patient = new Patient();
		patient.setId(PATIENT_ID);
		patient.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
		patient.addName().setFamily("Launchtest");
		client().update().resource(patient).execute();
		Practitioner dr = new Practitioner();
		dr.setId(PRACTITIONER_ID);
		client().update().resource(dr).execute();
	}

	// ---- registration: scopes, pages ------------------------------------------------------------------------------

	/** A scope carrying HTML used to be stored, then written unescaped into the consent page (stored XSS). */
	@Test
	void registrationRefusesScopesOutsideTheSmartGrammarAndAllowList() throws Exception {
		for (String scope : List.of(
				"openid " + XSS,
				"openid patient/Observation.rs?category=" + XSS,
				"openid patient/Observation.rs?value-string=v", // a scope query the server cannot enforce
				"openid patient/NoSuchType.rs",
				"openid patient/Observation.xyz",
				"openid admin")) {
			HttpResponse<String> response = register(app("Scope test", "client_secret_basic", scope), adminToken());
			assertThat(response.statusCode()).as(scope + ": " + response.body()).isEqualTo(400);
			assertThat(json.readTree(response.body()).path("error").asText()).isEqualTo("invalid_client_metadata");
			assertThat(response.body()).doesNotContain("<svg");
		}
		HttpResponse<String> good = register(app("Scope test", "client_secret_basic",
				"openid fhirUser launch/patient patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|survey"), adminToken());
		assertThat(good.statusCode()).as(good.body()).isEqualTo(201);
		// a client name with markup is refused too (names are shown on the consent page)
		assertThat(register(app("Evil " + XSS, "client_secret_basic", "openid patient/*.rs"), adminToken()).statusCode()).isEqualTo(400);
	}

	/** The consent and sign-in pages: escaped, no script allowed, nothing loaded from another origin (the CDN stylesheet). */
	@Test
	void consentAndSignInPagesEscapeEverythingUnderAStrictPolicy() throws Exception {
		JsonNode registered = json.readTree(register(app("Tom & Jerry's 'app'", "client_secret_basic", "openid fhirUser user/Observation.rs"), adminToken()).body());
		String clientId = registered.path("client_id").asText();

		HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/login")).build(), HttpResponse.BodyHandlers.ofString());
		assertStrictPage(login);
		assertThat(login.body()).contains("id='username'").contains("id='password'");

		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		Pkce pkce = Pkce.create();
		HttpResponse<String> consent = browser.get(authorize(clientId, "http://127.0.0.1:9/registered", "openid fhirUser user/Observation.rs", pkce));
		assertThat(consent.statusCode()).isEqualTo(200);
		assertThat(consent.uri().getPath()).isEqualTo("/smart/consent");
		assertStrictPage(consent);
		assertThat(consent.body()).contains("Tom &amp; Jerry&#39;s &#39;app&#39;").doesNotContain("Jerry's");
		// the local stylesheet is served
		HttpResponse<String> css = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/css/nssi-pages.css")).build(), HttpResponse.BodyHandlers.ofString());
		assertThat(css.statusCode()).isEqualTo(200);
		assertThat(css.headers().firstValue("Content-Type").orElse("")).startsWith("text/css");

		// allowing works: the code comes back and is exchanged
		Map<String, String> allow = approve(consent.body(), "user/Observation.rs");
		HttpResponse<String> allowed = browser.post("/oauth2/authorize", consent.body(), allow);
		assertThat(allowed.headers().firstValue("Location").orElse("")).startsWith("http://127.0.0.1:9/registered?code=");
		HttpResponse<String> token = token(Map.of("grant_type", "authorization_code", "code", SmartBrowser.query(allowed).get("code"),
				"redirect_uri", "http://127.0.0.1:9/registered", "code_verifier", pkce.verifier()), clientId, registered.path("client_secret").asText());
		assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
	}

	private static void assertStrictPage(HttpResponse<String> page) {
		String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
		assertThat(csp).contains("default-src 'self'").contains("script-src 'none'").doesNotContain("unsafe-inline");
		assertThat(page.body()).doesNotContain("<script").doesNotContain("<style").doesNotContain(" style=")
				.doesNotContainPattern("(src|href)=['\"](https?:)?//");
	}

	// ---- registration: who may get what ---------------------------------------------------------------------------

	/**
	 * The chain: register an authorization-code app with client.create, have a clinician authorize it, use the
	 * clinician's token to register a backend client with system/*. The first step is now refused, the
	 * registration endpoint refuses any token that is not a backend client's client_credentials token, and it
	 * registers no backend clients at all (those are configured).
	 */
	@Test
	void anAppCanNeverHoldClientCreateOrSystemScopes() throws Exception {
		for (String scope : List.of("openid client.create", "openid client.read", "openid metrics.read", "openid system/*.rs")) {
			HttpResponse<String> refused = register(app("Escalation", "client_secret_basic", scope), adminToken());
			assertThat(refused.statusCode()).as(scope + ": " + refused.body()).isEqualTo(400);
		}
		String mixed = """
				{"client_name":"Both kinds","redirect_uris":["http://127.0.0.1:9/cb"],"grant_types":["authorization_code","client_credentials"],
				 "scope":"openid system/*.rs","token_endpoint_auth_method":"client_secret_basic"}""";
		assertThat(register(mixed, adminToken()).statusCode()).isEqualTo(400);
		// a configured app (or one stored before this rule) asking for it at the authorization endpoint
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		HttpResponse<String> asked = browser.get(authorize(CONFIDENTIAL_APP, REDIRECT_URI, "openid client.create", Pkce.create()));
		assertThat(SmartBrowser.query(asked)).containsEntry("error", "invalid_scope");

		// a user's token (authorization code) cannot register anything, whatever its scopes
		Pkce pkce = Pkce.create();
		Map<String, String> code = SmartBrowser.query(browser.get(authorize(CONFIDENTIAL_APP, REDIRECT_URI, "openid user/*.rs", pkce)));
		HttpResponse<String> userTokenResponse = token(Map.of("grant_type", "authorization_code", "code", String.valueOf(code.get("code")),
				"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier()), CONFIDENTIAL_APP, CONFIDENTIAL_SECRET);
		assertThat(userTokenResponse.statusCode()).as(code + " " + userTokenResponse.body()).isEqualTo(200);
		String userToken = json.readTree(userTokenResponse.body()).path("access_token").asText();
		assertThat(register(app("Minted", "client_secret_basic", "openid user/*.rs"), userToken).statusCode()).isEqualTo(403);

		// backend-services clients (system/ scopes) are configured by the operator, never registered through the API
		String backend = """
				{"client_name":"Minted backend","redirect_uris":["https://backend.example/none"],"grant_types":["client_credentials"],
				 "scope":"system/*.rs","token_endpoint_auth_method":"client_secret_basic"}""";
		HttpResponse<String> refused = register(backend, adminToken());
		assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
		assertThat(refused.body()).contains("invalid_client_metadata").contains("nssi.security.clients");
	}

	/** token_endpoint_auth_method none used to be stored as a confidential client with a secret. */
	@Test
	void publicRegistrationsArePublicClientsThatMustUsePkce() throws Exception {
		HttpResponse<String> created = register(app("Native app", "none", "openid fhirUser user/Observation.rs offline_access"), adminToken());
		assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
		JsonNode client = json.readTree(created.body());
		assertThat(client.path("token_endpoint_auth_method").asText()).isEqualTo("none");
		assertThat(client.has("client_secret")).isFalse();
		String clientId = client.path("client_id").asText();

		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		HttpResponse<String> noPkce = browser.get(authorize(clientId, "http://127.0.0.1:9/registered", "openid user/Observation.rs", null));
		assertThat(SmartBrowser.query(noPkce)).containsEntry("error", "invalid_request");

		// a native app listens on any free loopback port (RFC 8252)
		String redirect = "http://127.0.0.1:4711/registered";
		Pkce pkce = Pkce.create();
		HttpResponse<String> consent = browser.get(authorize(clientId, redirect, "openid user/Observation.rs offline_access", pkce));
		Map<String, String> allow = approve(consent.body(), "user/Observation.rs");
		HttpResponse<String> allowed = browser.post("/oauth2/authorize", consent.body(), allow);
		Map<String, String> result = SmartBrowser.query(allowed);
		assertThat(result).containsKey("code");
		HttpResponse<String> token = token(Map.of("grant_type", "authorization_code", "code", result.get("code"), "redirect_uri", redirect,
				"code_verifier", pkce.verifier(), "client_id", clientId), null, null);
		assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
		assertThat(json.readTree(token.body()).has("refresh_token")).as("public clients get no refresh token").isFalse();
	}

	// ---- refresh tokens ---------------------------------------------------------------------------------------------

	@Test
	void aReusedRefreshTokenRevokesTheWholeAuthorization() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		Pkce pkce = Pkce.create();
		Map<String, String> code = SmartBrowser.query(browser.get(authorize(CONFIDENTIAL_APP, REDIRECT_URI, "openid offline_access user/*.rs", pkce)));
		JsonNode first = json.readTree(token(Map.of("grant_type", "authorization_code", "code", code.get("code"), "redirect_uri", REDIRECT_URI,
				"code_verifier", pkce.verifier()), CONFIDENTIAL_APP, CONFIDENTIAL_SECRET).body());
		JsonNode second = refresh(first.path("refresh_token").asText(), CONFIDENTIAL_APP, CONFIDENTIAL_SECRET);
		assertThat(second.path("refresh_token").asText()).isNotBlank().isNotEqualTo(first.path("refresh_token").asText());
		assertThat(fhirGet("/Patient/" + PATIENT_ID, second.path("access_token").asText()).statusCode()).isEqualTo(200);

		// the stolen first refresh token is replayed: refused, and the legitimate app's tokens die with it
		HttpResponse<String> replay = token(Map.of("grant_type", "refresh_token", "refresh_token", first.path("refresh_token").asText()),
				CONFIDENTIAL_APP, CONFIDENTIAL_SECRET);
		assertThat(replay.statusCode()).isEqualTo(400);
		assertThat(replay.body()).contains("invalid_grant");
		assertThat(token(Map.of("grant_type", "refresh_token", "refresh_token", second.path("refresh_token").asText()),
				CONFIDENTIAL_APP, CONFIDENTIAL_SECRET).statusCode()).isEqualTo(400);
		assertThat(fhirGet("/Patient/" + PATIENT_ID, second.path("access_token").asText()).statusCode()).isEqualTo(401);
		assertThat(fhirGet("/Patient/" + PATIENT_ID, first.path("access_token").asText()).statusCode()).isEqualTo(401);
	}

	/** Registered clients used to keep one refresh token forever (Spring's default reuseRefreshTokens=true). */
	@Test
	void registeredClientsRotateTheirRefreshTokens() throws Exception {
		String body = """
				{"client_name":"Rotating app","redirect_uris":["http://127.0.0.1:9/registered"],"grant_types":["authorization_code","refresh_token"],
				 "response_types":["code"],"scope":"openid offline_access user/*.rs","token_endpoint_auth_method":"client_secret_basic"}""";
		JsonNode client = json.readTree(register(body, adminToken()).body());
		String clientId = client.path("client_id").asText();
		String secret = client.path("client_secret").asText();
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		Pkce pkce = Pkce.create();
		HttpResponse<String> consent = browser.get(authorize(clientId, "http://127.0.0.1:9/registered", "openid offline_access user/*.rs", pkce));
		Map<String, String> allow = approve(consent.body(), "offline_access");
		HttpResponse<String> allowed = browser.post("/oauth2/authorize", consent.body(), allow);
		Map<String, String> code = SmartBrowser.query(allowed);
		JsonNode first = json.readTree(token(Map.of("grant_type", "authorization_code", "code", code.get("code"),
				"redirect_uri", "http://127.0.0.1:9/registered", "code_verifier", pkce.verifier()), clientId, secret).body());
		assertThat(first.path("refresh_token").asText()).as(first.toString()).isNotBlank();
		JsonNode second = refresh(first.path("refresh_token").asText(), clientId, secret);
		assertThat(second.path("refresh_token").asText()).isNotEqualTo(first.path("refresh_token").asText());
		assertThat(token(Map.of("grant_type", "refresh_token", "refresh_token", first.path("refresh_token").asText()), clientId, secret).statusCode())
				.isEqualTo(400);
	}

	// ---- introspection ----------------------------------------------------------------------------------------------

	@Test
	void onlyResourceServersAndTheTokensOwnClientLearnWhatATokenIs() throws Exception {
		String token = json.readTree(token(Map.of("grant_type", "client_credentials", "scope", "system/Observation.rs"),
				"test-backend", "test-backend-secret").body()).path("access_token").asText();
		JsonNode byStranger = introspect(token, ADMIN_CLIENT, ADMIN_SECRET);
		assertThat(byStranger.path("active").asBoolean()).isFalse();
		assertThat(byStranger.has("scope")).isFalse();
		assertThat(byStranger.has("client_id")).isFalse();
		assertThat(introspect(token, RESOURCE_SERVER, RESOURCE_SERVER_SECRET).path("active").asBoolean()).isTrue();
		assertThat(introspect(token, "test-backend", "test-backend-secret").path("active").asBoolean()).isTrue();
	}

	// ---- issuer and audience ----------------------------------------------------------------------------------------

	/** With no issuer configured, issuer and accepted audience used to follow the request's Host header. */
	@Test
	void issuerAndAudienceAreNeverTakenFromTheHostHeader() throws Exception {
		String pinned = serverAddress.issuer();
		assertThat(pinned).isEqualTo(baseUrl());
		String discovery = raw("GET /fhir/.well-known/smart-configuration HTTP/1.0\r\nHost: evil.example\r\n\r\n");
		assertThat(discovery).contains("\"issuer\":\"" + pinned + "\"").doesNotContain("evil.example");
		String metadata = raw("GET /fhir/metadata HTTP/1.0\r\nHost: evil.example\r\nAccept: application/fhir+json\r\n\r\n");
		assertThat(metadata).contains(pinned + "/oauth2/token").doesNotContain("evil.example");

		// a token minted for the attacker's name is not accepted by claiming that name in Host
		String forOtherServer = tokens().token().scopes("system/*.cruds").audience("http://evil.example/fhir").sign();
		String fhir = raw("GET /fhir/Patient/" + PATIENT_ID + " HTTP/1.0\r\nHost: evil.example\r\nAuthorization: Bearer " + forOtherServer + "\r\n\r\n");
		assertThat(fhir.lines().findFirst().orElse("")).contains(" 401");

		// and a token requested through another Host name still names this server
		String form = "grant_type=client_credentials&scope=system%2FObservation.rs";
		String basic = Base64.getEncoder().encodeToString("test-backend:test-backend-secret".getBytes(StandardCharsets.UTF_8));
		String issued = raw("POST /oauth2/token HTTP/1.0\r\nHost: evil.example\r\nAuthorization: Basic " + basic
				+ "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length() + "\r\n\r\n" + form);
		Matcher access = Pattern.compile("\"access_token\":\"([^\"]+)\"").matcher(issued);
		assertThat(access.find()).as(issued).isTrue();
		SignedJWT jwt = SignedJWT.parse(access.group(1));
		assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo(pinned);
		assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(pinned + "/fhir");
	}

	// ---- redirect URIs, cookies, metrics, CapabilityStatement ------------------------------------------------------

	@Test
	void anyPortLoopbackRedirectsAreForPublicNativeAppsOnly() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		String otherPort = "http://127.0.0.1:4444/callback";
		HttpResponse<String> confidential = browser.get(authorize(CONFIDENTIAL_APP, otherPort, "openid user/*.rs", Pkce.create()));
		assertThat(confidential.statusCode()).isEqualTo(400);
		assertThat(confidential.headers().firstValue("Location")).isEmpty();
		HttpResponse<String> publicApp = browser.get(authorize(PUBLIC_APP, otherPort, "openid user/*.rs", Pkce.create()));
		assertThat(publicApp.headers().firstValue("Location").orElse("")).startsWith(otherPort + "?code=");
	}

	@Test
	void theSessionCookieIsSameSiteLaxAndHttpOnly() throws Exception {
		HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/login")).build(), HttpResponse.BodyHandlers.ofString());
		List<String> cookies = login.headers().allValues("Set-Cookie");
		assertThat(cookies).anySatisfy(cookie -> assertThat(cookie).startsWith("JSESSIONID=").contains("SameSite=Lax").contains("HttpOnly"));
	}

	@Test
	void prometheusMetricsNeedATokenWithTheMetricsScope() throws Exception {
		assertThat(actuator("/actuator/prometheus", null).statusCode()).isEqualTo(401);
		assertThat(actuator("/actuator/prometheus", tokens().system("system/*.cruds")).statusCode()).isEqualTo(403);
		String scraper = json.readTree(token(Map.of("grant_type", "client_credentials", "scope", "metrics.read"), ADMIN_CLIENT, ADMIN_SECRET).body())
				.path("access_token").asText();
		HttpResponse<String> metrics = actuator("/actuator/prometheus", scraper);
		assertThat(metrics.statusCode()).isEqualTo(200);
		assertThat(metrics.body()).contains("http_server_requests_seconds");
		// probes stay public
		assertThat(actuator("/actuator/health/liveness", null).statusCode()).isEqualTo(200);
	}

	@Test
	void theCapabilityStatementSaysCorsOnlyWhenCorsIsOn() throws Exception {
		// the production default: no allowed origins, CORS off
		NssiProperties defaults = new Binder(new MapConfigurationPropertySource(Map.of())).bindOrCreate("nssi", NssiProperties.class);
		assertThat(defaults.cors().enabled()).isFalse();
		CapabilityStatement cs = new CapabilityStatement();
		cs.addRest();
		new CapabilityStatementInterceptor(defaults, serverAddress, new ca.uhn.fhir.jpa.api.config.JpaStorageSettings(),
				new org.springframework.beans.factory.support.StaticListableBeanFactory()
						.getBeanProvider(org.nssifhir.server.fhir.OfferedOperations.class),
				new org.springframework.beans.factory.support.StaticListableBeanFactory()
						.getBeanProvider(org.nssifhir.server.fhir.PublishedOperations.class)).complete(cs, new SystemRequestDetails());
		assertThat(cs.getRestFirstRep().getSecurity().getCors()).isFalse();

		// the test server allows one origin: it says so, and really answers that origin's preflight
		HttpResponse<String> metadata = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/metadata")).build(), HttpResponse.BodyHandlers.ofString());
		CapabilityStatement served = fhirContext.newJsonParser().parseResource(CapabilityStatement.class, metadata.body());
		assertThat(served.getRestFirstRep().getSecurity().getCors()).isTrue();
		HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient"))
				.method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", TRUSTED_ORIGIN)
				.header("Access-Control-Request-Method", "GET").build(), HttpResponse.BodyHandlers.ofString());
		assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).hasValue(TRUSTED_ORIGIN);
	}

	// ---- helpers ----------------------------------------------------------------------------------------------------

	/** The consent form's fields (the state is the consent's own, not the app's), approving one scope. */
	private static Map<String, String> approve(String consentPage, String scope) {
		Map<String, String> form = new LinkedHashMap<>();
		for (String field : List.of("client_id", "state")) {
			Matcher m = Pattern.compile("name='" + field + "' value='([^']*)'").matcher(consentPage);
			assertThat(m.find()).as(field + " in " + consentPage).isTrue();
			form.put(field, org.springframework.web.util.HtmlUtils.htmlUnescape(m.group(1)));
		}
		form.put("scope", scope);
		return form;
	}

	private static String app(String name, String authMethod, String scope) {
		return "{\"client_name\":" + quote(name) + ",\"redirect_uris\":[\"http://127.0.0.1:9/registered\"],"
				+ "\"grant_types\":[\"authorization_code\"],\"response_types\":[\"code\"],\"scope\":" + quote(scope)
				+ ",\"token_endpoint_auth_method\":" + quote(authMethod) + "}";
	}

	private static String quote(String value) {
		return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
	}

	/** A fresh single-use registration token of the administrator (a backend client with client.create). */
	private String adminToken() throws Exception {
		HttpResponse<String> r = token(Map.of("grant_type", "client_credentials", "scope", "client.create"), ADMIN_CLIENT, ADMIN_SECRET);
		assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
		return json.readTree(r.body()).path("access_token").asText();
	}

	private HttpResponse<String> register(String body, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/connect/register"))
				.header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
				.POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
	}

	private String authorize(String clientId, String redirectUri, String scope, Pkce pkce) {
		Map<String, String> p = new LinkedHashMap<>();
		p.put("response_type", "code");
		p.put("client_id", clientId);
		p.put("redirect_uri", redirectUri);
		p.put("scope", scope);
		p.put("state", "s-1");
		p.put("aud", fhirBase());
		if (pkce != null) {
			p.put("code_challenge", pkce.challenge());
			p.put("code_challenge_method", "S256");
		}
		return "/oauth2/authorize?" + SmartBrowser.encode(p);
	}

	private HttpResponse<String> token(Map<String, String> form, String clientId, String secret) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString(SmartBrowser.encode(form)));
		if (secret != null) {
			b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
					(URLEncoder.encode(clientId, StandardCharsets.UTF_8) + ":" + URLEncoder.encode(secret, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
		}
		return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
	}

	private JsonNode refresh(String refreshToken, String clientId, String secret) throws Exception {
		HttpResponse<String> r = token(Map.of("grant_type", "refresh_token", "refresh_token", refreshToken), clientId, secret);
		assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
		return json.readTree(r.body());
	}

	private JsonNode introspect(String token, String clientId, String secret) throws Exception {
		HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/introspect"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8)))
				.POST(HttpRequest.BodyPublishers.ofString("token=" + token)).build(), HttpResponse.BodyHandlers.ofString());
		assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
		return json.readTree(r.body());
	}

	private HttpResponse<String> fhirGet(String path, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + path)).header("Authorization", "Bearer " + token).GET().build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> actuator(String path, String token) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path));
		if (token != null) {
			b.header("Authorization", "Bearer " + token);
		}
		return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
	}

	/** A raw HTTP/1.0 exchange (java.net.http will not send a Host header of our choosing); the whole response. */
	private String raw(String request) throws Exception {
		try (Socket socket = new Socket("127.0.0.1", port)) {
			socket.setSoTimeout(30_000);
			OutputStream out = socket.getOutputStream();
			out.write(request.getBytes(StandardCharsets.UTF_8));
			out.flush();
			InputStream in = socket.getInputStream();
			ByteArrayOutputStream response = new ByteArrayOutputStream();
			in.transferTo(response);
			return response.toString(StandardCharsets.UTF_8);
		}
	}
}
