package org.nssifhir.server.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.UUID;

/**
 * Gets a real access token the SMART Backend Services way: a private_key_jwt client assertion (RS384, signed with
 * {@link SmartTestApps#BACKEND_RSA_KEY}) exchanged at the server's token endpoint with client_credentials.
 */
public final class BackendTokens {

	private BackendTokens() {}

	public static String token(HttpClient http, String baseUrl, String clientId, String scope) throws Exception {
		JWTClaimsSet claims = new JWTClaimsSet.Builder()
				.issuer(clientId)
				.subject(clientId)
				.audience(baseUrl + "/oauth2/token")
				.jwtID(UUID.randomUUID().toString())
				.issueTime(new Date())
				.expirationTime(Date.from(Instant.now().plusSeconds(240)))
				.build();
		SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS384).keyID(SmartTestApps.BACKEND_RSA_KEY.getKeyID()).build(), claims);
		jwt.sign(new RSASSASigner(SmartTestApps.BACKEND_RSA_KEY));
		String form = SmartBrowser.encode(Map.of(
				"grant_type", "client_credentials",
				"scope", scope,
				"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
				"client_assertion", jwt.serialize()));
		HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/oauth2/token"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
		if (response.statusCode() != 200) {
			throw new IllegalStateException("token endpoint answered " + response.statusCode() + ": " + response.body());
		}
		return new ObjectMapper().readTree(response.body()).path("access_token").asText();
	}
}
