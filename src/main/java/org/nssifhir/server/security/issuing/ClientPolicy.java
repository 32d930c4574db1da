package org.nssifhir.server.security.issuing;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nssifhir.server.security.SecurityConfig;
import org.nssifhir.server.security.SmartAuthorizationInterceptor;
import org.springframework.core.convert.converter.Converter;
import org.springframework.security.crypto.keygen.Base64StringKeyGenerator;
import org.springframework.security.crypto.keygen.StringKeyGenerator;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.oidc.OidcClientRegistration;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;

/**
 * What a client may be, for clients from the configuration and from dynamic registration ({@code /connect/register}):
 * <ul>
 *   <li>scopes follow the SMART App Launch 2.2 grammar and an allow-list: the sign-in and launch scopes,
 *       {@code (patient|user|system)/(Type|*).(cruds letters|read|write|*)} with a FHIR resource type and at most the
 *       scope query parameters the server enforces ({@code category}, {@code code}, {@code status}); nothing else
 *       is stored, so nothing else is ever shown on a page;
 *   <li>the administrative scopes ({@code client.create}, {@code client.read}, {@link #METRICS_SCOPE}) and
 *       {@code system/} scopes belong to backend-services clients ({@code client_credentials} only), which an
 *       administrator configures ({@code nssi.security.clients}); the registration endpoint registers apps only and
 *       refuses those scopes, and the authorization endpoint never grants them, so no user can ever hold them;
 *   <li>an app is public ({@code token_endpoint_auth_method: none}) or confidential; every app uses PKCE; a public
 *       app registered here has no secret and gets no refresh token (the operator's configured public apps, such as
 *       the person's app, may: see {@link PublicClientRefresh});
 *   <li>refresh tokens are rotated for every client (see {@link RefreshTokenFamilies}).
 * </ul>
 */
final class ClientPolicy {

	/** Scope of a token that may read {@code /actuator/prometheus}. */
	static final String METRICS_SCOPE = SecurityConfig.METRICS_SCOPE;
	static final Set<String> ADMIN_SCOPES = Set.of("client.create", "client.read", METRICS_SCOPE);
	static final Set<String> SIGN_IN_SCOPES = Set.of(
			"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter", "offline_access", "online_access");
	private static final Pattern RESOURCE_SCOPE =
			Pattern.compile("(patient|user|system)/([A-Z][A-Za-z]{1,63}|\\*)\\.(c?r?u?d?s?|read|write|\\*)(?:\\?(.{1,300}))?");
	private static final Pattern QUERY_VALUE = Pattern.compile("[A-Za-z0-9\\-._~:/|%]{1,200}");
	private static final Pattern CLIENT_NAME = Pattern.compile("[\\p{L}\\p{N} .,:;()'&/+_\\-]{1,100}");
	private static final int MAX_SCOPES = 100;
	private static final StringKeyGenerator CLIENT_IDS = new Base64StringKeyGenerator(Base64.getUrlEncoder().withoutPadding(), 32);
	private static final StringKeyGenerator SECRETS = new Base64StringKeyGenerator(Base64.getUrlEncoder().withoutPadding(), 48);

	private final Set<String> resourceTypes;

	ClientPolicy(Collection<String> resourceTypes) {
		this.resourceTypes = Set.copyOf(resourceTypes);
	}

	/** Why these scopes cannot be registered for this kind of client; empty when they can. */
	List<String> scopeProblems(Collection<String> scopes, boolean backend) {
		List<String> problems = new ArrayList<>();
		if (scopes.size() > MAX_SCOPES) {
			problems.add("at most " + MAX_SCOPES + " scopes");
			return problems;
		}
		for (String scope : scopes) {
			String problem = scopeProblem(scope, backend);
			if (problem != null) {
				problems.add(problem);
			}
		}
		return problems;
	}

