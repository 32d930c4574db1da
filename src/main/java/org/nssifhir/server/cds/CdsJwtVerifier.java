package org.nssifhir.server.cds;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.MalformedURLException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Authenticates a CDS Client (an EHR) as CDS Hooks 2.0 requires: the request carries a JWT signed by the client
 * (RS384 or ES384), whose {@code iss} is on our allow-list with the URL of its JWKS, whose {@code aud} is the
 * service URL called, which expires within five minutes, and whose {@code jti} is used once (recorded in the
 * database with the client assertions of SMART Backend Services, so a replay is refused by every node).
 */
public class CdsJwtVerifier {

	/** Why a call was refused (the message is safe to return: no token content). */
	public static class Refused extends Exception {
		public Refused(String message) {
			super(message);
		}
	}

	static final Duration MAX_LIFETIME = Duration.ofMinutes(5);
	private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS384, JWSAlgorithm.ES384);

	private final Map<String, DefaultJWTProcessor<SecurityContext>> processors = new HashMap<>();
	private final JdbcTemplate jdbc;

	public CdsJwtVerifier(List<NssiProperties.CdsClient> clients, JdbcTemplate jdbc) {
		this.jdbc = jdbc;
		for (NssiProperties.CdsClient client : clients) {
			try {
				JWKSource<SecurityContext> keys = JWKSourceBuilder.create(URI.create(client.jwkSetUrl()).toURL()).build();
				DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
				processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
				// expiry (with HAPI-like small clock skew), the exact issuer and the claims CDS Hooks requires;
				// the audience is checked per call against the URL that was called
				processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(
						null, new JWTClaimsSet.Builder().issuer(client.issuer()).build(), Set.of("aud", "exp", "iat", "jti"), null));
				processors.put(client.issuer(), processor);
			} catch (MalformedURLException e) {
				throw new IllegalArgumentException("nssi.integration.cds-clients: bad jwk-set-url for " + client.issuer(), e);
			}
		}
	}

	/** The verified issuer, or {@link Refused}. */
	public String verify(String authorization, String serviceUrl) throws Refused {
		if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
			throw new Refused("A JWT from the CDS Client is required (Authorization: Bearer)");
		}
		String issuer;
		SignedJWT jwt;
		try {
			jwt = SignedJWT.parse(authorization.substring(7).trim());
			issuer = jwt.getJWTClaimsSet().getIssuer();
		} catch (ParseException e) {
			throw new Refused("The JWT cannot be parsed");
		}
		DefaultJWTProcessor<SecurityContext> processor = issuer == null ? null : processors.get(issuer);
		if (processor == null) {
			throw new Refused("The JWT's issuer is not an allowed CDS Client");
		}
		JWTClaimsSet claims;
		try {
			claims = processor.process(jwt, null);
		} catch (Exception e) {
			throw new Refused("The JWT is not valid (signature, algorithm or expiry)");
		}
		if (claims.getAudience().stream().map(CdsJwtVerifier::stripSlash).noneMatch(stripSlash(serviceUrl)::equals)) {
			throw new Refused("The JWT's audience is not this CDS Service");
		}
		Instant expires = claims.getExpirationTime().toInstant();
		Instant now = Instant.now();
		if (expires.isAfter(now.plus(MAX_LIFETIME).plusSeconds(60))) {
			throw new Refused("The JWT must expire within five minutes");
		}
		String jti = claims.getJWTID();
		if (jti.isBlank() || jti.length() > 200) {
			throw new Refused("The JWT needs a jti");
		}
		jdbc.update("DELETE FROM nssi_client_assertion WHERE expires_at < ?", Timestamp.from(now.minus(Duration.ofMinutes(10))));
		int inserted = jdbc.update(
				"INSERT INTO nssi_client_assertion (client_id, jti, expires_at) VALUES (?,?,?) ON CONFLICT DO NOTHING",
				replayKey(issuer), jti, Timestamp.from(expires));
		if (inserted != 1) {
			throw new Refused("The JWT has been used before");
		}
		return issuer;
	}

	private static String stripSlash(String url) {
		return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
	}

	/** CDS Clients share the replay table with OAuth clients, under a prefix (and a hash when the issuer is long). */
	static String replayKey(String issuer) {
		String key = "cds:" + issuer;
		if (key.length() <= 100) {
			return key;
		}
		try {
			return "cds:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(issuer.getBytes(StandardCharsets.UTF_8)));
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}
}
