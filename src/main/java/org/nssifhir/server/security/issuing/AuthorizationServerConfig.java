package org.nssifhir.server.security.issuing;

import ca.uhn.fhir.context.FhirContext;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.SignedJWT;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.nssifhir.server.app.ClinicianApp;
import org.nssifhir.server.app.PatientApp;
import org.nssifhir.server.app.PatientAppSettings;
import org.nssifhir.server.security.SmartUsers;
import org.nssifhir.server.security.consent.ProxyPatients;
import org.nssifhir.server.security.enrolment.AccountDisabled;
import org.nssifhir.server.security.enrolment.Accounts;
import org.nssifhir.server.security.enrolment.ConfiguredPasswords;
import org.nssifhir.server.security.enrolment.EnrolmentConfig;
import org.nssifhir.server.security.enrolment.EnrolmentPages;
import org.nssifhir.server.security.enrolment.PasswordFirst;
import org.nssifhir.server.security.enrolment.PasswordReset;
import org.nssifhir.server.security.enrolment.SecondStep;
import org.nssifhir.server.security.enrolment.SecondStepFilter;
import org.nssifhir.server.security.enrolment.SignInGuardFilter;
import org.nssifhir.server.security.enrolment.SignInThrottle;
import org.nssifhir.server.security.launch.LaunchContextStore;
import org.nssifhir.server.security.launch.PatientPickerRedirectFilter;
import org.nssifhir.server.security.launch.SignInPages;
import org.nssifhir.server.security.launch.SignInSite;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationListener;
import org.springframework.context.PayloadApplicationEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.core.convert.converter.Converter;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.DefaultAuthenticationEventPublisher;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2RefreshToken;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.server.authorization.JdbcOAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.authentication.JwtClientAssertionAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.authentication.JwtClientAssertionDecoderFactory;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AccessTokenAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2RefreshTokenAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2TokenIntrospectionAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.client.JdbcRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.config.annotation.web.configurers.OAuth2AuthorizationServerConfigurer;
import org.springframework.security.oauth2.server.authorization.context.AuthorizationServerContext;
import org.springframework.security.oauth2.server.authorization.context.AuthorizationServerContextHolder;
import org.springframework.security.oauth2.server.authorization.oidc.OidcClientRegistration;
import org.springframework.security.oauth2.server.authorization.oidc.authentication.OidcClientConfigurationAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.oidc.authentication.OidcClientRegistrationAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.oidc.authentication.OidcClientRegistrationAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.oidc.converter.RegisteredClientOidcClientRegistrationConverter;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;
import org.springframework.security.oauth2.server.authorization.token.DelegatingOAuth2TokenGenerator;
import org.springframework.security.oauth2.server.authorization.token.JwtGenerator;
import org.springframework.security.oauth2.server.authorization.token.OAuth2RefreshTokenGenerator;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenGenerator;
import org.springframework.security.oauth2.server.authorization.web.authentication.OAuth2AccessTokenResponseAuthenticationSuccessHandler;
import org.springframework.security.oauth2.server.resource.authentication.AbstractOAuth2TokenAuthenticationToken;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.authentication.UsernamePasswordAuthenticationFilter;
import org.springframework.security.web.authentication.preauth.AbstractPreAuthenticatedProcessingFilter;
import org.springframework.security.web.csrf.CsrfFilter;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The built-in authorization server (Spring Authorization Server), on unless {@code nssi.security.mode=EXTERNAL}.
 * SMART App Launch (authorization code with PKCE, EHR and standalone launch, {@code openid fhirUser}, refresh
 * tokens) for apps and SMART Backend Services ({@code client_credentials}) for systems, with introspection,
 * revocation and an admin-only client registration endpoint. Access tokens are JWTs signed with this server's key,
 * audience-bound to the FHIR base URL, and live at most one hour.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "nssi.security.mode", havingValue = "BUILTIN", matchIfMissing = true)
class AuthorizationServerConfig {

	/**
	 * Pages of the sign-in flow (login, consent, launcher, patient picker): no script at all, styles and everything else
	 * from this origin only, never framed.
	 */
	static final String PAGE_POLICY =
			"default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