	private String scopeProblem(String scope, boolean backend) {
		if (ADMIN_SCOPES.contains(scope)) {
			return backend ? null : "'" + scope + "' is for backend-services (client_credentials) clients only";
		}
		if (SIGN_IN_SCOPES.contains(scope)) {
			return backend ? "'" + scope + "' needs a signed-in user (authorization_code)" : null;
		}
		Matcher m = RESOURCE_SCOPE.matcher(scope);
		if (!m.matches()) {
			return "a scope is not a SMART scope this server knows (" + printable(scope) + ")";
		}
		if (!"*".equals(m.group(2)) && !resourceTypes.contains(m.group(2))) {
			return "unknown resource type in scope " + printable(scope);
		}
		boolean system = "system".equals(m.group(1));
		if (system != backend) {
			return backend ? "backend-services clients get system/ scopes only (" + scope + ")" : "system/ scopes are for backend-services clients only (" + scope + ")";
		}
		if (m.group(4) != null) {
			for (String pair : m.group(4).split("&", -1)) {
				int eq = pair.indexOf('=');
				String name = eq <= 0 ? pair : pair.substring(0, eq);
				if (eq <= 0 || !SmartAuthorizationInterceptor.ENFORCEABLE_QUERY_PARAMETERS.contains(name)
						|| !QUERY_VALUE.matcher(pair.substring(eq + 1)).matches()) {
					return "scope query parameters are limited to " + String.join(", ", new TreeSet<>(SmartAuthorizationInterceptor.ENFORCEABLE_QUERY_PARAMETERS))
							+ " with token values (" + printable(scope) + ")";
				}
			}
		}
		return null;
	}

	/** The scope as safe text for an error message: printable ASCII letters only, shortened. */
	private static String printable(String scope) {
		String safe = scope.replaceAll("[^A-Za-z0-9/*.?=&|:_\\-]", "_");
		return safe.length() > 60 ? safe.substring(0, 60) + "..." : safe;
	}

	/** Checks a client from the configuration; a bad one stops the server. */
	void checkConfigured(String clientId, Collection<String> scopes, boolean app) {
		List<String> problems = scopeProblems(scopes, !app);
		if (!problems.isEmpty()) {
			throw new IllegalStateException("Client " + clientId + ": " + String.join("; ", problems));
		}
	}

