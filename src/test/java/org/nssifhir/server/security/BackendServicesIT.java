package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.SmartBrowser;

/**
 * SMART Backend Services over real HTTP: {@code client_credentials} with a {@code private_key_jwt} client
 * assertion signed RS384 or ES384 by a key the client publishes (JWKS on a real local HTTP server).
 */
class BackendServicesIT extends BaseIT {

	private final ObjectMapper json = new ObjectMapper();

	@Test
	void rs384AndEs384ClientsGetTokensLimitedToTheirScopes() throws Exception {
		Patient patient = new Patient();
		patient.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
		String id = client().create().resource(patient).execute().getId().getIdPart();

		for (String[] client : new String[][] {{BACKEND_RS384, "RS384"}, {BACKEND_ES384, "ES384"}}) {
			HttpResponse<String> response = token(assertion(client[0], client[1], signer(client[1]), null, 300));
			assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
			assertThat(response.headers().firstValue("Cache-Control").orElse("")).contains("no-store");
			String access = json.readTree(response.body()).path("access_token").asText();
			assertThat(fhirGet("/Patient/" + id, access).statusCode()).isEqualTo(200);
			assertThat(fhirGet("/Observation?_count=1", access).statusCode()).isEqualTo(403);
		}
	}

	@Test
	void forgedReplayedAndLongLivedAssertionsAreRefused() throws Exception {
		RSAKey stranger = new RSAKeyGenerator(2048).keyID("backend-rsa").generate();
		assertThat(token(assertion(BACKEND_RS384, "RS384", new RSASSASigner(stranger), null, 300)).statusCode()).isEqualTo(401);
		// the client registered RS384: another algorithm is refused even with the right key
		assertThat(token(assertion(BACKEND_RS384, "RS256", signer("RS384"), null, 300)).statusCode()).isEqualTo(401);
		// a client assertion may be used once
		String once = assertion(BACKEND_RS384, "RS384", signer("RS384"), null, 300);
		assertThat(token(once).statusCode()).isEqualTo(200);
		HttpResponse<String> replay = token(once);
		assertThat(replay.statusCode()).isEqualTo(401);
		assertThat(replay.body()).contains("invalid_client");
		// and must expire within five minutes
		assertThat(token(assertion(BACKEND_RS384, "RS384", signer("RS384"), null, 3600)).statusCode()).isEqualTo(401);
		// for this token endpoint only
		assertThat(token(assertion(BACKEND_RS384, "RS384", signer("RS384"), "https://other.example/token", 300)).statusCode()).isEqualTo(401);
	}

	private JWSSigner signer(String algorithm) throws Exception {
		return algorithm.startsWith("ES") ? new ECDSASigner(BACKEND_EC_KEY) : new RSASSASigner(BACKEND_RSA_KEY);
	}

	private String assertion(String clientId, String algorithm, JWSSigner signer, String audience, int lifetimeSeconds) throws Exception {
		JWTClaimsSet claims = new JWTClaimsSet.Builder()
				.issuer(clientId)
				.subject(clientId)
				.audience(audience == null ? baseUrl() + "/oauth2/token" : audience)
				.jwtID(UUID.randomUUID().toString())
				.issueTime(new Date())
				.expirationTime(Date.from(Instant.now().plusSeconds(lifetimeSeconds)))
				.build();
		String kid = algorithm.startsWith("ES") ? BACKEND_EC_KEY.getKeyID() : BACKEND_RSA_KEY.getKeyID();
		SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.parse(algorithm)).keyID(kid).build(), claims);
		jwt.sign(signer);
		return jwt.serialize();
	}

	private HttpResponse<String> token(String assertion) throws Exception {
		String form = SmartBrowser.encode(Map.of(
				"grant_type", "client_credentials",
				"scope", "system/Patient.rs",
				"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
				"client_assertion", assertion));
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> fhirGet(String path, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + path)).header("Authorization", "Bearer " + token).GET().build(),
				HttpResponse.BodyHandlers.ofString());
	}
}
