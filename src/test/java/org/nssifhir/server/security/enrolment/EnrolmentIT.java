package org.nssifhir.server.security.enrolment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.CONFIDENTIAL_APP;
import static org.nssifhir.server.support.SmartTestApps.CONFIDENTIAL_SECRET;
import static org.nssifhir.server.support.SmartTestApps.PUBLIC_APP;
import static org.nssifhir.server.support.SmartTestApps.REDIRECT_URI;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.SmartBrowser;
import org.nssifhir.server.support.SmartBrowser.Pkce;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Enrolment by invitation over real HTTP: who may invite (a treating clinician, the EHR's backend client; not an
 * unrelated clinician, the patient or a proxy), the one-time link (password rules, single use, expiry, replaced by a
 * newer invitation, revoked), signing in to the SMART authorization server as the invited fhirUser, the lockout
 * after repeated failures and the per-address rate limit, and the audit trail of each step.
 */
class EnrolmentIT extends BaseIT {

	private static final String GOOD_PASSWORD = "blue kettle morning walk";

	private final ObjectMapper json = new ObjectMapper();

	@Autowired
	private JdbcTemplate jdbc;

	@Autowired
	private SignInThrottle throttle;

	@Autowired
	private Accounts accounts;

	private String patient;
	private String proxy;
	private String treating;
	private String unrelated;

	@BeforeEach
	void patientWithTeamAndParent() {
		IGenericClient admin = client();
		Patient p = tagged(new Patient());
		p.addName().setFamily("Enroltest").addGiven("Robin");
		p.setBirthDateElement(new DateType("2010-02-01"));
		patient = admin.create().resource(p).execute().getId().getIdPart();
		treating = admin.create().resource(tagged(new Practitioner())).execute().getId().getIdPart();
		unrelated = admin.create().resource(tagged(new Practitioner())).execute().getId().getIdPart();
		RelatedPerson parent = tagged(new RelatedPerson());
		parent.setPatient(new Reference("Patient/" + patient));
		proxy = admin.create().resource(parent).execute().getId().getIdPart();
		CareTeam team = tagged(new CareTeam());
		team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
		team.setSubject(new Reference("Patient/" + patient));
		team.addParticipant().setMember(new Reference("Practitioner/" + treating));
		admin.create().resource(team).execute();
		throttle.resetAddresses();
	}

	@Test
	void onlyATreatingClinicianOrTheEhrMayInvite() throws Exception {
		String scopes = "user/Patient.rus user/RelatedPerson.rus";
		HttpResponse<String> unrelatedAnswer = invite("Patient/" + patient, clinician(unrelated, scopes));
		assertThat(unrelatedAnswer.statusCode()).isEqualTo(403);
		assertThat(unrelatedAnswer.body()).contains("NSSI-0311");
		// the patient and the proxy may not invite anyone (a proxy inviting a proxy would widen access)
		String own = tokens().ownPatient(patient, "patient/Patient.rus patient/RelatedPerson.rus");
		assertThat(invite("Patient/" + patient, own).body()).contains("NSSI-0311");
		String proxyToken = tokens().token().scopes("patient/Patient.rus patient/RelatedPerson.rus").claim("patient", patient)
				.claim("fhirUser", fhirBase() + "/RelatedPerson/" + proxy).sign();
		assertThat(invite("RelatedPerson/" + proxy, proxyToken).statusCode()).isEqualTo(403);
		// reading is not enough: the operation needs a scope that updates the resource type
		HttpResponse<String> readOnly = invite("Patient/" + patient, clinician(treating, "user/Patient.rs"));
		assertThat(readOnly.statusCode()).isEqualTo(403);
		assertThat(readOnly.body()).contains("NSSI-0302");
		// a patient the caller cannot see at all: as if it did not exist
		assertThat(invite("Patient/does-not-exist-" + unique("x"), clinician(treating, scopes)).statusCode()).isEqualTo(404);

		HttpResponse<String> ok = invite("Patient/" + patient, clinician(treating, scopes));
		assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
		assertThat(ok.headers().firstValue("Cache-Control").orElse("")).contains("no-store");
		Parameters answer = fhirContext.newJsonParser().parseResource(Parameters.class, ok.body());
		assertThat(answer.getParameter("link").getValue().primitiveValue()).startsWith(baseUrl() + "/enrol?token=");
		assertThat(answer.getParameter("expires")).isNotNull();
		// the EHR's backend client, with a system scope that updates RelatedPersons
		HttpResponse<String> byEhr = invite("RelatedPerson/" + proxy, tokens().system("system/RelatedPerson.rus"));
		assertThat(byEhr.statusCode()).as(byEhr.body()).isEqualTo(200);
	}

