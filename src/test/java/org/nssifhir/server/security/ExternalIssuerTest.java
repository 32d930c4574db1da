package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.JwksServer;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;

/**
 * EXTERNAL mode: tokens of another issuer (Keycloak, an EHR) are checked against its JWKS (served here by a real
 * local HTTP server), its issuer, expiry and the configured required claims.
 */
class ExternalIssuerTest {

	private static final String ISSUER = "https://idp.example.org/realms/nssi";
	private static JwksServer jwks;
	private static RSAKey rsa;
	private static ECKey ec;
	private static NimbusJwtDecoder decoder;

	@BeforeAll
	static void identityProvider() throws Exception {
		rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
		ec = new ECKeyGenerator(Curve.P_384).keyID("ec-1").generate();
		jwks = JwksServer.start(List.of(rsa, ec));
		NssiProperties.Security security = new NssiProperties.Security(
				true, NssiProperties.Security.Mode.EXTERNAL, ISSUER, jwks.url(),
				List.of(), Duration.ofHours(1), Duration.ofDays(30), Duration.ofMinutes(10), null, List.of("fhirUser"),
				false, List.of(), List.of(), List.of());
		decoder = SecurityConfig.externalDecoder(security);
		decoder.setJwtValidator(SecurityConfig.validator(security, Optional.empty()));
	}

	@AfterAll
	static void stop() {
		jwks.close();
	}

	@Test
	void acceptsRs256AndEs384TokensOfTheIssuer() throws Exception {
		Jwt rs = decoder.decode(rsaToken(JWSAlgorithm.RS256, claims().build()));
		assertThat(rs.getClaimAsString("fhirUser")).isEqualTo("Practitioner/1");
		Jwt es = decoder.decode(ecToken(claims().build()));
		assertThat(es.getSubject()).isEqualTo("user-1");
	}

	@Test
	void refusesAnotherIssuerAMissingRequiredClaimAnExpiredTokenAndAForeignKey() throws Exception {
		assertThatThrownBy(() -> decoder.decode(rsaToken(JWSAlgorithm.RS256, claims().issuer("https://evil.example").build())))
				.isInstanceOf(JwtException.class).hasMessageContaining("iss");
		assertThatThrownBy(() -> decoder.decode(rsaToken(JWSAlgorithm.RS384, claims().claim("fhirUser", null).build())))
				.isInstanceOf(JwtException.class).hasMessageContaining("fhirUser");
		assertThatThrownBy(() -> decoder.decode(rsaToken(JWSAlgorithm.RS256,
						claims().issueTime(Date.from(Instant.now().minusSeconds(1200))).expirationTime(Date.from(Instant.now().minusSeconds(600))).build())))
				.isInstanceOf(JwtException.class).hasMessageContaining("expired");
		RSAKey foreign = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
		SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1").build(), claims().build());
		forged.sign(new RSASSASigner(foreign));
		assertThatThrownBy(() -> decoder.decode(forged.serialize())).isInstanceOf(JwtException.class);
	}

	private static JWTClaimsSet.Builder claims() {
		return new JWTClaimsSet.Builder()
				.issuer(ISSUER)
				.subject("user-1")
				.audience("https://fhir.example.org/fhir")
				.issueTime(new Date())
				.expirationTime(Date.from(Instant.now().plusSeconds(300)))
				.claim("scope", "user/*.rs")
				.claim("fhirUser", "Practitioner/1");
	}

	private static String rsaToken(JWSAlgorithm alg, JWTClaimsSet claims) throws Exception {
		SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(rsa.getKeyID()).build(), claims);
		jwt.sign(new RSASSASigner(rsa));
		return jwt.serialize();
	}

	private static String ecToken(JWTClaimsSet claims) throws Exception {
		SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID(ec.getKeyID()).build(), claims);
		jwt.sign(new ECDSASigner(ec));
		return jwt.serialize();
	}
}
