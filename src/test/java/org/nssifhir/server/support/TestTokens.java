package org.nssifhir.server.support;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

/**
 * Signs access tokens with the running server's own key, as its authorization server would after a SMART launch.
 * Used to exercise the resource server with exact claims (patient context, chosen scopes, wrong audience,
 * expired) without driving a launch for every test.
 */
public final class TestTokens {

	private final RSAKey key;
	private final String audience;

	public TestTokens(JWKSource<SecurityContext> keys, String audience) {
		try {
			this.key = (RSAKey) keys.get(new JWKSelector(new JWKMatcher.Builder().build()), null).get(0);
		} catch (Exception e) {
			throw new IllegalStateException(e);
		}
		this.audience = audience;
	}

	public Builder token() {
		return new Builder();
	}

	public String system(String scopes) {
		return token().scopes(scopes).sign();
	}

	/** A patient-level token whose user is not known (no fhirUser): sensitivity-labelled data stays hidden. */
	public String patient(String patientId, String scopes) {
		return token().scopes(scopes).claim("patient", patientId).sign();
	}

	/** The patient's own app: patient context and fhirUser = that patient. */
	public String ownPatient(String patientId, String scopes) {
		return token().scopes(scopes).claim("patient", patientId).claim("fhirUser", audience + "/Patient/" + patientId).sign();
	}

	public final class Builder {
		private final JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
				.issuer("http://localhost")
				.subject("test-user")
				.claim("client_id", "test-client")
				.jwtID(UUID.randomUUID().toString())
				.issueTime(new Date())
				.expirationTime(Date.from(Instant.now().plusSeconds(600)))
				.audience(audience);

		public Builder scopes(String scopes) {
			claims.claim("scope", scopes);
			return this;
		}

		public Builder claim(String name, Object value) {
			claims.claim(name, value);
			return this;
		}

		public Builder audience(String aud) {
			claims.audience(aud);
			return this;
		}

		public Builder expiredAt(Instant when) {
			claims.expirationTime(Date.from(when)).issueTime(Date.from(when.minusSeconds(600)));
			return this;
		}

		public String sign() {
			try {
				SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims.build());
				jwt.sign(new RSASSASigner(key));
				return jwt.serialize();
			} catch (JOSEException e) {
				throw new IllegalStateException(e);
			}
		}
	}
}
