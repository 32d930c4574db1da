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
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.Browsers;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The clinician app at {@code /app/} in headless Chromium against the running server: an EHR launch from the
 * built-in launcher, the timeline of known synthetic episodes, recording an episode (a bad one first: the server's
 * validation error shows next to its field), a PHQ-9 with item 9 above 0 raising the suicide-risk alert, and
 * closing the alert's Task, and starting a DBT plan (CarePlan, activities, goals, relapse-prevention plan). Screenshots go to target/screenshots/clinician-app-*.png.
 */
class ClinicianAppIT extends BaseIT {

	private static final String CUTTING = "248073004";
	private static final String BURNING = "284744004";
	private static final String HITTING = "284756003";

	@Test
	void aClinicianFollowsAPatientThroughTheApp() {
		String patientId = seedPatient("Apptest");
		// 7 episodes in the last 12 months (2 burning, one needing medical care), 1 older; all over 4 weeks ago
		episode(patientId, 35, CUTTING, "care-self", 7);
		episode(patientId, 42, BURNING, null, 5);
		episode(patientId, 49, CUTTING, "care-medical", 9);
		episode(patientId, 56, HITTING, null, null);
		episode(patientId, 57, CUTTING, null, 6);
		episode(patientId, 90, BURNING, "care-first-aid", 4);
		episode(patientId, 200, CUTTING, null, null);
		episode(patientId, 400, CUTTING, null, 8);

		String base = "http://127.0.0.1:" + port; // the app's loopback redirect URI matches any port
		WebDriver browser = Browsers.chromium();
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			launch(browser, wait, base, patientId);

			// banner
			assertThat(browser.findElement(By.id("patient-name")).getText()).isEqualTo("Ada Apptest");
			assertThat(browser.findElement(By.id("patient-details")).getDomAttribute("data-age")).isEqualTo("15");
			WebElement notice = browser.findElement(By.id("sensitivity"));
			assertThat(notice.isDisplayed()).isTrue();
			assertThat(notice.getText()).contains("restricted (R)").contains("adolescent information (ADOL)");

			// timeline: the 7 episodes of the last 12 months, one square each; all 8 over the whole history
			assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo("7");
			assertThat(browser.findElements(By.cssSelector("#timeline-chart rect.episode"))).hasSize(7);
			assertThat(browser.findElements(By.cssSelector("#timeline-chart .severe-mark"))).hasSize(1);
			assertThat(browser.findElement(By.id("days-since")).getText()).startsWith("35 ");
			assertThat(browser.findElement(By.id("urge-trend")).getText()).contains("average");
			new Actions(browser).moveToElement(browser.findElements(By.cssSelector("#timeline-chart rect.episode")).get(0)).perform();
			WebElement tooltip = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("tooltip")));
			assertThat(tooltip.getText()).contains("·");
			Browsers.screenshot(browser, "clinician-app-timeline");

			Select method = new Select(browser.findElement(By.id("filter-method")));
			method.selectByVisibleText("Burning self");
			assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo("2");
			method.selectByValue("");
			new Select(browser.findElement(By.id("filter-period"))).selectByValue("0");
			assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo("8");
			assertThat(browser.findElements(By.cssSelector("#timeline-chart rect.episode"))).hasSize(8);
			new Select(browser.findElement(By.id("filter-period"))).selectByValue("365");

			// the seeded medical-care episode raised an escalation alert
			assertThat(browser.findElements(By.cssSelector("#alert-list li.alert[data-kind=flag]"))).hasSize(1);

			recordEpisode(browser, wait);
			phq9(browser, wait);
			closeTask(browser, wait);
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(browser, "clinician-app-failure");
			System.out.println("[ClinicianAppIT] page at failure: " + ((JavascriptExecutor) browser).executeScript(
					"return document.getElementById('status').textContent + ' | ' + document.getElementById('banner').outerHTML + ' | ' + document.getElementById('alert-list').innerText"));
			throw e;
		} finally {
			browser.quit();
		}
	}

	private void launch(WebDriver browser, WebDriverWait wait, String base, String patientId) {
		browser.get(base + "/smart/launcher");
		wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(CLINICIAN);
		browser.findElement(By.id("password")).sendKeys(PASSWORD);
		browser.findElement(By.cssSelector("button[type=submit]")).click();
		wait.until(ExpectedConditions.presenceOfElementLocated(By.id("patient"))).sendKeys(patientId);
		// the launcher lists synthetic patients, newest first
		assertThat(browser.findElement(By.tagName("main")).getText()).contains("Ada Apptest");
		new Select(browser.findElement(By.id("app"))).selectByValue(ClinicianApp.CLIENT_ID);
		Browsers.screenshot(browser, "clinician-app-launcher");
		browser.findElement(By.cssSelector("button[type=submit]")).click();
		waitUntilReady(browser, wait);
		assertThat(browser.getCurrentUrl()).startsWith(base + "/app/");
	}

	private static void waitUntilReady(WebDriver browser, WebDriverWait wait) {
		wait.ignoring(org.openqa.selenium.WebDriverException.class).until(d -> ((JavascriptExecutor) d).executeScript(
				"return location.pathname.startsWith('/app/') && document.body ? document.body.dataset.ready || null : null") != null);
		assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("Ready");
	}

	private void recordEpisode(WebDriver browser, WebDriverWait wait) {
		WebElement form = wait.until(ExpectedConditions.presenceOfElementLocated(By.id("episode-submit"))).findElement(By.xpath("ancestor::form"));
		// two days ago, in the browser's own time zone
		((JavascriptExecutor) browser).executeScript(
				"const d = new Date(Date.now() - 2 * 864e5); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
						+ "document.getElementById('episode-when').value = d.toISOString().substring(0, 16);");
		form.findElement(By.xpath(".//label[text()='Cutting self']")).click();
		form.findElement(By.xpath(".//label[text()='No intent to die']")).click();
		WebElement urge = form.findElement(By.id("episode-urge"));
		urge.sendKeys("15"); // outside 0-10: the profile's constraint nssi-ep-2, judged by the server
		browser.findElement(By.id("episode-submit")).click();
		WebElement urgeError = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(".field[data-field=urge] .field-error")));
		assertThat(urgeError.getText()).contains("Urge intensity must be an integer from 0 to 10");
		assertThat(urge.getDomAttribute("aria-invalid")).isEqualTo("true");
		assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo("7");
		scrollTo(browser, form);
		Browsers.screenshot(browser, "clinician-app-episode-error");

		urge.clear();
		urge.sendKeys("6");
		browser.findElement(By.id("episode-submit")).click();
		wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("episode-result"), "Episode recorded"));
		wait.until(ExpectedConditions.textToBe(By.id("episode-count"), "8"));
		assertThat(browser.findElement(By.cssSelector(".field[data-field=urge] .field-error")).isDisplayed()).isFalse();
		assertThat(browser.findElement(By.id("days-since")).getText()).startsWith("2 ");
		scrollTo(browser, browser.findElement(By.id("timeline")));
		Browsers.screenshot(browser, "clinician-app-episode-recorded");
	}

	private void phq9(WebDriver browser, WebDriverWait wait) {
		browser.findElement(By.id("start-phq9")).click();
		WebElement form = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("questionnaire-form")));
		wait.until(ExpectedConditions.presenceOfElementLocated(By.id("q-phq9-item-9")));
		// enableWhen: the difficulty question appears only once a problem is reported
		WebElement difficulty = form.findElement(By.cssSelector(".field[data-field=phq9-difficulty]"));
		assertThat(difficulty.isDisplayed()).isFalse();
		int[] answers = {1, 2, 1, 0, 1, 2, 0, 1, 2};
		for (int i = 0; i < answers.length; i++) {
			form.findElement(By.cssSelector("label[for='q-phq9-item-" + (i + 1) + "-" + answers[i] + "']")).click();
		}
		assertThat(difficulty.isDisplayed()).isTrue();
		difficulty.findElements(By.cssSelector("label")).get(1).click();
		scrollTo(browser, form);
		Browsers.screenshot(browser, "clinician-app-phq9-form");
		browser.findElement(By.id("questionnaire-submit")).click();

		WebElement scores = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("score-list")));
		assertThat(scores.findElement(By.cssSelector("dd[data-code='44261-6']")).getText()).startsWith("10");
		// the suicide-risk alert (item 9 > 0) comes first, above the earlier escalation
		WebElement first = wait.until(d -> {
			List<WebElement> alerts = d.findElements(By.cssSelector("#alert-list li.alert"));
			return alerts.size() >= 3 ? alerts.get(0) : null;
		});
		assertThat(first.getDomAttribute("data-code")).contains("suicide-risk");
		assertThat(first.getText()).contains("Raised by QuestionnaireResponse/");
		assertThat(browser.findElement(By.id("latest-phq9")).getText()).startsWith("10");
		scrollTo(browser, browser.findElement(By.id("alerts")));
		Browsers.screenshot(browser, "clinician-app-suicide-risk-alert");
	}

	private void closeTask(WebDriver browser, WebDriverWait wait) {
		int tasks = browser.findElements(By.cssSelector("#alert-list li.alert[data-kind=task]")).size();
		assertThat(tasks).isEqualTo(2);
		browser.findElement(By.cssSelector("#alert-list li.alert[data-kind=task] button.close-task")).click();
		wait.until(d -> d.findElements(By.cssSelector("#alert-list li.alert[data-kind=task]")).size() == tasks - 1);
	}

	/** Treatment (issue 6): starting DBT stores the plan, which the app then shows with its progress. */
	@Test
	void aClinicianStartsADbtPlanAndSeesIt() {
		String family = "Plantest" + Long.toString(System.nanoTime(), 36).replaceAll("[0-9]", "");
		String patientId = seedPatient(family);
		episode(patientId, 40, CUTTING, "care-self", 6);
		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium();
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			// a standalone launch this time: the app asks for launch/patient, the clinician picks the patient
			browser.get(base + "/app/launch.html");
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(CLINICIAN);
			browser.findElement(By.id("password")).sendKeys(PASSWORD);
			browser.findElement(By.cssSelector("button[type=submit]")).click();
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("name"))).sendKeys(family);
			browser.findElement(By.cssSelector("button[type=submit]")).click();
			wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector("label[for='p-" + patientId + "']"))).click();
			browser.findElement(By.xpath("//button[text()='Continue']")).click();
			waitUntilReady(browser, wait);
			assertThat(browser.findElement(By.id("patient-name")).getText()).isEqualTo("Ada " + family);
			assertThat(browser.getCurrentUrl()).startsWith(base + "/app/");
			startDbt(browser);
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(browser, "clinician-app-dbt-failure");
			System.out.println("[ClinicianAppIT] treatment at failure: " + ((JavascriptExecutor) browser).executeScript(
					"return document.getElementById('treatment').innerText"));
			throw e;
		} finally {
			browser.quit();
		}
	}

	private void startDbt(WebDriver browser) {
		WebElement start = browser.findElement(By.id("start-nssi-dbt"));
		scrollTo(browser, browser.findElement(By.id("treatment")));
		start.click();
		WebElement plan = new WebDriverWait(browser, Duration.ofSeconds(120)).until(ExpectedConditions.visibilityOfElementLocated(By.id("treatment-plan")));
		assertThat(plan.findElement(By.id("plan-title")).getText()).contains("DBT");
		assertThat(plan.findElements(By.cssSelector("#plan-activities tbody tr"))).isNotEmpty();
		assertThat(plan.findElement(By.id("plan-activities")).getText()).contains("Sessions").contains("skills");
		assertThat(plan.findElements(By.cssSelector("#plan-goals li"))).isNotEmpty();
		assertThat(plan.findElement(By.id("plan-figures")).getText()).contains("Sessions delivered: 0");
		// the relapse-prevention plan (its own CarePlan, partOf the treatment plan) is shown with its parts
		WebElement relapse = browser.findElement(By.id("relapse-plan"));
		assertThat(relapse.findElement(By.id("relapse-title")).getText()).startsWith("Relapse-prevention plan");
		assertThat(relapse.findElements(By.cssSelector("li"))).hasSizeGreaterThanOrEqualTo(5);
		assertThat(relapse.getText()).contains("led to self-injury before").contains("crisis line");
		scrollTo(browser, relapse);
		Browsers.screenshot(browser, "clinician-app-relapse-plan");
		assertThat(browser.findElements(By.id("start-nssi-dbt"))).isEmpty();
		scrollTo(browser, browser.findElement(By.id("treatment")));
		Browsers.screenshot(browser, "clinician-app-dbt-plan");
	}

	private static void scrollTo(WebDriver browser, WebElement element) {
		((JavascriptExecutor) browser).executeScript("arguments[0].scrollIntoView({block: 'start'})", element);
	}

	/** A 15-year-old synthetic patient whose GP is the signed-in clinician (a treating relationship). */
	private String seedPatient(String family) {
		Practitioner dr = new Practitioner();
		dr.setId(PRACTITIONER_ID);
		dr.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		client().update().resource(dr).execute();
		Patient patient = new Patient();
		patient.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		patient.addName().setFamily(family).addGiven("Ada");
		patient.setBirthDate(Date.from(Instant.now().minus(15 * 365 + 100, ChronoUnit.DAYS)));
		patient.addGeneralPractitioner(new Reference("Practitioner/" + PRACTITIONER_ID));
		String id = client().create().resource(patient).execute().getId().getIdPart();
		// the NSSI diagnosis a treatment plan addresses
		Condition condition = new Condition();
		condition.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		condition.setClinicalStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", null)));
		condition.setVerificationStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", null)));
		condition.addCategory(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", null)));
		condition.getCode().addCoding(new Coding(NssiCanonicals.ICD10CM, "R45.88", "Nonsuicidal self-harm"));
		condition.setSubject(new Reference("Patient/" + id));
		condition.setRecordedDate(new Date());
		client().create().resource(condition).execute();
		return id;
	}

	private void episode(String patientId, int daysAgo, String method, String careLevel, Integer urge) {
		IIdType patient = new org.hl7.fhir.r4.model.IdType("Patient", patientId);
		Observation obs = AssessmentFixtures.episode(patient, Date.from(Instant.now().minus(daysAgo, ChronoUnit.DAYS)), "intent-none", careLevel);
		obs.getComponentFirstRep().setValue(new CodeableConcept(new Coding(NssiCanonicals.SNOMED, method, null)));
		if (urge != null) {
			obs.addComponent(AssessmentFixtures.component("urge-intensity", new IntegerType(urge)));
		}
		client().create().resource(obs).execute();
	}
}
