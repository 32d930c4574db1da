package org.nssifhir.server.security.enrolment;

import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
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
import org.springframework.web.util.UriUtils;

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
	private final EnrolmentSettings settings;
	private final BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder(Accounts.BCRYPT_STRENGTH);

	public EnrolmentPages(
			Invitations invitations, Accounts accounts, SignInThrottle throttle, SecurityEventSink events, SmartUsers users,
			NssiProperties properties, ApplicationEventPublisher publisher, EnrolmentSettings settings) {
		this.publisher = publisher;
		this.settings = settings;
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
		return form(HttpStatus.OK, http, token, person.get(), null, null);
	}

	@PostMapping(value = PATH, produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> setPassword(
			@RequestParam(value = "token", required = false) String token,
			@RequestParam(value = "username", required = false) String requestedUsername,
			@RequestParam(value = "password", required = false) String password,
			@RequestParam(value = "confirm", required = false) String confirm,
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
		// the authenticator key is the one this server made and showed with this link in this browser session, never
		// one the browser sends (a key the client chose could be known to someone else, or be too short)
		String totpSecret = pendingSecret(http, token, false);
		Optional<Accounts.Account> existing = accounts.byFhirUser(fhirUser);
		String username = existing.map(Accounts.Account::username)
				.orElse(requestedUsername == null ? "" : requestedUsername.trim().toLowerCase(Locale.ROOT));
		if (existing.isEmpty()) {
			if (!Accounts.USERNAME.matcher(username).matches()) {
				return form(HttpStatus.BAD_REQUEST, http, token, fhirUser, null,
						"Choose a username of 3 to 64 characters: lower-case letters, digits and . _ @ - (starting with a letter or digit).");
			}
			if (accounts.usernameTaken(username) || configuredUsername.test(username) || accounts.clientIdTaken(username)
					|| configuredClients.test(username)) {
				// counted like a failed sign-in from this address: one invitation link was an unlimited oracle of
				// which usernames exist (review s7, F6); the pause after repeated failures bounds it
				throttle.addressFailed(http.getRemoteAddr());
				return form(HttpStatus.BAD_REQUEST, http, token, fhirUser, null,
						"That username is taken. Choose another.");
			}
		}
		Optional<String> problem = PasswordRules.problem(password, username);
		if (problem.isEmpty() && !password.equals(confirm)) {
			problem = Optional.of("The two passwords are not the same.");
		}
		// the optional second step: set up only when the person typed a code their authenticator app made from the secret
		boolean secondStep = accounts.secondStepAvailable() && totpCode != null && !totpCode.isBlank() && totpSecret != null;
		OptionalLong confirmed = secondStep ? Totp.matchingStep(totpSecret, totpCode, now) : OptionalLong.empty();
		if (problem.isEmpty() && secondStep && confirmed.isEmpty()) {
			problem = Optional.of("The code from your authenticator app did not match. Check the key you entered and try a new code,"
					+ " or leave the code empty to skip this step.");
		}
		if (problem.isEmpty() && accounts.secondStepAvailable() && totpCode != null && !totpCode.isBlank() && totpSecret == null) {
			// a code without a key shown in this session (an expired session, a form posted from elsewhere)
			problem = Optional.of("This page was open too long. Add the new key below to your authenticator app and type its code,"
					+ " or leave the code empty to skip this step.");
		}
		if (problem.isPresent()) {
			return form(HttpStatus.BAD_REQUEST, http, token, fhirUser, existing.isEmpty() ? username : null,
					problem.get());
		}
		http.getSession().removeAttribute(PENDING_SECRET);
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
		return Pages.page(HttpStatus.OK, settings.appName(), "You are signed up", "<h1>You are signed up</h1>"
				+ "<p role='status' id='enrolled'>Your password is set. Your username is <strong id='enrolled-username'>" + Pages.esc(username)
				+ "</strong>.</p><p>Keep your password to yourself. If you forget it, your care team can send you a new link.</p>"
				+ "<p><a class='button' id='open-app' href='" + APP + "'>Open your app and sign in</a></p>");
	}

	private ResponseEntity<String> form(
			HttpStatus status, HttpServletRequest http, String token, String fhirUser, String username, String error) {
		String totpSecret = accounts.secondStepAvailable() ? pendingSecret(http, token, true) : null;
		Optional<Accounts.Account> existing = accounts.byFhirUser(fhirUser);
		StringBuilder body = new StringBuilder("<h1>").append(existing.isPresent() ? "Choose a new password" : "Welcome: set up your sign-in").append("</h1>");
		body.append("<p>Your care team invited you to ").append(Pages.esc(settings.appName())).append(". This link works once.</p>");
		if (error != null) {
			// plain words for the person; the code stays in the page for support (NSSI-0322: the password or username)
			body.append("<p class='error' role='alert' id='enrol-error' data-error-code='").append(ErrorCode.PASSWORD_RULES_NOT_MET.code())
					.append("'>").append(Pages.esc(error)).append("</p>");
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
					.append("<p>For extra safety, add this key to an authenticator app on your phone: <a id='totp-uri' href='")
					.append(Pages.esc(otpauthUri(totpSecret, existing.map(Accounts.Account::username).orElse(null))))
					.append("'>open it in your authenticator app</a>, or choose \"enter a setup key\" (time-based) and type:</p>")
					.append("<p><code id='totp-secret'>").append(Pages.esc(totpSecret.replaceAll("(.{4})(?!$)", "$1 "))).append("</code></p>")
					.append("<p><label for='totp_code'>The 6-digit code the app shows now (leave empty to skip)</label> <input id='totp_code'"
							+ " name='totp_code' inputmode='numeric' autocomplete='one-time-code' maxlength='6'></p>")
					.append("<p>Then you will be asked for a new code each time you sign in.</p></fieldset>");
		}
		body.append("<button type='submit' id='enrol-submit'>Save my password</button></form>");
		return Pages.page(status, settings.appName(), "Set up your sign-in", body.toString());
	}

	/** The session attribute holding the authenticator key made for an invitation link (by the link's hash). */
	static final String PENDING_SECRET = EnrolmentPages.class.getName() + ".pendingSecret";

	/** An authenticator key this server made for the link, kept in the browser's session until the password is set. */
	record PendingSecret(String tokenHash, String secret) implements java.io.Serializable {}

	/**
	 * The key made for this link in this session; with {@code create}, a new one (160 random bits, RFC 4226's
	 * recommended length) when there is none yet or the session's is for another link.
	 */
	private static String pendingSecret(HttpServletRequest http, String token, boolean create) {
		String tokenHash = Invitations.hash(token == null ? "" : token);
		jakarta.servlet.http.HttpSession session = http.getSession(create);
		if (session != null && session.getAttribute(PENDING_SECRET) instanceof PendingSecret pending && pending.tokenHash().equals(tokenHash)) {
			return pending.secret();
		}
		if (!create) {
			return null;
		}
		String secret = Totp.newSecret();
		session.setAttribute(PENDING_SECRET, new PendingSecret(tokenHash, secret));
		return secret;
	}

	/** The key as an otpauth:// URI (the Key Uri Format authenticator apps open from a link or a QR code). */
	private String otpauthUri(String secret, String username) {
		String issuer = settings.appName();
		String label = username == null ? issuer : issuer + ":" + username;
		return "otpauth://totp/" + UriUtils.encodePathSegment(label, StandardCharsets.UTF_8) + "?secret=" + secret
				+ "&issuer=" + UriUtils.encodeQueryParam(issuer, StandardCharsets.UTF_8) + "&algorithm=SHA1&digits=6&period=30";
	}

	private ResponseEntity<String> unusable() {
		return error(HttpStatus.GONE, ErrorCode.INVITATION_NOT_USABLE, "This link cannot be used. It may have been used already, have"
				+ " expired, or been replaced by a newer one. Please ask your care team for a new link.");
	}

	private ResponseEntity<String> rateLimited() {
		return error(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.SIGN_IN_RATE_LIMITED, "There have been too many attempts from here."
				+ " Please wait a few minutes and try again.");
	}

	private ResponseEntity<String> error(HttpStatus status, ErrorCode code, String text) {
		return Pages.page(status, settings.appName(), "Link not usable", "<h1>This link cannot be used</h1><p class='error' role='alert' id='enrol-error'"
				+ " data-error-code='" + code.code() + "'>" + Pages.esc(text) + "</p>");
	}
}
