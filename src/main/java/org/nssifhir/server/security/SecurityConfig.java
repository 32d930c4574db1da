package org.nssifhir.server.security;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.matcher.AuthorizationSearchParamMatcher;
import ca.uhn.fhir.jpa.searchparam.matcher.SearchParamMatcher;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.nssifhir.server.fhir.OfferedOperations;
import org.nssifhir.server.security.consent.ComputedReadAudit;
import org.nssifhir.server.security.consent.ProxyConsents;
import org.nssifhir.server.security.consent.ProxyPatients;
import org.nssifhir.server.security.consent.RestrictedRecordAccess;
import org.nssifhir.server.security.consent.SensitiveDataConsentService;
import org.nssifhir.server.security.consent.TreatingRelationships;
import org.nssifhir.server.security.policy.AccessPolicy;
import org.nssifhir.server.security.policy.AccessPolicyInterceptor;
import org.nssifhir.server.security.policy.RestrictedSearchNarrowing;
import org.nssifhir.server.security.policy.SecurityEventSink;
import org.nssifhir.server.security.policy.SubscriptionDeliveryGuard;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.config.annotation.web.configuration.OAuth2AuthorizationServerConfiguration;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The resource-server side of SMART on FHIR: which paths need a token, how tokens are checked, and the HAPI
 * interceptors that turn scopes into access rules. The built-in authorization server is in
 * {@code security.issuing.AuthorizationServerConfig}.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSecurity
public class SecurityConfig {

	/**
	 * The scope a metrics scraper's token needs for {@code /actuator/prometheus}. Checked here; who may hold it is the
	 * authorization server's rule ({@code security.issuing.ClientPolicy}: backend-services clients only).
	 */
	public static final String METRICS_SCOPE = "metrics.read";

