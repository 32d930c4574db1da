package org.nssifhir.server.security.enrolment;

import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Predicate;
import org.nssifhir.server.security.SmartUsers;
import org.nssifhir.server.security.launch.Pages;
import org.nssifhir.server.security.policy.SecurityEventSink;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.ErrorCode;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The page a one-time invitation link opens ({@code /enrol?token=…}): the person chooses a username (or sees the
 * one they have) and a password, which is stored as a bcrypt hash (cost 12); the link is then spent. Like the
 * sign-in pages: the server's own HTML, every value escaped, no script, a strict Content-Security-Policy, CSRF
 * protected. An unusable link gets one answer whatever the reason (410, {@code NSSI-0321}) and counts towards the
 * address's rate limit, so links cannot be guessed.
 */
@RestController
@ConditionalOnProperty(name = "nssi.security.mode", havingValue = "BUILTIN", matchIfMissing = true)
public class EnrolmentPages {

	public static final String PATH = "/enrol";
	/** Where the person goes once their password is set: the person's own app. */
	static final String APP = "/patient/launch.html";

	private final Invitations invitations;
	private final Accounts accounts;
	private final SignInThrottle throttle;
	private final SecurityEventSink events;
	private final Predicate<String> configuredUsername;
	private final Predicate<String> configuredClients;
	private final Clock clock;
	private final ApplicationEventPublisher publisher;
	private final BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder(12);

	public EnrolmentPages(
			Invitations invitations, Accounts accounts, SignInThrottle throttle, SecurityEventSink events, SmartUsers users,
			NssiProperties properties, ApplicationEventPublisher publisher) {
		this.publisher = publisher;
		this.invitations = invitations;
		this.accounts = accounts;
		this.throttle = throttle;
		this.events = events;
		this.configuredUsername = users::configured;
		// also before the configured clients reach the database (they are written there at start)
		this.configuredClients = username -> properties.security().clients().stream()
				.anyMatch(client -> client.clientId() != null && client.clientId().trim().equalsIgnoreCase(username));
		this.clock = Clock.systemUTC();
	}

