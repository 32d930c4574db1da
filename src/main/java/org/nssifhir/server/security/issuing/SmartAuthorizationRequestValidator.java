package org.nssifhir.server.security.issuing;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.nssifhir.server.app.ClinicianApp;
import org.nssifhir.server.app.PatientApp;
import org.nssifhir.server.security.SmartAuthorizationInterceptor;
import org.nssifhir.server.security.SmartUsers;
import org.nssifhir.server.security.launch.LaunchContextStore;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationContext;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationException;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationValidator;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * SMART App Launch rules for {@code /oauth2/authorize}, on top of Spring Authorization Server's own checks
 * (client, redirect URI, registered scopes, PKCE with S256 only):
 * <ul>
 *   <li>{@code aud} must name this FHIR server, so a token is never minted for another resource server;
 *   <li>{@code system/} scopes are for Backend Services only;
 *   <li>patients and proxies get patient-level scopes only;
 *   <li>the {@code launch} scope needs a {@code launch} parameter, and a launch id must be live and belong to the
 *       signed-in user (it is a capability: a leaked id is useless to anyone else).
 * </ul>
 * Errors go back to the app's redirect URI as OAuth errors, without any patient data.
 */
class SmartAuthorizationRequestValidator implements Consumer<OAuth2AuthorizationCodeRequestAuthenticationContext> {

	/** The web apps this server serves itself (app/): public clients, but held to their exact redirect URIs. */
	static final Set<String> BUILT_IN_WEB_APPS = Set.of(ClinicianApp.CLIENT_ID, PatientApp.CLIENT_ID);

	static final Set<String> PATIENT_USER_SCOPES = Set.of("openid", "fhirUser", "profile", "launch/patient", "offline_access", "online_access");

	private final Consumer<OAuth2AuthorizationCodeRequestAuthenticationContext> standard =
			new OAuth2AuthorizationCodeRequestAuthenticationValidator();
	private final NssiProperties properties;
	private final SmartUsers users;
	private final LaunchContextStore launches;
	private final ServerAddress address;
	private final SignInSessions sessions;

	SmartAuthorizationRequestValidator(
			NssiProperties properties, SmartUsers users, LaunchContextStore launches, ServerAddress address, SignInSessions sessions) {
		this.sessions = sessions;
		this.address = address;
		this.properties = properties;
		this.users = users;
		this.launches = launches;
	}

	@Override
	public void accept(OAuth2AuthorizationCodeRequestAuthenticationContext context) {
		standard.accept(context);
		OAuth2AuthorizationCodeRequestAuthenticationToken request = context.getAuthentication();
		Map<String, Object> parameters = request.getAdditionalParameters();
		Set<String> scopes = request.getScopes();

		checkLoopbackRedirect(context);
		String fhirBase = address.fhirBase();
		List<String> accepted = properties.security().audiences().isEmpty() ? List.of(fhirBase) : properties.security().audiences();
		Object aud = parameters.get("aud");
		if (aud == null || !accepted.contains(SmartAuthorizationInterceptor.stripSlash(aud.toString()))) {
			throw error(request, OAuth2ErrorCodes.INVALID_REQUEST, "aud must be the FHIR base URL of this server: " + accepted.get(0));
		}
		if (scopes.stream().anyMatch(ClientPolicy.ADMIN_SCOPES::contains)) {
			// also for clients stored before registration refused these scopes to apps
			throw error(request, OAuth2ErrorCodes.INVALID_SCOPE, "administrative scopes are granted only to SMART Backend Services clients");
		}
		if (scopes.stream().anyMatch(scope -> scope.startsWith("system/"))) {
			throw error(request, OAuth2ErrorCodes.INVALID_SCOPE, "system/ scopes are granted only to SMART Backend Services clients");
		}
		Object launch = parameters.get("launch");
		if (scopes.contains("launch") && launch == null) {
			throw error(request, OAuth2ErrorCodes.INVALID_REQUEST, "the launch scope needs the launch parameter of an EHR launch");
		}
		if (!(request.getPrincipal() instanceof Authentication user) || !user.isAuthenticated() || user instanceof AnonymousAuthenticationToken) {
			return; // checked again once the user has signed in
		}
		if (!users.active(user.getName())) {
			// signed in earlier in this browser session, but the account has since been disabled
			throw error(request, OAuth2ErrorCodes.ACCESS_DENIED, "this sign-in is no longer valid; sign in again");
		}
		if (!sessions.currentSessionValid(user.getName())) {
			// signed in before the account's password was set anew (a lost phone): that session has been ended
			throw error(request, OAuth2ErrorCodes.ACCESS_DENIED, "this sign-in is no longer valid; sign in again");
		}
		Optional<String> fhirUser = users.fhirUser(user.getName());
		SmartUsers.Kind kind = fhirUser.map(SmartUsers::kind).orElse(SmartUsers.Kind.UNKNOWN);
		if (PatientApp.CLIENT_ID.equals(request.getClientId()) && kind != SmartUsers.Kind.PATIENT && kind != SmartUsers.Kind.PROXY) {
			// the person's app is for patients and their proxies: a clinician there could pick any patient and keep a
			// refresh token on a phone. Refused without a redirect (the app would only start the sign-in again)
			throw noRedirect(request, OAuth2ErrorCodes.ACCESS_DENIED,
					"The person's app is for patients and their families only. Clinicians use the clinician app at " + ClinicianApp.PATH);
		}
		if (ClinicianApp.CLIENT_ID.equals(request.getClientId()) && kind != SmartUsers.Kind.CLINICIAN) {
			// the clinician app asks for patient-level scopes for the patient a clinician opens (Flags, Procedures):
			// a patient or proxy signed in there held scopes meant for a clinician's acts on their own record
			throw noRedirect(request, OAuth2ErrorCodes.ACCESS_DENIED,
					"The clinician app is for clinicians. Young people and their families use the person's app at " + PatientApp.PATH);
		}
		if (kind != SmartUsers.Kind.CLINICIAN) {
			// an allow-list, not a deny-list: a patient or proxy gets patient-level data scopes and sign-in scopes only
			List<String> refused = scopes.stream().filter(scope -> !scope.startsWith("patient/") && !PATIENT_USER_SCOPES.contains(scope)).toList();
			if (!refused.isEmpty()) {
				throw error(request, OAuth2ErrorCodes.INVALID_SCOPE, "scopes not available to patients and proxies: " + String.join(" ", refused));
			}
			if (launch != null) {
				throw error(request, OAuth2ErrorCodes.INVALID_REQUEST, "an EHR launch is for clinicians");
			}
		}
		String clientId = request.getClientId();
		if (launch != null && launches.find(launch.toString())
				.filter(found -> found.username().equals(user.getName()))
				.filter(found -> found.clientId() == null || found.clientId().equals(clientId))
				.isEmpty()) {
			throw error(request, OAuth2ErrorCodes.INVALID_REQUEST, "unknown or expired launch; launch the app again");
		}
	}

