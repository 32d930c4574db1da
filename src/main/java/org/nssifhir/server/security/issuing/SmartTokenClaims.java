package org.nssifhir.server.security.issuing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.nssifhir.server.security.SmartUsers;
import org.nssifhir.server.security.consent.ProxyPatients;
import org.nssifhir.server.security.launch.LaunchContext;
import org.nssifhir.server.security.launch.LaunchContextStore;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.endpoint.OAuth2AuthorizationRequest;
import org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;

/**
 * The SMART claims of the tokens this server issues. Access tokens: audience = the FHIR base URL,
 * {@code client_id}; for a signed-in user also {@code fhirUser} and the launch context
 * ({@code patient}, {@code encounter}, {@code fhirContext}), which the token response repeats; the resource server
 * enforces {@code patient} (the compartment), the others are context for the app. ID tokens: {@code fhirUser}.
 *
 * <p>The launch context comes from the {@code launch} parameter of the authorization request (an EHR launch, or
 * the patient a clinician picked in a standalone launch); a patient is always in their own context, a proxy in the
 * context of the patient they act for. A refreshed token keeps the context of the token it replaces.
 */
class SmartTokenClaims implements OAuth2TokenCustomizer<JwtEncodingContext> {

	static final List<String> CONTEXT_CLAIMS = List.of("patient", "encounter", "fhirContext");

	private final NssiProperties properties;
	private final SmartUsers users;
	private final LaunchContextStore launches;
	private final ProxyPatients proxies;
	private final ServerAddress address;

	SmartTokenClaims(NssiProperties properties, SmartUsers users, LaunchContextStore launches, ProxyPatients proxies,
			ServerAddress address) {
		this.address = address;
		this.properties = properties;
		this.users = users;
		this.launches = launches;
		this.proxies = proxies;
	}

	@Override
	public void customize(JwtEncodingContext context) {
		// the pinned FHIR base (ServerAddress), never the Host header of the token request
		String fhirBase = address.fhirBase();
		Optional<String> fhirUser = userGrant(context) ? users.fhirUser(context.getPrincipal().getName()) : Optional.empty();
		if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
			List<String> audiences = properties.security().audiences();
			context.getClaims()
					// mutable JDK collections: the claims are stored (JSON) with the authorization, and Spring Security's
					// Jackson allowlist does not know the immutable List.of/Map.of classes
					.audience(new ArrayList<>(audiences.isEmpty() ? List.of(fhirBase) : audiences))
					.claim("client_id", context.getRegisteredClient().getClientId());
			// (scope: Spring Authorization Server's JSON array, which its own endpoints such as client
			// registration expect; SmartAccess reads both the array and the space-separated string form)
			fhirUser.ifPresent(user -> context.getClaims().claim("fhirUser", fhirBase + "/" + user));
			if (userGrant(context)) {
				launchContext(context, fhirUser).forEach((name, value) -> context.getClaims().claim(name, value));
			}
		} else if (OidcParameterNames.ID_TOKEN.equals(context.getTokenType().getValue())) {
			fhirUser.ifPresent(user -> context.getClaims().claim("fhirUser", fhirBase + "/" + user));
		}
	}

	private static boolean userGrant(JwtEncodingContext context) {
		return AuthorizationGrantType.AUTHORIZATION_CODE.equals(context.getAuthorizationGrantType())
				|| AuthorizationGrantType.REFRESH_TOKEN.equals(context.getAuthorizationGrantType());
	}

	private Map<String, Object> launchContext(JwtEncodingContext context, Optional<String> fhirUser) {
		Map<String, Object> claims = new LinkedHashMap<>();
		OAuth2Authorization authorization = context.getAuthorization();
		if (fhirUser.isEmpty()) {
			// the user is no longer configured: no new tokens in their name
			throw new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT, "Unknown user", null));
		}
		SmartUsers.Kind kind = SmartUsers.kind(fhirUser.get());
		// patients and proxies: the context is derived afresh at every token (also on refresh), so a proxy whose
		// RelatedPerson was deactivated or re-pointed loses the patient at the next refresh
		if (kind == SmartUsers.Kind.PATIENT) {
			String patient = fhirUser.get().substring("Patient/".length());
			// a record closed as inactive (a duplicate, merged into another) gives no new tokens; tokens already
			// issued run out (at most 1 h), and $nssi-disable-account ends them at once (README, Security)
			if (!proxies.patientRecordActive(patient)) {
				throw new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT, "The patient record is no longer active", null));
			}
			claims.put("patient", patient);
			return claims;
		}
		if (kind == SmartUsers.Kind.PROXY) {
			String patient = proxies.patientOf(fhirUser.get()).orElseThrow(() -> new OAuth2AuthenticationException(
					new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT, "The proxy relationship is no longer active", null)));
			claims.put("patient", patient);
			return claims;
		}
		if (kind != SmartUsers.Kind.CLINICIAN) {
			return claims;
		}
		if (AuthorizationGrantType.REFRESH_TOKEN.equals(context.getAuthorizationGrantType())) {
			// a clinician's launch context (chosen by the EHR or in the picker) carries over to refreshed tokens
			if (authorization != null && authorization.getAccessToken() != null && authorization.getAccessToken().getClaims() != null) {
				Map<String, Object> previous = authorization.getAccessToken().getClaims();
				CONTEXT_CLAIMS.stream().filter(previous::containsKey).forEach(name -> claims.put(name, previous.get(name)));
			}
			return claims;
		}
		OAuth2AuthorizationRequest request = authorization == null ? null : authorization.getAttribute(OAuth2AuthorizationRequest.class.getName());
		Object launchId = request == null ? null : request.getAdditionalParameters().get("launch");
		if (launchId == null) {
			return claims;
		}
		LaunchContext launch = launches.find(launchId.toString())
				.filter(found -> found.username().equals(context.getPrincipal().getName()))
				.filter(found -> found.clientId() == null || found.clientId().equals(context.getRegisteredClient().getClientId()))
				.orElseThrow(() -> new OAuth2AuthenticationException(
						new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT, "The launch context has expired; launch the app again", null)));
		launch.patientId().ifPresent(patient -> claims.put("patient", patient));
		launch.encounterId().ifPresent(encounter -> claims.put("encounter", encounter));
		if (!launch.fhirContext().isEmpty()) {
			List<Map<String, Object>> references = new ArrayList<>();
			for (String reference : launch.fhirContext()) {
				Map<String, Object> entry = new LinkedHashMap<>();
				entry.put("reference", reference);
				references.add(entry);
			}
			claims.put("fhirContext", references);
		}
		return claims;
	}
}