	@Bean
	@Order(1)
	SecurityFilterChain authorizationServerSecurity(
			HttpSecurity http, SmartAuthorizationRequestValidator requestValidator, SmartUsers users, JdbcTemplate jdbc,
			NssiProperties properties, ServerAddress address, AuthorizationServerSettings settings, RegisteredClientRepository clients,
			OAuth2AuthorizationService authorizations, FhirContext fhirContext, SignInSite site) throws Exception {
		OAuth2AuthorizationServerConfigurer as = OAuth2AuthorizationServerConfigurer.authorizationServer();
		JwtClientAssertionDecoderFactory assertions = new JwtClientAssertionDecoderFactory();
		assertions.setJwtValidatorFactory(new ClientAssertionReplayGuard(jdbc).validatorFactory());
		NssiProperties.Security security = properties.security();
		ClientPolicy policy = new ClientPolicy(fhirContext.getResourceTypes());
		http.securityMatcher(as.getEndpointsMatcher())
				.with(as, server -> server
						// OpenID Connect: id_token (fhirUser), userinfo, and RFC 7591 client registration for admins
						// (a backend client's client_credentials token with the client.create scope, see ClientPolicy)
						.oidc(oidc -> oidc.clientRegistrationEndpoint(registration -> registration.authenticationProviders(providers -> {
							providers.stream()
									.filter(OidcClientRegistrationAuthenticationProvider.class::isInstance)
									.map(OidcClientRegistrationAuthenticationProvider.class::cast)
									.forEach(provider -> provider.setRegisteredClientConverter(
											policy.registrationConverter(security.accessTokenTtl(), security.refreshTokenTtl())));
							// reading a client's configuration back never returns its stored secret (a hash, but still a secret)
							providers.stream()
									.filter(OidcClientConfigurationAuthenticationProvider.class::isInstance)
									.map(OidcClientConfigurationAuthenticationProvider.class::cast)
									.forEach(provider -> provider.setClientRegistrationConverter(withoutSecret()));
							providers.add(0, registrarGuard(authorizations, clients));
						})))
						.authorizationEndpoint(endpoint -> endpoint
								.consentPage(SignInPages.CONSENT)
								.authenticationProviders(providers -> providers.stream()
										.filter(OAuth2AuthorizationCodeRequestAuthenticationProvider.class::isInstance)
										.map(OAuth2AuthorizationCodeRequestAuthenticationProvider.class::cast)
										.forEach(provider -> provider.setAuthenticationValidator(requestValidator))))
						.tokenEndpoint(endpoint -> endpoint
								.accessTokenResponseHandler(smartTokenResponse())
								.authenticationProviders(providers -> providers.replaceAll(provider -> provider instanceof OAuth2RefreshTokenAuthenticationProvider
										? new RefreshTokenFamilies(provider, authorizations, jdbc, users::active)
										: provider)))
						.tokenIntrospectionEndpoint(endpoint -> endpoint.authenticationProviders(providers -> providers.replaceAll(
								provider -> provider instanceof OAuth2TokenIntrospectionAuthenticationProvider
										? new IntrospectionPolicy(provider, Set.copyOf(security.introspectionClients()))
										: provider)))
						.clientAuthentication(clientAuth -> clientAuth
								.authenticationConverter(new SmartClientAssertionConverter())
								// a public client's refresh request: its client_id alone (see PublicClientRefresh)
								.authenticationConverter(PublicClientRefresh.converter())
								.authenticationProviders(providers -> {
									providers.stream()
											.filter(JwtClientAssertionAuthenticationProvider.class::isInstance)
											.map(JwtClientAssertionAuthenticationProvider.class::cast)
											.forEach(provider -> provider.setJwtDecoderFactory(assertions));
									providers.add(0, PublicClientRefresh.provider(clients));
								})))
				.authorizeHttpRequests(a -> a.anyRequest().authenticated())
				.oauth2ResourceServer(rs -> rs.jwt(Customizer.withDefaults()))
				// a browser that must sign in first goes to the login page, then back to the authorization request
				.exceptionHandling(e -> e.defaultAuthenticationEntryPointFor(
						new LoginUrlAuthenticationEntryPoint("/login"), PathPatternRequestMatcher.withDefaults().matcher("/oauth2/authorize")))
				// the issuer is pinned (ServerAddress), never derived from the request's Host header
				.addFilterBefore(new PinnedIssuerFilter(address, settings), CsrfFilter.class)
				// refusals without a redirect: a page that says why (AuthorizationErrorPage)
				.addFilterBefore(new AuthorizationErrorPage(site), CsrfFilter.class)
				.addFilterBefore(
						new PatientPickerRedirectFilter(username -> users.fhirUser(username).map(SmartUsers::kind).orElse(null) == SmartUsers.Kind.CLINICIAN
								// the person's app is refused to clinicians (SmartAuthorizationRequestValidator): no picker for it
								&& !PatientApp.CLIENT_ID.equals(currentClientId())),
						AbstractPreAuthenticatedProcessingFilter.class)
				.headers(h -> h.contentSecurityPolicy(csp -> csp.policyDirectives(PAGE_POLICY)))
				.csrf(csrf -> csrf.ignoringRequestMatchers(as.getEndpointsMatcher()));
		return http.build();
	}

