package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.SmartBrowser;
import org.nssifhir.server.support.SmartBrowser.Pkce;

/**
 * SMART App Launch end to end over real HTTP with a cookie-keeping client: EHR launch, standalone launch with the
 * patient picker, a patient signing in, PKCE, aud, refresh tokens, openid fhirUser, and admin client registration.
 */
class SmartLaunchIT extends BaseIT {

	private final ObjectMapper json = new ObjectMapper();
	private String otherPatient;
	private String ownObservation;
	private String otherObservation;

	@BeforeEach
	void people() {
		Patient a = tagged(new Patient());
		a.setId(PATIENT_ID);
		a.addName().setFamily("Launchtest").addGiven("Robin");
		client().update().resource(a).execute();
		Patient b = tagged(new Patient());
		b.addName().setFamily("Otherpatient");
		otherPatient = client().create().resource(b).execute().getId().getIdPart();
		Practitioner dr = tagged(new Practitioner());
		dr.setId(PRACTITIONER_ID);
		dr.addName().setFamily("Testclinician");
		client().update().resource(dr).execute();
		RelatedPerson proxy = tagged(new RelatedPerson());
		proxy.setId(PROXY_ID);
		proxy.setPatient(new Reference("Patient/" + PATIENT_ID));
		client().update().resource(proxy).execute();
		ownObservation = client().create().resource(observation(PATIENT_ID)).execute().getId().getIdPart();
		otherObservation = client().create().resource(observation(otherPatient)).execute().getId().getIdPart();
	}

	@Test
	void ehrLaunchGivesTheLaunchedPatientAnIdTokenAndARefreshToken() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		HttpResponse<String> launcher = browser.get("/smart/launcher");
		assertThat(launcher.statusCode()).isEqualTo(200);
		assertThat(browser.logins()).isEqualTo(1);
		HttpResponse<String> toApp = browser.post("/smart/launcher", launcher.body(),
				Map.of("patient", PATIENT_ID, "app", CONFIDENTIAL_APP, "context", "Observation/" + ownObservation));
		assertThat(toApp.statusCode()).isEqualTo(302);
		assertThat(toApp.headers().firstValue("Location").orElseThrow()).startsWith(LAUNCH_URL);
		Map<String, String> launchParams = SmartBrowser.query(toApp);
		assertThat(launchParams.get("iss")).isEqualTo(fhirBase());

		Pkce pkce = Pkce.create();
		HttpResponse<String> callback = browser.get(authorize(CONFIDENTIAL_APP, "launch openid fhirUser offline_access patient/*.rs", launchParams.get("launch"), pkce, "S256", fhirBase()));
		Map<String, String> result = SmartBrowser.query(callback);
		assertThat(callback.headers().firstValue("Location").orElseThrow()).startsWith(REDIRECT_URI);
		assertThat(result).containsEntry("state", "s-123").containsKey("code");

