package org.nssifhir.server.security;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.nssifhir.server.config.NssiProperties;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.server.authorization.InMemoryOAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.InMemoryRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.config.annotation.web.configurers.OAuth2AuthorizationServerConfigurer;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The built-in authorization server (Spring Authorization Server), on unless {@code nssi.security.mode=EXTERNAL}.
 * It issues SMART Backend Services tokens ({@code client_credentials}) to registered clients, with introspection
 * and revocation. Access tokens are JWTs signed with this server's key, audience-bound to the FHIR base URL, and
 * live at most one hour.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "nssi.security.mode", havingValue = "BUILTIN", matchIfMissing = true)
class AuthorizationServerConfig {

	@Bean
	@Order(1)
	SecurityFilterChain authorizationServerSecurity(HttpSecurity http) throws Exception {
		OAuth2AuthorizationServerConfigurer as = OAuth2AuthorizationServerConfigurer.authorizationServer();
		http.securityMatcher(as.getEndpointsMatcher())
				.with(as, c -> {})
				.authorizeHttpRequests(a -> a.anyRequest().authenticated())
				.csrf(csrf -> csrf.ignoringRequestMatchers(as.getEndpointsMatcher()));
		return http.build();
	}

	/**
	 * The signing key: read from {@code nssi.security.signing-key-file} (a private JWK, created on first start if
	 * missing and readable by the owner only), so tokens survive a restart and several nodes can share the key.
	 * On the embedded default the file lives next to the data directory. Without a file, a key is generated per
	 * process (tokens then die with a restart).
	 */
	@Bean
	JWKSource<SecurityContext> jwkSource(NssiProperties properties) {
		String configured = properties.security().signingKeyFile();
		Path file = configured != null && !configured.isBlank()
				? Path.of(configured)
				: properties.db().embedded()
						? Path.of(properties.db().embeddedDataDir()).toAbsolutePath().normalize().resolveSibling("signing-key.jwk.json")
						: null;
		RSAKey key = file == null ? generate() : loadOrCreate(file);
		return new ImmutableJWKSet<>(new JWKSet(key));
	}

	private static RSAKey loadOrCreate(Path file) {
		try {
			if (Files.exists(file)) {
				return RSAKey.parse(Files.readString(file));
			}
			RSAKey key = generate();
			Files.createDirectories(file.toAbsolutePath().getParent());
			Files.writeString(file, key.toJSONString());
			try {
				Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
			} catch (UnsupportedOperationException notPosix) {
				// rely on the directory's permissions
			}
			return key;
		} catch (IOException | java.text.ParseException e) {
			throw new IllegalStateException("Cannot read or create the signing key " + file, e);
		}
	}

	private static RSAKey generate() {
		try {
			KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
			generator.initialize(2048);
			KeyPair pair = generator.generateKeyPair();
			return new RSAKey.Builder((RSAPublicKey) pair.getPublic())
					.privateKey((RSAPrivateKey) pair.getPrivate())
					.keyID(UUID.randomUUID().toString())
					.build();
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}

	/**
	 * Issued tokens, so that revocation and introspection know them, and so the resource server can refuse a
	 * revoked token before it expires. In memory: after a restart, earlier tokens still validate (same key) until
	 * they expire, but can no longer be introspected or revoked.
	 */
	@Bean
	OAuth2AuthorizationService authorizationService() {
		return new InMemoryOAuth2AuthorizationService();
	}

	@Bean
	PasswordEncoder passwordEncoder() {
		return PasswordEncoderFactories.createDelegatingPasswordEncoder();
	}

	@Bean
	RegisteredClientRepository registeredClients(NssiProperties properties, DevClient devClient, PasswordEncoder encoder) {
		NssiProperties.Security security = properties.security();
		List<RegisteredClient> clients = new ArrayList<>();
		TokenSettings tokens = TokenSettings.builder().accessTokenTimeToLive(security.accessTokenTtl()).build();
		for (NssiProperties.Client client : security.clients()) {
			RegisteredClient.Builder builder = RegisteredClient.withId(UUID.randomUUID().toString())
					.clientId(client.clientId())
					.authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
					.scopes(s -> s.addAll(client.scopes()))
					.tokenSettings(tokens);
			if (client.jwkSetUrl() != null && !client.jwkSetUrl().isBlank()) {
				// SMART Backend Services: private_key_jwt with RS384 or ES384
				builder.clientAuthenticationMethod(ClientAuthenticationMethod.PRIVATE_KEY_JWT)
						.clientSettings(ClientSettings.builder()
								.jwkSetUrl(client.jwkSetUrl())
								.tokenEndpointAuthenticationSigningAlgorithm(SignatureAlgorithm.RS384)
								.build());
			} else if (client.clientSecret() != null && !client.clientSecret().isBlank()) {
				builder.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
						.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
						.clientSecret(encoder.encode(client.clientSecret()));
			} else {
				throw new IllegalStateException("Client " + client.clientId() + " needs a jwk-set-url or a client-secret");
			}
			clients.add(builder.build());
		}
		devClient.secret().ifPresent(secret -> clients.add(RegisteredClient.withId(UUID.randomUUID().toString())
				.clientId(DevClient.CLIENT_ID)
				.clientSecret(encoder.encode(secret))
				.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
				.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
				.authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
				.scopes(s -> s.addAll(DevClient.SCOPES))
				.tokenSettings(tokens)
				.build()));
		if (clients.isEmpty()) {
			// the repository must not be empty; a client nobody can authenticate as is harmless
			clients.add(RegisteredClient.withId(UUID.randomUUID().toString())
					.clientId("no-clients-configured")
					.clientAuthenticationMethod(ClientAuthenticationMethod.PRIVATE_KEY_JWT)
					.authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
					.clientSettings(ClientSettings.builder().jwkSetUrl("https://invalid.invalid/jwks").build())
					.build());
		}
		return new InMemoryRegisteredClientRepository(clients);
	}

	@Bean
	AuthorizationServerSettings authorizationServerSettings(NssiProperties properties) {
		String issuer = properties.security().issuer();
		AuthorizationServerSettings.Builder builder = AuthorizationServerSettings.builder();
		// blank issuer: Spring Authorization Server derives it from each request (scheme, host, port)
		return issuer == null || issuer.isBlank() ? builder.build() : builder.issuer(issuer).build();
	}

	/** SMART claims: audience = the FHIR base URL, scope as one space-separated string, client_id. */
	@Bean
	OAuth2TokenCustomizer<JwtEncodingContext> smartTokenClaims(NssiProperties properties) {
		return context -> {
			if (!OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
				return;
			}
			List<String> audiences = properties.security().audiences();
			String issuer = context.getAuthorizationServerContext().getIssuer();
			context.getClaims()
					.audience(audiences.isEmpty() ? List.of(issuer + "/fhir") : audiences)
					.claim("client_id", context.getRegisteredClient().getClientId())
					.claim("scope", String.join(" ", context.getAuthorizedScopes()));
		};
	}
}