	@GetMapping(value = PATH, produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> open(@RequestParam(value = "token", required = false) String token, HttpServletRequest http) {
		if (throttle.addressLimited(http.getRemoteAddr())) {
			return rateLimited();
		}
		Optional<String> person = invitations.usable(token, clock.instant());
		if (person.isEmpty()) {
			throttle.addressFailed(http.getRemoteAddr());
			return unusable();
		}
		return form(HttpStatus.OK, http, token, person.get(), null, null, null);
	}

	@PostMapping(value = PATH, produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> setPassword(
			@RequestParam(value = "token", required = false) String token,
			@RequestParam(value = "username", required = false) String requestedUsername,
			@RequestParam(value = "password", required = false) String password,
			@RequestParam(value = "confirm", required = false) String confirm,
			@RequestParam(value = "totp_secret", required = false) String totpSecret,
			@RequestParam(value = "totp_code", required = false) String totpCode,
			HttpServletRequest http) {
		if (throttle.addressLimited(http.getRemoteAddr())) {
			return rateLimited();
		}
		Instant now = clock.instant();
		Optional<String> person = invitations.usable(token, now);
		if (person.isEmpty()) {
			throttle.addressFailed(http.getRemoteAddr());
			return unusable();
		}
		String fhirUser = person.get();
		Optional<Accounts.Account> existing = accounts.byFhirUser(fhirUser);
		String username = existing.map(Accounts.Account::username)
				.orElse(requestedUsername == null ? "" : requestedUsername.trim().toLowerCase(Locale.ROOT));
		if (existing.isEmpty()) {
			if (!Accounts.USERNAME.matcher(username).matches()) {
				return form(HttpStatus.BAD_REQUEST, http, token, fhirUser, null, ErrorCode.PASSWORD_RULES_NOT_MET.message(
						"Choose a username of 3 to 64 characters: lower-case letters, digits and . _ @ - (starting with a letter or digit)."), totpSecret);
			}
			if (accounts.usernameTaken(username) || configuredUsername.test(username) || accounts.clientIdTaken(username)
					|| configuredClients.test(username)) {
				return form(HttpStatus.BAD_REQUEST, http, token, fhirUser, null,
						ErrorCode.PASSWORD_RULES_NOT_MET.message("That username is taken. Choose another."), totpSecret);
			}
		}
		Optional<String> problem = PasswordRules.problem(password, username);
		if (problem.isEmpty() && !password.equals(confirm)) {
			problem = Optional.of("The two passwords are not the same.");
		}
		// the optional second step: set up only when the person typed a code their authenticator app made from the secret
		boolean secondStep = accounts.secondStepAvailable() && totpCode != null && !totpCode.isBlank();
		OptionalLong confirmed = secondStep ? Totp.matchingStep(totpSecret, totpCode, now) : OptionalLong.empty();
		if (problem.isEmpty() && secondStep && confirmed.isEmpty()) {
			problem = Optional.of("The code from your authenticator app did not match. Check the key you entered and try a new code,"
					+ " or leave the code empty to skip this step.");
		}
		if (problem.isPresent()) {
			return form(HttpStatus.BAD_REQUEST, http, token, fhirUser, existing.isEmpty() ? username : null,
					ErrorCode.PASSWORD_RULES_NOT_MET.message(problem.get()), totpSecret);
		}
		// spend the link first: of two submissions at once, only one sets a password
		if (invitations.redeem(token, now).isEmpty()) {
			return unusable();
		}
		accounts.setPassword(username, fhirUser, "{bcrypt}" + bcrypt.encode(password), secondStep ? totpSecret : null,
				secondStep ? confirmed.getAsLong() : null, now);
		throttle.cleared(username);
		// a new password ends what the old one opened (the lost phone): its tokens and its sign-in sessions
		publisher.publishEvent(new PasswordReset(username, fhirUser));
		events.accountEvent(username, "invitation-redeemed", fhirUser);
		return Pages.page("You are signed up", "<h1>You are signed up</h1>"
				+ "<p role='status' id='enrolled'>Your password is set. Your username is <strong id='enrolled-username'>" + Pages.esc(username)
				+ "</strong>.</p><p>Keep your password to yourself. If you forget it, your care team can send you a new link.</p>"
				+ "<p><a class='button' id='open-app' href='" + APP + "'>Open your app and sign in</a></p>");
	}

	private ResponseEntity<String> form(
			HttpStatus status, HttpServletRequest http, String token, String fhirUser, String username, String error, String secret) {
		String totpSecret = secret != null && secret.matches("[A-Z2-7]{32}") ? secret : Totp.newSecret();
		Optional<Accounts.Account> existing = accounts.byFhirUser(fhirUser);
		StringBuilder body = new StringBuilder("<h1>").append(existing.isPresent() ? "Choose a new password" : "Welcome: set up your sign-in").append("</h1>");
		body.append("<p>Your care team invited you to the NSSI care app. This link works once.</p>");
		if (error != null) {
			body.append("<p class='error' role='alert' id='enrol-error'>").append(Pages.esc(error)).append("</p>");
		}
		body.append("<form method='post' action='").append(PATH).append("'>").append(Pages.csrf(http)).append(Pages.hidden("token", token));
		if (existing.isPresent()) {
			body.append("<p>Your username: <strong id='existing-username'>").append(Pages.esc(existing.get().username())).append("</strong></p>");
		} else {
			body.append("<p><label for='username'>Choose a username</label> <input id='username' name='username' autocomplete='username'"
					+ " required minlength='3' maxlength='64' autocapitalize='none' value='").append(Pages.esc(username)).append("'></p>");
		}
		body.append("<p><label for='password'>Choose a password (at least ").append(PasswordRules.MIN)
				.append(" characters; a few words you can remember work well)</label> <input id='password' name='password' type='password'"
						+ " autocomplete='new-password' required minlength='").append(PasswordRules.MIN).append("' maxlength='").append(PasswordRules.MAX).append("'></p>")
				.append("<p><label for='confirm'>The same password again</label> <input id='confirm' name='confirm' type='password'"
						+ " autocomplete='new-password' required></p>");
		if (accounts.secondStepAvailable()) {
			body.append("<fieldset class='second-step'><legend>Optional: a second step when you sign in</legend>")
					.append("<p>For extra safety, add this key to an authenticator app on your phone (\"enter a setup key\", time-based):</p>")
					.append("<p><code id='totp-secret'>").append(Pages.esc(totpSecret.replaceAll("(.{4})(?!$)", "$1 "))).append("</code></p>")
					.append(Pages.hidden("totp_secret", totpSecret))
					.append("<p><label for='totp_code'>The 6-digit code the app shows now (leave empty to skip)</label> <input id='totp_code'"
							+ " name='totp_code' inputmode='numeric' autocomplete='one-time-code' maxlength='6'></p>")
					.append("<p>Then you will be asked for a new code each time you sign in.</p></fieldset>");
		}
		body.append("<button type='submit' id='enrol-submit'>Save my password</button></form>");
		return Pages.page(status, "Set up your sign-in", body.toString());
	}

	private static ResponseEntity<String> unusable() {
		return error(HttpStatus.GONE, ErrorCode.INVITATION_NOT_USABLE, "This link cannot be used. It may have been used already, have"
				+ " expired, or been replaced by a newer one. Please ask your care team for a new link.");
	}

	private static ResponseEntity<String> rateLimited() {
		return error(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.SIGN_IN_RATE_LIMITED, "There have been too many attempts from here."
				+ " Please wait a few minutes and try again.");
	}

	private static ResponseEntity<String> error(HttpStatus status, ErrorCode code, String text) {
		return Pages.page(status, "Link not usable", "<h1>This link cannot be used</h1><p class='error' role='alert' id='enrol-error'>"
				+ Pages.esc(code.message(text)) + "</p>");
	}
}