		HttpResponse<String> tokenResponse = token(Map.of("grant_type", "authorization_code", "code", result.get("code"),
				"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier()), CONFIDENTIAL_APP, CONFIDENTIAL_SECRET);
		assertThat(tokenResponse.statusCode()).isEqualTo(200);
		assertThat(tokenResponse.headers().firstValue("Cache-Control").orElse("")).contains("no-store");
		JsonNode token = json.readTree(tokenResponse.body());
		assertThat(token.path("patient").asText()).isEqualTo(PATIENT_ID);
		assertThat(token.path("need_patient_banner").asBoolean()).isTrue();
		assertThat(token.path("fhirContext").get(0).path("reference").asText()).isEqualTo("Observation/" + ownObservation);
		assertThat(token.path("expires_in").asInt()).isBetween(1, 3600);
		assertThat(token.path("refresh_token").asText()).isNotBlank();
		assertThat(token.path("scope").asText()).contains("patient/*.rs").contains("offline_access");
		SignedJWT idToken = SignedJWT.parse(token.path("id_token").asText());
		assertThat(idToken.getJWTClaimsSet().getStringClaim("fhirUser")).isEqualTo(fhirBase() + "/Practitioner/" + PRACTITIONER_ID);
		assertThat(idToken.getJWTClaimsSet().getAudience()).containsExactly(CONFIDENTIAL_APP);

		String access = token.path("access_token").asText();
		assertStatus(fhirGet("/Observation/" + ownObservation, access), 200);
		assertStatus(fhirGet("/Observation/" + otherObservation, access), 404); // as if missing
		// an app in the browser sends the sign-in session's cookie with its FHIR requests: the API leaves that session
		// alone (no new session id), so launching again needs no new sign-in (issue 20: ClinicianAppDemoIT's lost session)
		for (int i = 0; i < 3; i++) {
			HttpResponse<String> fromTheBrowser = browser.getWithToken(fhirBase() + "/Observation/" + ownObservation, access);
			assertThat(fromTheBrowser.statusCode()).isEqualTo(200);
			assertThat(fromTheBrowser.headers().allValues("Set-Cookie")).as("Set-Cookie on a FHIR response").isEmpty();
		}
		assertThat(browser.get("/smart/launcher").statusCode()).isEqualTo(200);
		assertThat(browser.logins()).as("signed in once only").isEqualTo(1);
		// the privacy officer finds what this clinician did, by user
		awaitAuditTrail();
		assertThat(client().search()
						.byUrl("AuditEvent?nssi-agent-identifier=urn:nssi-fhir:fhir-user|Practitioner/" + PRACTITIONER_ID + "&entity=Observation/" + ownObservation)
						.returnBundle(org.hl7.fhir.r4.model.Bundle.class).execute().getEntry())
				.isNotEmpty();

		// a refreshed token keeps the launch context, and the old refresh token is rotated out
		HttpResponse<String> refreshed = token(Map.of("grant_type", "refresh_token", "refresh_token", token.path("refresh_token").asText()),
				CONFIDENTIAL_APP, CONFIDENTIAL_SECRET);
		assertThat(refreshed.statusCode()).isEqualTo(200);
		JsonNode second = json.readTree(refreshed.body());
		assertThat(second.path("patient").asText()).isEqualTo(PATIENT_ID);
		assertStatus(fhirGet("/Observation/" + ownObservation, second.path("access_token").asText()), 200);
		assertThat(token(Map.of("grant_type", "refresh_token", "refresh_token", token.path("refresh_token").asText()),
				CONFIDENTIAL_APP, CONFIDENTIAL_SECRET).statusCode()).isEqualTo(400);
		// the code is single-use, and replaying it revokes what it gave (RFC 6749 section 4.1.2)
		HttpResponse<String> replay = token(Map.of("grant_type", "authorization_code", "code", result.get("code"),
				"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier()), CONFIDENTIAL_APP, CONFIDENTIAL_SECRET);
		assertThat(replay.statusCode()).isEqualTo(400);
		assertThat(replay.body()).contains("invalid_grant");

		assertThat(fhirGet("/Observation/" + ownObservation, second.path("access_token").asText()).statusCode()).isEqualTo(401);
	}

	@Test
	void standaloneLaunchAsksTheClinicianToPickAPatient() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		Pkce pkce = Pkce.create();
		HttpResponse<String> picker = browser.get(authorize(PUBLIC_APP, "launch/patient openid fhirUser patient/*.rs", null, pkce, "S256", fhirBase()));
		assertThat(picker.statusCode()).isEqualTo(200);
		assertThat(picker.uri().getPath()).isEqualTo("/smart/pick-patient");
		String request = SmartBrowser.queryOf(picker.uri()).get("request");
		HttpResponse<String> found = browser.get("/smart/pick-patient?request=" + URLEncoder.encode(request, StandardCharsets.UTF_8) + "&name=Launchtest");
		assertThat(found.body()).contains("Launchtest").contains("Patient/" + PATIENT_ID).doesNotContain("Otherpatient");
		assertThat(audits("_tag=urn:nssi-fhir:audit|patient-picker&entity=Patient/" + PATIENT_ID
				+ "&nssi-agent-identifier=urn:nssi-fhir:fhir-user|Practitioner/" + PRACTITIONER_ID)).isPositive();

		HttpResponse<String> callback = browser.post("/smart/pick-patient", found.body(), Map.of("request", request, "patient", PATIENT_ID));
		Map<String, String> result = SmartBrowser.query(callback);
		assertThat(result).containsKey("code");
		HttpResponse<String> tokenResponse = token(Map.of("grant_type", "authorization_code", "code", result.get("code"),
				"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier(), "client_id", PUBLIC_APP), null, null);
		assertThat(tokenResponse.statusCode()).isEqualTo(200);
		JsonNode token = json.readTree(tokenResponse.body());
		assertThat(token.path("patient").asText()).isEqualTo(PATIENT_ID);
		assertThat(token.has("refresh_token")).as("public clients get no refresh token").isFalse();
		assertStatus(fhirGet("/Patient/" + PATIENT_ID, token.path("access_token").asText()), 200);
		assertStatus(fhirGet("/Patient/" + otherPatient, token.path("access_token").asText()), 403);
	}

	@Test
	void aPatientIsAlwaysInTheirOwnContextAndGetsNoUserScopes() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), PATIENT_USER, PASSWORD);
		Pkce pkce = Pkce.create();
		HttpResponse<String> callback = browser.get(authorize(PUBLIC_APP, "launch/patient openid fhirUser patient/*.rs", null, pkce, "S256", fhirBase()));
		Map<String, String> result = SmartBrowser.query(callback);
		JsonNode token = json.readTree(token(Map.of("grant_type", "authorization_code", "code", result.get("code"),
				"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier(), "client_id", PUBLIC_APP), null, null).body());
		assertThat(token.path("patient").asText()).isEqualTo(PATIENT_ID);
		assertThat(SignedJWT.parse(token.path("id_token").asText()).getJWTClaimsSet().getStringClaim("fhirUser"))
				.isEqualTo(fhirBase() + "/Patient/" + PATIENT_ID);
		// another patient's record is answered as a missing one would be
		assertStatus(fhirGet("/Observation/" + otherObservation, token.path("access_token").asText()), 404);

		HttpResponse<String> refused = browser.get(authorize(PUBLIC_APP, "openid user/*.rs", null, Pkce.create(), "S256", fhirBase()));
		assertThat(SmartBrowser.query(refused)).containsEntry("error", "invalid_scope");
		HttpResponse<String> launchScope = browser.get(authorize(PUBLIC_APP, "openid launch patient/*.rs", null, Pkce.create(), "S256", fhirBase()));
		assertThat(SmartBrowser.query(launchScope)).containsKey("error");
	}

	@Test
	void aProxyActsForTheirRelatedPatient() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), PROXY_USER, PASSWORD);
		Pkce pkce = Pkce.create();
		Map<String, String> result = SmartBrowser.query(browser.get(authorize(PUBLIC_APP, "launch/patient openid fhirUser patient/*.rs", null, pkce, "S256", fhirBase())));
		JsonNode token = json.readTree(token(Map.of("grant_type", "authorization_code", "code", result.get("code"),
				"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier(), "client_id", PUBLIC_APP), null, null).body());
		assertThat(token.path("patient").asText()).isEqualTo(PATIENT_ID);
		assertThat(SignedJWT.parse(token.path("access_token").asText()).getJWTClaimsSet().getStringClaim("fhirUser"))
				.isEqualTo(fhirBase() + "/RelatedPerson/" + PROXY_ID);
	}

	/**
	 * Real sign-ins, end to end, through the access policy: the signed-in patient sees their own restricted episode
	 * and not another's; their parent (a proxy) sees it only once the patient, signed in, records a Consent
	 * releasing it; the proxy cannot record that Consent itself.
	 */
	@Test
	void signedInPatientAndProxyTokensGoThroughConsentOnTheirOwnRecord() throws Exception {
		String episode = client().create().resource(restrictedEpisode(PATIENT_ID)).execute().getId().getIdPart();
		String othersEpisode = client().create().resource(restrictedEpisode(otherPatient)).execute().getId().getIdPart();
		String patientToken = signIn(PATIENT_USER, "launch/patient openid fhirUser patient/*.cruds");
		String proxyToken = signIn(PROXY_USER, "launch/patient openid fhirUser patient/*.cruds");

		assertStatus(fhirGet("/Observation/" + episode, patientToken), 200);
		assertStatus(fhirGet("/Observation/" + othersEpisode, patientToken), 404);
		assertStatus(fhirGet("/Observation/" + episode, proxyToken), 404);

		String consent = """
				{"resourceType":"Consent","status":"active","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HTEST"}]},
				 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
				 "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IDSCL"}]}],
				 "patient":{"reference":"Patient/%s"},"policy":[{"uri":"https://nssi-fhir.org/fhir/policy/adolescent-disclosure"}],
				 "provision":{"type":"permit","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}],
				  "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},
				   "reference":{"reference":"RelatedPerson/%s"}}]}}""".formatted(PATIENT_ID, PROXY_ID);
		assertStatus(fhirPost("/Consent", consent, proxyToken), 403);
		HttpResponse<String> recorded = fhirPost("/Consent", consent, patientToken);
		assertStatus(recorded, 201);
		assertStatus(fhirGet("/Observation/" + episode, proxyToken), 200);
		client().delete().resourceById(new org.hl7.fhir.r4.model.IdType(recorded.headers().firstValue("Location").orElseThrow())
				.toUnqualifiedVersionless()).execute();
		assertStatus(fhirGet("/Observation/" + episode, proxyToken), 404);
	}

	/**
	 * A proxy signed in for real loses its token's access as soon as a clinician sets its RelatedPerson inactive;
	 * a Patient record closed as inactive (a duplicate, merged) gives its person no new token at sign-in.
	 */
	@Test
	void anEndedRelationshipOrAClosedRecordGetsNoAccess() throws Exception {
		String proxyToken = signIn(PROXY_USER, "launch/patient openid fhirUser patient/*.rs");
		assertStatus(fhirGet("/Patient/" + PATIENT_ID, proxyToken), 200);
		RelatedPerson proxy = client().read().resource(RelatedPerson.class).withId(PROXY_ID).execute();
		proxy.setActive(false);
		client().update().resource(proxy).execute();
		assertStatus(fhirGet("/Patient/" + PATIENT_ID, proxyToken), 401);

		Patient closed = client().read().resource(Patient.class).withId(PATIENT_ID).execute();
		closed.setActive(false);
		client().update().resource(closed).execute();
		SmartBrowser browser = new SmartBrowser(baseUrl(), PATIENT_USER, PASSWORD);
		Pkce pkce = Pkce.create();
		Map<String, String> result = SmartBrowser.query(browser.get(authorize(PUBLIC_APP, "launch/patient openid fhirUser patient/*.rs", null, pkce, "S256", fhirBase())));
		HttpResponse<String> refused = token(Map.of("grant_type", "authorization_code", "code", String.valueOf(result.get("code")),
				"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier(), "client_id", PUBLIC_APP), null, null);
		assertStatus(refused, 400);
		assertThat(refused.body()).contains("invalid_grant").doesNotContain("access_token");
	}

	private String signIn(String user, String scopes) throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), user, PASSWORD);
		Pkce pkce = Pkce.create();
		Map<String, String> result = SmartBrowser.query(browser.get(authorize(PUBLIC_APP, scopes, null, pkce, "S256", fhirBase())));
		JsonNode token = json.readTree(token(Map.of("grant_type", "authorization_code", "code", result.get("code"),
				"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier(), "client_id", PUBLIC_APP), null, null).body());
		assertThat(token.path("access_token").asText()).as(token.toString()).isNotBlank();
		return token.path("access_token").asText();
	}

	private HttpResponse<String> fhirPost(String path, String body, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + path)).header("Authorization", "Bearer " + token)
				.header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private Observation restrictedEpisode(String patientId) throws Exception {
		Observation example = (Observation) fhirContext.newJsonParser().parseResource(java.nio.file.Files.readString(
				java.nio.file.Path.of("profiles/examples/Observation-nssi-example-episode-adult-1.json")));
		example.setId((String) null);
		example.getMeta().getSecurity().removeIf(c -> !"http://terminology.hl7.org/CodeSystem/v3-ActReason".equals(c.getSystem()));
		example.setSubject(new Reference("Patient/" + patientId));
		return example;
	}

	@Test
	void anAsymmetricAppMustStillProveItsCodeVerifier() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		Pkce pkce = Pkce.create();
		Map<String, String> result = SmartBrowser.query(browser.get(authorize(ASYMMETRIC_APP, "openid user/*.rs", null, pkce, "S256", fhirBase())));
		// private_key_jwt without client_id, as SMART clients send it; no code_verifier: refused
		HttpResponse<String> noVerifier = token(Map.of("grant_type", "authorization_code", "code", result.get("code"), "redirect_uri", REDIRECT_URI,
				"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", clientAssertion(ASYMMETRIC_APP)), null, null);
		assertThat(noVerifier.statusCode()).as(noVerifier.body()).isEqualTo(400);
		Pkce second = Pkce.create();
		Map<String, String> again = SmartBrowser.query(browser.get(authorize(ASYMMETRIC_APP, "openid user/*.rs", null, second, "S256", fhirBase())));
		HttpResponse<String> withVerifier = token(Map.of("grant_type", "authorization_code", "code", again.get("code"), "redirect_uri", REDIRECT_URI,
				"code_verifier", second.verifier(),
				"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", clientAssertion(ASYMMETRIC_APP)), null, null);
		assertThat(withVerifier.statusCode()).as(withVerifier.body()).isEqualTo(200);
	}

	@Test
	void aLaunchBelongsToTheAppItWasMadeFor() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		HttpResponse<String> launcher = browser.get("/smart/launcher");
		String launch = SmartBrowser.query(browser.post("/smart/launcher", launcher.body(), Map.of("patient", PATIENT_ID, "app", CONFIDENTIAL_APP))).get("launch");
		HttpResponse<String> otherApp = browser.get(authorize(PUBLIC_APP, "launch openid patient/*.rs", launch, Pkce.create(), "S256", fhirBase()));
		assertThat(SmartBrowser.query(otherApp)).containsEntry("error", "invalid_request");
		// and to the user who made it
		SmartBrowser patient = new SmartBrowser(baseUrl(), PATIENT_USER, PASSWORD);
		HttpResponse<String> otherUser = patient.get(authorize(CONFIDENTIAL_APP, "launch openid patient/*.rs", launch, Pkce.create(), "S256", fhirBase()));
		assertThat(SmartBrowser.query(otherUser)).containsKey("error").doesNotContainKey("code");
		// refreshing with fewer scopes is not a server error
		Pkce pkce = Pkce.create();
		Map<String, String> result = SmartBrowser.query(browser.get(authorize(CONFIDENTIAL_APP, "launch openid offline_access patient/*.rs", launch, pkce, "S256", fhirBase())));
		JsonNode token = json.readTree(token(Map.of("grant_type", "authorization_code", "code", result.get("code"),
				"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier()), CONFIDENTIAL_APP, CONFIDENTIAL_SECRET).body());
		HttpResponse<String> narrower = token(Map.of("grant_type", "refresh_token", "refresh_token", token.path("refresh_token").asText(),
				"scope", "patient/*.rs"), CONFIDENTIAL_APP, CONFIDENTIAL_SECRET);
		assertThat(narrower.statusCode()).as(narrower.body()).isEqualTo(200);
		assertThat(json.readTree(narrower.body()).path("scope").asText()).isEqualTo("patient/*.rs");
	}

	private String clientAssertion(String clientId) throws Exception {
		com.nimbusds.jwt.JWTClaimsSet claims = new com.nimbusds.jwt.JWTClaimsSet.Builder()
				.issuer(clientId).subject(clientId).audience(baseUrl() + "/oauth2/token")
				.jwtID(java.util.UUID.randomUUID().toString())
				.expirationTime(java.util.Date.from(java.time.Instant.now().plusSeconds(120)))
				.build();
		SignedJWT jwt = new SignedJWT(new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS384)
				.keyID(BACKEND_RSA_KEY.getKeyID()).build(), claims);
		jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(BACKEND_RSA_KEY));
		return jwt.serialize();
	}

	@Test
	void pkceWithS256IsRequiredAndPlainIsRefused() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		HttpResponse<String> plain = browser.get(authorize(PUBLIC_APP, "openid user/*.rs", null, Pkce.create(), "plain", fhirBase()));
		assertThat(SmartBrowser.query(plain)).containsEntry("error", "invalid_request");
		assertThat(SmartBrowser.query(plain).get("error_description")).contains("code_challenge_method");
		HttpResponse<String> none = browser.get(authorize(CONFIDENTIAL_APP, "openid user/*.rs", null, null, null, fhirBase()));
		assertThat(SmartBrowser.query(none)).containsEntry("error", "invalid_request");
		assertThat(SmartBrowser.query(none).get("error_description")).contains("code_challenge");

		// a verifier that does not match the challenge gets no token
		Pkce pkce = Pkce.create();
		Map<String, String> result = SmartBrowser.query(browser.get(authorize(PUBLIC_APP, "openid user/*.rs", null, pkce, "S256", fhirBase())));
		HttpResponse<String> wrong = token(Map.of("grant_type", "authorization_code", "code", result.get("code"),
				"redirect_uri", REDIRECT_URI, "code_verifier", Pkce.create().verifier(), "client_id", PUBLIC_APP), null, null);
		assertThat(wrong.statusCode()).isEqualTo(400);
	}

	@Test
	void audienceLaunchAndScopesAreChecked() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		HttpResponse<String> otherServer = browser.get(authorize(PUBLIC_APP, "openid user/*.rs", null, Pkce.create(), "S256", "https://evil.example/fhir"));
		assertThat(SmartBrowser.query(otherServer)).containsEntry("error", "invalid_request");
		assertThat(SmartBrowser.query(otherServer).get("error_description")).contains("aud");
		HttpResponse<String> noAud = browser.get(authorize(PUBLIC_APP, "openid user/*.rs", null, Pkce.create(), "S256", null));
		assertThat(SmartBrowser.query(noAud)).containsEntry("error", "invalid_request");

		HttpResponse<String> launchWithoutId = browser.get(authorize(PUBLIC_APP, "launch openid patient/*.rs", null, Pkce.create(), "S256", fhirBase()));
		assertThat(SmartBrowser.query(launchWithoutId)).containsEntry("error", "invalid_request");
		HttpResponse<String> forgedLaunch = browser.get(authorize(PUBLIC_APP, "launch openid patient/*.rs", "made-up-launch-id", Pkce.create(), "S256", fhirBase()));
		assertThat(SmartBrowser.query(forgedLaunch)).containsEntry("error", "invalid_request");
		assertThat(SmartBrowser.query(forgedLaunch).get("error_description")).contains("launch");

		HttpResponse<String> systemScope = browser.get(authorize(PUBLIC_APP, "openid system/*.rs", null, Pkce.create(), "S256", fhirBase()));
		assertThat(SmartBrowser.query(systemScope)).containsEntry("error", "invalid_scope");

		// an unregistered redirect URI is never redirected to
		HttpResponse<String> badRedirect = browser.get(authorize(PUBLIC_APP, "openid user/*.rs", null, Pkce.create(), "S256", fhirBase())
				.replace(URLEncoder.encode(REDIRECT_URI, StandardCharsets.UTF_8), URLEncoder.encode("https://evil.example/cb", StandardCharsets.UTF_8)));
		assertThat(badRedirect.statusCode()).isEqualTo(400);
		assertThat(badRedirect.headers().firstValue("Location")).isEmpty();
	}

	@Test
	void signInsAndFailedSignInsAreAudited() throws Exception {
		String who = "urn:nssi-fhir:username|";
		int failuresBefore = audits("_tag=urn:nssi-fhir:audit|refused-authentication&nssi-agent-identifier=" + who + PATIENT_USER);
		SmartBrowser wrongPassword = new SmartBrowser(baseUrl(), PATIENT_USER, "not-the-password");
		HttpResponse<String> refused = wrongPassword.get("/smart/launcher");
		assertThat(refused.uri().toString()).contains("/login?error");
		assertThat(audits("_tag=urn:nssi-fhir:audit|refused-authentication&nssi-agent-identifier=" + who + PATIENT_USER))
				.isEqualTo(failuresBefore + 1);
		int signInsBefore = audits("_tag=urn:nssi-fhir:audit|sign-in&nssi-agent-identifier=" + who + PATIENT_USER);
		new SmartBrowser(baseUrl(), PATIENT_USER, PASSWORD).get("/smart/launcher");
		assertThat(audits("_tag=urn:nssi-fhir:audit|sign-in&nssi-agent-identifier=" + who + PATIENT_USER)).isEqualTo(signInsBefore + 1);
		// a client presenting a wrong secret at the token endpoint
		int clientFailuresBefore = audits("_tag=urn:nssi-fhir:audit|refused-authentication&nssi-agent-identifier=urn:nssi-fhir:oauth-client|" + CONFIDENTIAL_APP);
		assertThat(token(Map.of("grant_type", "client_credentials"), CONFIDENTIAL_APP, "wrong-secret").statusCode()).isEqualTo(401);
		assertThat(audits("_tag=urn:nssi-fhir:audit|refused-authentication&nssi-agent-identifier=urn:nssi-fhir:oauth-client|" + CONFIDENTIAL_APP))
				.isEqualTo(clientFailuresBefore + 1);
	}

	private int audits(String query) {
		awaitAuditTrail();
		return client().search().byUrl("AuditEvent?" + query).returnBundle(org.hl7.fhir.r4.model.Bundle.class)
				.summaryMode(ca.uhn.fhir.rest.api.SummaryEnum.COUNT).execute().getTotal();
	}

	@Test
	void aPatientCannotUseTheLauncher() throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), PATIENT_USER, PASSWORD);
		assertThat(browser.get("/smart/launcher").statusCode()).isEqualTo(403);
	}

	@Test
	void anAdminRegistersAnAppThroughTheApi() throws Exception {
		String body = """
				{"client_name":"Registered test app","redirect_uris":["http://127.0.0.1:9/other-callback"],
				 "grant_types":["authorization_code"],"response_types":["code"],"scope":"openid fhirUser patient/*.rs",
				 "token_endpoint_auth_method":"client_secret_basic"}""";
		HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/connect/register"))
				.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
		assertThat(anonymous.statusCode()).isEqualTo(401);
		String fhirToken = clientCredentials("test-backend", "test-backend-secret", "system/Observation.rs");
		assertStatus(register(body, fhirToken), 403);

		HttpResponse<String> created = register(body, clientCredentials(ADMIN_CLIENT, ADMIN_SECRET, "client.create"));
		assertStatus(created, 201);
		JsonNode client = json.readTree(created.body());
		assertThat(client.path("client_id").asText()).isNotBlank();
		assertThat(client.path("client_secret").asText()).isNotBlank();
		// the new client can start an authorization request
		SmartBrowser browser = new SmartBrowser(baseUrl(), CLINICIAN, PASSWORD);
		String url = "/oauth2/authorize?response_type=code&client_id=" + client.path("client_id").asText()
				+ "&redirect_uri=" + URLEncoder.encode("http://127.0.0.1:9/other-callback", StandardCharsets.UTF_8)
				+ "&scope=openid&state=s&aud=" + URLEncoder.encode(fhirBase(), StandardCharsets.UTF_8)
				+ "&code_challenge=" + Pkce.create().challenge() + "&code_challenge_method=S256";
		HttpResponse<String> response = browser.get(url);
		assertThat(response.headers().firstValue("Location").orElse("")).startsWith("http://127.0.0.1:9/other-callback");
	}

	private HttpResponse<String> register(String body, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/connect/register"))
				.header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
				.POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
	}

	private String clientCredentials(String clientId, String secret, String scope) throws Exception {
		HttpResponse<String> r = token(Map.of("grant_type", "client_credentials", "scope", scope), clientId, secret);
		assertThat(r.statusCode()).isEqualTo(200);
		return json.readTree(r.body()).path("access_token").asText();
	}

	private String authorize(String clientId, String scope, String launch, Pkce pkce, String method, String aud) {
		Map<String, String> p = new LinkedHashMap<>();
		p.put("response_type", "code");
		p.put("client_id", clientId);
		p.put("redirect_uri", REDIRECT_URI);
		p.put("scope", scope);
		p.put("state", "s-123");
		if (aud != null) {
			p.put("aud", aud);
		}
		if (launch != null) {
			p.put("launch", launch);
		}
		if (pkce != null) {
			p.put("code_challenge", "plain".equals(method) ? pkce.verifier() : pkce.challenge());
			p.put("code_challenge_method", method);
		}
		return "/oauth2/authorize?" + SmartBrowser.encode(p);
	}

	private HttpResponse<String> token(Map<String, String> form, String clientId, String secret) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString(SmartBrowser.encode(form)));
		if (secret != null) {
			b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8)));
		}
		return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static void assertStatus(HttpResponse<String> response, int expected) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(expected);
	}

	private HttpResponse<String> fhirGet(String path, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + path)).header("Authorization", "Bearer " + token).GET().build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private static <T extends org.hl7.fhir.r4.model.Resource> T tagged(T resource) {
		resource.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
		return resource;
	}

	private static Observation observation(String patientId) {
		Observation o = tagged(new Observation());
		o.setStatus(Observation.ObservationStatus.FINAL);
		o.getCode().addCoding().setSystem("urn:example:test").setCode("x");
		o.setSubject(new Reference("Patient/" + patientId));
		o.setValue(new StringType("v"));
		return o;
	}
}
