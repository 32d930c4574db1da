package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.CONFIDENTIAL_APP;
import static org.nssifhir.server.support.SmartTestApps.PASSWORD;
import static org.nssifhir.server.support.SmartTestApps.PATIENT_ID;
import static org.nssifhir.server.support.SmartTestApps.PATIENT_USER;
import static org.nssifhir.server.support.SmartTestApps.PUBLIC_APP;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.app.PatientApp;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.SmartBrowser;
import org.nssifhir.server.support.SmartBrowser.Pkce;

/**
 * Refresh tokens for a public client (the person's app, PKCE, no secret) over real HTTP: issued with
 * {@code offline_access} only; a refresh names the client by its {@code client_id} alone and works only for the
 * client the token was issued to; every refresh rotates the refresh token, and a spent one presented again revokes
 * the whole authorization (the current access token included); a confidential client cannot skip its secret this way.
 */
class PublicClientRefreshIT extends BaseIT {

	private final ObjectMapper json = new ObjectMapper();

	/**
	 * The test patient user's record: a patient gets tokens only while their Patient record exists and is active
	 * (SmartTokenClaims), and this class must not depend on another test having created it.
	 */
	@BeforeEach
	void patientRecord() {
		org.hl7.fhir.r4.model.Patient patient = new org.hl7.fhir.r4.model.Patient();
		patient.setId(PATIENT_ID);
		patient.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
		patient.addName().setFamily("Refreshtest").addGiven("Robin");
		client().update().resource(patient).execute();
	}

	@Test
	void thePersonsAppRefreshesWithItsClientIdAloneRotatingAndBoundToIt() throws Exception {
		JsonNode first = signIn("launch/patient openid fhirUser offline_access patient/Patient.r");
		String refresh = first.path("refresh_token").asText();
		assertThat(refresh).as(first.toString()).isNotBlank();
		assertThat(first.path("scope").asText()).contains("offline_access");

		// no client_id: no client to authenticate; another public client's id: not its token
		assertThat(token(Map.of("grant_type", "refresh_token", "refresh_token", refresh)).statusCode()).isIn(400, 401);
		HttpResponse<String> otherClient = token(Map.of("grant_type", "refresh_token", "refresh_token", refresh, "client_id", PUBLIC_APP));
		assertThat(otherClient.statusCode()).isIn(400, 401);
		assertThat(otherClient.body()).containsAnyOf("invalid_client", "invalid_grant").doesNotContain("access_token");
		// a confidential client cannot refresh with its id alone
		HttpResponse<String> noSecret = token(Map.of("grant_type", "refresh_token", "refresh_token", refresh, "client_id", CONFIDENTIAL_APP));
		assertThat(noSecret.statusCode()).isEqualTo(401);
		assertThat(noSecret.body()).contains("invalid_client");

		// the app's own refresh: a new access token and a new refresh token, with the patient context again
		HttpResponse<String> refreshed = token(Map.of("grant_type", "refresh_token", "refresh_token", refresh, "client_id", PatientApp.CLIENT_ID));
		assertThat(refreshed.statusCode()).as(refreshed.body()).isEqualTo(200);
		JsonNode second = json.readTree(refreshed.body());
		assertThat(second.path("refresh_token").asText()).isNotBlank().isNotEqualTo(refresh);
		assertThat(second.path("access_token").asText()).isNotEqualTo(first.path("access_token").asText());
		assertThat(second.path("patient").asText()).isEqualTo(PATIENT_ID);
		assertThat(read(second.path("access_token").asText())).isNotEqualTo(401);
		assertThat(refreshed.headers().firstValue("Cache-Control").orElse("")).contains("no-store");

		// the spent refresh token again (copied from the phone): the whole authorization is revoked
		HttpResponse<String> replay = token(Map.of("grant_type", "refresh_token", "refresh_token", refresh, "client_id", PatientApp.CLIENT_ID));
		assertThat(replay.statusCode()).isEqualTo(400);
		assertThat(replay.body()).contains("invalid_grant");
		assertThat(read(second.path("access_token").asText())).isEqualTo(401);
		assertThat(token(Map.of("grant_type", "refresh_token", "refresh_token", second.path("refresh_token").asText(),
				"client_id", PatientApp.CLIENT_ID)).statusCode()).isEqualTo(400);
	}

	@Test
	void thePersonsAppRevokesItsOwnRefreshTokenWithItsClientId() throws Exception {
		JsonNode signedIn = signIn("launch/patient openid fhirUser offline_access patient/Patient.r");
		String refresh = signedIn.path("refresh_token").asText();
		// another public client cannot revoke it (RFC 7009: only the client it was issued to)
		HttpResponse<String> other = revoke(Map.of("token", refresh, "client_id", PUBLIC_APP));
		assertThat(other.statusCode()).isIn(400, 401);
		// "Sign out on this phone": the app revokes its refresh token with its client_id alone
		HttpResponse<String> revoked = revoke(Map.of("token", refresh, "token_type_hint", "refresh_token", "client_id", PatientApp.CLIENT_ID));
		assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
		HttpResponse<String> after = token(Map.of("grant_type", "refresh_token", "refresh_token", refresh, "client_id", PatientApp.CLIENT_ID));
		assertThat(after.statusCode()).isEqualTo(400);
		assertThat(after.body()).contains("invalid_grant");
		// a confidential client still needs its secret to revoke
		assertThat(revoke(Map.of("token", refresh, "client_id", CONFIDENTIAL_APP)).statusCode()).isEqualTo(401);
	}

	@Test
	void withoutOfflineAccessAPublicClientGetsNoRefreshToken() throws Exception {
		assertThat(signIn("launch/patient openid fhirUser patient/Patient.r").has("refresh_token")).isFalse();
	}

	private JsonNode signIn(String scopes) throws Exception {
		// the app's exact redirect: this server's own port (a web app, not a native one: no other loopback port)
		String redirect = "http://127.0.0.1:" + URI.create(baseUrl()).getPort() + PatientApp.PATH;
		SmartBrowser browser = new SmartBrowser(baseUrl(), PATIENT_USER, PASSWORD);
		Pkce pkce = Pkce.create();
		Map<String, String> p = new LinkedHashMap<>();
		p.put("response_type", "code");
		p.put("client_id", PatientApp.CLIENT_ID);
		p.put("redirect_uri", redirect);
		p.put("scope", scopes);
		p.put("state", "s-refresh");
		p.put("aud", fhirBase());
		p.put("code_challenge", pkce.challenge());
		p.put("code_challenge_method", "S256");
		// the redirect is on this server, so the browser follows it: the code is in the last address it opened
		HttpResponse<String> landed = browser.get("/oauth2/authorize?" + SmartBrowser.encode(p));
		Map<String, String> result = landed.headers().firstValue("Location").isPresent() ? SmartBrowser.query(landed) : SmartBrowser.queryOf(landed.uri());
		assertThat(result).containsKey("code");
		HttpResponse<String> response = token(Map.of("grant_type", "authorization_code", "code", result.get("code"), "redirect_uri", redirect,
				"code_verifier", pkce.verifier(), "client_id", PatientApp.CLIENT_ID));
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		return json.readTree(response.body());
	}

	private HttpResponse<String> token(Map<String, String> form) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString(SmartBrowser.encode(form))).build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> revoke(Map<String, String> form) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/revoke"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString(SmartBrowser.encode(form))).build(), HttpResponse.BodyHandlers.ofString());
	}

	private int read(String accessToken) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + PATIENT_ID)).header("Authorization", "Bearer " + accessToken)
				.GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
	}
}