	@Bean
	@Order(3)
	SecurityFilterChain fhirSecurity(
			HttpSecurity http,
			NssiProperties properties,
			FhirContext fhirContext,
			ObjectProvider<JwtDecoder> decoder,
			ObjectProvider<AuthenticationFailures> auditor,
			ObjectProvider<WebSecurityContribution> contributed)
			throws Exception {
		List<WebSecurityContribution> contributions = contributed.orderedStream().toList();
		http.csrf(csrf -> csrf.disable()) // bearer tokens only; no cookies, so no CSRF
				// STATELESS alone makes Spring Security add a SessionManagementFilter whose session-fixation strategy changes
				// the id of any session a request brings once its bearer token is authenticated. A browser app's fetches bring
				// the sign-in session's cookie: each FHIR request renamed that session, and concurrent requests left the browser
				// holding a name that no longer existed, so the next launch found no sign-in (ClinicianAppDemoIT, issue 20). The
				// FHIR API never touches the sign-in session.
				.sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS).sessionFixation(f -> f.none()))
				.requestCache(c -> c.disable());
		if (!properties.security().enabled()) {
			http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
			return http.build();
		}
		String[] publicPaths = WebSecurityContribution.publicPaths(contributions);
		if (publicPaths.length > 0) {
			// paths the features declare data-free (e.g. the OpenAPI description when switched on), before /fhir/** needs a token
			http.authorizeHttpRequests(a -> a.requestMatchers(publicPaths).permitAll());
		}
		http.authorizeHttpRequests(a -> a
						.requestMatchers("/fhir/metadata", "/fhir/.well-known/**").permitAll()
						// CORS preflight carries no token; HAPI's CORS interceptor answers it
						.requestMatchers(HttpMethod.OPTIONS, "/fhir/**").permitAll()
						.requestMatchers("/fhir", "/fhir/**").authenticated()
						// metrics describe the traffic (rates, errors, pool use): a token with the metrics.read scope, which only
						// backend-services clients can hold (see ClientPolicy); Prometheus fetches one with its oauth2 scrape setting
						.requestMatchers("/actuator/prometheus").hasAuthority("SCOPE_" + METRICS_SCOPE)
						.requestMatchers("/actuator/health/**", "/ig/**", "/error").permitAll()
						.anyRequest().permitAll())
				.oauth2ResourceServer(rs -> rs
						// paths whose features check their own credentials (CDS Hooks: the EHR's JWT) carry no access token
						.bearerTokenResolver(WebSecurityContribution.bearerTokenResolver(contributions))
						.jwt(jwt -> jwt.decoder(decoder.getObject()))
						.authenticationEntryPoint(FhirSecurityErrors.unauthorized(fhirContext, path -> auditor.getObject().authenticationFailed(path)))
						.accessDeniedHandler(FhirSecurityErrors.forbidden(fhirContext)))
				.exceptionHandling(e -> e
						.authenticationEntryPoint(FhirSecurityErrors.unauthorized(fhirContext, path -> auditor.getObject().authenticationFailed(path)))
						.accessDeniedHandler(FhirSecurityErrors.forbidden(fhirContext)));
		return http.build();
	}

	/**
	 * Checks signature, expiry and (when configured) issuer. The audience is checked per request against the
	 * FHIR base URL in {@link SmartAuthorizationInterceptor}, because it depends on how the server was reached.
	 */
	@Bean
	JwtDecoder jwtDecoder(
			NssiProperties properties,
			Optional<JWKSource<SecurityContext>> builtinKeys,
			Optional<OAuth2AuthorizationService> issuedTokens,
			JdbcTemplate jdbc) {
		NssiProperties.Security security = properties.security();
		NimbusJwtDecoder decoder = security.mode() == NssiProperties.Security.Mode.BUILTIN
				? builtinDecoder(builtinKeys.orElseThrow())
				: externalDecoder(security);
		// BUILTIN: tokens are recorded in the database (with the authorization service), so revocation can be checked
		decoder.setJwtValidator(validator(security, issuedTokens.map(issued -> new RevokedTokens(jdbc))));
		return decoder;
	}

	/**
	 * BUILTIN mode: the server's own signing key, as a Java public key made once. (A decoder over the JWK source, as
	 * Spring Authorization Server builds it, converts the whole RSA key pair, private part included, on every
	 * request: a tenth of the CPU of a validated write in a profile at a million Observations.) With more than one
	 * key in the source, as during a rotation, it keeps the per-request selection by key id.
	 */
	static NimbusJwtDecoder builtinDecoder(JWKSource<SecurityContext> keys) {
		try {
			List<JWK> all = keys.get(new JWKSelector(new JWKMatcher.Builder().build()), null);
			if (all.size() == 1 && all.get(0) instanceof RSAKey rsa) {
				return NimbusJwtDecoder.withPublicKey(rsa.toRSAPublicKey()).signatureAlgorithm(SignatureAlgorithm.RS256).build();
			}
			return (NimbusJwtDecoder) OAuth2AuthorizationServerConfiguration.jwtDecoder(keys);
		} catch (JOSEException e) {
			throw new IllegalStateException("The server's signing key cannot be read", e);
		}
	}

	/**
	 * EXTERNAL mode: keys from the configured JWKS URL, or discovered from the issuer's OpenID configuration.
	 * The usual signing algorithms of identity providers are accepted (Keycloak signs with RS256 by default).
	 */
	static NimbusJwtDecoder externalDecoder(NssiProperties.Security security) {
		Consumer<Set<SignatureAlgorithm>> algorithms = set -> set.addAll(List.of(
				SignatureAlgorithm.RS256, SignatureAlgorithm.RS384, SignatureAlgorithm.RS512,
				SignatureAlgorithm.ES256, SignatureAlgorithm.ES384, SignatureAlgorithm.ES512));
		if (security.jwkSetUri() != null && !security.jwkSetUri().isBlank()) {
			return NimbusJwtDecoder.withJwkSetUri(security.jwkSetUri()).jwsAlgorithms(algorithms).build();
		}
		return NimbusJwtDecoder.withIssuerLocation(security.issuer()).jwsAlgorithms(algorithms).build();
	}

	/** Expiry, issuer (when configured), the configured required claims, and (BUILTIN) not revoked. */
	static OAuth2TokenValidator<Jwt> validator(NssiProperties.Security security, Optional<OAuth2TokenValidator<Jwt>> notRevoked) {
		boolean hasIssuer = security.issuer() != null && !security.issuer().isBlank();
		List<OAuth2TokenValidator<Jwt>> validators = new ArrayList<>();
		validators.add(hasIssuer ? JwtValidators.createDefaultWithIssuer(security.issuer()) : JwtValidators.createDefault());
		for (String claim : security.requiredClaims()) {
			validators.add(jwt -> jwt.hasClaim(claim)
					? OAuth2TokenValidatorResult.success()
					: OAuth2TokenValidatorResult.failure(new OAuth2Error("invalid_token", "The token lacks the required claim " + claim, null)));
		}
		notRevoked.ifPresent(validators::add);
		return new DelegatingOAuth2TokenValidator<>(validators);
	}

	@Bean
	SmartAuthorizationInterceptor smartAuthorizationInterceptor(
			NssiProperties properties, SearchParamMatcher matcher, List<FeatureOperations> features) {
		return new SmartAuthorizationInterceptor(properties.security(), new AuthorizationSearchParamMatcher(matcher), features);
	}

	/** HAPI's own operations; the features declare theirs beside their providers. */
	@Bean
	BuiltInOperations builtInOperations() {
		return new BuiltInOperations();
	}

	@Bean
	@ConditionalOnProperty(name = "nssi.security.mode", havingValue = "BUILTIN", matchIfMissing = true)
	FilterRegistrationBean<SmartConfigurationFilter> smartConfigurationFilter(ServerAddress address) {
		FilterRegistrationBean<SmartConfigurationFilter> registration = new FilterRegistrationBean<>(new SmartConfigurationFilter(address));
		registration.addUrlPatterns(SmartConfigurationFilter.PATH);
		return registration;
	}

	@Bean
	AccessPolicy accessPolicy(
			FhirContext fhirContext, TreatingRelationships relationships, ProxyConsents consents, SearchParamMatcher matcher,
			NssiProperties properties) {
		return new AccessPolicy(fhirContext, relationships, consents, new AuthorizationSearchParamMatcher(matcher), properties.policy());
	}

	@Bean
	AccessPolicyInterceptor accessPolicyInterceptor(
			FhirContext fhirContext, AccessPolicy policy, TreatingRelationships relationships, DaoRegistry daos, SecurityEventSink events,
			ProxyPatients proxies, List<FeatureOperations> features) {
		return new AccessPolicyInterceptor(fhirContext, policy, relationships, daos, events, proxies, FeatureOperations.names(features));
	}

	/** What the CapabilityStatement may list: the operations the access policy can allow (fhir owns the interface). */
	@Bean
	OfferedOperations offeredOperations(AccessPolicyInterceptor accessPolicyInterceptor) {
		return accessPolicyInterceptor::offeredOperations;
	}

	@Bean
	RestrictedSearchNarrowing restrictedSearchNarrowing(AccessPolicy policy, IInterceptorService interceptors) {
		// storage: HAPI's search coordinator calls it for every search it registers, REST and batch entries alike
		RestrictedSearchNarrowing narrowing = new RestrictedSearchNarrowing(policy);
		interceptors.registerInterceptor(narrowing);
		return narrowing;
	}

	@Bean
	SubscriptionDeliveryGuard subscriptionDeliveryGuard(AccessPolicy policy, DaoRegistry daos, SecurityEventSink events,
			IInterceptorService interceptors) {
		SubscriptionDeliveryGuard guard = new SubscriptionDeliveryGuard(policy.settings(), daos, events);
		interceptors.registerInterceptor(guard);
		return guard;
	}

	@Bean
	SensitiveDataConsentService sensitiveDataConsentService(AccessPolicy policy) {
		return new SensitiveDataConsentService(policy);
	}

	@Bean
	RestrictedRecordAccess restrictedRecordAccess(AccessPolicy policy, ComputedReadAudit audit) {
		return new RestrictedRecordAccess(policy, audit);
	}

	@Bean
	SmartSearchNarrowingInterceptor smartSearchNarrowingInterceptor() {
		return new SmartSearchNarrowingInterceptor();
	}
}
