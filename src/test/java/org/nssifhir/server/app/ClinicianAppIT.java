package org.nssifhir.server.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.CLINICIAN;
import static org.nssifhir.server.support.SmartTestApps.PASSWORD;
import static org.nssifhir.server.support.SmartTestApps.PRACTITIONER_ID;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.Axe;
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
 * closing the alert's Task (outcome asked, If-Match, a colleague's change kept, the Flag resolved), and starting a DBT plan (CarePlan, activities, goals, relapse-prevention plan). Screenshots go to target/screenshots/clinician-app-*.png.
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
		WebDriver browser = Browsers.chromium(1366, 900);
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
			Axe.check(browser, "clinician-app-loaded");

			Select method = new Select(browser.findElement(By.id("filter-method")));
			method.selectByVisibleText("Burning self");
			assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo("2");
			method.selectByValue("");
			new Select(browser.findElement(By.id("filter-period"))).selectByValue("0");
			assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo("8");
			assertThat(browser.findElements(By.cssSelector("#timeline-chart rect.episode"))).hasSize(8);
			new Select(browser.findElement(By.id("filter-period"))).selectByValue("365");

			// the seeded medical-care episode raised an escalation alert, and so did the first-aid one: the person is 15
			// (lower threshold for minors, issue 19 item 8)
			assertThat(browser.findElements(By.cssSelector("#alert-list li.alert[data-kind=flag]"))).hasSize(2);

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

	/** Issue 18, inbound: an EHR's SNOMED CT-coded self-harm act is on the timeline, marked as of unknown intent. */
	@Test
	void anEpisodeAnotherSystemRecordedIsOnTheTimelineWithItsIntentNotRecorded() {
		String patientId = seedPatient("Apptest");
		episode(patientId, 20, CUTTING, "care-self", null);
		Observation ehr = new Observation();
		ehr.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		ehr.setStatus(Observation.ObservationStatus.FINAL);
		ehr.getCode().addCoding(new Coding(NssiCanonicals.SNOMED, "284744004", "Burning self"));
		ehr.setSubject(new org.hl7.fhir.r4.model.Reference("Patient/" + patientId));
		ehr.setEffective(new org.hl7.fhir.r4.model.DateTimeType(Date.from(Instant.now().minus(10, ChronoUnit.DAYS))));
		client().create().resource(ehr).execute();

		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium(1366, 900);
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			launch(browser, wait, base, patientId);
			assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo("2");
			assertThat(browser.findElements(By.cssSelector("#timeline-chart rect.episode"))).hasSize(2);
			String table = browser.findElement(By.id("episode-table-body")).getDomProperty("textContent");
			assertThat(table).contains("Burning self").contains("recorded by another system, intent not recorded");
		} finally {
			browser.quit();
		}
	}

	/**
	 * Item 6: a long list of alerts (here 9 events, each with its Flag and Task) does not push the timeline screens
	 * down: the first three cards show (suicide risk first, then the newest), and one button says how many more there
	 * are and how many of those are about suicide risk.
	 */
	@Test
	void aLongListOfAlertsIsCollapsedWithSuicideRiskFirst() {
		String patientId = seedPatient("Alerttest");
		IIdType patient = new org.hl7.fhir.r4.model.IdType("Patient", patientId);
		// the oldest event is the suicide-risk one: it still comes first
		client().create().resource(AssessmentFixtures.episode(patient, Date.from(Instant.now().minus(60, ChronoUnit.DAYS)), "intent-unsure", null)).execute();
		for (int daysAgo = 50; daysAgo >= 10; daysAgo -= 5) {
			episode(patientId, daysAgo, CUTTING, "care-medical", null);
		}
		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium(1366, 900);
		JavascriptExecutor js = (JavascriptExecutor) browser;
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			launch(browser, wait, base, patientId);
			List<WebElement> cards = browser.findElements(By.cssSelector("#alert-list > li.alert-group"));
			assertThat(cards).hasSizeGreaterThanOrEqualTo(10);
			assertThat(cards.stream().filter(WebElement::isDisplayed)).hasSize(3);
			assertThat(cards.get(0).findElement(By.cssSelector("li.alert")).getDomAttribute("data-code")).contains("suicide-risk");
			// after the suicide-risk card the newest events: the episode 10 days ago shows, the one 50 days ago does not
			java.time.format.DateTimeFormatter dayFormat = java.time.format.DateTimeFormatter.ofPattern("d MMM yyyy", java.util.Locale.UK);
			String shown = cards.stream().filter(WebElement::isDisplayed).map(WebElement::getText).reduce("", String::concat);
			assertThat(shown).contains(java.time.LocalDate.now(ZoneId.systemDefault()).minusDays(10).format(dayFormat))
					.doesNotContain(java.time.LocalDate.now(ZoneId.systemDefault()).minusDays(50).format(dayFormat));
			WebElement more = browser.findElement(By.id("alerts-more"));
			assertThat(more.getText()).startsWith("Show all alerts (" + (cards.size() - 3) + " more");
			assertThat(more.getDomAttribute("aria-expanded")).isEqualTo("false");
			// the timeline starts within the first two screens (900 px each), not screens further down
			double collapsedTop = ((Number) js.executeScript(TIMELINE_TOP)).doubleValue();
			assertThat(collapsedTop).isLessThan(1600);
			scrollTo(browser, browser.findElement(By.id("alerts")));
			Browsers.screenshot(browser, "clinician-app-alerts-collapsed");
			Axe.check(browser, "clinician-app-alerts-collapsed");

			clickCentered(browser, more);
			assertThat(cards.stream().filter(WebElement::isDisplayed)).hasSize(cards.size());
			assertThat(more.getDomAttribute("aria-expanded")).isEqualTo("true");
			double expandedTop = ((Number) js.executeScript(TIMELINE_TOP)).doubleValue();
			System.out.println("[ClinicianAppIT] timeline top at 1366x900: " + collapsedTop + " px with 3 of " + cards.size()
					+ " alert cards shown, " + expandedTop + " px with all");
			assertThat(expandedTop).isGreaterThan(collapsedTop * 2);
			assertThat(browser.switchTo().activeElement()).isEqualTo(cards.get(3));
			Axe.check(browser, "clinician-app-alerts-expanded");
			clickCentered(browser, more);
			assertThat(cards.stream().filter(WebElement::isDisplayed)).hasSize(3);
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(browser, "clinician-app-alerts-failure");
			throw e;
		} finally {
			browser.quit();
		}
	}

	/**
	 * Review s6: a support request from the person's app shows above the collapsed alert list with its time, its title
	 * once, counted in "Overdue actions", and closes with fitting outcomes; a diary card's alert says so, shows its day
	 * without an invented time and sorts by when it was recorded (above an episode earlier the same day).
	 */
	@Test
	void aSupportRequestAndADiaryCardAlertAreShownAsWhatTheyAre() {
		String patientId = seedPatient("Supporttest");
		IIdType patient = new org.hl7.fhir.r4.model.IdType("Patient", patientId);
		// a suicide-risk episode a minute ago, then the diary card for today (date only) with a high urge to die
		client().create().resource(AssessmentFixtures.episode(patient, Date.from(Instant.now().minus(1, ChronoUnit.MINUTES)), "intent-unsure", null)).execute();
		for (int daysAgo : new int[] {5, 10, 15}) {
			episode(patientId, daysAgo, CUTTING, "care-medical", null);
		}
		Observation card = new Observation();
		card.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		card.setStatus(Observation.ObservationStatus.FINAL);
		card.addCategory().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "nssi", null));
		card.getCode().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "diary-card", "Diary card entry"));
		card.setSubject(new Reference("Patient/" + patientId));
		card.setEffective(new org.hl7.fhir.r4.model.DateTimeType(LocalDate.now(ZoneId.systemDefault()).toString()));
		// the profile's required items, as the person's app sends them
		card.addComponent(AssessmentFixtures.component("urge-intensity", new IntegerType(6)));
		card.addComponent(AssessmentFixtures.component("urge-to-die", new IntegerType(8)));
		card.addComponent(AssessmentFixtures.component("self-harm-today", new org.hl7.fhir.r4.model.BooleanType(false)));
		card.addComponent(AssessmentFixtures.component("skills-used", new IntegerType(2)));
		// feelings, skills and a note sent as codes without displays: the clinician reads them in words (s8, item 1)
		card.addComponent(AssessmentFixtures.component("emotion", new CodeableConcept(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "emotion-shame", null))));
		card.addComponent(AssessmentFixtures.component("emotion", new CodeableConcept(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "emotion-lonely", null))));
		card.addComponent(AssessmentFixtures.component("skill-practised", new CodeableConcept(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "skill-tipp", null))));
		card.addComponent(AssessmentFixtures.component("skill-practised", new CodeableConcept(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "skill-wise-mind", null))));
		card.addNote().setText("Argument at school, felt alone all evening (synthetic)");
		// an earlier card of the same day, recorded first: listed below the later one (review s8: by effective time, then
		// by when recorded)
		client().create().resource(diaryCard(patientId, 4, 0)).execute();
		client().create().resource(card).execute();
		// yesterday's card, older: listed below today's
		Observation yesterday = diaryCard(patientId, 3, 0);
		yesterday.setEffective(new org.hl7.fhir.r4.model.DateTimeType(LocalDate.now(ZoneId.systemDefault()).minusDays(1).toString()));
		client().create().resource(yesterday).execute();
		Task support = new Task();
		support.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		support.setStatus(Task.TaskStatus.REQUESTED).setIntent(Task.TaskIntent.ORDER).setPriority(Task.TaskPriority.URGENT);
		support.getCode().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "support-request", "Request for support"));
		support.setDescription("The person asked for support now (phone coaching) from their app");
		support.setFor(new Reference("Patient/" + patientId)).setRequester(new Reference("Patient/" + patientId)).setAuthoredOn(new Date());
		String supportId = client().create().resource(support).execute().getId().getIdPart();
		// s8, item 2: one NSSI escalation review started but past its due time (started, so never re-escalated)
		Task started = client().search().forResource(Task.class).where(Task.PATIENT.hasId(patientId))
				.and(Task.CODE.exactly().systemAndCode(NssiCanonicals.CONCEPTS_SYSTEM, "nssi-escalation"))
				.returnBundle(org.hl7.fhir.r4.model.Bundle.class).execute().getEntry().stream().map(e -> (Task) e.getResource()).findFirst().orElseThrow();
		started.setStatus(Task.TaskStatus.INPROGRESS);
		started.getRestriction().getPeriod().setStart(Date.from(Instant.now().minus(26, ChronoUnit.HOURS)))
				.setEnd(Date.from(Instant.now().minus(2, ChronoUnit.HOURS)));
		String lateId = client().update().resource(started).execute().getId().getIdPart();

		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium(1366, 900);
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			launch(browser, wait, base, patientId);
			WebElement request = browser.findElement(By.cssSelector("#support-list > li.alert-group"));
			assertThat(request.isDisplayed()).isTrue();
			assertThat(request.findElement(By.cssSelector("h3")).getText()).startsWith("Support request from the young person's app, ")
					.matches(".*\\d{2}:\\d{2}$");
			assertThat(request.getText().split("asked for support now", -1)).hasSize(2);
			assertThat(request.findElement(By.cssSelector(".alert-source")).getText()).contains("asked ").containsPattern("\\d{2}:\\d{2}");
			assertThat(browser.findElement(By.cssSelector("#risk-header [data-risk=overdue]")).getText()).contains("1 support request(s) waiting");

			// s8, item 2: the priority and the due time in words from the Task, agreeing; no "Review now" a day ahead
			List<WebElement> suicideTasks = browser.findElements(By.xpath("//ul[@id='alert-list']//li[@data-kind='task'][contains(., 'About the suicide-risk alert')]"));
			assertThat(suicideTasks).isNotEmpty().allSatisfy(t -> assertThat(t.getDomProperty("textContent")).doesNotContain("Review now")
					.containsPattern("As soon as possible · Due by \\d{1,2} [A-Z][a-z]{2,3} \\d{4}, \\d{2}:\\d{2} · not started"));
			WebElement lateTask = browser.findElement(By.cssSelector("#alert-list li[data-task='" + lateId + "']"));
			assertThat(lateTask.getDomAttribute("data-overdue")).isEqualTo("true");
			assertThat(lateTask.getDomProperty("textContent")).containsPattern("Urgent · Overdue since \\d{1,2} [A-Z][a-z]{2,3} \\d{4}, \\d{2}:\\d{2} · in progress");
			assertThat(request.getText()).contains("Due by ");

			// s8, item 1: the diary cards in their own section, newest first, the note, feelings and skills in words
			List<WebElement> diary = browser.findElements(By.cssSelector("#diary-list > li.diary-card"));
			assertThat(diary).hasSize(3);
			String todays = diary.get(0).getText();
			assertThat(todays).contains("urge to self-harm 6 of 10").contains("urge to die 8 of 10").contains("no self-harm")
					.contains("Feelings: Ashamed or guilty, Lonely").contains("Skills used: TIPP, Wise mind")
					.contains("Note: “Argument at school, felt alone all evening (synthetic)”")
					.doesNotContain("emotion-").doesNotContain("skill-").doesNotContainPattern("\\d{2}:\\d{2}");
			assertThat(diary.get(1).getText()).contains("urge to self-harm 4 of 10");
			assertThat(diary.get(2).getText()).contains("urge to self-harm 3 of 10").contains("Feelings: none recorded").contains("Skills used: none");
			scrollTo(browser, browser.findElement(By.id("diary")));
			Browsers.screenshot(browser, "clinician-app-diary-cards");
			Axe.check(browser, "clinician-app-diary-cards");

			List<WebElement> cards = browser.findElements(By.cssSelector("#alert-list > li.alert-group"));
			assertThat(cards.get(0).findElement(By.cssSelector("h3")).getText()).startsWith("From the young person's diary card, ").doesNotContain(":");
			assertThat(cards.get(0).getText()).contains("Raised by the young person's diary card");
			assertThat(cards.get(1).findElement(By.cssSelector("h3")).getText()).startsWith("Episode on ");
			scrollTo(browser, browser.findElement(By.id("alerts")));
			Browsers.screenshot(browser, "clinician-app-support-request");
			Axe.check(browser, "clinician-app-support-request");

			clickCentered(browser, request.findElement(By.cssSelector("button.close-task")));
			WebElement form = request.findElement(By.cssSelector(".close-form"));
			assertThat(form.getText()).contains("Called back").contains("Message sent").doesNotContain("risk assessed");
			form.findElement(By.xpath(".//label[text()='Called back']")).click();
			form.findElement(By.cssSelector("button.confirm-close")).click();
			wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("alerts-status"), "Called back"));
			wait.until(d -> !d.findElement(By.id("support-list")).isDisplayed());
			assertThat(client().read().resource(Task.class).withId(supportId).execute().getStatus()).isEqualTo(Task.TaskStatus.COMPLETED);
			// review s8: closed, it stays in a compact "Recently answered" list, not yet seen by the person
			wait.until(d -> d.findElement(By.id("support-answered")).isDisplayed());
			assertThat(browser.findElement(By.id("support-answered")).getText()).contains("Recently answered").contains("Called back")
					.contains("not yet seen by the young person");
			// the person says in their app they have seen the answer (a note of theirs): the team reads it there
			Task answered = client().read().resource(Task.class).withId(supportId).execute();
			answered.addNote().setAuthor(new Reference("Patient/" + patientId)).setTime(new Date()).setText("I have seen the answer");
			client().update().resource(answered).execute();

			// the open page notices a new request without a reload (it checks every minute while visible, and at once
			// when the tab becomes visible again) and says so politely
			support.setId((String) null);
			support.setAuthoredOn(new Date());
			client().create().resource(support).execute();
			assertThat(browser.findElement(By.id("alerts-new")).getDomAttribute("aria-live")).isEqualTo("polite");
			((JavascriptExecutor) browser).executeScript("document.dispatchEvent(new Event('visibilitychange'))");
			wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("alerts-new"), "New alert"));
			assertThat(browser.findElement(By.cssSelector("#support-list > li.alert-group")).isDisplayed()).isTrue();
			wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("support-answered"), "Seen by the young person, "));
			assertThat(browser.findElement(By.id("support-answered")).getText()).containsPattern("Seen by the young person, .*\\d{2}:\\d{2}")
					.doesNotContain("not yet seen");
			Axe.check(browser, "clinician-app-new-alert");
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(browser, "clinician-app-support-failure");
			throw e;
		} finally {
			browser.quit();
		}
	}

	/**
	 * Item 12 (launcher): any patient can be picked, not only the 25 most recently changed synthetic ones: the list
	 * pages (next / previous 25), and a name search finds any patient, who is then launched from the result.
	 */
	@Test
	void theLauncherPagesAndFindsAnyPatientByName() {
		String family = "Findtest" + Long.toString(System.nanoTime(), 36).replaceAll("[0-9]", "");
		String patientId = seedPatient(family);
		// 26 synthetic patients changed after it: it is no longer on the launcher's first page
		org.hl7.fhir.r4.model.Bundle batch = new org.hl7.fhir.r4.model.Bundle().setType(org.hl7.fhir.r4.model.Bundle.BundleType.TRANSACTION);
		for (int i = 0; i < 26; i++) {
			Patient other = new Patient();
			other.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
			other.addName().setFamily("Pagetest").addGiven("P" + i);
			batch.addEntry().setResource(other).getRequest().setMethod(org.hl7.fhir.r4.model.Bundle.HTTPVerb.POST).setUrl("Patient");
		}
		client().transaction().withBundle(batch).execute();

		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium(1366, 900);
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			browser.get(base + "/smart/launcher");
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(CLINICIAN);
			browser.findElement(By.id("password")).sendKeys(PASSWORD);
			browser.findElement(By.cssSelector("button[type=submit]")).click();
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("patient-picker")));
			assertThat(browser.findElements(By.cssSelector("#patient-picker input[type=radio]"))).hasSize(25);
			assertThat(browser.findElements(By.id("launch-p-" + patientId))).isEmpty();
			assertThat(browser.findElements(By.id("launcher-previous"))).isEmpty();
			// the launch button is still the page's first: the search form follows the launch form
			assertThat(browser.findElement(By.cssSelector("button[type=submit]")).getDomAttribute("id")).isEqualTo("launch-submit");

			browser.findElement(By.id("launcher-next")).click();
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("launcher-previous")));
			assertThat(browser.findElement(By.cssSelector("#patient-picker legend")).getText()).contains("26–");
			assertThat(browser.findElements(By.cssSelector("#patient-picker input[type=radio]"))).isNotEmpty();
			Axe.check(browser, "launcher-page-2");

			browser.findElement(By.id("launcher-name")).sendKeys(family);
			browser.findElement(By.cssSelector("#launcher-search button[type=submit]")).click();
			WebElement picked = wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("label[for='launch-p-" + patientId + "']")));
			assertThat(browser.findElements(By.cssSelector("#patient-picker input[type=radio]"))).hasSize(1);
			assertThat(browser.findElement(By.cssSelector("#patient-picker legend")).getText()).contains(family);
			Browsers.screenshot(browser, "clinician-app-launcher-search");
			Axe.check(browser, "launcher-search");
			picked.click();
			new Select(browser.findElement(By.id("app"))).selectByValue(ClinicianApp.CLIENT_ID);
			browser.findElement(By.id("launch-submit")).click();
			waitUntilReady(browser, wait);
			assertThat(browser.findElement(By.id("patient-name")).getText()).isEqualTo("Ada " + family);

			// nobody by that name: said, and the typed id stays available
			browser.get(base + "/smart/launcher?name=Nobodyhasthisname");
			assertThat(wait.until(ExpectedConditions.presenceOfElementLocated(By.id("launcher-none"))).getText()).contains("No patient named");
			assertThat(browser.findElement(By.id("patient")).getDomAttribute("required")).isNotNull();
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(browser, "clinician-app-launcher-failure");
			throw e;
		} finally {
			browser.quit();
		}
	}

	/** Launches with the patient's id typed (the launcher's fallback for a patient it does not list). */
	private void launch(WebDriver browser, WebDriverWait wait, String base, String patientId) {
		launch(browser, wait, base, patientId, null);
	}

	/** Launches from the built-in EHR launcher; with a name, the patient is picked from its list, not typed. */
	private void launch(WebDriver browser, WebDriverWait wait, String base, String patientId, String name) {
		browser.get(base + "/smart/launcher");
		wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username")));
		// the sign-in page has the app's look (its stylesheet, header bar, 44 px fields) and passes axe-core
		assertThat(browser.findElement(By.id("username")).getSize().getHeight()).isGreaterThanOrEqualTo(44);
		assertThat(browser.findElement(By.cssSelector("header.site")).getCssValue("background-color")).isEqualTo("rgba(16, 48, 79, 1)");
		Browsers.screenshot(browser, "clinician-app-sign-in");
		Axe.check(browser, "sign-in");
		browser.findElement(By.id("username")).sendKeys(CLINICIAN);
		browser.findElement(By.id("password")).sendKeys(PASSWORD);
		browser.findElement(By.cssSelector("button[type=submit]")).click();
		WebElement typed = wait.until(ExpectedConditions.presenceOfElementLocated(By.id("patient")));
		if (name == null) {
			typed.sendKeys(patientId);
		} else {
			// the launcher lists synthetic patients by name, newest first: one is picked, no id typed
			WebElement picked = browser.findElement(By.cssSelector("label[for='launch-p-" + patientId + "']"));
			assertThat(picked.getText()).startsWith(name);
			((JavascriptExecutor) browser).executeScript("arguments[0].scrollIntoView({block: 'center'})", picked);
			picked.click();
			assertThat(browser.findElement(By.id("launch-p-" + patientId)).isSelected()).isTrue();
		}
		new Select(browser.findElement(By.id("app"))).selectByValue(ClinicianApp.CLIENT_ID);
		Browsers.screenshot(browser, "clinician-app-launcher");
		Axe.check(browser, "launcher");
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
		// intent "unsure": a follow-up prompt at once, and the suicide-risk alert shown here once saved
		form.findElement(By.xpath(".//label[text()='Unsure about intent to die']")).click();
		WebElement followUp = browser.findElement(By.id("intent-follow-up"));
		assertThat(followUp.isDisplayed()).isTrue();
		assertThat(followUp.getText()).contains("suicide-risk alert");
		WebElement urge = form.findElement(By.id("episode-urge"));
		urge.sendKeys("15"); // outside 0-10: the profile's constraint nssi-ep-2, judged by the server
		browser.findElement(By.id("episode-submit")).click();
		WebElement urgeError = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(".field[data-field=urge] .field-error")));
		assertThat(urgeError.getText()).contains("Urge intensity must be an integer from 0 to 10");
		assertThat(urge.getDomAttribute("aria-invalid")).isEqualTo("true");
		assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo("7");
		scrollTo(browser, form);
		Browsers.screenshot(browser, "clinician-app-episode-error");
		Axe.check(browser, "clinician-app-episode-error");

		urge.clear();
		urge.sendKeys("6");
		browser.findElement(By.id("episode-submit")).click();
		wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("episode-result"), "Episode recorded: Cutting self"));
		wait.until(ExpectedConditions.textToBe(By.id("episode-count"), "8"));
		// the alert this entry raised, right where the clinician is (a role=alert region, focused), not only far above
		WebElement raised = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#episode-raised.raised")));
		assertThat(raised.getDomAttribute("role")).isEqualTo("alert");
		assertThat(raised.getText()).contains("Suicide-risk alert raised by this entry").contains("See it in Alerts");
		assertThat(browser.switchTo().activeElement().getDomAttribute("id")).isEqualTo("episode-raised");
		assertThat(browser.findElement(By.id("episode-result")).getText()).doesNotContain("Observation/");
		scrollTo(browser, form);
		Browsers.screenshot(browser, "clinician-app-episode-raised-alert");
		Axe.check(browser, "clinician-app-episode-raised-alert");
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
		// the total is calculated, never typed: a read-only output, blank until every item is answered
		WebElement total = form.findElement(By.id("q-phq9-total-score"));
		assertThat(total.getTagName()).isEqualTo("output");
		assertThat(form.findElements(By.cssSelector("input[name='phq9-total-score']"))).isEmpty();
		assertThat(form.findElement(By.cssSelector("label[for='q-phq9-item-1-2']")).getText()).isEqualTo("2 · More than half the days");
		int[] answers = {1, 2, 1, 0, 1, 2, 0, 1, 2};
		for (int i = 0; i < answers.length; i++) {
			form.findElement(By.cssSelector("label[for='q-phq9-item-" + (i + 1) + "-" + answers[i] + "']")).click();
			if (i < answers.length - 1) {
				assertThat(total.getText()).as("total with items missing").isEmpty();
			}
		}
		assertThat(total.getText()).isEqualTo("10");
		form.findElement(By.cssSelector("label[for='q-phq9-item-2-0']")).click();
		assertThat(total.getText()).isEqualTo("8");
		form.findElement(By.cssSelector("label[for='q-phq9-item-2-2']")).click();
		assertThat(total.getText()).isEqualTo("10");
		// item 9 above 0 (thoughts of being better off dead or of self-harm): a follow-up prompt under the answer
		WebElement followUp = form.findElement(By.id("follow-up-phq9-item-9"));
		assertThat(followUp.getDomAttribute("role")).isEqualTo("alert");
		assertThat(followUp.getText()).contains("plan").contains("means");
		scrollTo(browser, form.findElement(By.cssSelector(".field[data-field=phq9-item-9]")));
		Browsers.screenshot(browser, "clinician-app-phq9-total-and-follow-up");
		assertThat(difficulty.isDisplayed()).isTrue();
		difficulty.findElements(By.cssSelector("label")).get(1).click();
		scrollTo(browser, form);
		Browsers.screenshot(browser, "clinician-app-phq9-form");
		Axe.check(browser, "clinician-app-phq9-form");
		browser.findElement(By.id("questionnaire-submit")).click();

		WebElement scores = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("score-list")));
		assertThat(scores.findElement(By.cssSelector("dd[data-code='44261-6']")).getText()).startsWith("10");
		WebElement raised = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#assessment-raised.raised")));
		assertThat(raised.getText()).contains("Suicide-risk alert raised by this entry");
		// the suicide-risk alerts (the episode's and item 9's) come first, above the earlier escalation
		WebElement first = wait.until(d -> {
			List<WebElement> alerts = d.findElements(By.cssSelector("#alert-list li.alert"));
			return alerts.size() >= 6 ? alerts.get(0) : null;
		});
		assertThat(first.getDomAttribute("data-code")).contains("suicide-risk");
		assertThat(browser.findElements(By.cssSelector("#alert-list li.alert[data-kind=flag][data-code~='suicide-risk']")))
				.anySatisfy(flag -> assertThat(flag.getText()).contains("Raised by a questionnaire answer"))
				.anySatisfy(flag -> assertThat(flag.getText()).contains("Raised by a recorded episode"))
				.allSatisfy(flag -> assertThat(flag.getText()).doesNotContain("Observation/").doesNotContain("QuestionnaireResponse/"));
		assertThat(browser.findElement(By.id("latest-phq9")).getText()).startsWith("10");
		scrollTo(browser, browser.findElement(By.id("alerts")));
		Browsers.screenshot(browser, "clinician-app-suicide-risk-alert");
		Axe.check(browser, "clinician-app-scores-and-alerts");
	}

	/**
	 * Closing a suicide-risk Task: the outcome is asked for; a colleague's change made meanwhile is never overwritten
	 * (If-Match, 412: reloaded and said); then it closes with the outcome and resolves its Flag.
	 */
	private void closeTask(WebDriver browser, WebDriverWait wait) {
		int tasks = browser.findElements(By.cssSelector("#alert-list li.alert[data-kind=task]")).size();
		// four alerts (medical care; first aid, the person being 15; the recorded episode; PHQ-9 item 9), each with its
		// Task, and one safeguarding review for the young person, to which the later alerts were added
		assertThat(tasks).isEqualTo(5);
		// s8, item 3: the safeguarding review shows the later alerts the server added to it as dated notes, in words
		WebElement review = browser.findElement(By.xpath("//ul[@id='alert-list']//li[@data-kind='task'][.//p[@class='alert-title'][starts-with(., 'Safeguarding review')]]"));
		String notes = review.findElement(By.cssSelector("ul.task-notes")).getDomProperty("textContent");
		assertThat(notes).contains("NSSI FHIR Server (safeguarding): Another alert for this person: ")
				.containsPattern("\\d{1,2} [A-Z][a-z]{2,3} \\d{4}, \\d{2}:\\d{2}, NSSI FHIR Server").doesNotContain("Flag/");
		By suicideTask = By.xpath("//ul[@id='alert-list']//li[@data-kind='task'][contains(., 'About the suicide-risk alert')]");
		String taskId = browser.findElement(suicideTask).getDomAttribute("data-task");
		assertThat(browser.findElement(suicideTask).getText()).doesNotContain("Flag/").doesNotContain("asap,");

		// a colleague adds a note and starts the task after this page loaded it
		Task colleague = client().read().resource(Task.class).withId(taskId).execute();
		colleague.setStatus(Task.TaskStatus.INPROGRESS);
		colleague.addNote().setText("Colleague: phoned the family, call back at 5").setTime(new Date());
		client().update().resource(colleague).execute();

		WebElement item = browser.findElement(By.cssSelector("#alert-list li[data-task='" + taskId + "']"));
		item.findElement(By.cssSelector("button.close-task")).click();
		item.findElement(By.cssSelector("button.confirm-close")).click();
		assertThat(item.findElement(By.cssSelector(".close-form .field-error")).getText()).isEqualTo("Choose the outcome.");
		item.findElement(By.xpath(".//label[text()='Reviewed: risk assessed and action taken']")).click();
		item.findElement(By.cssSelector("textarea")).sendKeys("Safety plan reviewed with her and her mother");
		item.findElement(By.cssSelector("input.resolve-flag")).click();
		scrollTo(browser, browser.findElement(By.id("alerts")));
		Browsers.screenshot(browser, "clinician-app-close-task-form");
		Axe.check(browser, "clinician-app-close-task-form");
		item.findElement(By.cssSelector("button.confirm-close")).click();
		wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("alerts-status"), "a colleague changed it"));
		Task afterConflict = client().read().resource(Task.class).withId(taskId).execute();
		assertThat(afterConflict.getStatus()).isEqualTo(Task.TaskStatus.INPROGRESS);
		assertThat(afterConflict.getNote()).anySatisfy(n -> assertThat(n.getText()).startsWith("Colleague:"));
		// reloaded with the colleague's version (the list is drawn again once the message is said)
		WebElement reloaded = wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> d.findElements(By.cssSelector("#alert-list li[data-task='" + taskId + "']")).stream()
				.filter(li -> li.getText().contains("in progress")).findFirst().orElse(null));
		Browsers.screenshot(browser, "clinician-app-close-task-conflict");

		// again, on the colleague's version: closed with the outcome, their note kept, the Flag resolved
		reloaded.findElement(By.cssSelector("button.close-task")).click();
		reloaded.findElement(By.xpath(".//label[text()='Reviewed: risk assessed and action taken']")).click();
		reloaded.findElement(By.cssSelector("input.resolve-flag")).click();
		reloaded.findElement(By.cssSelector("button.confirm-close")).click();
		wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("alerts-status"), "suicide-risk alert was resolved"));
		wait.until(d -> d.findElements(By.cssSelector("#alert-list li.alert[data-kind=task]")).size() == tasks - 1);
		// issue 20 review, item 4: the focus is on the next alert (the card now in the closed one's place), not the
		// page's body, and the outcome is said in the polite status region
		WebElement focused = browser.switchTo().activeElement();
		assertThat(focused.getTagName()).isEqualTo("li");
		assertThat(focused.getDomAttribute("class")).contains("alert-group");
		assertThat(focused.findElement(By.xpath("ancestor::ul[1]")).getDomAttribute("id")).isEqualTo("alert-list");
		assertThat(browser.findElement(By.id("alerts-status")).getDomAttribute("role")).isEqualTo("status");
		assertThat(browser.findElement(By.id("alerts-status")).getText()).startsWith("Task closed: Reviewed: risk assessed and action taken.");
		Task closed = client().read().resource(Task.class).withId(taskId).execute();
		assertThat(closed.getStatus()).isEqualTo(Task.TaskStatus.COMPLETED);
		assertThat(closed.getNote()).anySatisfy(n -> assertThat(n.getText()).startsWith("Colleague:"))
				.anySatisfy(n -> assertThat(n.getText()).startsWith("Outcome: Reviewed: risk assessed and action taken"));
		Flag flag = client().read().resource(Flag.class).withId(new org.hl7.fhir.r4.model.IdType(closed.getFocus().getReference()).getIdPart()).execute();
		assertThat(flag.getStatus()).isEqualTo(Flag.FlagStatus.INACTIVE);
		assertThat(flag.getPeriod().hasEnd()).isTrue();
		// item 5: the box where that alert was announced ("raised by this entry") follows it: now resolved, calmly
		WebElement box = browser.findElement(By.xpath("//div[contains(@class, 'raised-slot')][contains(concat(' ', @data-alerts, ' '), ' flag/"
				+ flag.getIdElement().getIdPart() + " ') or contains(concat(' ', @data-alerts, ' '), ' task/" + taskId + " ')]"));
		wait.until(d -> box.getDomAttribute("class").contains("resolved"));
		assertThat(box.getDomAttribute("class")).doesNotContain("raised ");
		assertThat(box.getText()).isEqualTo("The suicide-risk alert raised by this entry has been resolved.");
		scrollTo(browser, box);
		Browsers.screenshot(browser, "clinician-app-raised-alert-resolved");
		Axe.check(browser, "clinician-app-raised-alert-resolved");
		scrollTo(browser, browser.findElement(By.id("alerts")));
		Browsers.screenshot(browser, "clinician-app-task-closed");
	}

	/**
	 * Issue 20 item 11: the episode form starts on today (local), takes a free-text note, corrects a recorded episode
	 * (PUT with If-Match: a colleague's change made meanwhile is reloaded, never overwritten) and keeps the focus where
	 * the clinician is after saving; the assessment starts pre-filled from $populate; switching forms with unsaved
	 * answers asks first; PHQ-9 choices carry their words and scores.
	 */
	@Test
	void episodeFormAndAssessmentsAtThePointOfCare() {
		String family = "Formtest" + Long.toString(System.nanoTime(), 36).replaceAll("[0-9]", "");
		String patientId = seedPatient(family);
		episode(patientId, 30, BURNING, "care-self", 5);
		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium(1366, 900);
		JavascriptExecutor js = (JavascriptExecutor) browser;
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			launch(browser, wait, base, patientId, "Ada " + family);
			WebElement when = wait.until(ExpectedConditions.presenceOfElementLocated(By.id("episode-when")));
			// today, in the browser's own time zone, without typing
			Object today = js.executeScript("const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
					+ "return d.toISOString().substring(0, 10);");
			assertThat(when.getDomProperty("value")).startsWith(String.valueOf(today));

			// a new episode with a note: saved with it, the focus on what saving did
			WebElement form = browser.findElement(By.id("episode-form"));
			js.executeScript("document.getElementById('episode-when').value = arguments[0];",
					js.executeScript("const d = new Date(Date.now() - 3 * 3600e3); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
							+ "return d.toISOString().substring(0, 16);"));
			form.findElement(By.xpath(".//label[text()='Cutting self']")).click();
			form.findElement(By.xpath(".//label[text()='No intent to die']")).click();
			form.findElement(By.id("episode-note")).sendKeys("After an argument at school; told her mother");
			browser.findElement(By.id("episode-submit")).click();
			wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("episode-result"), "Episode recorded: Cutting self"));
			wait.until(ExpectedConditions.textToBe(By.id("episode-count"), "2"));
			wait.until(d -> "episode-result".equals(d.switchTo().activeElement().getDomAttribute("id")));
			assertThat(browser.findElement(By.id("episode-note")).getDomProperty("value")).isEmpty();
			assertThat(when.getDomProperty("value")).startsWith(String.valueOf(today));
			Observation recorded = client().search().forResource(Observation.class)
					.where(Observation.SUBJECT.hasId(patientId))
					.returnBundle(org.hl7.fhir.r4.model.Bundle.class).execute().getEntry().stream()
					.map(e -> (Observation) e.getResource()).filter(Observation::hasNote).findFirst().orElseThrow();
			assertThat(recorded.getNoteFirstRep().getText()).isEqualTo("After an argument at school; told her mother");

			// correcting it: picked from the recorded episodes above the form
			new Select(browser.findElement(By.id("episode-pick"))).selectByValue(recorded.getIdElement().getIdPart());
			clickCentered(browser, browser.findElement(By.id("episode-pick-open")));
			wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("episode-editing")));
			assertThat(browser.findElement(By.id("episode-submit")).getText()).isEqualTo("Save changes");
			assertThat(browser.findElement(By.id("episode-note")).getDomProperty("value")).isEqualTo("After an argument at school; told her mother");
			assertThat(form.findElement(By.xpath(".//label[text()='Cutting self']/preceding-sibling::input")).isSelected()).isTrue();
			assertThat(browser.switchTo().activeElement().getDomAttribute("id")).isEqualTo("episode-when");
			scrollTo(browser, form);
			Browsers.screenshot(browser, "clinician-app-episode-editing");
			Axe.check(browser, "clinician-app-episode-editing");

			// a colleague records the urge meanwhile: the save is refused (If-Match), their version is reloaded
			Observation colleague = client().read().resource(Observation.class).withId(recorded.getIdElement().toUnqualifiedVersionless()).execute();
			colleague.addComponent(AssessmentFixtures.component("urge-intensity", new IntegerType(7)));
			client().update().resource(colleague).execute();
			WebElement note = browser.findElement(By.id("episode-note"));
			note.clear();
			note.sendKeys("After an argument at school; told her mother and her tutor");
			clickCentered(browser, browser.findElement(By.id("episode-submit")));
			wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("episode-result"), "A colleague changed this episode"));
			assertThat(browser.findElement(By.id("episode-urge")).getDomProperty("value")).isEqualTo("7");
			assertThat(client().read().resource(Observation.class).withId(recorded.getIdElement().toUnqualifiedVersionless()).execute()
					.getNoteFirstRep().getText()).isEqualTo("After an argument at school; told her mother");
			note = browser.findElement(By.id("episode-note"));
			note.clear();
			note.sendKeys("After an argument at school; told her mother and her tutor");
			clickCentered(browser, browser.findElement(By.id("episode-submit")));
			wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("episode-result"), "Episode updated: Cutting self"));
			wait.until(d -> "episode-result".equals(d.switchTo().activeElement().getDomAttribute("id")));
			assertThat(browser.findElement(By.id("episode-editing")).isDisplayed()).isFalse();
			Observation updated = client().read().resource(Observation.class).withId(recorded.getIdElement().toUnqualifiedVersionless()).execute();
			assertThat(updated.getMeta().getVersionId()).isEqualTo("3");
			assertThat(updated.getNoteFirstRep().getText()).isEqualTo("After an argument at school; told her mother and her tutor");
			assertThat(updated.getComponent()).anySatisfy(c -> assertThat(c.getValue()).isInstanceOf(IntegerType.class));
			assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo("2");

			// the assessment starts from what the record holds ($populate), to be checked with the person
			clickCentered(browser, browser.findElement(By.id("start-nssi")));
			WebElement prefill = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("prefill-note")));
			assertThat(prefill.getText()).contains("pre-filled from the record");
			WebElement qform = browser.findElement(By.id("questionnaire-form"));
			assertThat(qform.findElements(By.cssSelector("input:checked"))).isNotEmpty();
			scrollTo(browser, qform);
			Browsers.screenshot(browser, "clinician-app-assessment-prefilled");
			Axe.check(browser, "clinician-app-assessment-prefilled");

			// an answer given, then PHQ-9: asked first; "cancel" keeps the answers, "OK" opens the PHQ-9
			clickCentered(browser, qform.findElements(By.cssSelector("input[type=radio]:not(:checked) + label")).stream().filter(WebElement::isDisplayed)
					.findFirst().orElseThrow());
			// (an in-page modal dialog, not the browser's confirm(): the app's words, the safe choice focused, axe-checked)
			WebElement phq9 = browser.findElement(By.id("start-phq9"));
			clickCentered(browser, phq9);
			WebElement dialog = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
			assertThat(dialog.getDomAttribute("open")).isNotNull();
			assertThat(dialog.getText()).contains("not submitted yet").contains("PHQ-9");
			assertThat(browser.switchTo().activeElement().getDomAttribute("id")).isEqualTo("confirm-dialog-no");
			Browsers.screenshot(browser, "clinician-app-discard-dialog");
			Axe.check(browser, "clinician-app-discard-dialog");
			new Actions(browser).sendKeys(org.openqa.selenium.Keys.ESCAPE).perform();
			wait.until(d -> d.findElements(By.id("confirm-dialog")).isEmpty());
			assertThat(browser.switchTo().activeElement()).isEqualTo(phq9);
			assertThat(qform.getDomAttribute("data-questionnaire")).isEqualTo("nssi-assessment");
			assertThat(qform.findElements(By.cssSelector("input:checked"))).isNotEmpty();
			clickCentered(browser, phq9);
			wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog-no"))).click();
			wait.until(d -> d.findElements(By.id("confirm-dialog")).isEmpty());
			assertThat(qform.getDomAttribute("data-questionnaire")).isEqualTo("nssi-assessment");
			clickCentered(browser, phq9);
			wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog-yes"))).click();
			wait.until(ExpectedConditions.attributeToBe(qform, "data-questionnaire", "nssi-phq9"));
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("q-phq9-item-1")));
			// each choice with its words and its score
			assertThat(qform.findElement(By.cssSelector("label[for='q-phq9-item-1-0']")).getText()).isEqualTo("0 · Not at all");
			assertThat(qform.findElement(By.cssSelector("label[for='q-phq9-item-1-1']")).getText()).isEqualTo("1 · Several days");
			assertThat(qform.findElement(By.cssSelector("label[for='q-phq9-item-1-3']")).getText()).isEqualTo("3 · Nearly every day");
			// nothing answered yet: switching back is not asked
			clickCentered(browser, browser.findElement(By.id("start-nssi")));
			wait.until(ExpectedConditions.attributeToBe(qform, "data-questionnaire", "nssi-assessment"));
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(browser, "clinician-app-forms-failure");
			System.out.println("[ClinicianAppIT] record at failure: " + js.executeScript(
					"return document.getElementById('status')?.textContent + ' | ' + document.getElementById('record')?.innerText + ' | ' + document.getElementById('assessment')?.innerText"));
			throw e;
		} finally {
			browser.quit();
		}
	}

	/**
	 * Clinician review s8, item 5: an adult's record speaks of "the person" (the safety plan is edited "with the
	 * person", the diary card is "the person's"); "the young person" is the adolescent wording, only under 18.
	 */
	@Test
	void anAdultsRecordSpeaksOfThePersonNotTheYoungPerson() {
		String patientId = seedPatient("Adulttest", 32);
		Observation card = diaryCard(patientId, 4, 0);
		card.getComponent().stream().filter(c -> "urge-to-die".equals(c.getCode().getCodingFirstRep().getCode())).findFirst().orElseThrow()
				.setValue(new IntegerType(8));
		client().create().resource(card).execute();
		org.hl7.fhir.r4.model.Parameters in = new org.hl7.fhir.r4.model.Parameters();
		in.addParameter("subject", new org.hl7.fhir.r4.model.StringType("Patient/" + patientId));
		in.addParameter("persist", new org.hl7.fhir.r4.model.BooleanType(true));
		in.addParameter("familyInvolvement", new org.hl7.fhir.r4.model.BooleanType(false));
		client().operation().onInstance("PlanDefinition/nssi-dbt").named("$apply").withParameters(in).execute();
		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium(1366, 900);
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			launch(browser, wait, base, patientId);
			WebElement edit = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("relapse-edit")));
			assertThat(edit.getText()).isEqualTo("Edit with the person");
			// (the high urge to die ordered safety planning: one line says both, the template plan is not yet made)
			assertThat(browser.findElement(By.id("plan-due")).getText()).contains("Safety planning not done yet")
					.contains("the safety plan is not yet made with the person; make it with them now (use “Edit with the person” below).")
					.doesNotContain("Safety plan not yet made with the person: due now");
			assertThat(browser.findElement(By.id("alert-list")).getText()).contains("From the person's diary card")
					.contains("Raised by the person's diary card");
			assertThat((String) ((JavascriptExecutor) browser).executeScript("return document.body.textContent")).doesNotContain("young person");
			// no family member on record: no "Family members on record" line over an empty list (review s8, 7)
			wait.until(d -> d.findElement(By.id("invite-family")).getDomAttribute("hidden") != null);
			assertThat(browser.findElement(By.id("invite-family-intro")).isDisplayed()).isFalse();
			scrollTo(browser, browser.findElement(By.id("treatment")));
			Browsers.screenshot(browser, "clinician-app-adult-wording");
			Axe.check(browser, "clinician-app-adult-wording");
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(browser, "clinician-app-adult-failure");
			throw e;
		} finally {
			browser.quit();
		}
	}

	/** Treatment (issue 6): starting DBT stores the plan, which the app then shows with its progress. */
	@Test
	void aClinicianStartsADbtPlanAndSeesIt() {
		String family = "Plantest" + Long.toString(System.nanoTime(), 36).replaceAll("[0-9]", "");
		String patientId = seedPatient(family);
		episode(patientId, 40, CUTTING, "care-self", 6);
		// today's diary card: a strong urge, no skills, on the plan's first day (the diary goals cannot be judged yet)
		client().create().resource(diaryCard(patientId, 6, 0)).execute();
		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium(1366, 900);
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			// a standalone launch this time: the app asks for launch/patient, the clinician picks the patient
			browser.get(base + "/app/launch.html");
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(CLINICIAN);
			browser.findElement(By.id("password")).sendKeys(PASSWORD);
			browser.findElement(By.cssSelector("button[type=submit]")).click();
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("name"))).sendKeys(family);
			browser.findElement(By.cssSelector("button[type=submit]")).click();
			wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector("label[for='p-" + patientId + "']")));
			Axe.check(browser, "clinician-app-patient-picker");
			browser.findElement(By.cssSelector("label[for='p-" + patientId + "']")).click();
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
		// the plan's options are asked first, nothing pre-chosen: starting without them says what is missing
		WebElement start = browser.findElement(By.id("start-plan"));
		clickCentered(browser, start);
		assertThat(browser.findElement(By.id("plan-options-error")).getText()).contains("the therapy").contains("whether the family takes part");
		clickCentered(browser, browser.findElement(By.cssSelector("label[for='plan-therapy-nssi-cbt']")));
		assertThat(browser.findElement(By.id("plan-variant")).isDisplayed()).isTrue();
		clickCentered(browser, browser.findElement(By.cssSelector("label[for='plan-therapy-nssi-dbt']")));
		assertThat(browser.findElement(By.id("plan-variant")).isDisplayed()).isFalse();
		clickCentered(browser, browser.findElement(By.cssSelector("label[for='plan-family-yes']")));
		scrollTo(browser, browser.findElement(By.id("treatment")));
		Browsers.screenshot(browser, "clinician-app-plan-options");
		Axe.check(browser, "clinician-app-plan-options");
		clickCentered(browser, start);
		WebElement plan = new WebDriverWait(browser, Duration.ofSeconds(120)).until(ExpectedConditions.visibilityOfElementLocated(By.id("treatment-plan")));
		assertThat(plan.findElement(By.id("plan-title")).getText()).contains("DBT");
		// the options form the focus was in is gone: focus on the treatment heading, not the page's body (review s7)
		new WebDriverWait(browser, Duration.ofSeconds(10)).until(d -> "treatment-heading".equals(d.switchTo().activeElement().getDomAttribute("id")));
		assertThat(plan.findElements(By.cssSelector("#plan-activities tbody tr"))).isNotEmpty();
		assertThat(plan.findElement(By.id("plan-activities")).getText()).contains("Sessions").contains("skills");
		// family involvement chosen: the adolescent DBT family activities are in the plan
		assertThat(plan.findElement(By.id("plan-activities")).getText()).contains("Parent coaching");
		assertThat(plan.findElements(By.cssSelector("#plan-goals li"))).isNotEmpty();
		assertThat(plan.findElement(By.id("plan-figures")).getText()).contains("Sessions delivered: 0");
		// issue 20 review, item 2: clinical words only (no definition notes, no internal ids), no "0 of 0 expected"
		String today = (String) ((JavascriptExecutor) browser).executeScript(
				"return new Intl.DateTimeFormat(navigator.languages, { day: 'numeric', month: 'short', year: 'numeric' }).format(new Date())");
		assertThat(plan.getText()).doesNotContain("Status draft").doesNotContain("experimental").doesNotContainPattern("nssi-[a-z]")
				.doesNotContain("0 of 0").contains("nothing due yet");
		assertThat(plan.findElement(By.id("plan-started")).getText()).isEqualTo("Started " + today);
		// item 3: on day one no goal reads "no change": too early to tell, with the start; the diary goals too, with
		// today's card above their targets (the server no longer compares the first week with itself)
		assertThat(plan.findElements(By.cssSelector("#plan-goals li"))).hasSize(3).allSatisfy(li -> {
			assertThat(li.getText()).contains("too early to tell, started " + today).doesNotContain("no change");
			assertThat(li.getDomAttribute("data-status")).isEqualTo("in-progress");
		});
		// s8, item 4a: the safety plan $apply made is still its template: making it with the person is due now
		assertThat(plan.findElement(By.id("plan-due")).getText()).contains("Safety plan not yet made with the person: due now");
		scrollTo(browser, plan);
		Browsers.screenshot(browser, "clinician-app-plan-day-one");
		Axe.check(browser, "clinician-app-plan-day-one");
		// the relapse-prevention plan (its own CarePlan, partOf the treatment plan) is shown with its parts
		WebElement relapse = browser.findElement(By.id("relapse-plan"));
		assertThat(relapse.findElement(By.id("relapse-title")).getText()).startsWith("Relapse-prevention plan");
		assertThat(relapse.findElements(By.cssSelector("li"))).hasSizeGreaterThanOrEqualTo(5);
		assertThat(relapse.getText()).contains("led to self-injury before").contains("crisis line");
		scrollTo(browser, relapse);
		Browsers.screenshot(browser, "clinician-app-relapse-plan");
		safetyPlan(browser);
		assertThat(browser.findElements(By.id("start-plan"))).isEmpty();
		scrollTo(browser, browser.findElement(By.id("treatment")));
		Browsers.screenshot(browser, "clinician-app-dbt-plan");
		Axe.check(browser, "clinician-app-treatment-plan");
		whatIsDue(browser);
	}

	/**
	 * Item 9: the plan says what is due (sessions behind their schedule, highlighted in the table) and its figures
	 * follow a new episode without reloading the page. The plan is moved 8 weeks back, as if started then.
	 */
	private void whatIsDue(WebDriver browser) {
		WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
		assertThat(browser.findElement(By.id("plan-due")).getText()).contains("Nothing overdue");
		String planId = browser.findElement(By.id("treatment-plan")).getDomAttribute("data-plan");
		org.hl7.fhir.r4.model.CarePlan plan = client().read().resource(org.hl7.fhir.r4.model.CarePlan.class).withId(planId).execute();
		plan.getPeriod().setStart(Date.from(Instant.now().minus(56, ChronoUnit.DAYS)));
		client().update().resource(plan).execute();

		// a new episode recorded in the form: the plan below follows it
		WebElement form = browser.findElement(By.id("episode-form"));
		clickCentered(browser, form.findElement(By.xpath(".//label[text()='Cutting self']")));
		clickCentered(browser, form.findElement(By.xpath(".//label[text()='No intent to die']")));
		clickCentered(browser, browser.findElement(By.id("episode-submit")));
		wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("episode-result"), "Episode recorded"));
		// the episode 40 days ago and this one are both since the (moved) start
		wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("plan-figures"), "2 since"));
		WebElement due = browser.findElement(By.id("plan-due"));
		assertThat(due.getDomAttribute("class")).contains("due-on");
		assertThat(due.getText()).contains("What is due").contains("sessions expected by now").contains("no session yet");
		assertThat(browser.findElements(By.cssSelector("#plan-activities tr.overdue"))).isNotEmpty();
		scrollTo(browser, due);
		Browsers.screenshot(browser, "clinician-app-plan-due");
		Axe.check(browser, "clinician-app-plan-due");
		// review s8: on a phone (390 px) the activities table (472 px wide) made the page scroll sideways; it fits now,
		// scrolling in its own box if at all
		browser.manage().window().setSize(new org.openqa.selenium.Dimension(390, 844));
		JavascriptExecutor phone = (JavascriptExecutor) browser;
		wait.until(d -> ((Number) phone.executeScript("return window.innerWidth")).intValue() <= 420);
		double boxRight = ((Number) phone.executeScript("return document.querySelector('#plan-activities').parentElement.getBoundingClientRect().right")).doubleValue();
		double viewport = ((Number) phone.executeScript("return document.documentElement.clientWidth")).doubleValue();
		System.out.println("[ClinicianAppIT] at 390 px: activities box right " + boxRight + ", page scrollWidth "
				+ phone.executeScript("return document.documentElement.scrollWidth") + ", viewport " + viewport);
		assertThat(boxRight).isLessThanOrEqualTo(viewport);
		assertThat(((Number) phone.executeScript("return document.querySelector('#plan-activities').parentElement.parentElement.scrollWidth"
				+ " - document.querySelector('#plan-activities').parentElement.parentElement.clientWidth")).intValue())
				.as("the plan around the table does not scroll sideways").isLessThanOrEqualTo(0);
		scrollTo(browser, browser.findElement(By.id("plan-activities")));
		Browsers.screenshot(browser, "clinician-app-plan-390");
		browser.manage().window().setSize(new org.openqa.selenium.Dimension(1366, 900));

		// goal statuses follow the data, with the figures behind them: one NSSI episode in each of the last two months
		// is steady within the target (achieved); then an episode of unsure intent: no longer "achieved"
		By fewer = By.cssSelector("#plan-goals li[data-goal='goal-fewer-episodes']");
		assertThat(browser.findElement(fewer).getDomAttribute("data-status")).isEqualTo("achieved");
		assertThat(browser.findElement(fewer).getText()).contains("1 episode(s) in the last 30 days (target at most 1), 1 in the 30 days before")
				.as("its own window in words, apart from the banner's 4 weeks").contains("achieved (last 30 days against the 30 days before)");
		clickCentered(browser, form.findElement(By.xpath(".//label[text()='Cutting self']")));
		clickCentered(browser, form.findElement(By.xpath(".//label[text()='Unsure about intent to die']")));
		clickCentered(browser, browser.findElement(By.id("episode-submit")));
		wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class)
				.until(d -> "in-progress".equals(d.findElement(fewer).getDomAttribute("data-status")));
		assertThat(browser.findElement(fewer).getText()).contains("in progress").contains("not judged as achieved")
				.contains("intent to die present, unsure or not recorded").contains("review suicide risk");
		((JavascriptExecutor) browser).executeScript("arguments[0].scrollIntoView({block: 'center'})", browser.findElement(By.id("plan-goals")));
		Browsers.screenshot(browser, "clinician-app-goal-status");

		// issue 20 review, item 1: the unsure episode raised a suicide-risk alert, which "What is due" lists first with
		// its due time, and its pathway ordered safety planning, which is due
		By firstDue = By.cssSelector("#plan-due li:first-child");
		String first = wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
			List<WebElement> items = d.findElements(firstDue);
			return !items.isEmpty() && items.get(0).getText().startsWith("Open suicide-risk alert") ? items.get(0).getText() : null;
		});
		assertThat(first).containsPattern("review (due by|overdue since) \\d{1,2} [A-Z][a-z]{2,3} \\d{4}, \\d{2}:\\d{2}");
		assertThat(browser.findElement(By.id("plan-due")).getText()).contains("Safety planning not done");
		scrollTo(browser, browser.findElement(By.id("plan-due")));
		Browsers.screenshot(browser, "clinician-app-plan-due-suicide-risk");
		Axe.check(browser, "clinician-app-plan-due-suicide-risk");
		// the safety plan saved with the young person is the safety-planning session: no longer due, recorded once
		clickCentered(browser, browser.findElement(By.id("relapse-edit")));
		wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("relapse-step-0")));
		clickCentered(browser, browser.findElement(By.id("relapse-save")));
		wait.until(ExpectedConditions.textToBe(By.id("relapse-status"), "Plan saved."));
		wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class)
				.until(d -> !d.findElement(By.id("plan-due")).getText().contains("Safety planning not done"));
		assertThat(browser.findElement(firstDue).getText()).startsWith("Open suicide-risk alert");
		assertThat(client().search().byUrl("Procedure?subject=" + plan.getSubject().getReference() + "&status=completed")
				.returnBundle(org.hl7.fhir.r4.model.Bundle.class).execute().getEntry()).hasSize(1);
		// item 7: one date format in the plan, no ISO dates
		assertThat(browser.findElement(By.id("treatment")).getText()).doesNotContainPattern("\\d{4}-\\d{2}-\\d{2}");
		scrollTo(browser, browser.findElement(By.id("plan-due")));
		Browsers.screenshot(browser, "clinician-app-plan-due-safety-planning-done");
		Axe.check(browser, "clinician-app-plan-due-safety-planning-done");

		// s8, item 4c: a request for support from the person's app is listed right after the suicide-risk alerts, with its
		// due time, from the same list the banner's "Overdue actions" counts
		Task support = new Task();
		support.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		support.setStatus(Task.TaskStatus.REQUESTED).setIntent(Task.TaskIntent.ORDER).setPriority(Task.TaskPriority.URGENT);
		support.getCode().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "support-request", "Request for support"));
		support.setDescription("The person asked for support now (phone coaching) from their app");
		support.setFor(new Reference(plan.getSubject().getReference())).setRequester(new Reference(plan.getSubject().getReference())).setAuthoredOn(new Date());
		client().create().resource(support).execute();
		((JavascriptExecutor) browser).executeScript("document.dispatchEvent(new Event('visibilitychange'))");
		List<String> items = wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
			List<String> texts = d.findElements(By.cssSelector("#plan-due li")).stream().map(WebElement::getText).toList();
			return texts.stream().anyMatch(t -> t.startsWith("Request for support")) ? texts : null;
		});
		int suicide = (int) items.stream().filter(t -> t.startsWith("Open suicide-risk alert")).count();
		assertThat(suicide).isPositive();
		assertThat(items.subList(0, suicide)).allSatisfy(t -> assertThat(t).startsWith("Open suicide-risk alert"));
		assertThat(items.get(suicide)).startsWith("Request for support from the person's app (asked ")
				.containsPattern(": due by \\d{1,2} [A-Z][a-z]{2,3} \\d{4}, \\d{2}:\\d{2}\\.$");
		// (the banner is compact this far down the page: its full figure is read, not the short one shown)
		assertThat(browser.findElement(By.cssSelector("#risk-header [data-risk=overdue] .risk-full")).getDomProperty("textContent"))
				.contains("1 support request(s) waiting");
		scrollTo(browser, browser.findElement(By.id("plan-due")));
		Browsers.screenshot(browser, "clinician-app-plan-due-support-request");
		Axe.check(browser, "clinician-app-plan-due-support-request");
	}

	/**
	 * Issue items 7, 8 and 12 in a browser in New York: the risk header, local days and times (an evening episode on
	 * its own day), intent on the timeline, the sticky banner and its h1, a focus ring of at least 3:1, touch
	 * targets (24 px; 44 px at tablet widths), the chart as one tab stop with a table as its text alternative, and a
	 * clear "sign in again" once the sign-in has ended.
	 */
	@Test
	void riskAtAGlanceInTheClinicianOwnTimeZone() {
		String patientId = seedPatient("Glancetest");
		IIdType patient = new org.hl7.fhir.r4.model.IdType("Patient", patientId);
		ZoneId newYork = ZoneId.of("America/New_York");
		// 21:30 in New York three days ago: already the next day in UTC
		ZonedDateTime evening = LocalDate.now(newYork).minusDays(3).atTime(21, 30).atZone(newYork);
		client().create().resource(AssessmentFixtures.episode(patient, Date.from(evening.toInstant()), "intent-unsure", null)).execute();
		// 4 episodes in the last 28 days against 3 in the 84 days before (1 per 28 days): rising
		for (int daysAgo : new int[] {8, 15, 22, 40, 70, 100}) {
			episode(patientId, daysAgo, CUTTING, null, 5);
		}
		client().create().resource(AssessmentFixtures.phq9(patient, 1, 1, 1, 1, 0, 0, 0, 0, 2)).execute();
		Task late = new Task();
		late.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		late.setStatus(Task.TaskStatus.INPROGRESS).setIntent(Task.TaskIntent.ORDER).setPriority(Task.TaskPriority.ROUTINE);
		late.setDescription("Call the school nurse back").setFor(new Reference("Patient/" + patientId)).setAuthoredOn(new Date());
		late.getRestriction().getPeriod().setEnd(Date.from(Instant.now().minus(1, ChronoUnit.DAYS)));
		client().create().resource(late).execute();

		String base = "http://127.0.0.1:" + port;
		org.openqa.selenium.chrome.ChromeDriver browser = Browsers.chromium(1366, 900, "America/New_York");
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			browser.get(base + "/smart/launcher");
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(CLINICIAN);
			browser.findElement(By.id("password")).sendKeys(PASSWORD);
			browser.findElement(By.cssSelector("button[type=submit]")).click();
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("patient")));
			// s8, item 6: the launcher and the banner name the same birth date, the calendar day stored, in New York too
			// (a date read as UTC midnight would be the day before there)
			String born = "born " + LocalDate.parse(client().read().resource(Patient.class).withId(patientId).execute().getBirthDateElement().getValueAsString())
					.format(java.time.format.DateTimeFormatter.ofPattern("d MMM yyyy", java.util.Locale.UK));
			assertThat(browser.findElement(By.cssSelector("label[for='launch-p-" + patientId + "']")).getText()).contains(", " + born + " (");
			browser.findElement(By.id("patient")).sendKeys(patientId);
			new Select(browser.findElement(By.id("app"))).selectByValue(ClinicianApp.CLIENT_ID);
			browser.findElement(By.cssSelector("button[type=submit]")).click();
			waitUntilReady(browser, wait);
			JavascriptExecutor js = browser;
			assertThat(js.executeScript("return Intl.DateTimeFormat().resolvedOptions().timeZone")).isEqualTo("America/New_York");
			assertThat(browser.findElement(By.id("patient-details")).getText()).endsWith(born);
			// a year or a month alone is written as such, never as the day before it (dates.js, in this time zone)
			assertThat(js.executeAsyncScript("const done = arguments[arguments.length - 1]; import('/shared/js/dates.js').then(d => "
					+ "done([d.formatDate('2011-03-04'), d.formatDate('2011-03'), d.formatDate('2011'), d.localDay('2011-03-04')]))"))
					.isEqualTo(List.of("4 Mar 2011", "Mar 2011", "2011", "2011-03-04"));

			// the risk header
			String day = evening.toLocalDate().format(java.time.format.DateTimeFormatter.ofPattern("d MMM yyyy", java.util.Locale.UK));
			WebElement risk = browser.findElement(By.id("risk-header"));
			assertThat(risk.findElement(By.cssSelector("[data-risk=suicide-alerts]")).getText()).contains("open").doesNotContain("none");
			assertThat(risk.findElement(By.cssSelector("[data-risk=intent]")).getText()).contains(day).contains("21:30")
					.contains("3 day(s) ago").contains("unsure about intent to die");
			assertThat(risk.findElement(By.cssSelector("[data-risk=phq9-item-9]")).getText()).contains("2 of 3");
			// one figure (the server's) in the banner and the tile, the window said the same way
			assertThat(risk.findElement(By.cssSelector("[data-risk=trend]")).getText()).contains("rising: 4 in the last 4 weeks, average 1 per 4 weeks before");
			assertThat(browser.findElement(By.id("frequency-trend")).getText()).isEqualTo("rising: 4 in the last 4 weeks, average 1 per 4 weeks before");
			assertThat(risk.findElement(By.cssSelector("[data-risk=overdue]")).getText()).contains("1 past due");
			assertThat(risk.findElement(By.cssSelector("[data-risk=phq9-item-9]")).getDomAttribute("class")).isEqualTo("risk-high");
			Browsers.screenshot(browser, "clinician-app-risk-header");

			// alerts grouped per event, dated by the event (the evening episode), its Flag and Task in one card
			WebElement card = browser.findElement(By.xpath("//ul[@id='alert-list']/li[@class='alert-group'][.//li[@data-kind='flag']][starts-with(@data-event, 'Observation/')]"));
			assertThat(card.findElement(By.cssSelector(".event-title")).getText()).isEqualTo("Episode on " + day + ", 21:30");
			assertThat(card.findElements(By.cssSelector("li[data-kind=flag]"))).hasSize(1);
			assertThat(card.findElements(By.cssSelector("li[data-kind=task]"))).isNotEmpty();
			assertThat(browser.findElements(By.cssSelector("#alert-list > li.alert-group"))).hasSizeLessThan(
					browser.findElements(By.cssSelector("#alert-list li.alert")).size());
			// issue 20 review, item 7: one local format everywhere ("6 Dec 2026, 21:30" in this English (UK) browser),
			// the alerts' raised times included; no ISO dates, no 12-hour times anywhere on the page
			assertThat(card.findElement(By.cssSelector("li[data-kind=task]")).getText()).containsPattern("raised \\d{1,2} [A-Z][a-z]{2,3} \\d{4}, \\d{2}:\\d{2}");
			assertThat(card.findElement(By.cssSelector("li[data-kind=flag]")).getText()).containsPattern(" on \\d{1,2} [A-Z][a-z]{2,3} \\d{4}, \\d{2}:\\d{2}");
			assertThat(browser.findElement(By.id("main")).getText()).doesNotContainPattern("\\d{4}-\\d{2}-\\d{2}").doesNotContainPattern("\\d (AM|PM)\\b");
			assertThat(risk.findElement(By.cssSelector("[data-risk=phq9-item-9]")).getText()).containsPattern("2 of 3 on \\d{1,2} [A-Z][a-z]{2,3} \\d{4}, \\d{2}:\\d{2}");
			assertThat(browser.findElement(By.id("patient-details")).getText()).containsPattern("born \\d{1,2} [A-Z][a-z]{2,3} \\d{4}$");

			// local days: the evening episode is 3 days ago on its New York day, with intent marked on the chart
			assertThat(browser.findElement(By.id("days-since")).getText()).startsWith("3 ").contains(day);
			assertThat(browser.findElements(By.cssSelector("#timeline-chart .intent-mark"))).hasSize(1);
			clickCentered(browser, browser.findElement(By.cssSelector("#episode-table summary")));
			WebElement row = browser.findElement(By.cssSelector("#episode-table-body tr"));
			assertThat(row.getText()).contains(day).contains("21:30").contains("unsure about intent to die");
			assertThat(row.getDomAttribute("class")).isEqualTo("intent-row");
			assertThat(browser.findElements(By.cssSelector("#episode-table-body tr"))).hasSize(7);

			// one h1, the person's name; the banner stays at the top while scrolling
			assertThat(browser.findElements(By.tagName("h1"))).hasSize(1);
			assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Ada Glancetest");
			scrollTo(browser, browser.findElement(By.id("treatment")));
			assertThat(((Number) js.executeScript("return document.getElementById('banner').getBoundingClientRect().top")).doubleValue()).isZero();
			assertThat(((Number) js.executeScript("return window.scrollY")).doubleValue()).isPositive();
			// scrolled, it keeps the name and the risk header only, in little height
			wait.until(d -> browser.findElement(By.id("banner")).getDomAttribute("class").contains("compact"));
			assertThat(risk.isDisplayed()).isTrue();
			assertThat(browser.findElement(By.id("sensitivity")).isDisplayed()).isFalse();
			assertThat(((Number) js.executeScript("return document.getElementById('banner').getBoundingClientRect().height")).doubleValue()).isLessThan(160);
			Browsers.screenshot(browser, "clinician-app-sticky-banner");

			// the chart is one tab stop; the arrow keys move between episodes
			assertThat(browser.findElements(By.cssSelector("#timeline-chart rect.episode[tabindex='0']"))).hasSize(1);
			assertThat(((Number) js.executeScript(TAB_STOPS, browser.findElement(By.id("timeline")))).intValue()).isLessThanOrEqualTo(4);
			WebElement period = browser.findElement(By.id("filter-period"));
			js.executeScript("arguments[0].focus()", period);
			new Actions(browser).sendKeys(org.openqa.selenium.Keys.TAB, org.openqa.selenium.Keys.TAB).perform();
			WebElement focused = browser.switchTo().activeElement();
			assertThat(focused.getDomAttribute("class")).isEqualTo("episode");
			assertThat(focused.getDomAttribute("aria-label")).contains("21:30");
			new Actions(browser).sendKeys(org.openqa.selenium.Keys.ARROW_LEFT).perform();
			assertThat(browser.switchTo().activeElement().getDomAttribute("aria-label")).doesNotContain("21:30");
			// the focus ring (keyboard focus) contrasts 3:1 or more with the page
			assertThat(((Number) js.executeScript(FOCUS_CONTRAST, browser.findElement(By.id("filter-method")))).doubleValue()).isGreaterThanOrEqualTo(3.0);
			Browsers.screenshot(browser, "clinician-app-chart-focus");

			// touch targets: 24 px on a laptop, 44 px on a tablet
			assertThat(js.executeScript(SMALL_TARGETS, 24)).asString().isEqualTo("");
			browser.manage().window().setSize(new org.openqa.selenium.Dimension(768, 1024));
			assertThat(js.executeScript(SMALL_TARGETS, 44)).asString().isEqualTo("");
			// nothing wider than the tablet's screen (the chart redraws to the column's width)
			wait.until(d -> ((Number) js.executeScript("return document.documentElement.scrollWidth - window.innerWidth")).intValue() <= 0);
			Browsers.screenshot(browser, "clinician-app-tablet");
			// item 5: scrolled on the tablet, the sticky banner keeps the name and every risk figure (in short) in little height
			scrollTo(browser, browser.findElement(By.id("treatment")));
			wait.until(d -> browser.findElement(By.id("banner")).getDomAttribute("class").contains("compact"));
			double tabletBanner = ((Number) js.executeScript("return document.getElementById('banner').getBoundingClientRect().height")).doubleValue();
			System.out.println("[ClinicianAppIT] compact banner at 768x1024: " + tabletBanner + " px");
			assertThat(tabletBanner).isLessThanOrEqualTo(120);
			assertThat(risk.findElements(By.cssSelector("li"))).hasSize(5).allSatisfy(li -> assertThat(li.isDisplayed()).isTrue());
			assertThat(risk.findElement(By.cssSelector("[data-risk=trend]")).getText()).isEqualTo("Episodes: rising, 4 in 4 wk");
			assertThat(risk.findElement(By.cssSelector("[data-risk=intent]")).getText()).isEqualTo("Intent: 3 d ago, unsure");
			assertThat(risk.findElement(By.cssSelector("[data-risk=phq9-item-9]")).getText()).isEqualTo("PHQ-9 item 9: 2/3");
			Browsers.screenshot(browser, "clinician-app-tablet-compact-banner");
			Axe.check(browser, "clinician-app-tablet-compact-banner");
			browser.manage().window().setSize(new org.openqa.selenium.Dimension(1366, 900));

			// the sign-in ends (the token is refused from now on): the next action says so and offers signing in again
			browser.executeCdpCommand("Network.enable", java.util.Map.of());
			browser.executeCdpCommand("Network.setExtraHTTPHeaders", java.util.Map.of("headers", java.util.Map.of("Authorization", "Bearer expired")));
			browser.findElement(By.id("start-phq9")).click();
			WebElement signedOut = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("signed-out")));
			assertThat(signedOut.getText()).contains("Your sign-in has ended");
			WebElement again = signedOut.findElement(By.linkText("Sign in again"));
			assertThat(again.getDomProperty("href")).isEqualTo(base + "/app/launch.html");
			assertThat(browser.switchTo().activeElement()).isEqualTo(again);
			assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("Signed out");
			Browsers.screenshot(browser, "clinician-app-signed-out");
			Axe.check(browser, "clinician-app-signed-out");

			// item 3: signing in again comes back to this person (no patient picker), in a new, working sign-in
			browser.executeCdpCommand("Network.setExtraHTTPHeaders", java.util.Map.of("headers", java.util.Map.of()));
			again.click();
			wait.ignoring(org.openqa.selenium.WebDriverException.class).until(d -> !d.findElements(By.id("username")).isEmpty()
					|| !d.findElements(By.id("name")).isEmpty()
					|| "true".equals(js.executeScript("return location.pathname.startsWith('/app/') && document.body ? document.body.dataset.ready || null : null")));
			if (!browser.findElements(By.id("username")).isEmpty()) {
				// the server's sign-in session ended too: signing in is asked, then the same person opens
				browser.findElement(By.id("username")).sendKeys(CLINICIAN);
				browser.findElement(By.id("password")).sendKeys(PASSWORD);
				browser.findElement(By.cssSelector("button[type=submit]")).click();
			}
			assertThat(browser.findElements(By.id("name"))).as("the patient picker is not shown").isEmpty();
			waitUntilReady(browser, wait);
			assertThat(browser.findElements(By.id("name"))).isEmpty();
			assertThat(browser.findElement(By.id("patient-name")).getText()).isEqualTo("Ada Glancetest");
			assertThat(browser.findElement(By.id("signed-out")).isDisplayed()).isFalse();
			assertThat(browser.findElement(By.id("risk-header")).findElement(By.cssSelector("[data-risk=trend]")).getText()).contains("rising");
			// the id was handed over once: a later plain visit to the launch page is a standalone launch with the picker
			assertThat(js.executeScript("return sessionStorage.getItem('nssi-relaunch-patient')")).isNull();
			browser.get(base + "/app/launch.html");
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("name")));
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(browser, "clinician-app-glance-failure");
			throw e;
		} finally {
			browser.quit();
		}
	}

	/** Where the timeline section starts on the page (CSS px from the top of the document). */
	private static final String TIMELINE_TOP = "return document.getElementById('timeline').getBoundingClientRect().top + window.scrollY;";

	/** How many keyboard tab stops an element holds (visible, focusable, not tabindex -1). */
	private static final String TAB_STOPS = "return [...arguments[0].querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]"
			+ ".filter(e => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden').length;";

	/** The contrast of the focus ring of a keyboard-focused element against the page's white. */
	private static final String FOCUS_CONTRAST = "const e = arguments[0]; e.focus({ focusVisible: true });"
			+ "const s = getComputedStyle(e); if (s.outlineStyle === 'none' || parseFloat(s.outlineWidth) < 2) return 0;"
			+ "const lum = c => { const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(v => { v = v / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });"
			+ " return 0.2126 * r + 0.7152 * g + 0.0722 * b; };"
			+ "const a = lum(s.outlineColor), b = 1; return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);";

	/** The visible controls smaller than the given size (CSS px), described; empty when there are none. */
	private static final String SMALL_TARGETS = "const min = arguments[0];"
			+ "return [...document.querySelectorAll('button, select, input, textarea, nav a, summary, .choice')]"
			+ ".filter(e => e.getClientRects().length > 0 && !(e.type === 'checkbox' || e.type === 'radio'))"
			+ ".filter(e => { const r = e.getBoundingClientRect(); return r.height < min - 0.5 || r.width < min - 0.5; })"
			+ ".map(e => (e.id || e.tagName) + ' ' + Math.round(e.getBoundingClientRect().width) + 'x' + Math.round(e.getBoundingClientRect().height)).join(', ');";

	/** Issue item 10: the plan shows the crisis contacts, is edited with the young person, and prints alone. */
	private void safetyPlan(WebDriver browser) {
		WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
		WebElement contacts = wait.until(d -> {
			WebElement list = d.findElement(By.id("crisis-contacts"));
			return list.getText().contains("Loading") ? null : list;
		});
		// this deployment's contacts (the test configuration's synthetic line), as the person's app shows them, callable
		assertThat(contacts.getText()).contains("Test crisis line (synthetic) +99 000 000 000");
		assertThat(contacts.findElement(By.tagName("a")).getDomAttribute("href")).isEqualTo("tel:+99000000000");
		String planId = browser.findElement(By.id("relapse-plan")).getDomAttribute("data-plan");
		browser.findElement(By.id("relapse-edit")).click();
		WebElement first = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("relapse-step-0")));
		assertThat(browser.switchTo().activeElement()).isEqualTo(first);
		first.clear();
		first.sendKeys("When I notice the urge: hold ice, go for a walk with my sister");
		browser.findElement(By.id("relapse-step-new")).sendKeys("Phone Gran; her number is on my fridge");
		scrollTo(browser, browser.findElement(By.id("relapse-plan")));
		Browsers.screenshot(browser, "clinician-app-safety-plan-edit");
		Axe.check(browser, "clinician-app-safety-plan-edit");
		browser.findElement(By.id("relapse-save")).click();
		wait.until(ExpectedConditions.textToBe(By.id("relapse-status"), "Plan saved."));
		assertThat(browser.findElement(By.id("relapse-steps")).getText()).contains("hold ice, go for a walk").contains("Phone Gran");
		org.hl7.fhir.r4.model.CarePlan stored = client().read().resource(org.hl7.fhir.r4.model.CarePlan.class).withId(planId).execute();
		assertThat(stored.getActivity()).anySatisfy(a -> assertThat(a.getDetail().getDescription()).startsWith("When I notice the urge"))
				.anySatisfy(a -> assertThat(a.getDetail().getDescription()).isEqualTo("Phone Gran; her number is on my fridge"));

		// item 4: a colleague (or the young person in their app) changes the plan while it is being edited here: the save
		// is refused (If-Match), their version is reloaded and shown, and the page says so; nothing of theirs is lost
		browser.findElement(By.id("relapse-edit")).click();
		WebElement step = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("relapse-step-new")));
		org.hl7.fhir.r4.model.CarePlan theirs = client().read().resource(org.hl7.fhir.r4.model.CarePlan.class).withId(planId).execute();
		theirs.addActivity().getDetail().setStatus(org.hl7.fhir.r4.model.CarePlan.CarePlanActivityStatus.NOTSTARTED)
				.setDescription("Text my friend Sam before I go to bed");
		client().update().resource(theirs).execute();
		step.sendKeys("Put the blades in the locked box at school");
		browser.findElement(By.id("relapse-save")).click();
		wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("relapse-status"), "a colleague changed the plan"));
		assertThat(browser.findElement(By.id("relapse-steps")).getText()).contains("Text my friend Sam").doesNotContain("locked box");
		org.hl7.fhir.r4.model.CarePlan afterConflict = client().read().resource(org.hl7.fhir.r4.model.CarePlan.class).withId(planId).execute();
		assertThat(afterConflict.getActivity()).anySatisfy(a -> assertThat(a.getDetail().getDescription()).isEqualTo("Text my friend Sam before I go to bed"))
				.noneSatisfy(a -> assertThat(a.getDetail().getDescription()).contains("locked box"));
		// only the colleague's write since the last save here
		assertThat(afterConflict.getMeta().getVersionId()).isEqualTo(String.valueOf(Integer.parseInt(stored.getMeta().getVersionId()) + 1));
		scrollTo(browser, browser.findElement(By.id("relapse-plan")));
		Browsers.screenshot(browser, "clinician-app-safety-plan-conflict");
		Axe.check(browser, "clinician-app-safety-plan-conflict");

		// printing: the plan alone (print media emulated), no alerts, timeline, forms or buttons
		((org.openqa.selenium.chromium.ChromiumDriver) browser).executeCdpCommand("Emulation.setEmulatedMedia", java.util.Map.of("media", "print"));
		try {
			assertThat(browser.findElement(By.id("relapse-plan")).isDisplayed()).isTrue();
			assertThat(browser.findElement(By.id("crisis-contacts")).isDisplayed()).isTrue();
			assertThat(browser.findElement(By.id("patient-name")).isDisplayed()).isTrue();
			// the printed plan says when it was last updated (review s8, 7)
			assertThat(browser.findElement(By.id("relapse-updated")).isDisplayed()).isTrue();
			assertThat(browser.findElement(By.id("relapse-updated")).getText()).matches("Last updated \\d{1,2} [A-Z][a-z]{2,3} \\d{4}");
			for (String hidden : List.of("alerts", "timeline", "record", "assessment", "invite", "treatment-plan", "relapse-print", "risk-header")) {
				assertThat(browser.findElement(By.id(hidden)).isDisplayed()).as(hidden).isFalse();
			}
			Browsers.screenshot(browser, "clinician-app-safety-plan-print");
		} finally {
			((org.openqa.selenium.chromium.ChromiumDriver) browser).executeCdpCommand("Emulation.setEmulatedMedia", java.util.Map.of("media", ""));
		}
	}

	/** Clicks an element once it is in the middle of the window (not under the sticky banner). */
	private static void clickCentered(WebDriver browser, WebElement element) {
		((JavascriptExecutor) browser).executeScript("arguments[0].scrollIntoView({block: 'center'})", element);
		element.click();
	}

	private static void scrollTo(WebDriver browser, WebElement element) {
		((JavascriptExecutor) browser).executeScript("arguments[0].scrollIntoView({block: 'start'})", element);
	}

	/** A 15-year-old synthetic patient whose GP is the signed-in clinician (a treating relationship). */
	private String seedPatient(String family) {
		return seedPatient(family, 15);
	}

	/** A synthetic patient of about that age whose GP is the signed-in clinician (a treating relationship). */
	private String seedPatient(String family, int years) {
		Practitioner dr = new Practitioner();
		dr.setId(PRACTITIONER_ID);
		dr.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		client().update().resource(dr).execute();
		Patient patient = new Patient();
		patient.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		patient.addName().setFamily(family).addGiven("Ada");
		patient.setBirthDate(Date.from(Instant.now().minus(years * 365L + 100, ChronoUnit.DAYS)));
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

	/** Today's diary card (date only, as the person's app sends it) with the profile's required items; no urge to die. */
	private static Observation diaryCard(String patientId, int urge, int skills) {
		Observation card = new Observation();
		card.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		card.setStatus(Observation.ObservationStatus.FINAL);
		card.addCategory().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "nssi", null));
		card.getCode().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "diary-card", "Diary card entry"));
		card.setSubject(new Reference("Patient/" + patientId));
		card.setEffective(new org.hl7.fhir.r4.model.DateTimeType(LocalDate.now(ZoneId.systemDefault()).toString()));
		card.addComponent(AssessmentFixtures.component("urge-intensity", new IntegerType(urge)));
		card.addComponent(AssessmentFixtures.component("urge-to-die", new IntegerType(0)));
		card.addComponent(AssessmentFixtures.component("self-harm-today", new org.hl7.fhir.r4.model.BooleanType(false)));
		card.addComponent(AssessmentFixtures.component("skills-used", new IntegerType(skills)));
		return card;
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
