package org.nssifhir.server.security.launch;

import jakarta.servlet.http.HttpServletRequest;
import java.security.Principal;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The built-in authorization server's own sign-in page ({@code /login}) and consent page ({@code /smart/consent},
 * for registered apps, which must be confirmed by the user). Replaces Spring's generated pages: those load a
 * stylesheet from a CDN, carry inline script, and the consent page wrote scope strings into the HTML unescaped.
 * Here everything a client or user supplied is escaped (see {@link Pages}).
 */
@RestController
public class SignInPages {

	public static final String CONSENT = "/smart/consent";

	private final RegisteredClientRepository clients;
	private final SignInSite site;

	public SignInPages(ObjectProvider<RegisteredClientRepository> clients, ObjectProvider<SignInSite> site) {
		this.clients = clients.getIfAvailable();
		// (no enrolment without the built-in authorization server: nobody signs in here then)
		this.site = site.getIfAvailable(() -> new SignInSite("Sign in", "Sign in"));
	}

	@GetMapping(value = "/login", produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> login(HttpServletRequest http) {
		return Pages.page(HttpStatus.OK, site.name(http), "Sign in",
				loginBody(http, http.getParameter("error") != null ? "Wrong username or password." : null));
	}

	/** The whole sign-in page with an error message (escaped), for refusals made before the password is checked. */
	public static String loginPage(HttpServletRequest http, SignInSite site, String error, String errorCode) {
		return Pages.page(HttpStatus.OK, site.name(http), "Sign in", loginBody(http, error, errorCode)).getBody();
	}

	private static String loginBody(HttpServletRequest http, String error) {
		return loginBody(http, error, null);
	}

	/** The error in plain words; its code (NSSI-…) only in an attribute, for support, never in the words a person reads. */
	private static String loginBody(HttpServletRequest http, String error, String errorCode) {
		StringBuilder body = new StringBuilder("<h1>Sign in</h1>");
		if (error != null) {
			body.append("<p class='error' role='alert' id='login-error'")
					.append(errorCode == null ? "" : " data-error-code='" + Pages.esc(errorCode) + "'")
					.append(">").append(Pages.esc(error)).append("</p>");
		}
		if (http.getParameter("logout") != null) {
			body.append("<p role='status'>You have signed out.</p>");
		}
		body.append("<form method='post' action='/login'>").append(Pages.csrf(http))
				.append("<p><label for='username'>Username</label> <input id='username' name='username' autocomplete='username' required autofocus></p>")
				.append("<p><label for='password'>Password</label> <input id='password' name='password' type='password' autocomplete='current-password' required></p>")
				.append("<button type='submit'>Sign in</button></form>");
		return body.toString();
	}

	@GetMapping(value = CONSENT, produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> consent(
			@RequestParam(value = "client_id", required = false) String clientId,
			@RequestParam(value = "scope", required = false) String scope,
			@RequestParam(value = "state", required = false) String state,
			Principal user,
			HttpServletRequest http) {
		RegisteredClient client = clients == null || clientId == null ? null : clients.findByClientId(clientId);
		if (client == null || state == null || scope == null) {
			return Pages.page(HttpStatus.BAD_REQUEST, "Bad request", "<p>Not an authorization request this page can confirm.</p>");
		}
		Set<String> requested = new LinkedHashSet<>(Arrays.asList(scope.trim().split(" +")));
		// only scopes the client is registered for can be granted; openid needs no confirmation
		requested.retainAll(client.getScopes());
		requested.remove("openid");
		String name = client.getClientName() == null ? client.getClientId() : client.getClientName();
		StringBuilder body = new StringBuilder("<h1>Allow access?</h1>")
				.append("<p><strong>").append(Pages.esc(name)).append("</strong> (client id <code>").append(Pages.esc(client.getClientId()))
				.append("</code>) asks to act for <strong>").append(Pages.esc(user.getName())).append("</strong> with these permissions:</p><ul>");
		for (String s : requested) {
			body.append("<li><code>").append(Pages.esc(s)).append("</code> ").append(Pages.esc(describe(s))).append("</li>");
		}
		// (the consent's state binds the form to this user's pending request; the CSRF token is there as on every form)
		body.append("</ul><form method='post' action='/oauth2/authorize'>").append(Pages.csrf(http))
				.append(Pages.hidden("client_id", client.getClientId())).append(Pages.hidden("state", state));
		for (String s : requested) {
			body.append(Pages.hidden("scope", s));
		}
		body.append("<button type='submit' id='allow'>Allow</button></form>")
				.append("<form method='post' action='/oauth2/authorize'>").append(Pages.csrf(http))
				.append(Pages.hidden("client_id", client.getClientId())).append(Pages.hidden("state", state))
				.append("<button type='submit' id='deny' class='secondary'>Deny</button></form>");
		return Pages.page("Allow access?", body.toString());
	}

	private static String describe(String scope) {
		return switch (scope) {
			case "fhirUser" -> "(who you are)";
			case "profile" -> "(your name)";
			case "launch", "launch/patient", "launch/encounter" -> "(the patient or encounter in context)";
			case "offline_access" -> "(keep access after you sign out)";
			case "online_access" -> "(keep access while you are signed in)";
			default -> scope.startsWith("patient/") ? "(data of the patient in context)"
					: scope.startsWith("user/") ? "(data you can see)" : "";
		};
	}
}
