package org.nssifhir.server.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.CLINICIAN;
import static org.nssifhir.server.support.SmartTestApps.PASSWORD;
import static org.nssifhir.server.support.SmartTestApps.PRACTITIONER_ID;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.security.enrolment.SignInThrottle;
import org.nssifhir.server.support.Axe;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.Browsers;
import org.nssifhir.server.support.TestConsents;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chromium.ChromiumNetworkConditions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The person's app at {@code /patient/} in headless Chromium at phone size (390x844), with the clinician app beside
 * it: a clinician invites the patient from the clinician app; the patient sets a password from the link, signs in
 * and fills a first diary card with a high urge to die (crisis contacts at once), asks for support; the clinician
 * sees both the suicide-risk alert and the support request; the team's answer shows in the person's app; a card
 * made offline is sent once when back online (and once only, even if sent again); a parent sees only what the
 * consent releases; repeated wrong passwords pause the sign-in. Every screen on the way (the invitation's page with
 * its optional authenticator step, its error, the sign-in page, the app's diary card, plan, support, offline notice,
 * progress, the proxy's views, the paused sign-in) is checked with axe-core at phone size: no serious or critical
 * violation. Screenshots: target/screenshots/patient-app-*.png and axe-*.png.
 */
class PatientAppIT extends BaseIT {

	private static final String NEW_PASSWORD = "river stones and tea";

	@Autowired
	private SignInThrottle throttle;

	@Test
	void invitationSignInDiaryCardSupportAndOffline() {
		throttle.resetAddresses();
		String patientId = seedPatient("Phoneuser");
		relapsePlan(patientId);
		String base = "http://127.0.0.1:" + port;
		WebDriver clinician = Browsers.chromium();
		ChromeDriver phone = Browsers.phone();
		WebDriverWait cw = new WebDriverWait(clinician, Duration.ofSeconds(60));
		WebDriverWait pw = new WebDriverWait(phone, Duration.ofSeconds(60));
		try {
			// the clinician invites the patient from the clinician app
			launchClinicianApp(clinician, cw, base, patientId);
			clinician.findElement(By.id("invite-button")).click();
			WebElement link = cw.until(ExpectedConditions.visibilityOfElementLocated(By.id("invite-link")));
			String invitation = link.getDomProperty("value");
			assertThat(invitation).startsWith(base + "/enrol?token=");
			Browsers.screenshot(clinician, "patient-app-clinician-invites");
			// the patient's parent is listed with an invitation of their own
			WebElement inviteParent = clinician.findElement(By.cssSelector("#invite-family button.invite-proxy"));
			assertThat(inviteParent.getText()).isEqualTo("Invite Alex Phoneuser");
			inviteParent.click();
			cw.until(d -> !d.findElement(By.id("invite-link")).getDomProperty("value").equals(invitation));
			assertThat(clinician.findElement(By.id("invite-link")).getDomProperty("value")).startsWith(base + "/enrol?token=");

			// the patient opens it on their phone and sets a password (one containing the username first: refused by
			// the server; a too-short one the browser itself refuses, from the field's minlength)
			phone.get(invitation);
			pw.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys("kim.phone");
			phone.findElement(By.id("password")).sendKeys("kim.phone and more");
			phone.findElement(By.id("confirm")).sendKeys("kim.phone and more");
			phone.findElement(By.id("enrol-submit")).click();
			WebElement enrolError = pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("enrol-error")));
			// plain words; the error code only for support, in the page but not in what the person reads
			assertThat(enrolError.getText()).contains("must not contain your username").doesNotContain("NSSI");
			assertThat(enrolError.getDomAttribute("data-error-code")).isEqualTo("NSSI-0322");
			Axe.checkAsIs(phone, "patient-enrol-error");
			assertThat(phone.findElement(By.id("username")).getDomProperty("value")).isEqualTo("kim.phone");
			phone.findElement(By.id("password")).sendKeys(NEW_PASSWORD);
			phone.findElement(By.id("confirm")).sendKeys(NEW_PASSWORD);
			Browsers.screenshot(phone, "patient-app-enrol");
			// the set-password page, with its optional second step (the authenticator key and code)
			assertThat(phone.findElement(By.id("totp-secret")).isDisplayed()).isTrue();
			Axe.checkAsIs(phone, "patient-enrol-set-password-and-totp");
			phone.findElement(By.id("enrol-submit")).click();
			assertThat(pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("enrolled-username"))).getText()).isEqualTo("kim.phone");
			Axe.checkAsIs(phone, "patient-enrolled");
			phone.findElement(By.id("open-app")).click();
			// the sign-in page (the authenticator's code, for those who set one up, only after a right password)
			pw.until(ExpectedConditions.presenceOfElementLocated(By.id("username")));
			assertThat(phone.findElements(By.id("code"))).isEmpty();
			Axe.checkAsIs(phone, "patient-sign-in");
			signIn(phone, pw, "kim.phone", NEW_PASSWORD);
			waitUntilReady(phone, pw);
			assertThat(phone.findElement(By.id("hello")).getText()).isEqualTo("Hello, Kim");
			// the sign-in renews itself: an access token about to expire is refreshed silently, the refresh token
			// rotating (a public client's refresh token, offline_access), and the person is not asked to sign in again
			String refreshToken = smartToken(phone, "refresh_token");
			String accessToken = smartToken(phone, "access_token");
			assertThat(refreshToken).isNotBlank();
			((JavascriptExecutor) phone).executeScript("const k = JSON.parse(sessionStorage.getItem('SMART_KEY'));"
					+ " const s = JSON.parse(sessionStorage.getItem(k)); s.expiresAt = Math.floor(Date.now() / 1000) + 20;"
					+ " sessionStorage.setItem(k, JSON.stringify(s));");
			phone.navigate().refresh();
			waitUntilReady(phone, pw);
			pw.until(d -> !refreshToken.equals(smartToken(d, "refresh_token")));
			assertThat(smartToken(phone, "access_token")).isNotEqualTo(accessToken);
			assertThat(smartToken(phone, "refresh_token")).isNotBlank();
			assertThat(((JavascriptExecutor) phone).executeScript("return window.innerWidth + 'x' + window.innerHeight")).isEqualTo("390x844");
			assertThat(phone.findElements(By.cssSelector("#crisis-contacts a.call"))).isNotEmpty();
			assertThat(phone.findElement(By.id("crisis-contacts")).getText()).contains("Test crisis line (synthetic)");
			Browsers.screenshot(phone, "patient-app-home");
			Axe.checkAsIs(phone, "patient-app-home");
			// my plan, from the record: grouped, with its contacts as call links
			WebElement plan = phone.findElement(By.id("plan-body"));
			assertThat(plan.getText()).contains("My plan to stay safe").contains("Things I can do").contains("ACCEPTS");
			assertThat(plan.findElements(By.cssSelector("a.call[href^='tel:']"))).isNotEmpty();
			// the person adds a step of their own (the one plan a patient may edit; sent with If-Match)
			phone.findElement(By.id("plan-add-text")).sendKeys("Call my cousin Sam");
			phone.findElement(By.id("plan-add-button")).click();
			pw.until(ExpectedConditions.textToBe(By.id("plan-add-result"), "Added to your plan."));
			assertThat(phone.findElement(By.id("plan-body")).getText()).contains("Call my cousin Sam");
			assertThat(client().search().forResource(org.hl7.fhir.r4.model.CarePlan.class).where(org.hl7.fhir.r4.model.CarePlan.PATIENT.hasId("Patient/" + patientId))
					.returnBundle(Bundle.class).execute().getEntry().stream()
					.flatMap(e -> ((org.hl7.fhir.r4.model.CarePlan) e.getResource()).getActivity().stream())
					.anyMatch(a -> "Call my cousin Sam".equals(a.getDetail().getDescription()))).isTrue();
			// someone to contact: under the people and places, as a call link (not under "Things I can do")
			phone.findElement(By.id("plan-contact-name")).sendKeys("Cousin Sam");
			phone.findElement(By.id("plan-contact-phone")).sendKeys("555 0123");
			phone.findElement(By.id("plan-contact-button")).click();
			pw.until(ExpectedConditions.textToBe(By.id("plan-contact-result"), "Added to the people you can contact."));
			WebElement samCall = phone.findElement(By.xpath("//*[@id='plan-body']//h4[.='People and places I can contact']"
					+ "/following-sibling::ul[1]//a[contains(@class,'call')][contains(.,'Cousin Sam')]"));
			assertThat(samCall.getDomAttribute("href")).isEqualTo("tel:5550123");
			assertThat(phone.findElement(By.xpath("//*[@id='plan-body']//h4[.='Things I can do']/following-sibling::ul[1]")).getText())
					.doesNotContain("Cousin Sam");
			// while waiting for the team, the support page offers the person's own coping steps from their plan
			assertThat(phone.findElement(By.id("support-coping")).getText()).contains("Call my cousin Sam").doesNotContain("555 0123");
			// the person changes a step and takes one out ("Change my plan": every step a field, empty = removed)
			phone.findElement(By.id("plan-change")).click();
			WebElement sam = pw.until(d -> d.findElements(By.cssSelector("#plan-change-form input")).stream()
					.filter(i -> "Call my cousin Sam".equals(i.getDomProperty("value"))).findFirst().orElse(null));
			sam.clear();
			sam.sendKeys("Call my cousin Sam or Alex");
			List<WebElement> fields = phone.findElements(By.cssSelector("#plan-change-form input"));
			String removed = fields.get(0).getDomProperty("value");
			fields.get(0).clear();
			Axe.checkAsIs(phone, "patient-app-plan-change");
			phone.findElement(By.id("plan-change-save")).click();
			pw.until(ExpectedConditions.textToBe(By.id("plan-change-result"), "Your plan is updated."));
			assertThat(phone.findElement(By.id("plan-body")).getText()).contains("Call my cousin Sam or Alex").doesNotContain(removed);
			org.hl7.fhir.r4.model.CarePlan stored = relapsePlanOf(patientId);
			assertThat(stored.getActivity()).extracting(a -> a.getDetail().getDescription()).contains("Call my cousin Sam or Alex").doesNotContain(removed);
			// the care team changes the plan meanwhile: the person's change is not saved over it, and they are told
			phone.findElement(By.id("plan-change")).click();
			WebElement first = pw.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#plan-change-form input")));
			stored.addActivity().getDetail().setStatus(org.hl7.fhir.r4.model.CarePlan.CarePlanActivityStatus.NOTSTARTED).setDescription("Team's new step")
					.getCode().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "coping-strategy", "Coping strategy"));
			client().update().resource(stored).execute();
			first.clear();
			first.sendKeys("A change made too late");
			phone.findElement(By.id("plan-change-save")).click();
			pw.until(ExpectedConditions.textToBePresentInElementLocated(By.id("plan-change-result"), "changed your plan meanwhile"));
			assertThat(phone.findElement(By.id("plan-body")).getText()).contains("Team's new step").doesNotContain("A change made too late");
			assertThat(relapsePlanOf(patientId).getActivity()).extracting(a -> a.getDetail().getDescription()).doesNotContain("A change made too late");
			scrollTo(phone, plan);
			Browsers.screenshot(phone, "patient-app-plan");
			Axe.checkAsIs(phone, "patient-app-plan");

			// a first diary card: urge to die 7 shows the crisis contacts at once, before saving. The scales work from
			// the keyboard too (a radio group: arrow keys move the choice)
			WebElement zero = phone.findElement(By.id("urge-harm-0"));
			((JavascriptExecutor) phone).executeScript("arguments[0].focus()", zero);
			phone.switchTo().activeElement().sendKeys(org.openqa.selenium.Keys.ARROW_RIGHT);
			assertThat(phone.findElement(By.id("urge-harm-1")).isSelected()).isTrue();
			choose(phone, "urge-harm", "4");
			choose(phone, "urge-die", "7");
			WebElement crisisNow = pw.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#urge-die-note .crisis-now")));
			assertThat(crisisNow.getDomAttribute("role")).isEqualTo("alert");
			assertThat(crisisNow.getText()).contains("Test crisis line (synthetic)");
			choose(phone, "self-harm", "no");
			check(phone, "emotion", "Sad");
			check(phone, "skill", "TIPP");
			phone.findElement(By.id("diary-note")).sendKeys("A synthetic note");
			scrollTo(phone, crisisNow);
			Browsers.screenshot(phone, "patient-app-diary-high-urge");
			Axe.checkAsIs(phone, "patient-app-diary-high-urge");
			phone.findElement(By.id("diary-submit")).click();
			pw.until(ExpectedConditions.textToBe(By.id("diary-result"), "Thank you. Your diary card is saved."));
			// the focus is on what happened (not lost to the page's body); the crisis box still names who to call, and
			// now says the card was sent
			assertThat(phone.switchTo().activeElement().getDomAttribute("id")).isEqualTo("diary-result");
			assertThat(crisisNow.getText()).contains("Your diary card was sent to your care team").contains("Test crisis line (synthetic)")
					.doesNotContain("when you save your card");
			// the crisis box says "if you are in danger now" once
			assertThat(phone.findElement(By.id("crisis")).getText().split("If you are in danger now", -1)).hasSize(2);
			List<Observation> cards = diaryCards(patientId);
			assertThat(cards).hasSize(1);
			assertThat(cards.get(0).getComponent().stream().filter(c -> c.getCode().getCodingFirstRep().getCode().equals("urge-to-die")).findFirst()
					.orElseThrow().getValueIntegerType().getValue()).isEqualTo(7);
			// once a day: the form now says today's card is already on record (a second one is a deliberate entry)
			WebElement already = pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("diary-already")));
			assertThat(already.getText()).startsWith("You have already filled in a card for ").contains("Saving this one adds a second entry");

			// "I need support now": the crisis contacts come into view, the request goes to the care team (urgent)
			phone.findElement(By.id("support-button")).click();
			pw.until(ExpectedConditions.attributeToBe(By.id("support-status"), "data-state", "sent"));
			assertThat(phone.switchTo().activeElement().getDomAttribute("id")).isEqualTo("crisis");
			Browsers.screenshot(phone, "patient-app-support-sent");
			Axe.checkAsIs(phone, "patient-app-support-sent");
			Task request = supportTasks(patientId).get(0);
			assertThat(request.getPriority()).isEqualTo(Task.TaskPriority.ASAP);

			// the clinician sees the suicide-risk alert from the diary card and the support request
			clinician.navigate().refresh();
			waitUntilReadyClinician(clinician, cw);
			String alerts = clinician.findElement(By.id("alert-list")).getText();
			assertThat(alerts).contains("urge to die").doesNotContain("null");
			// open support requests have their own list above the alerts, never collapsed away
			assertThat(clinician.findElement(By.id("support-list")).getText()).contains("asked for support now").doesNotContain("null");
			scrollTo(clinician, clinician.findElement(By.id("alerts")));
			Browsers.screenshot(clinician, "patient-app-clinician-sees-alert-and-request");

			// the team picks up the request: the person's app says so
			request.setStatus(Task.TaskStatus.INPROGRESS);
			client().update().resource(request).execute();
			phone.navigate().refresh();
			waitUntilReady(phone, pw);
			pw.until(ExpectedConditions.attributeToBe(By.id("support-status"), "data-state", "seen"));
			assertThat(phone.findElement(By.id("support-status")).getText()).isEqualTo("Your care team has seen your request.");

			// the app's service worker controls the page (installed at the first visit): its files are kept
			pw.until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d).executeScript("return navigator.serviceWorker.controller !== null")));

			// offline: the card stays on the phone, and is sent once when the connection is back
			ChromiumNetworkConditions offline = new ChromiumNetworkConditions();
			offline.setOffline(true);
			phone.setNetworkConditions(offline);
			assertThat(Browsers.serviceWorkersOffline(phone, true)).as("the phone's page and the app's service worker, offline too").isGreaterThanOrEqualTo(2);
			choose(phone, "urge-harm", "2");
			choose(phone, "urge-die", "0");
			choose(phone, "self-harm", "yes");
			// methods in plain words (the ValueSet's plain-label designations), never the clinical SNOMED CT terms
			String methods = phone.findElement(By.id("method-field")).getText();
			assertThat(methods).contains("Cutting yourself").contains("Burning yourself").doesNotContain("Cutting self").doesNotContain("Head-banging");
			check(phone, "method", "Cutting yourself");
			choose(phone, "intent", "intent-none");
			phone.findElement(By.id("diary-submit")).click();
			pw.until(ExpectedConditions.textToBe(By.id("diary-result"), "Saved on this phone. It will be sent when you are back online."));
			assertThat(phone.findElement(By.id("queue-status")).getDomAttribute("data-waiting")).isEqualTo("1");
			String waiting = (String) ((JavascriptExecutor) phone).executeScript(
					"return localStorage.getItem('nssi-patient-queue:' + arguments[0])", patientId);
			Browsers.screenshot(phone, "patient-app-offline-queued");
			// the plan stays readable offline; changing it says it needs a connection
			assertThat(phone.findElement(By.id("plan-body")).getText()).contains("Call my cousin Sam or Alex");
			WebElement change = phone.findElement(By.id("plan-change"));
			scrollTo(phone, change);
			change.click();
			// (said at once when the browser knows it is offline, else when the save cannot reach the server)
			phone.findElements(By.id("plan-change-save")).forEach(WebElement::click);
			pw.until(ExpectedConditions.textToBePresentInElementLocated(By.id("plan-change-result"), "needs a connection"));
			phone.findElements(By.id("plan-change-cancel")).forEach(WebElement::click);
			Axe.checkAsIs(phone, "patient-app-offline-queued");
			assertThat(diaryCards(patientId)).hasSize(1);
			// reopened while offline: the app comes from the service worker's copy, with the last plan, the diary
			// card to fill and the entry still waiting
			// (with the access token about to expire: the app's silent refresh fails for want of a network, and the
			// refresh token is kept for later, the person not asked to sign in again)
			String keptRefreshToken = smartToken(phone, "refresh_token");
			((JavascriptExecutor) phone).executeScript("const k = JSON.parse(sessionStorage.getItem('SMART_KEY'));"
					+ " const s = JSON.parse(sessionStorage.getItem(k)); s.expiresAt = Math.floor(Date.now() / 1000) + 20;"
					+ " sessionStorage.setItem(k, JSON.stringify(s));");
			Instant reloadedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS);
			phone.navigate().refresh();
			waitUntilReady(phone, pw);
			assertThat(smartToken(phone, "refresh_token")).isEqualTo(keptRefreshToken);
			assertThat(phone.findElement(By.id("plan-body")).getText()).contains("Call my cousin Sam or Alex");
			assertThat(phone.findElement(By.id("diary")).isDisplayed()).isTrue();
			assertThat(phone.findElements(By.cssSelector("#diary-form input[name=urge-harm]"))).hasSize(11);
			assertThat(phone.findElement(By.id("diary-submit")).isDisplayed()).isTrue();
			assertThat(phone.findElement(By.id("queue-status")).getDomAttribute("data-waiting")).isEqualTo("1");
			assertThat(phone.findElement(By.id("crisis-contacts")).getText()).contains("Test crisis line (synthetic)");
			Browsers.screenshot(phone, "patient-app-offline-reopened");
			Axe.checkAsIs(phone, "patient-app-offline-reopened");
			// the worker keeps the app's files only: no FHIR answer, nothing of the sign-in, no token
			@SuppressWarnings("unchecked")
			List<String> kept = (List<String>) ((JavascriptExecutor) phone).executeAsyncScript("const done = arguments[arguments.length - 1];"
					+ " caches.keys().then(names => Promise.all(names.map(n => caches.open(n).then(c => c.keys()))))"
					+ ".then(lists => done(lists.flat().map(r => new URL(r.url).pathname + new URL(r.url).search)));");
			assertThat(kept).contains("/patient/", "/patient/js/main.js", "/vendor/fhirclient-2.6.3/fhir-client.min.js")
					.allMatch(u -> !u.startsWith("/fhir") && !u.startsWith("/oauth2") && !u.contains("?"));
			// (and the copy it answered with is the one kept before the connection went: its Date is older)
			String servedDate = (String) ((JavascriptExecutor) phone).executeAsyncScript("const done = arguments[arguments.length - 1];"
					+ " fetch('config.json').then(r => done(r.headers.get('date')), e => done('failed: ' + e.message));");
			System.out.println("[PatientAppIT] config.json while offline, Date " + servedDate + " (reopened at " + reloadedAt + ")");
			assertThat(Instant.from(java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.parse(servedDate))).isBefore(reloadedAt);
			// (the waiting entry was still waiting after the offline reopening, checked above; DevTools' offline emulation
			// of the page can lapse after the cache checks on a fast machine (seen once in CI), when the app sends it at
			// once: what must hold is that it is stored exactly once, checked below)
			assertThat(diaryCards(patientId)).hasSizeBetween(1, 2);
			// back online: the waiting card is sent (by the browser's online event, or the button), exactly once
			phone.deleteNetworkConditions();
			Browsers.serviceWorkersOffline(phone, false);
			((JavascriptExecutor) phone).executeScript("const b = document.getElementById('sync-now'); if (!b.hidden) b.click();");
			pw.until(ExpectedConditions.attributeToBe(By.id("queue-status"), "data-waiting", "0"));
			assertThat(diaryCards(patientId)).hasSize(2);
			// the refresh kept through the failure worked once the network was back: new tokens, no new sign-in
			assertThat(smartToken(phone, "refresh_token")).isNotBlank().isNotEqualTo(keptRefreshToken);
			assertThat(phone.findElement(By.id("status")).getText()).isEqualTo("Ready");
			// the same entry sent again (as after a lost answer): still stored once, and its episode once
			((JavascriptExecutor) phone).executeScript("localStorage.setItem('nssi-patient-queue:' + arguments[0], arguments[1]);", patientId, waiting);
			phone.navigate().refresh();
			waitUntilReady(phone, pw);
			pw.until(ExpectedConditions.attributeToBe(By.id("queue-status"), "data-waiting", "0"));
			assertThat(diaryCards(patientId)).hasSize(2);
			assertThat(client().search().forResource(Observation.class).where(Observation.SUBJECT.hasId("Patient/" + patientId))
					.and(Observation.CODE.exactly().systemAndCode(NssiCanonicals.CONCEPTS_SYSTEM, "nssi-episode"))
					.returnBundle(Bundle.class).execute().getEntry()).hasSize(1);
			// progress in plain words
			pw.until(ExpectedConditions.textToBePresentInElementLocated(By.id("progress-lines"), "You hurt yourself once in the last 4 weeks"));
			scrollTo(phone, phone.findElement(By.id("progress")));
			Browsers.screenshot(phone, "patient-app-progress");
			Axe.checkAsIs(phone, "patient-app-progress");

			// signing out on the phone ends the sign-in on the server too: the refresh token is refused afterwards, the
			// phone keeps nothing of the record, the back button shows none of it, and the app asks for the password
			// (the refresh token the phone holds now, unused: good until the sign-out)
			String signedOutRefresh = smartToken(phone, "refresh_token");
			assertThat(signedOutRefresh).isNotBlank();
			WebElement signOut = phone.findElement(By.id("sign-out"));
			scrollTo(phone, signOut);
			signOut.click();
			pw.until(ExpectedConditions.textToBe(By.id("status"), "You are signed out, and the app's data has been removed from this phone."));
			assertThat(refreshStatus(signedOutRefresh)).isEqualTo(400);
			assertThat(phone.findElement(By.id("plan")).isDisplayed()).isFalse();
			assertThat(((JavascriptExecutor) phone).executeScript("return Object.keys(localStorage).filter(k => k.startsWith('nssi-patient')).length"
					+ " + sessionStorage.length")).isEqualTo(0L);
			Browsers.screenshot(phone, "patient-app-signed-out");
			Axe.checkAsIs(phone, "patient-app-signed-out");
			phone.navigate().back();
			pw.until(d -> "complete".equals(((JavascriptExecutor) d).executeScript("return document.readyState")));
			String afterBack = (String) ((JavascriptExecutor) phone).executeScript("return document.body ? document.body.innerText : ''");
			assertThat(afterBack).doesNotContain("Hello, Kim").doesNotContain("Call my cousin Sam").doesNotContain("Cousin Sam");
			assertThat(smartToken(phone, "access_token")).isNull();
			phone.get(base + "/patient/");
			pw.until(ExpectedConditions.presenceOfElementLocated(By.id("username")));
			assertThat(phone.getCurrentUrl()).contains("/login");
			Axe.checkAsIs(phone, "patient-sign-in-after-sign-out");
			signIn(phone, pw, "kim.phone", NEW_PASSWORD);
			waitUntilReady(phone, pw);

			// the clinician disables the person's sign-in from the clinician app, asked first in the page (the safe
			// choice focused; keeping changes nothing), and the phone's tokens stop working at once
			String phoneToken = smartToken(phone, "access_token");
			assertThat(statusOf("Patient/" + patientId, phoneToken)).isEqualTo(200);
			WebElement disable = clinician.findElement(By.id("disable-sign-in"));
			scrollTo(clinician, disable);
			disable.click();
			WebElement dialog = cw.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
			assertThat(dialog.getText()).contains("Disable the sign-in of this person?").contains("A new invitation link gives them access again");
			assertThat(clinician.switchTo().activeElement().getDomAttribute("id")).isEqualTo("confirm-dialog-no");
			Browsers.screenshot(clinician, "patient-app-clinician-disable-confirm");
			Axe.checkAsIs(clinician, "clinician-disable-sign-in-confirm");
			clinician.findElement(By.id("confirm-dialog-no")).click();
			cw.until(ExpectedConditions.textToBe(By.id("invite-result"), "The sign-in was not changed."));
			assertThat(clinician.findElements(By.id("confirm-dialog"))).isEmpty();
			assertThat(statusOf("Patient/" + patientId, phoneToken)).isEqualTo(200);
			disable.click();
			cw.until(ExpectedConditions.elementToBeClickable(By.id("confirm-dialog-yes"))).click();
			cw.until(ExpectedConditions.attributeToBe(By.id("invite-result"), "data-state", "disabled"));
			assertThat(clinician.findElement(By.id("invite-result")).getText()).isEqualTo(
					"The sign-in kim.phone is disabled. A new invitation link gives access again.");
			Browsers.screenshot(clinician, "patient-app-clinician-disabled");
			Axe.checkAsIs(clinician, "clinician-disable-sign-in-done");
			assertThat(statusOf("Patient/" + patientId, phoneToken)).isEqualTo(401);
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(phone, "patient-app-failure-phone");
			Browsers.screenshot(clinician, "patient-app-failure-clinician");
			System.out.println("[PatientAppIT] phone at failure: " + ((JavascriptExecutor) phone).executeScript("return document.body.innerText"));
			throw e;
		} finally {
			Browsers.serviceWorkersOffline(phone, false);
			phone.quit();
			clinician.quit();
		}
	}

	@Test
	void theAuthenticatorCodeIsAskedForOnItsOwnPageAfterTheRightPassword() {
		throttle.resetAddresses();
		String patientId = seedPatient("Codeuser");
		Parameters invited = client(tokens().system("system/Patient.rus")).operation().onInstance("Patient/" + patientId)
				.named("$nssi-invite").withNoParameters(Parameters.class).execute();
		ChromeDriver phone = Browsers.phone();
		WebDriverWait pw = new WebDriverWait(phone, Duration.ofSeconds(60));
		try {
			// the invitation's page: the deployment's app name, and the server's key for an authenticator app
			phone.get(invited.getParameter("link").getValue().primitiveValue());
			pw.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys("kim.code");
			assertThat(phone.findElement(By.cssSelector("header.site")).getText()).isEqualTo("My support app");
			assertThat(phone.findElement(By.id("totp-uri")).getDomAttribute("href")).startsWith("otpauth://totp/My%20support%20app?secret=");
			String secret = phone.findElement(By.id("totp-secret")).getText().replace(" ", "");
			long step = org.nssifhir.server.security.enrolment.Totp.step(Instant.now());
			phone.findElement(By.id("password")).sendKeys(NEW_PASSWORD);
			phone.findElement(By.id("confirm")).sendKeys(NEW_PASSWORD);
			phone.findElement(By.id("totp_code")).sendKeys(org.nssifhir.server.security.enrolment.Totp.code(secret, step));
			phone.findElement(By.id("enrol-submit")).click();
			pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("open-app"))).click();
			// the password first (the sign-in page has no code field), then a page asking for the code alone; both
			// go by the app's name, as the person knows it (not the server's)
			pw.until(ExpectedConditions.presenceOfElementLocated(By.id("username")));
			assertThat(phone.findElement(By.cssSelector("header.site")).getText()).isEqualTo("My support app");
			assertThat(phone.getTitle()).isEqualTo("Sign in - My support app");
			signIn(phone, pw, "kim.code", NEW_PASSWORD);
			WebElement code = pw.until(ExpectedConditions.presenceOfElementLocated(By.id("code")));
			assertThat(phone.findElements(By.id("password"))).isEmpty();
			assertThat(phone.findElement(By.cssSelector("header.site")).getText()).isEqualTo("My support app");
			assertThat(phone.findElement(By.tagName("body")).getText()).doesNotContain("NSSI").doesNotContain("FHIR");
			Browsers.screenshot(phone, "patient-app-sign-in-code");
			Axe.checkAsIs(phone, "patient-sign-in-code");
			// the code that confirmed the key is spent: said in plain words, and asked again
			code.sendKeys(org.nssifhir.server.security.enrolment.Totp.code(secret, step));
			phone.findElement(By.cssSelector("button[type=submit]")).click();
			WebElement wrong = pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-error")));
			assertThat(wrong.getText()).contains("That code did not work").doesNotContain("NSSI");
			assertThat(phone.findElement(By.cssSelector("header.site")).getText()).isEqualTo("My support app");
			Axe.checkAsIs(phone, "patient-sign-in-code-wrong");
			// (a later step than the spent one, and never older than the window around now)
			long next = Math.max(step + 1, org.nssifhir.server.security.enrolment.Totp.step(Instant.now()));
			phone.findElement(By.id("code")).sendKeys(org.nssifhir.server.security.enrolment.Totp.code(secret, next));
			phone.findElement(By.cssSelector("button[type=submit]")).click();
			waitUntilReady(phone, pw);
			assertThat(phone.findElement(By.id("hello")).getText()).isEqualTo("Hello, Kim");
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(phone, "patient-app-failure-code");
			System.out.println("[PatientAppIT] phone at failure: " + ((JavascriptExecutor) phone).executeScript("return document.body.innerText"));
			throw e;
		} finally {
			phone.quit();
		}
	}

	@Test
	void aParentSeesOnlyWhatTheConsentReleasesAndWrongPasswordsPauseSignIn() {
		throttle.resetAddresses();
		String patientId = seedPatient("Proxyview");
		// the young person's own diary card (restricted, adolescent), recorded by the EHR here
		Observation card = new Observation();
		card.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		card.setStatus(Observation.ObservationStatus.FINAL);
		card.addCategory().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "nssi", null));
		card.getCode().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "diary-card", null));
		card.setSubject(new Reference("Patient/" + patientId));
		card.setEffective(new org.hl7.fhir.r4.model.DateTimeType(Date.from(Instant.now().minus(1, ChronoUnit.DAYS))));
		card.addComponent().setValue(new org.hl7.fhir.r4.model.IntegerType(3)).getCode().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "urge-intensity", null));
		card.addComponent().setValue(new org.hl7.fhir.r4.model.IntegerType(2)).getCode().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "skills-used", null));
		client().create().resource(card).execute();
		RelatedPerson parent = new RelatedPerson();
		parent.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		parent.setPatient(new Reference("Patient/" + patientId));
		parent.addName().setFamily("Proxyview").addGiven("Parent");
		String parentId = client().create().resource(parent).execute().getId().getIdPart();
		// the EHR invites the parent (a backend client with a system scope)
		Parameters invited = client(tokens().system("system/RelatedPerson.rus")).operation().onInstance("RelatedPerson/" + parentId)
				.named("$nssi-invite").withNoParameters(Parameters.class).execute();
		String base = "http://127.0.0.1:" + port;
		ChromeDriver phone = Browsers.phone();
		WebDriverWait pw = new WebDriverWait(phone, Duration.ofSeconds(60));
		try {
			phone.get(invited.getParameter("link").getValue().primitiveValue());
			pw.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys("parent.proxyview");
			phone.findElement(By.id("password")).sendKeys(NEW_PASSWORD);
			phone.findElement(By.id("confirm")).sendKeys(NEW_PASSWORD);
			phone.findElement(By.id("enrol-submit")).click();
			pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("open-app"))).click();
			signIn(phone, pw, "parent.proxyview", NEW_PASSWORD);
			waitUntilReady(phone, pw);
			assertThat(phone.findElement(By.tagName("body")).getDomAttribute("data-role")).isEqualTo("proxy");
			assertThat(phone.findElement(By.id("proxy-shared")).getText()).contains("has not chosen to share");
			assertThat(phone.findElement(By.id("diary")).isDisplayed()).isFalse();
			assertThat(phone.findElement(By.id("progress-body")).getText()).isEqualTo("Not shared with you.");
			Browsers.screenshot(phone, "patient-app-proxy-nothing-shared");
			Axe.checkAsIs(phone, "patient-app-proxy-nothing-shared");

			// the young person's consent releases their records to this parent: now the progress shows
			client().create().resource(TestConsents.releaseTo(patientId, parentId)).execute();
			phone.navigate().refresh();
			waitUntilReady(phone, pw);
			assertThat(phone.findElement(By.id("proxy-shared")).getText()).contains("has chosen to share").contains("all of their records");
			assertThat(phone.findElement(By.id("progress-body")).getText()).contains("Week by week");
			Browsers.screenshot(phone, "patient-app-proxy-shared");
			Axe.checkAsIs(phone, "patient-app-proxy-shared");

			// five wrong passwords pause the sign-in for this username (the right one then fails too)
			phone.manage().deleteAllCookies();
			for (int i = 0; i < 5; i++) {
				phone.get(base + "/login");
				pw.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys("parent.proxyview");
				phone.findElement(By.id("password")).sendKeys("wrong password " + i);
				phone.findElement(By.cssSelector("button[type=submit]")).click();
				pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-error")));
			}
			phone.get(base + "/login");
			pw.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys("parent.proxyview");
			phone.findElement(By.id("password")).sendKeys(NEW_PASSWORD);
			phone.findElement(By.cssSelector("button[type=submit]")).click();
			WebElement paused = pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-error")));
			assertThat(paused.getText()).contains("Sign-in for this username is paused").doesNotContain("NSSI");
			assertThat(paused.getDomAttribute("data-error-code")).isEqualTo("NSSI-0324");
			Browsers.screenshot(phone, "patient-app-sign-in-paused");
			Axe.checkAsIs(phone, "patient-sign-in-paused");
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(phone, "patient-app-failure-proxy");
			System.out.println("[PatientAppIT] phone at failure: " + ((JavascriptExecutor) phone).executeScript("return document.body.innerText"));
			throw e;
		} finally {
			phone.quit();
		}
	}

	/**
	 * One local date format in the person's app (the shared dates.js: the browser's language and time zone), and a
	 * day without a time never shifted by the time zone: in New York a diary card's day "2026-12-03" parsed as UTC
	 * midnight would read as the 2nd.
	 */
	@Test
	void datesAreWrittenOneLocalWayAndADayIsNeverShiftedByTheTimeZone() {
		throttle.resetAddresses();
		String patientId = seedPatient("Dateuser");
		java.time.ZoneId newYork = java.time.ZoneId.of("America/New_York");
		java.time.LocalDate day = java.time.LocalDate.now(newYork).minusDays(3);
		Observation card = new Observation();
		card.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		card.setStatus(Observation.ObservationStatus.FINAL);
		card.addCategory().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "nssi", null));
		card.getCode().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "diary-card", null));
		card.setSubject(new Reference("Patient/" + patientId));
		card.setEffective(new org.hl7.fhir.r4.model.DateTimeType(day.toString())); // a day, no time
		card.addComponent().setValue(new org.hl7.fhir.r4.model.IntegerType(2)).getCode().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "urge-intensity", null));
		card.addComponent().setValue(new org.hl7.fhir.r4.model.IntegerType(0)).getCode().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "urge-to-die", null));
		card.addComponent().setValue(new org.hl7.fhir.r4.model.BooleanType(false)).getCode().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "self-harm-today", null));
		card.addComponent().setValue(new org.hl7.fhir.r4.model.IntegerType(0)).getCode().addCoding(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, "skills-used", null));
		client().create().resource(card).execute();
		ChromeDriver phone = Browsers.phone("America/New_York");
		WebDriverWait pw = new WebDriverWait(phone, Duration.ofSeconds(60));
		try {
			enrolAndSignIn(phone, pw, patientId, "kim.dates");
			JavascriptExecutor js = phone;
			assertThat(js.executeScript("return Intl.DateTimeFormat().resolvedOptions().timeZone")).isEqualTo("America/New_York");
			// the card's day, chosen on the form: named as that day ("3 Dec 2026"), not the day before
			js.executeScript("const i = document.getElementById('diary-day'); i.value = arguments[0];"
					+ " i.dispatchEvent(new Event('change', { bubbles: true }));", day.toString());
			WebElement already = pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("diary-already")));
			String written = day.format(java.time.format.DateTimeFormatter.ofPattern("d MMM yyyy", java.util.Locale.UK));
			assertThat(already.getText()).startsWith("You have already filled in a card for " + written + ".");
			// the week-by-week table: dates in the same format
			assertThat(phone.findElements(By.cssSelector(".progress-table tbody th"))).isNotEmpty()
					.allSatisfy(th -> assertThat(th.getText()).matches("\\d{1,2} [A-Z][a-z]{2,3} \\d{4}"));
			// a time: the date and the hour ("6 Dec 2026, 14:05"), in New York's time
			phone.findElement(By.id("support-button")).click();
			pw.until(ExpectedConditions.attributeToBe(By.id("support-status"), "data-state", "sent"));
			String now = java.time.ZonedDateTime.now(newYork).format(java.time.format.DateTimeFormatter.ofPattern("d MMM yyyy, ", java.util.Locale.UK));
			assertThat(phone.findElement(By.id("support-status")).getText()).matches(".* at \\d{1,2} [A-Z][a-z]{2,3} \\d{4}, \\d{2}:\\d{2}\\. .*")
					.contains(" at " + now);
			Browsers.screenshot(phone, "patient-app-dates-new-york");
			Axe.checkAsIs(phone, "patient-app-dates-new-york");
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(phone, "patient-app-failure-dates");
			System.out.println("[PatientAppIT] phone at failure: " + ((JavascriptExecutor) phone).executeScript("return document.body.innerText"));
			throw e;
		} finally {
			phone.quit();
		}
	}

	/**
	 * The diary card's skills: the DBT modules (Mindfulness, Distress tolerance...) are headings, each skill a choice
	 * under its module (its part-of in nssi-concepts-cs); a module is never offered as a skill used.
	 */
	@Test
	void theSkillsAreGroupedUnderTheirModulesAndOnlySkillsAreChoices() {
		throttle.resetAddresses();
		String patientId = seedPatient("Skilluser");
		ChromeDriver phone = Browsers.phone();
		WebDriverWait pw = new WebDriverWait(phone, Duration.ofSeconds(60));
		try {
			enrolAndSignIn(phone, pw, patientId, "kim.skills");
			WebElement skills = phone.findElement(By.id("skill-field"));
			assertThat(skills.findElements(By.cssSelector("fieldset.skill-module > legend"))).extracting(WebElement::getText)
					.containsExactly("Mindfulness skills", "Distress tolerance skills", "Emotion regulation skills", "Interpersonal effectiveness skills");
			assertThat(skills.findElements(By.cssSelector("input[name=skill]"))).extracting(i -> i.getDomAttribute("value"))
					.contains("skill-tipp", "dbt-accepts", "skill-wise-mind")
					.doesNotContain("dbt-mindfulness", "dbt-distress-tolerance", "dbt-emotion-regulation", "dbt-interpersonal-effectiveness");
			WebElement distress = skills.findElement(By.xpath(".//fieldset[legend='Distress tolerance skills']"));
			assertThat(distress.findElements(By.cssSelector("label"))).extracting(WebElement::getText).contains("TIPP", "STOP", "ACCEPTS distraction skill")
					.doesNotContain("Wise mind");
			assertThat(skills.findElements(By.id("skill-module-other"))).isEmpty();
			scrollTo(phone, distress);
			Browsers.screenshot(phone, "patient-app-skills");
			Axe.checkAsIs(phone, "patient-app-skills");
			// a skill chosen is stored as before: one skill-practised component, the count of skills
			choose(phone, "urge-harm", "1");
			choose(phone, "urge-die", "0");
			choose(phone, "self-harm", "no");
			check(phone, "skill", "TIPP");
			phone.findElement(By.id("diary-submit")).click();
			pw.until(ExpectedConditions.textToBe(By.id("diary-result"), "Thank you. Your diary card is saved."));
			Observation card = diaryCards(patientId).get(0);
			assertThat(card.getComponent()).filteredOn(c -> c.getCode().getCodingFirstRep().getCode().equals("skill-practised"))
					.extracting(c -> c.getValueCodeableConcept().getCodingFirstRep().getCode()).containsExactly("skill-tipp");
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(phone, "patient-app-failure-skills");
			System.out.println("[PatientAppIT] phone at failure: " + ((JavascriptExecutor) phone).executeScript("return document.body.innerText"));
			throw e;
		} finally {
			phone.quit();
		}
	}

	/**
	 * A support request is the person's wherever they sign in: sent from one phone, a fresh browser session (another
	 * phone, or after signing out) finds it on the server and says when the team will contact them; the team's answer
	 * shows there too, in plain words (never the team's own notes), and is new until the person says they have seen it
	 * ("I have seen the answer": a note of theirs on the Task, which the team reads); then the app no longer shows it as
	 * new, also after a reload.
	 */
	@Test
	void aSupportRequestAndItsAnswerFollowThePersonToAnotherPhone() {
		throttle.resetAddresses();
		String patientId = seedPatient("Seenuser");
		relapsePlan(patientId, true);
		String base = "http://127.0.0.1:" + port;
		ChromeDriver first = Browsers.phone();
		WebDriverWait fw = new WebDriverWait(first, Duration.ofSeconds(60));
		try {
			enrolAndSignIn(first, fw, patientId, "kim.seen");
			assertThat(first.findElement(By.id("support-seen")).isDisplayed()).isFalse();
			first.findElement(By.id("support-button")).click();
			fw.until(ExpectedConditions.attributeToBe(By.id("support-status"), "data-state", "sent"));
		} finally {
			first.quit();
		}
		Task request = supportTasks(patientId).get(0);
		String due = java.time.ZonedDateTime.ofInstant(request.getRestriction().getPeriod().getEnd().toInstant(), java.time.ZoneId.of("Europe/London"))
				.format(java.time.format.DateTimeFormatter.ofPattern("d MMM yyyy, HH:mm", java.util.Locale.UK));
		ChromeDriver phone = Browsers.phone("Europe/London");
		WebDriverWait pw = new WebDriverWait(phone, Duration.ofSeconds(60));
		try {
			// another phone: nothing of the request is on it, the server has it
			phone.get(base + "/patient/");
			signIn(phone, pw, "kim.seen", NEW_PASSWORD);
			waitUntilReady(phone, pw);
			pw.until(ExpectedConditions.attributeToBe(By.id("support-status"), "data-state", "sent"));
			assertThat(phone.findElement(By.id("support-status")).getText()).startsWith("Your request was sent to your care team at ")
					.contains("Your care team will contact you by " + due + ".")
					.contains("If you cannot keep safe until then, please call one of the crisis contacts above now.")
					.doesNotContain("as soon as they can");
			assertThat(phone.findElement(By.id("support-coping")).isDisplayed()).isTrue();
			// the team's check-in is theirs, not one of the person's coping steps
			assertThat(phone.findElement(By.id("support-coping")).getText()).contains("ACCEPTS").doesNotContain("check in")
					.doesNotContain("Review this plan").doesNotContain("to write with the person");
			// the template's placeholders are not shown as the person's own words: a part with nothing else is still to do
			String plan = phone.findElement(By.id("plan-body")).getText();
			assertThat(plan).doesNotContain("to write with the person").doesNotContain("when coping strategies are not enough")
					.contains("Signs that I am struggling\nNot filled in yet with your care team.")
					.contains("Also in my plan\n").contains("my care team and I check in");
			assertThat(plan.substring(plan.indexOf("Things I can do"), plan.indexOf("People and places I can contact"))).doesNotContain("check in");
			assertThat(plan.substring(plan.indexOf("People and places I can contact"))).contains("555-0142").doesNotContain("Not filled in");
			// the team answers (the clinician app's outcome "Called back", and a note of their own)
			request = supportTasks(patientId).get(0);
			request.setStatus(Task.TaskStatus.COMPLETED);
			request.getStatusReason().setText("Called back");
			request.addNote().setText("Internal: synthetic team note, not for the person");
			client().update().resource(request).execute();
			phone.navigate().refresh();
			waitUntilReady(phone, pw);
			pw.until(ExpectedConditions.attributeToBe(By.id("support-status"), "data-state", "answered"));
			assertThat(phone.findElement(By.id("support-status")).getText()).startsWith("Your care team has answered your request (")
					.contains("Your care team called you back.").doesNotContain("Internal");
			assertThat(phone.findElement(By.id("support")).getText()).doesNotContain("Internal").doesNotContain("While you wait");
			assertThat(phone.findElement(By.id("support-coping")).isDisplayed()).isFalse();
			WebElement seen = pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("support-seen")));
			assertThat(seen.getText()).isEqualTo("I have seen the answer");
			scrollTo(phone, seen);
			Browsers.screenshot(phone, "patient-app-support-answered");
			Axe.checkAsIs(phone, "patient-app-support-answered");
			seen.click();
			pw.until(ExpectedConditions.attributeToBe(By.id("support-status"), "data-state", "acknowledged"));
			assertThat(phone.findElement(By.id("support-status")).getText()).isEqualTo("Thank you. Your care team can see that you have read their answer.");
			assertThat(phone.findElement(By.id("support-seen")).isDisplayed()).isFalse();
			// the focus is on what happened, not lost to the page's body
			assertThat(phone.switchTo().activeElement().getDomAttribute("id")).isEqualTo("support-status");
			Axe.checkAsIs(phone, "patient-app-support-acknowledged");
			Task stored = supportTasks(patientId).get(0);
			assertThat(stored.getStatus()).isEqualTo(Task.TaskStatus.COMPLETED);
			assertThat(stored.getNote()).hasSize(2);
			assertThat(stored.getNote().get(1).getAuthorReference().getReference()).isEqualTo("Patient/" + patientId);
			// no longer new: nothing said about it after a reload
			phone.navigate().refresh();
			waitUntilReady(phone, pw);
			assertThat(phone.findElement(By.id("support-status")).getText()).isEmpty();
			assertThat(phone.findElement(By.id("support-seen")).isDisplayed()).isFalse();
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(phone, "patient-app-failure-seen");
			System.out.println("[PatientAppIT] phone at failure: " + ((JavascriptExecutor) phone).executeScript("return document.body.innerText"));
			throw e;
		} finally {
			phone.quit();
		}
	}

	// ---------------------------------------------------------------- helpers

	/** Invites the patient (the EHR's backend client), sets a password from the link and signs in to the app. */
	private void enrolAndSignIn(WebDriver phone, WebDriverWait pw, String patientId, String username) {
		Parameters invited = client(tokens().system("system/Patient.rus")).operation().onInstance("Patient/" + patientId)
				.named("$nssi-invite").withNoParameters(Parameters.class).execute();
		phone.get(invited.getParameter("link").getValue().primitiveValue());
		pw.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(username);
		phone.findElement(By.id("password")).sendKeys(NEW_PASSWORD);
		phone.findElement(By.id("confirm")).sendKeys(NEW_PASSWORD);
		phone.findElement(By.id("enrol-submit")).click();
		pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("open-app"))).click();
		signIn(phone, pw, username, NEW_PASSWORD);
		waitUntilReady(phone, pw);
	}

	/** The status of a GET of the FHIR API with the given bearer token. */
	private int statusOf(String path, String token) {
		try {
			return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(fhirBase() + "/" + path))
					.header("Authorization", "Bearer " + token).GET().build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
		} catch (java.io.IOException e) {
			throw new java.io.UncheckedIOException(e);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(e);
		}
	}

	/** Uses a refresh token at the token endpoint as the app does (a public client: its client_id alone); the status. */
	private int refreshStatus(String refreshToken) {
		try {
			return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/oauth2/token"))
					.header("Content-Type", "application/x-www-form-urlencoded")
					.POST(java.net.http.HttpRequest.BodyPublishers.ofString("grant_type=refresh_token&client_id=nssi-patient-app&refresh_token="
							+ java.net.URLEncoder.encode(refreshToken, java.nio.charset.StandardCharsets.UTF_8)))
					.build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
		} catch (java.io.IOException e) {
			throw new java.io.UncheckedIOException(e);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(e);
		}
	}

	private static void signIn(WebDriver browser, WebDriverWait wait, String username, String password) {
		wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(username);
		browser.findElement(By.id("password")).sendKeys(password);
		browser.findElement(By.cssSelector("button[type=submit]")).click();
	}

	/** A value of the SMART token response fhirclient keeps in the tab's sessionStorage. */
	private static String smartToken(WebDriver browser, String name) {
		return (String) ((JavascriptExecutor) browser).executeScript("const k = JSON.parse(sessionStorage.getItem('SMART_KEY'));"
				+ " return k ? (JSON.parse(sessionStorage.getItem(k)).tokenResponse || {})[arguments[0]] || null : null;", name);
	}

	private static void waitUntilReady(WebDriver browser, WebDriverWait wait) {
		wait.ignoring(org.openqa.selenium.WebDriverException.class).until(d -> ((JavascriptExecutor) d).executeScript(
				"return location.pathname === '/patient/' && document.body ? document.body.dataset.ready || null : null") != null);
		assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("Ready");
	}

	private static void waitUntilReadyClinician(WebDriver browser, WebDriverWait wait) {
		wait.ignoring(org.openqa.selenium.WebDriverException.class).until(d -> ((JavascriptExecutor) d).executeScript(
				"return location.pathname.startsWith('/app/') && document.body ? document.body.dataset.ready || null : null") != null);
		assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("Ready");
	}

	private void launchClinicianApp(WebDriver browser, WebDriverWait wait, String base, String patientId) {
		browser.get(base + "/smart/launcher");
		wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(CLINICIAN);
		browser.findElement(By.id("password")).sendKeys(PASSWORD);
		browser.findElement(By.cssSelector("button[type=submit]")).click();
		wait.until(ExpectedConditions.presenceOfElementLocated(By.id("patient"))).sendKeys(patientId);
		new Select(browser.findElement(By.id("app"))).selectByValue(ClinicianApp.CLIENT_ID);
		browser.findElement(By.cssSelector("button[type=submit]")).click();
		waitUntilReadyClinician(browser, wait);
	}

	private static void choose(WebDriver browser, String name, String value) {
		WebElement input = browser.findElement(By.cssSelector("input[name='" + name + "'][value='" + value + "']"));
		WebElement label = browser.findElement(By.cssSelector("label[for='" + input.getDomAttribute("id") + "']"));
		scrollTo(browser, label);
		label.click();
	}

	private static void check(WebDriver browser, String name, String display) {
		WebElement label = browser.findElement(By.xpath("//input[@name='" + name + "']/following-sibling::label[text()=\"" + display + "\"]"));
		scrollTo(browser, label);
		label.click();
	}

	private static void scrollTo(WebDriver browser, WebElement element) {
		((JavascriptExecutor) browser).executeScript("arguments[0].scrollIntoView({block: 'center'});", element);
	}

	private org.hl7.fhir.r4.model.CarePlan relapsePlanOf(String patientId) {
		return client().search().forResource(org.hl7.fhir.r4.model.CarePlan.class).where(org.hl7.fhir.r4.model.CarePlan.PATIENT.hasId("Patient/" + patientId))
				.returnBundle(Bundle.class).execute().getEntry().stream().map(e -> (org.hl7.fhir.r4.model.CarePlan) e.getResource()).findFirst().orElseThrow();
	}

	private List<Observation> diaryCards(String patientId) {
		return client().search().forResource(Observation.class).where(Observation.SUBJECT.hasId("Patient/" + patientId))
				.and(Observation.CODE.exactly().systemAndCode(NssiCanonicals.CONCEPTS_SYSTEM, "diary-card"))
				.returnBundle(Bundle.class).execute().getEntry().stream().map(e -> (Observation) e.getResource()).toList();
	}

	private List<Task> supportTasks(String patientId) {
		return client().search().forResource(Task.class).where(Task.PATIENT.hasId("Patient/" + patientId))
				.and(Task.CODE.exactly().systemAndCode(NssiCanonicals.CONCEPTS_SYSTEM, "support-request"))
				.returnBundle(Bundle.class).execute().getEntry().stream().map(e -> (Task) e.getResource()).toList();
	}

	/** The example relapse-prevention plan of the package, for this patient (its links to other example records dropped). */
	private void relapsePlan(String patientId) {
		relapsePlan(patientId, false);
	}

	/**
	 * The example plan; with {@code template}, also steps as a new plan's template writes them (the server's
	 * CarePlanAssembler): placeholder sentences for the warning signs and contacts, and the team's check-ins.
	 */
	private void relapsePlan(String patientId, boolean template) {
		try {
			org.hl7.fhir.r4.model.CarePlan plan = (org.hl7.fhir.r4.model.CarePlan) fhirContext.newJsonParser().parseResource(
					java.nio.file.Files.readString(java.nio.file.Path.of("profiles/examples/CarePlan-nssi-example-relapse-prevention-adolescent.json")));
			plan.setId((String) null);
			plan.getMeta().getSecurity().removeIf(c -> !NssiCanonicals.ACT_REASON_SYSTEM.equals(c.getSystem()));
			plan.setSubject(new Reference("Patient/" + patientId));
			plan.getPartOf().clear();
			plan.getAddresses().clear();
			plan.getGoal().clear();
			plan.getContributor().removeIf(r -> r.getReference() != null && r.getReference().startsWith("Patient/"));
			plan.getContained().stream().filter(r -> r instanceof RelatedPerson).forEach(r -> ((RelatedPerson) r).setPatient(new Reference("Patient/" + patientId)));
			plan.getActivity().forEach(a -> a.getDetail().getPerformer().removeIf(r -> r.getReference() != null && r.getReference().startsWith("Patient/")));
			if (template) {
				for (String[] step : new String[][] {
						{"warning-sign", "Signs that an urge is building: to write with the person in their own words."},
						{"support-contact", "People and services to contact when coping strategies are not enough, including a crisis line."},
						{"increased-check-ins", "After any self-harm, my care team and I check in twice a week until the urges settle."}}) {
					plan.addActivity().getDetail().setStatus(org.hl7.fhir.r4.model.CarePlan.CarePlanActivityStatus.NOTSTARTED).setDescription(step[1])
							.setCode(new org.hl7.fhir.r4.model.CodeableConcept(new org.hl7.fhir.r4.model.Coding(NssiCanonicals.CONCEPTS_SYSTEM, step[0], null)));
				}
			}
			client().create().resource(plan).execute();
		} catch (java.io.IOException e) {
			throw new java.io.UncheckedIOException(e);
		}
	}

	private String seedPatient(String family) {
		Practitioner dr = new Practitioner();
		dr.setId(PRACTITIONER_ID);
		dr.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		client().update().resource(dr).execute();
		Patient patient = new Patient();
		patient.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		patient.addName().setFamily(family).addGiven("Kim");
		patient.setBirthDate(Date.from(Instant.now().minus(15 * 365 + 100, ChronoUnit.DAYS)));
		// the signed-in test clinician treats this patient (general practitioner)
		patient.addGeneralPractitioner(new Reference("Practitioner/" + PRACTITIONER_ID));
		String id = client().create().resource(patient).execute().getId().getIdPart();
		RelatedPerson parent = new RelatedPerson();
		parent.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		parent.setPatient(new Reference("Patient/" + id));
		parent.addName().setFamily(family).addGiven("Alex");
		client().create().resource(parent).execute();
		return id;
	}
}