	@Test
	void anInvitedPatientSetsAPasswordOnceAndSignsInAsThemselves() throws Exception {
		String link = link("Patient/" + patient);
		// the token is stored only as a hash
		String token = link.substring(link.indexOf("token=") + 6);
		assertThat(jdbc.queryForObject("SELECT count(*) FROM nssi_invitation WHERE token_hash = ?", Integer.class, token)).isZero();

		SmartBrowser browser = new SmartBrowser(baseUrl(), "x", "x");
		HttpResponse<String> form = browser.get(link);
		assertThat(form.statusCode()).isEqualTo(200);
		assertThat(form.headers().firstValue("Content-Security-Policy").orElse("")).contains("script-src 'none'");
		assertThat(form.headers().firstValue("Referrer-Policy").orElse("")).isEqualTo("no-referrer");
		String username = unique("robin").toLowerCase();
		// too short: refused with the rule, nothing spent
		HttpResponse<String> weak = browser.post("/enrol", form.body(), Map.of("token", token, "username", username, "password", "short", "confirm", "short"));
		assertThat(weak.statusCode()).isEqualTo(400);
		assertThat(weak.body()).contains("NSSI-0322").contains("at least 12 characters");
		HttpResponse<String> containsName = browser.post("/enrol", weak.body(),
				Map.of("token", token, "username", username, "password", username + "-and-more", "confirm", username + "-and-more"));
		assertThat(containsName.body()).contains("NSSI-0322").contains("must not contain your username");
		HttpResponse<String> mismatch = browser.post("/enrol", containsName.body(),
				Map.of("token", token, "username", username, "password", GOOD_PASSWORD, "confirm", GOOD_PASSWORD + "!"));
		assertThat(mismatch.body()).contains("NSSI-0322").contains("not the same");
		HttpResponse<String> done = browser.post("/enrol", mismatch.body(),
				Map.of("token", token, "username", username, "password", GOOD_PASSWORD, "confirm", GOOD_PASSWORD));
		assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
		assertThat(done.body()).contains("Your password is set").contains(username);
		assertThat(jdbc.queryForObject("SELECT password_hash FROM nssi_account WHERE username = ?", String.class, username)).startsWith("{bcrypt}$2a$12$");

		// single use
		HttpResponse<String> again = new SmartBrowser(baseUrl(), "x", "x").get(link);
		assertThat(again.statusCode()).isEqualTo(410);
		assertThat(again.body()).contains("NSSI-0321");

		// signs in to the SMART authorization server as Patient/<id>, in their own record
		JsonNode tokenResponse = signIn(username, GOOD_PASSWORD);
		assertThat(tokenResponse.path("patient").asText()).isEqualTo(patient);
		HttpResponse<String> own = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + patient))
				.header("Authorization", "Bearer " + tokenResponse.path("access_token").asText()).build(), HttpResponse.BodyHandlers.ofString());
		assertThat(own.statusCode()).isEqualTo(200);

		// re-invitation resets the password; the username stays
		Parameters reinvite = fhirContext.newJsonParser().parseResource(Parameters.class, invite("Patient/" + patient, treatingToken()).body());
		assertThat(reinvite.getParameter("username").getValue().primitiveValue()).isEqualTo(username);

		awaitAuditTrail();
		Bundle audit = client().search().forResource(AuditEvent.class).withTag("urn:nssi-fhir:audit", "enrolment").count(200).returnBundle(Bundle.class).execute();
		assertThat(audit.getEntry().stream().map(e -> (AuditEvent) e.getResource())
				.filter(e -> e.getEntityFirstRep().getWhat().getIdentifier().getValue().equals("Patient/" + patient))
				.map(AuditEvent::getOutcomeDesc)).contains("Enrolment: invitation-created", "Enrolment: invitation-redeemed");
	}

	@Test
	void invitationsExpireAndANewOneOrARevocationReplacesTheOld() throws Exception {
		String first = link("Patient/" + patient);
		String second = link("Patient/" + patient);
		assertThat(get(first).statusCode()).as("replaced by the newer invitation").isEqualTo(410);
		assertThat(get(second).statusCode()).isEqualTo(200);
		HttpResponse<String> revoked = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + patient + "/$nssi-revoke-invitation"))
				.header("Authorization", "Bearer " + treatingToken()).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
		assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
		assertThat(revoked.body()).contains("\"valueInteger\":1");
		assertThat(get(second).statusCode()).isEqualTo(410);

		String third = link("Patient/" + patient);
		jdbc.update("UPDATE nssi_invitation SET expires_at = now() - interval '1 minute' WHERE token_hash = ?",
				Invitations.hash(third.substring(third.indexOf("token=") + 6)));
		HttpResponse<String> expired = get(third);
		assertThat(expired.statusCode()).isEqualTo(410);
		assertThat(expired.body()).contains("NSSI-0321");
	}

	@Test
	void repeatedFailedSignInsPauseTheUsernameUntilANewPassword() throws Exception {
		String username = enrol("Patient/" + patient, unique("lock").toLowerCase());
		for (int i = 0; i < 5; i++) {
			HttpResponse<String> wrong = loginAttempt(username, "not the right password " + i);
			assertThat(wrong.body()).contains("Wrong username or password");
		}
		// the right password no longer helps: paused, before the password is looked at
		HttpResponse<String> locked = loginAttempt(username, GOOD_PASSWORD);
		assertThat(locked.statusCode()).isEqualTo(429);
		assertThat(locked.body()).contains("NSSI-0324");
		// someone locked out may be signing in because they need help now: the pause names the crisis contacts
		assertThat(locked.body()).contains("If you need help now").contains("Test crisis line (synthetic)");
		// the same answer for a username that has no account (a pause tells nothing about who is enrolled)
		String nobody = unique("nobody").toLowerCase();
		for (int i = 0; i < 5; i++) {
			loginAttempt(nobody, "whatever password " + i);
		}
		assertThat(loginAttempt(nobody, "whatever").body()).contains("NSSI-0324");
		awaitAuditTrail();
		assertThat(client().search().forResource(AuditEvent.class).withTag("urn:nssi-fhir:audit", "enrolment").count(200)
				.returnBundle(Bundle.class).execute().getEntry().stream()
				.anyMatch(e -> ((AuditEvent) e.getResource()).getOutcomeDesc().equals("Enrolment: sign-in-paused")
						&& ((AuditEvent) e.getResource()).getEntityFirstRep().getWhat().getIdentifier().getValue().equals("username:" + username))).isTrue();

		// a new invitation from the care team sets a new password and lifts the pause
		enrol("Patient/" + patient, username);
		assertThat(signIn(username, GOOD_PASSWORD).path("patient").asText()).isEqualTo(patient);
	}

	@Test
	void tooManyFailuresFromOneAddressAreRefused() throws Exception {
		try {
			for (int i = 0; i < 30; i++) {
				assertThat(get(baseUrl() + "/enrol?token=guess-" + i).statusCode()).isEqualTo(410);
			}
			HttpResponse<String> limited = get(baseUrl() + "/enrol?token=guess-31");
			assertThat(limited.statusCode()).isEqualTo(429);
			assertThat(limited.body()).contains("NSSI-0323");
			// the sign-in page too, whatever the username
			HttpResponse<String> login = loginAttempt(unique("someone"), "x");
			assertThat(login.statusCode()).isEqualTo(429);
			assertThat(login.body()).contains("NSSI-0323");
		} finally {
			throttle.resetAddresses();
		}
	}

	@Test
	void aWrongPasswordGetsTheSameAnswerWhateverTheAccount() throws Exception {
		String unknown = unique("nobody").toLowerCase();
		String plain = enrol("Patient/" + patient, unique("plain").toLowerCase());
		String withCode = unique("coded").toLowerCase();
		enrolWithSecondStep("RelatedPerson/" + proxy, withCode, Totp.step(java.time.Instant.now()));
		Map<String, HttpResponse<String>> answers = new LinkedHashMap<>();
		Map<String, Long> millis = new LinkedHashMap<>();
		for (String username : java.util.List.of(unknown, plain, withCode)) {
			long[] times = new long[3];
			for (int i = 0; i < times.length; i++) {
				long start = System.nanoTime();
				answers.put(username, wrongPassword(username));
				times[i] = (System.nanoTime() - start) / 1_000_000;
			}
			java.util.Arrays.sort(times);
			millis.put(username, times[1]);
		}
		HttpResponse<String> first = answers.get(unknown);
		assertThat(first.statusCode()).isEqualTo(302);
		assertThat(first.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l).endsWith("/login?error"));
		for (HttpResponse<String> answer : answers.values()) {
			assertThat(answer.statusCode()).isEqualTo(first.statusCode());
			assertThat(answer.body()).isEqualTo(first.body());
			assertThat(withoutDate(answer)).isEqualTo(withoutDate(first));
		}
		// and about the time: an unknown username's password is hashed as long as an enrolled person's (bcrypt, cost 12)
		System.out.println("[EnrolmentIT] wrong password, median ms: unknown " + millis.get(unknown) + ", no second step "
				+ millis.get(plain) + ", second step " + millis.get(withCode));
		assertThat(millis.get(unknown)).isGreaterThan(Math.min(millis.get(plain), millis.get(withCode)) / 2);
		// the right password of the account with a second step goes on to the code; the others are signed in
		assertThat(signInWithCode(withCode, null).uri().getPath()).isEqualTo(SecondStep.PATH);
	}

	@Test
	void anInvitedProxySignsInInTheContextOfTheirPatient() throws Exception {
		String username = enrol("RelatedPerson/" + proxy, unique("parent").toLowerCase());
		JsonNode token = signIn(username, GOOD_PASSWORD);
		assertThat(token.path("patient").asText()).isEqualTo(patient);
	}

	@Test
	void theOptionalSecondStepAsksForTheAuthenticatorCodeAtEverySignIn() throws Exception {
		String link = link("Patient/" + patient);
		SmartBrowser browser = new SmartBrowser(baseUrl(), "x", "x");
		HttpResponse<String> form = browser.get(link);
		String secret = shownSecret(form.body());
		String username = unique("two").toLowerCase();
		Map<String, String> fields = new LinkedHashMap<>(Map.of("token", link.substring(link.indexOf("token=") + 6), "username", username,
				"password", GOOD_PASSWORD, "confirm", GOOD_PASSWORD, "totp_code", "000000"));
		// a wrong code: nothing set up, nothing spent
		HttpResponse<String> wrong = browser.post("/enrol", form.body(), fields);
		assertThat(wrong.statusCode()).isEqualTo(400);
		assertThat(wrong.body()).contains("did not match").contains(secret.substring(0, 4));
		fields.put("totp_code", Totp.code(secret, Totp.step(java.time.Instant.now())));
		assertThat(browser.post("/enrol", wrong.body(), fields).statusCode()).isEqualTo(200);

		// the password alone is not enough any more: after it, a page asks for the code (and only for it)
		HttpResponse<String> asked = signInWithCode(username, null);
		assertThat(asked.statusCode()).isEqualTo(200);
		assertThat(asked.uri().getPath()).isEqualTo(SecondStep.PATH);
		assertThat(asked.body()).contains("id='code'").doesNotContain("id='password'");
		// the code that confirmed the key at enrolment is spent; the app's next code signs in
		HttpResponse<String> spent = signInWithCode(username, Totp.code(secret, Totp.step(java.time.Instant.now())));
		assertThat(spent.statusCode()).isEqualTo(401);
		assertThat(spent.body()).contains("That code did not work");
		HttpResponse<String> callback = signInWithCode(username, Totp.code(secret, Totp.step(java.time.Instant.now()) + 1));
		assertThat(SmartBrowser.query(callback)).containsKey("code");

		// the secret is stored encrypted (AES-GCM, key outside the database), never as the person's app shows it
		String stored = jdbc.queryForObject("SELECT totp_secret FROM nssi_account WHERE username = ?", String.class, username);
		assertThat(stored).startsWith(TotpSecrets.PREFIX).doesNotContain(secret);
		// sealed for this account: copied onto another account's row it does not open (no code matches there)
		String other = enrol("RelatedPerson/" + proxy, unique("copy").toLowerCase());
		jdbc.update("UPDATE nssi_account SET totp_secret = ? WHERE username = ?", stored, other);
		assertThat(accounts.totpSecret(other)).contains("");
	}

	@Test
	void authenticatorSecretsStoredInPlainByAnEarlierVersionAreEncryptedAndStillWork() throws Exception {
		String username = enrol("Patient/" + patient, unique("plain").toLowerCase());
		String secret = Totp.newSecret();
		jdbc.update("UPDATE nssi_account SET totp_secret = ? WHERE username = ?", secret, username);
		// still readable as it is until the migration runs (at every start)
		assertThat(accounts.totpSecret(username)).contains(secret);
		assertThat(accounts.sealPlainSecrets()).isGreaterThanOrEqualTo(1);
		String stored = jdbc.queryForObject("SELECT totp_secret FROM nssi_account WHERE username = ?", String.class, username);
		assertThat(stored).startsWith(TotpSecrets.PREFIX).doesNotContain(secret);
		assertThat(accounts.sealPlainSecrets()).isZero();
		// and sign-in with the code works as before
		HttpResponse<String> callback = signInWithCode(username, Totp.code(secret, Totp.step(java.time.Instant.now())));
		assertThat(SmartBrowser.query(callback)).containsKey("code");
	}

	@Test
	void theServerMakesTheAuthenticatorKeyAndABrowserCannotChooseIt() throws Exception {
		String link = link("Patient/" + patient);
		String token = link.substring(link.indexOf("token=") + 6);
		SmartBrowser browser = new SmartBrowser(baseUrl(), "x", "x");
		HttpResponse<String> form = browser.get(link);
		String shown = shownSecret(form.body());
		// 160 random bits (RFC 4226), as text and as an otpauth:// URI an authenticator app opens; never a form field
		assertThat(Totp.decode(shown)).hasSize(20);
		assertThat(form.body()).contains("otpauth://totp/My%20support%20app?secret=" + shown + "&amp;issuer=My%20support%20app")
				.doesNotContain("name='totp_secret'");
		// the page speaks of the person's app by the deployment's name for it, never the server's technical one
		assertThat(form.body()).contains("<header class='site'><p>My support app</p></header>").contains("invited you to My support app")
				.doesNotContain("NSSI FHIR Server");
		// the same key while the page is reloaded in this browser; another browser gets another key
		assertThat(shownSecret(browser.get(link).body())).isEqualTo(shown);
		assertThat(shownSecret(new SmartBrowser(baseUrl(), "x", "x").get(link).body())).isNotEqualTo(shown);

		// a key of the browser's choosing (a short one here), with a code made from it: ignored, so the code does not match
		String chosen = "JBSWY3DPEHPK3PXP";
		String username = unique("chosen").toLowerCase();
		Map<String, String> fields = new LinkedHashMap<>(Map.of("token", token, "username", username, "password", GOOD_PASSWORD,
				"confirm", GOOD_PASSWORD, "totp_secret", chosen, "totp_code", Totp.code(chosen, Totp.step(java.time.Instant.now()))));
		HttpResponse<String> refused = browser.post("/enrol", form.body(), fields);
		assertThat(refused.statusCode()).isEqualTo(400);
		assertThat(refused.body()).contains("did not match");
		assertThat(accounts.byUsername(username)).isEmpty();
		// a code without a key shown in this session (the form posted from another browser): refused too
		SmartBrowser elsewhere = new SmartBrowser(baseUrl(), "x", "x");
		HttpResponse<String> elsewhereForm = elsewhere.get("/login");
		fields.put("totp_code", Totp.code(shown, Totp.step(java.time.Instant.now())));
		assertThat(elsewhere.post("/enrol", elsewhereForm.body(), fields).statusCode()).isEqualTo(400);
		// the server's own key confirms, and is what the account keeps
		fields.put("totp_code", Totp.code(shown, Totp.step(java.time.Instant.now())));
		assertThat(browser.post("/enrol", refused.body(), fields).statusCode()).isEqualTo(200);
		assertThat(accounts.totpSecret(username)).contains(shown);
	}

	@Test
	void anAuthenticatorCodeSignsInOnceAndTheSameCodeAgainIsAFailedSignIn() throws Exception {
		String username = unique("replay").toLowerCase();
		long step = Totp.step(java.time.Instant.now());
		String secret = enrolWithSecondStep("Patient/" + patient, username, step);

		String code = Totp.code(secret, step + 1);
		assertThat(SmartBrowser.query(signInWithCode(username, code))).containsKey("code");
		// the same code again, still within its 90 seconds, from another browser: refused like a wrong code
		HttpResponse<String> replayed = signInWithCode(username, code);
		assertThat(replayed.statusCode()).isEqualTo(401);
		assertThat(replayed.body()).contains("That code did not work");
		// an older code than the last one accepted too
		assertThat(signInWithCode(username, Totp.code(secret, step)).statusCode()).isEqualTo(401);
		// both counted towards the pause, and the step is kept with the account (every node, every restart)
		assertThat(jdbc.queryForObject("SELECT failures FROM nssi_sign_in_failure WHERE username = ?", Integer.class, username)).isEqualTo(2);
		assertThat(jdbc.queryForObject("SELECT totp_last_step FROM nssi_account WHERE username = ?", Long.class, username)).isEqualTo(step + 1);
		// and audited as failed sign-ins of that username
		awaitAuditTrail();
		long refusals = client().search().forResource(AuditEvent.class).withTag("urn:nssi-fhir:audit", "refused-authentication").sort().descending("_lastUpdated").count(200)
				.returnBundle(Bundle.class).execute().getEntry().stream().map(e -> (AuditEvent) e.getResource())
				.filter(e -> username.equals(e.getAgentFirstRep().getWho().getIdentifier().getValue())).count();
		assertThat(refusals).isEqualTo(2);
		// three more and sign-in is paused, even with a good code
		for (int i = 0; i < 3; i++) {
			signInWithCode(username, code);
		}
		assertThat(signInWithCode(username, Totp.code(secret, Totp.step(java.time.Instant.now()) + 1)).statusCode()).isEqualTo(429);
	}

	@Test
	void aDisabledAccountCannotSignInOrRefreshAndItsTokensAreRevoked() throws Exception {
		String username = enrol("Patient/" + patient, unique("gone").toLowerCase());
		JsonNode tokens = signInConfidential(username);
		String refresh = tokens.path("refresh_token").asText();
		assertThat(refresh).isNotBlank();
		String access = tokens.path("access_token").asText();
		assertThat(read("Patient/" + patient, access)).isEqualTo(200);

		// not the patient, a proxy or a clinician without a treating relationship
		String scopes = "user/Patient.rus user/RelatedPerson.rus";
		assertThat(disable("Patient/" + patient, clinician(unrelated, scopes)).body()).contains("NSSI-0311");
		assertThat(disable("Patient/" + patient, tokens().ownPatient(patient, "patient/Patient.rus")).body()).contains("NSSI-0311");
		assertThat(signIn(username, GOOD_PASSWORD).path("access_token").asText()).isNotBlank();

		// the treating clinician disables it
		HttpResponse<String> done = disable("Patient/" + patient, clinician(treating, scopes));
		assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
		Parameters answer = fhirContext.newJsonParser().parseResource(Parameters.class, done.body());
		assertThat(((org.hl7.fhir.r4.model.BooleanType) answer.getParameter("disabled").getValue()).booleanValue()).isTrue();
		assertThat(answer.getParameter("username").getValue().primitiveValue()).isEqualTo(username);
		// the password no longer signs in, the refresh token no longer refreshes, the access token no longer reads
		assertThat(loginAttempt(username, GOOD_PASSWORD).body()).doesNotContain("code=").contains("login-error");
		HttpResponse<String> refreshed = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
						(CONFIDENTIAL_APP + ":" + CONFIDENTIAL_SECRET).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
				.POST(HttpRequest.BodyPublishers.ofString(SmartBrowser.encode(Map.of("grant_type", "refresh_token", "refresh_token", refresh))))
				.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(refreshed.statusCode()).isEqualTo(400);
		assertThat(refreshed.body()).contains("invalid_grant");
		assertThat(read("Patient/" + patient, access)).isEqualTo(401);
		// audited, without the password or any token
		awaitAudit("account-disabled");
		// a new invitation from the care team gives access back (with a new password)
		String link = link("Patient/" + patient);
		SmartBrowser browser = new SmartBrowser(baseUrl(), "x", "x");
		HttpResponse<String> form = browser.get(link);
		HttpResponse<String> reset = browser.post("/enrol", form.body(), Map.of("token", link.substring(link.indexOf("token=") + 6),
				"password", GOOD_PASSWORD + " again", "confirm", GOOD_PASSWORD + " again"));
		assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
		assertThat(signIn(username, GOOD_PASSWORD + " again").path("access_token").asText()).isNotBlank();
	}

	@Test
	void aUsernameCannotBeAClientIdAndDisablingAPersonNeverReachesAClientsTokens() throws Exception {
		// enrolment refuses any registered or configured client id, whatever the case and surrounding blanks
		for (String clientId : new String[] {" " + org.nssifhir.server.support.SmartTestApps.BACKEND_BULK.toUpperCase() + " ", PUBLIC_APP,
				org.nssifhir.server.app.PatientApp.CLIENT_ID}) {
			String link = link("Patient/" + patient);
			SmartBrowser browser = new SmartBrowser(baseUrl(), "x", "x");
			HttpResponse<String> form = browser.get(link);
			HttpResponse<String> refused = browser.post("/enrol", form.body(), Map.of("token", link.substring(link.indexOf("token=") + 6),
					"username", clientId, "password", GOOD_PASSWORD, "confirm", GOOD_PASSWORD));
			assertThat(refused.statusCode()).as(clientId).isEqualTo(400);
			assertThat(refused.body()).contains("NSSI-0322").contains("taken");
		}
		assertThat(accounts.byFhirUser("Patient/" + patient)).isEmpty();

		// an account that already has a client's id (made before this rule): disabling it leaves the client's tokens alone
		String clientId = org.nssifhir.server.support.SmartTestApps.BACKEND_BULK;
		String backend = org.nssifhir.server.support.BackendTokens.token(http, baseUrl(), clientId, "system/Patient.rs");
		assertThat(read("Patient/" + patient, backend)).isEqualTo(200);
		jdbc.update("INSERT INTO nssi_account (username, fhir_user, password_hash, created_at, password_set_at) VALUES (?, ?, ?, now(), now())",
				clientId, "Patient/" + patient, "{noop}unused");
		try {
			HttpResponse<String> done = disable("Patient/" + patient, treatingToken());
			assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
			assertThat(read("Patient/" + patient, backend)).isEqualTo(200);
		} finally {
			jdbc.update("DELETE FROM nssi_account WHERE fhir_user = ?", "Patient/" + patient);
		}
	}

	@Test
	void aNewPasswordFromANewInvitationSignsTheOldPhoneOut() throws Exception {
		String username = enrol("Patient/" + patient, unique("lost").toLowerCase());
		SmartBrowser oldPhone = new SmartBrowser(baseUrl(), username, GOOD_PASSWORD);
		JsonNode tokens = signInConfidential(oldPhone);
		String access = tokens.path("access_token").asText();
		String refresh = tokens.path("refresh_token").asText();
		assertThat(read("Patient/" + patient, access)).isEqualTo(200);
		// the refresh token works before (and rotates)
		HttpResponse<String> rotated = refresh(refresh);
		assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
		refresh = json.readTree(rotated.body()).path("refresh_token").asText();
		access = json.readTree(rotated.body()).path("access_token").asText();
		int loginsBefore = oldPhone.logins();

		// the phone is lost: the care team sends a new link, the person sets a new password
		String link = link("Patient/" + patient);
		SmartBrowser newPhone = new SmartBrowser(baseUrl(), "x", "x");
		HttpResponse<String> form = newPhone.get(link);
		HttpResponse<String> reset = newPhone.post("/enrol", form.body(), Map.of("token", link.substring(link.indexOf("token=") + 6),
				"password", GOOD_PASSWORD + " anew", "confirm", GOOD_PASSWORD + " anew"));
		assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);

		// the old phone's access token, refresh token and browser session are all gone
		assertThat(read("Patient/" + patient, access)).isEqualTo(401);
		HttpResponse<String> refused = refresh(refresh);
		assertThat(refused.statusCode()).isEqualTo(400);
		assertThat(refused.body()).contains("invalid_grant");
		HttpResponse<String> again = oldPhone.get(confidentialAuthorizeUrl(Pkce.create()));
		assertThat(again.headers().firstValue("Location").orElse("")).doesNotContain("code=");
		// and the next launch asks for the password again (the old one no longer signs in)
		HttpResponse<String> relaunch = oldPhone.get(confidentialAuthorizeUrl(Pkce.create()));
		assertThat(oldPhone.logins()).isGreaterThan(loginsBefore);
		assertThat(relaunch.headers().firstValue("Location").orElse("")).doesNotContain("code=");
		// the new password signs in
		assertThat(signIn(username, GOOD_PASSWORD + " anew").path("access_token").asText()).isNotBlank();
	}

	// ---------------------------------------------------------------- helpers

	private int read(String path, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + path)).header("Authorization", "Bearer " + token).GET().build(),
				HttpResponse.BodyHandlers.discarding()).statusCode();
	}

	private HttpResponse<String> disable(String person, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + person + "/$nssi-disable-account"))
				.header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
	}

	private void awaitAudit(String event) throws Exception {
		for (int i = 0; i < 50; i++) {
			Bundle found = client().search().forResource(AuditEvent.class)
					.withTag("urn:nssi-fhir:audit", "enrolment").count(200).returnBundle(Bundle.class).execute();
			if (found.getEntry().stream().map(e -> (AuditEvent) e.getResource())
					.anyMatch(e -> e.getOutcomeDesc().equals("Enrolment: " + event)
							&& e.getEntityFirstRep().getWhat().getIdentifier().getValue().equals("Patient/" + patient))) {
				return;
			}
			Thread.sleep(200);
		}
		throw new AssertionError("no AuditEvent for " + event);
	}

	/** Signs in with the confidential test app and offline_access: access and refresh token. */
	private JsonNode signInConfidential(String username) throws Exception {
		return signInConfidential(new SmartBrowser(baseUrl(), username, GOOD_PASSWORD));
	}

	private JsonNode signInConfidential(SmartBrowser browser) throws Exception {
		Pkce pkce = Pkce.create();
		Map<String, String> p = new LinkedHashMap<>();
		p.put("response_type", "code");
		p.put("client_id", CONFIDENTIAL_APP);
		p.put("redirect_uri", REDIRECT_URI);
		p.put("scope", "launch/patient openid fhirUser offline_access patient/*.rs");
		p.put("state", "s-3");
		p.put("aud", fhirBase());
		p.put("code_challenge", pkce.challenge());
		p.put("code_challenge_method", "S256");
		Map<String, String> result = SmartBrowser.query(browser.get(confidentialAuthorizeUrl(pkce)));
		assertThat(result).containsKey("code");
		HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
						(CONFIDENTIAL_APP + ":" + CONFIDENTIAL_SECRET).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
				.POST(HttpRequest.BodyPublishers.ofString(SmartBrowser.encode(Map.of("grant_type", "authorization_code", "code", result.get("code"),
						"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier()))))
				.build(), HttpResponse.BodyHandlers.ofString());
		JsonNode token = json.readTree(response.body());
		assertThat(token.path("access_token").asText()).as(response.body()).isNotBlank();
		return token;
	}


	private String confidentialAuthorizeUrl(Pkce pkce) {
		Map<String, String> p = new LinkedHashMap<>();
		p.put("response_type", "code");
		p.put("client_id", CONFIDENTIAL_APP);
		p.put("redirect_uri", REDIRECT_URI);
		p.put("scope", "launch/patient openid fhirUser offline_access patient/*.rs");
		p.put("state", "s-3");
		p.put("aud", fhirBase());
		p.put("code_challenge", pkce.challenge());
		p.put("code_challenge_method", "S256");
		return "/oauth2/authorize?" + SmartBrowser.encode(p);
	}

	private HttpResponse<String> refresh(String refreshToken) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
						(CONFIDENTIAL_APP + ":" + CONFIDENTIAL_SECRET).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
				.POST(HttpRequest.BodyPublishers.ofString(SmartBrowser.encode(Map.of("grant_type", "refresh_token", "refresh_token", refreshToken))))
				.build(), HttpResponse.BodyHandlers.ofString());
	}

	private String authorizeUrl(Pkce pkce) {
		Map<String, String> p = new LinkedHashMap<>();
		p.put("response_type", "code");
		p.put("client_id", PUBLIC_APP);
		p.put("redirect_uri", REDIRECT_URI);
		p.put("scope", "launch/patient openid fhirUser patient/*.rs");
		p.put("state", "s-2");
		p.put("aud", fhirBase());
		p.put("code_challenge", pkce.challenge());
		p.put("code_challenge_method", "S256");
		return "/oauth2/authorize?" + SmartBrowser.encode(p);
	}

	private String enrol(String person, String username) throws Exception {
		String link = link(person);
		SmartBrowser browser = new SmartBrowser(baseUrl(), "x", "x");
		HttpResponse<String> form = browser.get(link);
		Map<String, String> fields = new LinkedHashMap<>();
		fields.put("token", link.substring(link.indexOf("token=") + 6));
		fields.put("username", username);
		fields.put("password", GOOD_PASSWORD);
		fields.put("confirm", GOOD_PASSWORD);
		HttpResponse<String> done = browser.post("/enrol", form.body(), fields);
		assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
		return username;
	}

	private JsonNode signIn(String username, String password) throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), username, password);
		Pkce pkce = Pkce.create();
		Map<String, String> p = new LinkedHashMap<>();
		p.put("response_type", "code");
		p.put("client_id", PUBLIC_APP);
		p.put("redirect_uri", REDIRECT_URI);
		p.put("scope", "launch/patient openid fhirUser patient/*.rs");
		p.put("state", "s-1");
		p.put("aud", fhirBase());
		p.put("code_challenge", pkce.challenge());
		p.put("code_challenge_method", "S256");
		Map<String, String> result = SmartBrowser.query(browser.get("/oauth2/authorize?" + SmartBrowser.encode(p)));
		assertThat(result).containsKey("code");
		HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString(SmartBrowser.encode(Map.of("grant_type", "authorization_code", "code", result.get("code"),
						"redirect_uri", REDIRECT_URI, "code_verifier", pkce.verifier(), "client_id", PUBLIC_APP))))
				.build(), HttpResponse.BodyHandlers.ofString());
		JsonNode token = json.readTree(response.body());
		assertThat(token.path("access_token").asText()).as(response.body()).isNotBlank();
		return token;
	}

	/** Enrols with the optional second step, confirmed with the code of this 30-second step; the authenticator key. */
	private String enrolWithSecondStep(String person, String username, long step) throws Exception {
		String link = link(person);
		SmartBrowser browser = new SmartBrowser(baseUrl(), "x", "x");
		HttpResponse<String> form = browser.get(link);
		String secret = shownSecret(form.body());
		HttpResponse<String> done = browser.post("/enrol", form.body(), Map.of("token", link.substring(link.indexOf("token=") + 6),
				"username", username, "password", GOOD_PASSWORD, "confirm", GOOD_PASSWORD,
				"totp_code", Totp.code(secret, step)));
		assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
		return secret;
	}

	/** A wrong password at the sign-in form, the answer as it comes (redirects not followed). */
	private HttpResponse<String> wrongPassword(String username) throws Exception {
		java.net.http.HttpClient browser = java.net.http.HttpClient.newBuilder().cookieHandler(new java.net.CookieManager())
				.followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
		HttpResponse<String> page = browser.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/login")).GET().build(), HttpResponse.BodyHandlers.ofString());
		return browser.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/login")).header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString(SmartBrowser.encode(Map.of("username", username, "password", "not my password at all",
						"_csrf", SmartBrowser.csrf(page.body()))))).build(), HttpResponse.BodyHandlers.ofString());
	}

	private static Map<String, java.util.List<String>> withoutDate(HttpResponse<String> response) {
		Map<String, java.util.List<String>> headers = new java.util.TreeMap<>(response.headers().map());
		headers.remove("date");
		return headers;
	}

	/** The authenticator key the enrolment page shows (as text, in groups of four). */
	private static String shownSecret(String page) {
		java.util.regex.Matcher m = java.util.regex.Pattern.compile("id='totp-secret'>([A-Z2-7 ]+)<").matcher(page);
		assertThat(m.find()).as(page).isTrue();
		return m.group(1).replace(" ", "");
	}

	/** Signs in to the public test app with the password and then this authenticator code (null: none). */
	private HttpResponse<String> signInWithCode(String username, String code) throws Exception {
		SmartBrowser signIn = new SmartBrowser(baseUrl(), username, GOOD_PASSWORD);
		HttpResponse<String> asked = signIn.get(authorizeUrl(Pkce.create()));
		if (code == null || !SecondStep.PATH.equals(asked.uri().getPath())) {
			return asked;
		}
		return signIn.post(SecondStep.PATH, asked.body(), Map.of("code", code));
	}

	private HttpResponse<String> loginAttempt(String username, String password) throws Exception {
		SmartBrowser browser = new SmartBrowser(baseUrl(), username, password);
		HttpResponse<String> page = browser.get("/login");
		return browser.post("/login", page.body(), Map.of("username", username, "password", password));
	}

	private String link(String person) throws Exception {
		HttpResponse<String> response = invite(person, treatingToken());
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		return fhirContext.newJsonParser().parseResource(Parameters.class, response.body()).getParameter("link").getValue().primitiveValue();
	}

	private String treatingToken() {
		return clinician(treating, "user/Patient.rus user/RelatedPerson.rus");
	}

	private String clinician(String practitionerId, String scopes) {
		return tokens().token().scopes(scopes).claim("fhirUser", fhirBase() + "/Practitioner/" + practitionerId).sign();
	}

	private HttpResponse<String> invite(String person, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + person + "/$nssi-invite"))
				.header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> get(String url) throws Exception {
		return new SmartBrowser(baseUrl(), "x", "x").get(url);
	}

	private static <T extends Resource> T tagged(T resource) {
		resource.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
		return resource;
	}
}