	/**
	 * Registration ({@code /connect/register}) needs an administrator: the initial access token must come from a
	 * {@code client_credentials} grant of a backend-services client (which alone can hold {@code client.create}).
	 * Returns null to let Spring Authorization Server's provider do the rest (scope, single use, the client itself).
	 */
	private static AuthenticationProvider registrarGuard(OAuth2AuthorizationService authorizations, RegisteredClientRepository clients) {
		return new AuthenticationProvider() {
			@Override
			public Authentication authenticate(Authentication authentication) {
				OidcClientRegistrationAuthenticationToken request = (OidcClientRegistrationAuthenticationToken) authentication;
				if (request.getClientRegistration() == null || !(request.getPrincipal() instanceof AbstractOAuth2TokenAuthenticationToken<?> token)) {
					return null;
				}
				OAuth2Authorization authorization = authorizations.findByToken(token.getToken().getTokenValue(), OAuth2TokenType.ACCESS_TOKEN);
				if (authorization == null) {
					return null;
				}
				RegisteredClient registrar = clients.findById(authorization.getRegisteredClientId());
				if (!AuthorizationGrantType.CLIENT_CREDENTIALS.equals(authorization.getAuthorizationGrantType())
						|| registrar == null || !ClientPolicy.isBackend(registrar)) {
					throw new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INSUFFICIENT_SCOPE,
							"Clients are registered by administrators: a backend-services client's token with client.create", null));
				}
				return null;
			}

