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
 * consent releases; repeated wrong passwords pause the sign-in. Screenshots: target/screenshots/patient-app-*.png.
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
			assertThat(pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("enrol-error"))).getText())
					.contains("NSSI-0322").contains("must not contain your username");
			assertThat(phone.findElement(By.id("username")).getDomProperty("value")).isEqualTo("kim.phone");
			phone.findElement(By.id("password")).sendKeys(NEW_PASSWORD);
			phone.findElement(By.id("confirm")).sendKeys(NEW_PASSWORD);
			Browsers.screenshot(phone, "patient-app-enrol");
			phone.findElement(By.id("enrol-submit")).click();
			assertThat(pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("enrolled-username"))).getText()).isEqualTo("kim.phone");
			phone.findElement(By.id("open-app")).click();
			signIn(phone, pw, "kim.phone", NEW_PASSWORD);
			waitUntilReady(phone, pw);
			assertThat(phone.findElement(By.id("hello")).getText()).isEqualTo("Hello, Kim");
			assertThat(((JavascriptExecutor) phone).executeScript("return window.innerWidth + 'x' + window.innerHeight")).isEqualTo("390x844");
			assertThat(phone.findElements(By.cssSelector("#crisis-contacts a.call"))).isNotEmpty();
			assertThat(phone.findElement(By.id("crisis-contacts")).getText()).contains("Test crisis line (synthetic)");
			Browsers.screenshot(phone, "patient-app-home");
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
			scrollTo(phone, plan);
			Browsers.screenshot(phone, "patient-app-plan");

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
			phone.findElement(By.id("diary-submit")).click();
			pw.until(ExpectedConditions.textToBe(By.id("diary-result"), "Thank you. Your diary card is saved."));
			List<Observation> cards = diaryCards(patientId);
			assertThat(cards).hasSize(1);
			assertThat(cards.get(0).getComponent().stream().filter(c -> c.getCode().getCodingFirstRep().getCode().equals("urge-to-die")).findFirst()
					.orElseThrow().getValueIntegerType().getValue()).isEqualTo(7);

			// "I need support now": the crisis contacts come into view, the request goes to the care team (urgent)
			phone.findElement(By.id("support-button")).click();
			pw.until(ExpectedConditions.attributeToBe(By.id("support-status"), "data-state", "sent"));
			assertThat(phone.switchTo().activeElement().getDomAttribute("id")).isEqualTo("crisis");
			Browsers.screenshot(phone, "patient-app-support-sent");
			Task request = supportTasks(patientId).get(0);
			assertThat(request.getPriority()).isEqualTo(Task.TaskPriority.URGENT);

			// the clinician sees the suicide-risk alert from the diary card and the support request
			clinician.navigate().refresh();
			waitUntilReadyClinician(clinician, cw);
			String alerts = clinician.findElement(By.id("alert-list")).getText();
			assertThat(alerts).contains("urge to die").contains("asked for support now").doesNotContain("null");
			scrollTo(clinician, clinician.findElement(By.id("alerts")));
			Browsers.screenshot(clinician, "patient-app-clinician-sees-alert-and-request");

			// the team picks up the request: the person's app says so
			request.setStatus(Task.TaskStatus.INPROGRESS);
			client().update().resource(request).execute();
			phone.navigate().refresh();
			waitUntilReady(phone, pw);
			pw.until(ExpectedConditions.attributeToBe(By.id("support-status"), "data-state", "seen"));
			assertThat(phone.findElement(By.id("support-status")).getText()).isEqualTo("Your care team has seen your request.");

			// offline: the card stays on the phone, and is sent once when the connection is back
			ChromiumNetworkConditions offline = new ChromiumNetworkConditions();
			offline.setOffline(true);
			phone.setNetworkConditions(offline);
			choose(phone, "urge-harm", "2");
			choose(phone, "urge-die", "0");
			choose(phone, "self-harm", "yes");
			check(phone, "method", "Cutting self");
			choose(phone, "intent", "intent-none");
			phone.findElement(By.id("diary-submit")).click();
			pw.until(ExpectedConditions.textToBe(By.id("diary-result"), "Saved on this phone. It will be sent when you are back online."));
			assertThat(phone.findElement(By.id("queue-status")).getDomAttribute("data-waiting")).isEqualTo("1");
			String waiting = (String) ((JavascriptExecutor) phone).executeScript(
					"return localStorage.getItem('nssi-patient-queue:' + arguments[0])", patientId);
			Browsers.screenshot(phone, "patient-app-offline-queued");
			assertThat(diaryCards(patientId)).hasSize(1);
			phone.deleteNetworkConditions();
			phone.findElement(By.id("sync-now")).click();
			pw.until(ExpectedConditions.attributeToBe(By.id("queue-status"), "data-waiting", "0"));
			assertThat(diaryCards(patientId)).hasSize(2);
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
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(phone, "patient-app-failure-phone");
			Browsers.screenshot(clinician, "patient-app-failure-clinician");
			System.out.println("[PatientAppIT] phone at failure: " + ((JavascriptExecutor) phone).executeScript("return document.body.innerText"));
			throw e;
		} finally {
			phone.quit();
			clinician.quit();
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

			// the young person's consent releases their records to this parent: now the progress shows
			client().create().resource(TestConsents.releaseTo(patientId, parentId)).execute();
			phone.navigate().refresh();
			waitUntilReady(phone, pw);
			assertThat(phone.findElement(By.id("proxy-shared")).getText()).contains("has chosen to share").contains("all of their records");
			assertThat(phone.findElement(By.id("progress-body")).getText()).contains("Week by week");
			Browsers.screenshot(phone, "patient-app-proxy-shared");

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
			assertThat(pw.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-error"))).getText()).contains("NSSI-0324");
			Browsers.screenshot(phone, "patient-app-sign-in-paused");
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(phone, "patient-app-failure-proxy");
			System.out.println("[PatientAppIT] phone at failure: " + ((JavascriptExecutor) phone).executeScript("return document.body.innerText"));
			throw e;
		} finally {
			phone.quit();
		}
	}

	// ---------------------------------------------------------------- helpers

	private static void signIn(WebDriver browser, WebDriverWait wait, String username, String password) {
		wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(username);
		browser.findElement(By.id("password")).sendKeys(password);
		browser.findElement(By.cssSelector("button[type=submit]")).click();
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