	/**
	 * A dynamic registration ({@code /connect/register}, admin token) turned into a client, or refused with an RFC
	 * 7591 error ({@code invalid_client_metadata}, {@code invalid_redirect_uri}). Only apps are registered here;
	 * backend-services clients come from the configuration.
	 */
	Converter<OidcClientRegistration, RegisteredClient> registrationConverter(Duration accessTokenTtl, Duration refreshTokenTtl) {
		return registration -> {
			Set<String> grants = new LinkedHashSet<>(registration.getGrantTypes() == null ? List.of() : registration.getGrantTypes());
			if (grants.isEmpty()) {
				grants.add(AuthorizationGrantType.AUTHORIZATION_CODE.getValue());
			}
			boolean app = grants.contains(AuthorizationGrantType.AUTHORIZATION_CODE.getValue())
					&& Set.of(AuthorizationGrantType.AUTHORIZATION_CODE.getValue(), AuthorizationGrantType.REFRESH_TOKEN.getValue()).containsAll(grants);
			if (!app) {
				// backend-services clients (the only ones that may hold system/ and administrative scopes) are registered
				// by the operator in the configuration, where their keys are reviewed, never through this endpoint
				throw metadata("grant_types must be authorization_code with optional refresh_token: this endpoint registers apps;"
						+ " backend-services clients are configured by the operator (nssi.security.clients)");
			}
			boolean backend = false;
			List<String> responseTypes = registration.getResponseTypes() == null ? List.of() : registration.getResponseTypes();
			if (!(responseTypes.isEmpty() || responseTypes.equals(List.of("code")))) {
				throw metadata("response_types must be [code]");
			}
			String name = registration.getClientName();
			if (name == null || !CLIENT_NAME.matcher(name).matches()) {
				throw metadata("client_name is required: 1 to 100 letters, digits, spaces and simple punctuation");
			}
			List<String> scopes = registration.getScopes() == null ? List.of() : registration.getScopes();
			if (scopes.isEmpty()) {
				throw metadata("scope is required");
			}
			List<String> problems = scopeProblems(scopes, backend);
			if (!problems.isEmpty()) {
				throw new OAuth2AuthenticationException(new OAuth2Error("invalid_client_metadata", "scope: " + String.join("; ", problems), null));
			}
			String method = registration.getTokenEndpointAuthenticationMethod() == null
					? ClientAuthenticationMethod.CLIENT_SECRET_BASIC.getValue()
					: registration.getTokenEndpointAuthenticationMethod();
			boolean publicClient = ClientAuthenticationMethod.NONE.getValue().equals(method);
			List<String> redirects = registration.getRedirectUris() == null ? List.of() : registration.getRedirectUris();
			if (redirects.isEmpty()) {
				throw new OAuth2AuthenticationException(new OAuth2Error("invalid_redirect_uri", "an app needs at least one redirect URI", null));
			}
			for (String redirect : redirects) {
				String problem = redirectProblem(redirect, publicClient);
				if (problem != null) {
					throw new OAuth2AuthenticationException(new OAuth2Error("invalid_redirect_uri", problem, null));
				}
			}

			RegisteredClient.Builder builder = RegisteredClient.withId(UUID.randomUUID().toString())
					.clientId(CLIENT_IDS.generateKey())
					.clientIdIssuedAt(Instant.now())
					.clientName(name)
					.scopes(s -> s.addAll(scopes))
					.tokenSettings(TokenSettings.builder()
							.accessTokenTimeToLive(accessTokenTtl)
							.refreshTokenTimeToLive(refreshTokenTtl)
							.reuseRefreshTokens(false)
							.idTokenSignatureAlgorithm(SignatureAlgorithm.RS256)
							.build());
			ClientSettings.Builder settings = ClientSettings.builder();
			builder.redirectUris(r -> r.addAll(redirects)).authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE);
			if (grants.contains(AuthorizationGrantType.REFRESH_TOKEN.getValue()) && !publicClient) {
				builder.authorizationGrantType(AuthorizationGrantType.REFRESH_TOKEN);
			}
			// every app uses PKCE; registered apps are less known than configured ones: the user confirms what the app gets
			settings.requireProofKey(true).requireAuthorizationConsent(true);
			String algorithm = registration.getTokenEndpointAuthenticationSigningAlgorithm();
			switch (method) {
				case "none" -> builder.clientAuthenticationMethod(ClientAuthenticationMethod.NONE);
				case "client_secret_basic", "client_secret_post" -> builder
						.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
						.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
						.clientSecret(SECRETS.generateKey());
				case "private_key_jwt" -> {
					if (registration.getJwkSetUrl() == null || !"https".equals(registration.getJwkSetUrl().getProtocol())) {
						throw metadata("private_key_jwt needs an https jwks_uri");
					}
					SignatureAlgorithm signing = SignatureAlgorithm.from(algorithm == null ? "RS384" : algorithm);
					if (signing != SignatureAlgorithm.RS384 && signing != SignatureAlgorithm.ES384) {
						throw metadata("token_endpoint_auth_signing_alg must be RS384 or ES384");
					}
					builder.clientAuthenticationMethod(ClientAuthenticationMethod.PRIVATE_KEY_JWT);
					settings.jwkSetUrl(registration.getJwkSetUrl().toString()).tokenEndpointAuthenticationSigningAlgorithm(signing);
				}
				default -> throw metadata("token_endpoint_auth_method must be none, client_secret_basic, client_secret_post or private_key_jwt");
			}
			return builder.clientSettings(settings.build()).build();
		};
	}

	/**
	 * https, or http on a loopback address (127.0.0.1, [::1]: RFC 8252), or, for public (native) apps, a private-use
	 * scheme with a reverse domain name. Never a fragment, never "localhost" (it can be resolved elsewhere).
	 */
	static String redirectProblem(String redirect, boolean publicClient) {
		URI uri;
		try {
			uri = new URI(redirect);
		} catch (URISyntaxException e) {
			return "a redirect URI is not a URI";
		}
		if (uri.getRawFragment() != null || uri.getScheme() == null) {
			return "a redirect URI must be absolute and have no fragment";
		}
		String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
		if ("https".equals(scheme) && uri.getHost() != null) {
			return null;
		}
		if ("http".equals(scheme) && loopback(uri.getHost())) {
			return null;
		}
		if (publicClient && scheme.contains(".") && !scheme.startsWith("http")) {
			return null;
		}
		return "redirect URIs must be https, http on 127.0.0.1 or [::1], or (public native apps) a private-use scheme";
	}

	static boolean loopback(String host) {
		return "127.0.0.1".equals(host) || "[::1]".equals(host) || "::1".equals(host);
	}

	static boolean isPublic(RegisteredClient client) {
		return client.getClientAuthenticationMethods().equals(Set.of(ClientAuthenticationMethod.NONE));
	}

	/** Backend services: client_credentials and nothing else. */
	static boolean isBackend(RegisteredClient client) {
		return client.getAuthorizationGrantTypes().equals(Set.of(AuthorizationGrantType.CLIENT_CREDENTIALS));
	}

	private static OAuth2AuthenticationException metadata(String description) {
		return new OAuth2AuthenticationException(new OAuth2Error("invalid_client_metadata", description, null));
	}
}