			@Override
			public boolean supports(Class<?> authentication) {
				return OidcClientRegistrationAuthenticationToken.class.isAssignableFrom(authentication);
			}
		};
	}

	/** The client_id of the request being served (the authorization request the picker filter looks at). */
	private static String currentClientId() {
		return org.springframework.web.context.request.RequestContextHolder.getRequestAttributes()
						instanceof org.springframework.web.context.request.ServletRequestAttributes attributes
				? attributes.getRequest().getParameter("client_id")
				: null;
	}

	/** Sets the pinned issuer for Spring Authorization Server's endpoints, after its own filter derived one from the request. */
	private static final class PinnedIssuerFilter extends OncePerRequestFilter {
		private final ServerAddress address;
		private final AuthorizationServerSettings settings;

		PinnedIssuerFilter(ServerAddress address, AuthorizationServerSettings settings) {
			this.address = address;
			this.settings = settings;
		}

		@Override
		protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response,
				FilterChain chain) throws ServletException, IOException {
			AuthorizationServerContextHolder.setContext(new AuthorizationServerContext() {
				@Override
				public String getIssuer() {
					return address.issuer();
				}

				@Override
				public AuthorizationServerSettings getAuthorizationServerSettings() {
					return settings;
				}
			});
			// Spring Authorization Server's context filter (outside this one) resets the holder after the request
			chain.doFilter(request, response);
		}
	}

	/**
	 * Sign-in and the launch pages: a session (cookie, CSRF-protected forms) exists only on these paths and on
	 * the authorization endpoint; the FHIR API stays stateless. The pages are this server's own (see
	 * launch/SignInPages): every value escaped, a local stylesheet, no script, a strict Content-Security-Policy.
	 */
	@Bean
	@Order(2)
	SecurityFilterChain signInSecurity(
			HttpSecurity http, SignInThrottle throttle, Accounts accounts, SmartUsers users, PasswordEncoder passwords,
			ApplicationEventPublisher publisher, PatientAppSettings patientApp, SignInSite site) throws Exception {
		// the password first, the same way for every username; the authenticator code after it (security/enrolment)
		ProviderManager passwordFirst = new ProviderManager(new PasswordFirst(users, passwords, accounts));
		passwordFirst.setAuthenticationEventPublisher(new DefaultAuthenticationEventPublisher(publisher));
		http.securityMatcher("/login", "/logout", "/smart/**", EnrolmentPages.PATH, SecondStep.PATH)
				.authorizeHttpRequests(a -> a.requestMatchers("/login", EnrolmentPages.PATH, SecondStep.PATH).permitAll().anyRequest().authenticated())
				.authenticationManager(passwordFirst)
				// the session remembers when its user signed in (SignInSessions: a newer password ends it)
				.formLogin(login -> login.loginPage("/login").permitAll().successHandler(SignInSessions.successHandler())
						.failureHandler(SecondStep.passwordFailureHandler()))
				// rate limit and lockout before any password or code is checked (security/enrolment/SignInThrottle)
				.addFilterBefore(new SignInGuardFilter(throttle, site, patientApp.contactsToShow().stream()
						.map(c -> c.name() + ": " + c.phone() + (c.text() == null || c.text().isBlank() ? "" : " (" + c.text() + ")")).toList()),
						UsernamePasswordAuthenticationFilter.class)
				.addFilterAfter(new SecondStepFilter(accounts, users, publisher, site, SignInSessions.successHandler()), UsernamePasswordAuthenticationFilter.class)
				// an invitation link carries its token in the URL: never sent on as a referrer
				.headers(h -> h.referrerPolicy(r -> r.policy(ReferrerPolicyHeaderWriter.ReferrerPolicy.NO_REFERRER)))
				.headers(h -> h.contentSecurityPolicy(csp -> csp.policyDirectives(PAGE_POLICY)));
		return http.build();
	}

	@Bean
	SmartUsers smartUsers(NssiProperties properties, DevClient devClient, Accounts accounts) {
		List<NssiProperties.User> users = new ArrayList<>(properties.security().users());
		users.addAll(devClient.users());
		// people who enrolled by invitation, after the configured ones; every password checked at the same bcrypt cost
		// (a configured {noop} password answered a wrong one faster: a timing oracle, review s8)
		return new SmartUsers(ConfiguredPasswords.atEnrolledCost(users), username -> EnrolmentConfig.asUser(accounts, username));
	}

	@Bean
	SmartAuthorizationRequestValidator smartAuthorizationRequestValidator(
			NssiProperties properties, SmartUsers users, LaunchContextStore launches, ServerAddress address, Accounts accounts) {
		return new SmartAuthorizationRequestValidator(properties, users, launches, address, new SignInSessions(accounts));
	}

	/**
	 * Tokens: JWT access and ID tokens with the SMART claims, and refresh tokens only when the app asked for
	 * {@code offline_access}, to public clients too (Spring Authorization Server gives them none: see
	 * PublicClientRefresh).
	 */
	@Bean
	OAuth2TokenGenerator<OAuth2Token> tokenGenerator(
			JWKSource<SecurityContext> keys, NssiProperties properties, SmartUsers users, LaunchContextStore launches, ProxyPatients proxies,
			ServerAddress address) {
		JwtGenerator jwt = new JwtGenerator(new NimbusJwtEncoder(keys));
		jwt.setJwtCustomizer(new SmartTokenClaims(properties, users, launches, proxies, address));
		OAuth2RefreshTokenGenerator refresh = new OAuth2RefreshTokenGenerator();
		// what the user granted decides, not what a refresh request narrows the new access token to
		OAuth2TokenGenerator<OAuth2RefreshToken> smartRefresh = context -> {
			Set<String> granted = context.getAuthorization() != null ? context.getAuthorization().getAuthorizedScopes() : context.getAuthorizedScopes();
			if (!granted.contains("offline_access")) {
				return null;
			}
			OAuth2RefreshToken token = refresh.generate(context);
			return token != null ? token : PublicClientRefresh.generate(context);
		};
		return new DelegatingOAuth2TokenGenerator(jwt, smartRefresh);
	}

	/**
	 * A disabled account loses what it holds at once: every authorization of the username is revoked (its refresh
	 * tokens, and the access tokens issued with them, which {@code RevokedTokens} then refuses).
	 */
	@Bean
	ApplicationListener<PayloadApplicationEvent<AccountDisabled>> revokeDisabledAccounts(
			OAuth2AuthorizationService authorizations, JdbcTemplate jdbc) {
		return ApplicationListener.forPayload((AccountDisabled event) -> RefreshTokenFamilies.revokeUser(event.username(), authorizations, jdbc));
	}

	/**
	 * A new password set through an invitation (a lost phone) revokes what the account held, as disabling does; the
	 * sign-in sessions opened before it are refused by {@link SignInSessions}.
	 */
	@Bean
	ApplicationListener<PayloadApplicationEvent<PasswordReset>> revokeOnPasswordReset(
			OAuth2AuthorizationService authorizations, JdbcTemplate jdbc) {
		return ApplicationListener.forPayload((PasswordReset event) -> RefreshTokenFamilies.revokeUser(event.username(), authorizations, jdbc));
	}

	/** The token response repeats the launch context (SMART App Launch 2.2 section "Launch context"). */
	private static AuthenticationSuccessHandler smartTokenResponse() {
		OAuth2AccessTokenResponseAuthenticationSuccessHandler handler = new OAuth2AccessTokenResponseAuthenticationSuccessHandler();
		handler.setAccessTokenResponseCustomizer(context -> {
			OAuth2AccessTokenAuthenticationToken issued = context.getAuthentication();
			Map<String, Object> parameters = new LinkedHashMap<>(issued.getAdditionalParameters());
			try {
				Map<String, Object> claims = SignedJWT.parse(issued.getAccessToken().getTokenValue()).getJWTClaimsSet().getClaims();
				for (String name : SmartTokenClaims.CONTEXT_CLAIMS) {
					if (claims.containsKey(name)) {
						parameters.put(name, claims.get(name));
					}
				}
				if (claims.containsKey("patient")) {
					parameters.put("need_patient_banner", true);
				}
			} catch (ParseException notAJwt) {
				// only JWT access tokens are issued; nothing to add otherwise
			}
			context.getAccessTokenResponse().additionalParameters(parameters);
		});
		return handler;
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
		} catch (IOException | ParseException e) {
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
	 * Issued authorizations (codes, access, refresh and ID tokens), in the database: revocation and introspection
	 * work across restarts and nodes, and the resource server refuses a revoked token at once.
	 */
	@Bean
	OAuth2AuthorizationService authorizationService(JdbcTemplate jdbc, RegisteredClientRepository clients) {
		return new JdbcOAuth2AuthorizationService(jdbc, clients);
	}

	@Bean
	PasswordEncoder passwordEncoder() {
		return PasswordEncoderFactories.createDelegatingPasswordEncoder();
	}

	/**
	 * Clients live in the database (so that clients registered through the API survive a restart); the ones in
	 * the configuration, and the development client, are written there at every start.
	 */
	@Bean
	RegisteredClientRepository registeredClients(
			NssiProperties properties, DevClient devClient, ClinicianApp clinicianApp, PatientApp patientApp,
			PasswordEncoder encoder, JdbcTemplate jdbc,
			FhirContext fhirContext) {
		RotatingClients repository = new RotatingClients(new JdbcRegisteredClientRepository(jdbc));
		ClientPolicy policy = new ClientPolicy(fhirContext.getResourceTypes());
		NssiProperties.Security security = properties.security();
		for (NssiProperties.Client client : security.clients()) {
			policy.checkConfigured(client.clientId(), client.scopes(), client.app());
			repository.save(configured(client, security, encoder, idOf(repository, client.clientId())));
		}
		for (Optional<NssiProperties.Client> served : List.of(clinicianApp.client(), patientApp.client())) {
			served.ifPresent(app -> {
				policy.checkConfigured(app.clientId(), app.scopes(), app.app());
				repository.save(configured(app, security, encoder, idOf(repository, app.clientId())));
			});
		}
		devClient.secret().ifPresent(secret -> repository.save(RegisteredClient.withId(idOf(repository, DevClient.CLIENT_ID))
				.clientId(DevClient.CLIENT_ID)
				.clientName("Development client (embedded database only)")
				.clientSecret(encoder.encode(secret))
				.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
				.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
				.authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
				.scopes(s -> s.addAll(DevClient.SCOPES))
				.tokenSettings(TokenSettings.builder().accessTokenTimeToLive(security.accessTokenTtl()).build())
				.build()));
		return repository;
	}

	/**
	 * Every client rotates its refresh tokens, whatever was stored for it (clients registered before this rule
	 * included): a refresh token is good for one refresh only (see RefreshTokenFamilies).
	 */
	static final class RotatingClients implements RegisteredClientRepository {
		private final RegisteredClientRepository delegate;

		RotatingClients(RegisteredClientRepository delegate) {
			this.delegate = delegate;
		}

		@Override
		public void save(RegisteredClient client) {
			delegate.save(rotating(client));
		}

		@Override
		public RegisteredClient findById(String id) {
			return rotating(delegate.findById(id));
		}

		@Override
		public RegisteredClient findByClientId(String clientId) {
			return rotating(delegate.findByClientId(clientId));
		}

		private static RegisteredClient rotating(RegisteredClient client) {
			if (client == null || !client.getTokenSettings().isReuseRefreshTokens()) {
				return client;
			}
			return RegisteredClient.from(client)
					.tokenSettings(TokenSettings.withSettings(client.getTokenSettings().getSettings()).reuseRefreshTokens(false).build())
					.build();
		}
	}

	private static String idOf(RegisteredClientRepository repository, String clientId) {
		RegisteredClient existing = repository.findByClientId(clientId);
		return existing == null ? UUID.randomUUID().toString() : existing.getId();
	}

	private static RegisteredClient configured(NssiProperties.Client client, NssiProperties.Security security, PasswordEncoder encoder, String id) {
		RegisteredClient.Builder builder = RegisteredClient.withId(id)
				.clientId(client.clientId())
				.clientName(client.clientName() == null ? client.clientId() : client.clientName())
				.scopes(s -> s.addAll(client.scopes()))
				.tokenSettings(TokenSettings.builder()
						.accessTokenTimeToLive(security.accessTokenTtl())
						.refreshTokenTimeToLive(security.refreshTokenTtl())
						.reuseRefreshTokens(false)
						.build());
		ClientSettings.Builder settings = ClientSettings.builder();
		if (client.app()) {
			// SMART App Launch: authorization code with PKCE (S256) for every app, public or confidential
			builder.authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
					.authorizationGrantType(AuthorizationGrantType.REFRESH_TOKEN)
					.redirectUris(uris -> uris.addAll(client.redirectUris()));
			settings.requireProofKey(true).requireAuthorizationConsent(false);
			if (!client.confidential()) {
				builder.clientAuthenticationMethod(ClientAuthenticationMethod.NONE);
			}
		} else {
			builder.authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS);
		}
		if (client.jwkSetUrl() != null && !client.jwkSetUrl().isBlank()) {
			// SMART Backend Services / asymmetric client authentication: private_key_jwt with RS384 or ES384
			builder.clientAuthenticationMethod(ClientAuthenticationMethod.PRIVATE_KEY_JWT);
			settings.jwkSetUrl(client.jwkSetUrl())
					.tokenEndpointAuthenticationSigningAlgorithm(SignatureAlgorithm.from(client.jwtAlgorithm()));
		} else if (client.clientSecret() != null && !client.clientSecret().isBlank()) {
			builder.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
					.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
					.clientSecret(encoder.encode(client.clientSecret()));
		} else if (!client.app()) {
			throw new IllegalStateException("Client " + client.clientId() + " needs a jwk-set-url or a client-secret");
		}
		return builder.clientSettings(settings.build()).build();
	}

	/** The issuer itself comes from {@link ServerAddress} (configured, or the fixed default), set per request by PinnedIssuerFilter. */
	@Bean
	AuthorizationServerSettings authorizationServerSettings() {
		return AuthorizationServerSettings.builder().build();
	}

	private static Converter<
			RegisteredClient,
			OidcClientRegistration> withoutSecret() {
		var standard = new RegisteredClientOidcClientRegistrationConverter();
		return client -> OidcClientRegistration
				.withClaims(standard.convert(client).getClaims())
				.claims(claims -> {
					claims.remove("client_secret");
					claims.remove("client_secret_expires_at");
				})
				.build();
	}
}