	/**
	 * Spring Authorization Server accepts any port on a registered loopback redirect URI (RFC 8252 section 7.3). That
	 * is for native apps, which are public clients: a confidential (web) client must use exactly a registered URI,
	 * or another program on the user's machine could receive its codes. Refused without a redirect.
	 */
	private static void checkLoopbackRedirect(OAuth2AuthorizationCodeRequestAuthenticationContext context) {
		OAuth2AuthorizationCodeRequestAuthenticationToken request = context.getAuthentication();
		String requested = request.getRedirectUri();
		// the server's own apps are public clients but web apps, not native ones: no any-port loopback for them either
		boolean builtInWebApp = BUILT_IN_WEB_APPS.contains(request.getClientId());
		if (requested == null || (ClientPolicy.isPublic(context.getRegisteredClient()) && !builtInWebApp)
				|| context.getRegisteredClient().getRedirectUris().contains(requested)
				|| (builtInWebApp && onThisServer(context.getRegisteredClient().getRedirectUris(), requested))) {
			return;
		}
		throw noRedirect(request, OAuth2ErrorCodes.INVALID_REQUEST,
				"redirect_uri must be exactly a registered one (any-port loopback redirects are for public native apps only)");
	}

	/**
	 * The embedded default registers the built-in apps at a port-less loopback URI ({@code http://127.0.0.1/app/}:
	 * the port is known only once the server listens). Such a URI means this server's own port, the one that
	 * answers this request, and no other: another program on another loopback port never gets the app's codes.
	 */
	private static boolean onThisServer(Set<String> registered, String requested) {
		if (!(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)) {
			return false;
		}
		int port = attributes.getRequest().getLocalPort();
		URI asked;
		try {
			asked = new URI(requested);
		} catch (URISyntaxException e) {
			return false;
		}
		if (asked.getPort() != port) {
			return false;
		}
		for (String uri : registered) {
			URI candidate = URI.create(uri);
			if (candidate.getPort() == -1 && ("127.0.0.1".equals(candidate.getHost()) || "[::1]".equals(candidate.getHost()))
					&& requested.equals(candidate.getScheme() + "://" + candidate.getHost() + ":" + port + candidate.getRawPath()
							+ (candidate.getRawQuery() == null ? "" : "?" + candidate.getRawQuery()))) {
				return true;
			}
		}
		return false;
	}

	/** An error shown by the server itself, never sent to the redirect URI. */
	private static OAuth2AuthorizationCodeRequestAuthenticationException noRedirect(
			OAuth2AuthorizationCodeRequestAuthenticationToken request, String code, String description) {
		OAuth2AuthorizationCodeRequestAuthenticationToken noRedirect = new OAuth2AuthorizationCodeRequestAuthenticationToken(
				request.getAuthorizationUri(), request.getClientId(), (Authentication) request.getPrincipal(), null, request.getState(),
				request.getScopes(), request.getAdditionalParameters());
		return new OAuth2AuthorizationCodeRequestAuthenticationException(new OAuth2Error(code, description, null), noRedirect);
	}

	private static OAuth2AuthorizationCodeRequestAuthenticationException error(
			OAuth2AuthorizationCodeRequestAuthenticationToken request, String code, String description) {
		return new OAuth2AuthorizationCodeRequestAuthenticationException(new OAuth2Error(code, description, null), request);
	}
}
