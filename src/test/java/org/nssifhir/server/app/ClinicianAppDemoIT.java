package org.nssifhir.server.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.CLINICIAN;
import static org.nssifhir.server.support.SmartTestApps.PASSWORD;
import static org.nssifhir.server.support.SmartTestApps.PRACTITIONER_ID;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.rest.server.RestfulServer;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.ExtractOperationProvider;
import org.nssifhir.server.cohort.CohortGenerator;
import org.nssifhir.server.cohort.DemoData;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.Axe;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.Browsers;
import org.nssifhir.server.treatment.PlanApplyProvider;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Demo mode as a clinician meets it (issue 20, items 1 and 2): the demo gives the signed-in clinician a care team
 * with some demo patients and not others. A related patient opens with the banner, alerts, timeline and treatment
 * loaded; an unrelated one shows "you are not on this person's care team" (never an empty record that looks like no
 * risk), and break-the-glass from that panel asks for a reason, says it is audited, opens the record read-only, and
 * is audited with the reason, for that one patient only. Screenshots: target/screenshots/clinician-app-demo-*.png.
 */
class ClinicianAppDemoIT extends BaseIT {

	@Autowired
	NssiProperties properties;

	@Autowired
	IFhirSystemDao<Bundle, ?> systemDao;

	@Autowired
	DaoRegistry daoRegistry;

	@Autowired
	ExtractOperationProvider extract;

	@Autowired
	PlanApplyProvider planApply;

	@Autowired
	RestfulServer restfulServer;

	@Test
	void theDemoClinicianSeesTheirPatientsAndBreaksTheGlassForAnother() {
		// a cohort of its own whose first (related) person is a young person in treatment (issue 20 review, item 6: a
		// child and adolescent clinician must meet a minor among their demo patients)
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		long seed = System.nanoTime();
		while (new CohortGenerator(today).generate(2, seed).get(0).treatment() == null
				|| !DemoData.minor(new CohortGenerator(today).generate(2, seed).get(0), today)) {
			seed++;
		}
		NssiProperties demo = new NssiProperties(properties.db(), properties.fhir(), properties.limits(), properties.cors(),
				properties.security(), properties.policy(), properties.escalation(), properties.integration(), new NssiProperties.Demo(true, 2, seed),
				properties.audit(), properties.searchIndexDir(), properties.app(), properties.shutdownDrainDelay());
		// the demo's clinician is the signed-in test clinician here (dev-clinician when the server runs)
		new DemoData(demo, systemDao, daoRegistry, extract, planApply, restfulServer, "Practitioner/" + PRACTITIONER_ID).run(null);
		List<CohortGenerator.PatientHistory> people = new CohortGenerator(today).generate(2, seed);
		assertThat(DemoData.related(people, today)).containsExactly(0);
		String related = patientId(people.get(0).mrn());
		String unrelated = patientId(people.get(1).mrn());

		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium(1366, 900);
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(90));
			launch(browser, wait, base, related, true);
			assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("Ready");
			assertThat(browser.findElement(By.id("patient-name")).getText()).isNotBlank().isNotEqualTo("Loading patient…");
			assertThat(browser.findElement(By.id("care-team-panel")).isDisplayed()).isFalse();
			assertThat(browser.findElement(By.id("alerts")).isDisplayed()).isTrue();
			assertThat(browser.findElement(By.id("treatment-body")).getText()).isNotEqualTo("Loading…");
			assertThat(browser.findElement(By.id("treatment-plan")).isDisplayed()).isTrue();
			// a young person: the adolescent notice, and the parent the demo put on record, who can be invited
			assertThat(browser.findElement(By.id("sensitivity")).getText()).contains("adolescent information (ADOL)");
			String family = wait.until(d -> {
				String text = d.findElement(By.id("invite-family")).getText();
				return text.contains("Parent Synthetic") ? text : null;
			});
			assertThat(family).contains("(Parent)").contains("Invite Parent Synthetic");
			// clinical words only in the plan: no definition notes ("Status draft, experimental"), no internal ids, no "0 of 0"
			assertThat(browser.findElement(By.id("treatment-plan")).getText()).doesNotContain("Status draft").doesNotContain("experimental")
					.doesNotContainPattern("nssi-[a-z]").doesNotContain("0 of 0");
			// clinical words, not codes: the demo's episodes carry trigger codes without displays
			assertThat(browser.findElement(By.id("relapse-plan")).getText()).containsPattern("led to self-injury before: [A-Z]")
					.doesNotContainPattern("trigger-[a-z]");
			assertThat(browser.findElement(By.id("alert-list")).getText()).doesNotContain("Flag/").doesNotContain("Observation/");
			new Select(browser.findElement(By.id("filter-period"))).selectByValue("0");
			assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo(String.valueOf(episodes(related)));
			Browsers.screenshot(browser, "clinician-app-demo-related");

			launch(browser, wait, base, unrelated, false);
			assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("Not on this person's care team");
			assertThat(browser.findElement(By.id("patient-name")).getText()).isNotBlank().isNotEqualTo("Loading patient…");
			WebElement panel = browser.findElement(By.id("care-team-panel"));
			assertThat(panel.isDisplayed()).isTrue();
			assertThat(panel.findElement(By.tagName("h2")).getText()).isEqualTo("You are not on this person's care team");
			assertThat(panel.getText()).contains("does not mean there is nothing to see").contains("audited");
			// no empty record that reads as "no risk"
			for (String section : List.of("alerts", "timeline", "record", "assessment", "treatment")) {
				assertThat(browser.findElement(By.id(section)).isDisplayed()).as(section).isFalse();
			}
			Browsers.screenshot(browser, "clinician-app-demo-not-on-care-team");
			Axe.check(browser, "clinician-app-not-on-care-team");

			panel.findElement(By.id("break-glass-start")).click();
			WebElement reason = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("break-glass-reason")));
			panel.findElement(By.id("break-glass-confirm")).click();
			assertThat(panel.findElement(By.id("break-glass-error")).getText()).contains("reason");
			assertThat(reason.getDomAttribute("aria-invalid")).isEqualTo("true");
			String why = "Seen in the emergency department after self-harm; GP unreachable";
			reason.sendKeys(why);
			Browsers.screenshot(browser, "clinician-app-demo-break-glass-reason");
			Axe.check(browser, "clinician-app-break-glass-reason");
			panel.findElement(By.id("break-glass-confirm")).click();
			wait.until(ExpectedConditions.textToBe(By.id("status"), "Ready (break-the-glass)"));
			assertThat(panel.isDisplayed()).isFalse();
			assertThat(browser.findElement(By.id("glass-notice")).getText()).contains("audited").contains(why);
			new Select(browser.findElement(By.id("filter-period"))).selectByValue("0");
			assertThat(browser.findElement(By.id("episode-count")).getText()).isEqualTo(String.valueOf(episodes(unrelated)));
			assertThat(browser.findElement(By.id("treatment-body")).getText()).isNotEqualTo("Loading…");
			// read-only: writing this person's restricted record needs a treating relationship
			assertThat(browser.findElement(By.id("record")).getText()).contains("Read-only under break-the-glass");
			assertThat(browser.findElements(By.cssSelector("#alert-list button.close-task"))).isEmpty();
			Browsers.screenshot(browser, "clinician-app-demo-break-glass-open");
			Axe.check(browser, "clinician-app-break-glass-open");
		} catch (RuntimeException | AssertionError e) {
			Browsers.screenshot(browser, "clinician-app-demo-failure");
			System.out.println("[ClinicianAppDemoIT] page at failure: " + ((JavascriptExecutor) browser).executeScript(
					"return document.getElementById('main') ? document.getElementById('status').textContent + ' | ' + document.getElementById('main').innerText : document.body.innerText"));
			throw e;
		} finally {
			browser.quit();
		}

		// audited with the reason, for the unrelated patient only (the related one was read under the relationship)
		awaitAuditTrail();
		Bundle glass = client().search().byUrl("AuditEvent?_tag=urn:nssi-fhir:audit|break-the-glass&entity=Patient/" + unrelated + "&_count=200")
				.returnBundle(Bundle.class).execute();
		assertThat(glass.getEntry()).isNotEmpty();
		assertThat(glass.getEntry()).allSatisfy(e -> assertThat(((AuditEvent) e.getResource()).getPurposeOfEventFirstRep().getText()).isEqualTo(why()));
		assertThat(client().search().byUrl("AuditEvent?_tag=urn:nssi-fhir:audit|break-the-glass&entity=Patient/" + related)
				.returnBundle(Bundle.class).execute().getEntry()).isEmpty();
	}

	private static String why() {
		return "Seen in the emergency department after self-harm; GP unreachable";
	}

	/**
	 * Launches from the built-in launcher; signs in first if {@code signIn}. A later launch must find the sign-in still
	 * there: in one CI run it was gone, because every FHIR request the app made renamed the sign-in session (Spring
	 * Security's session-fixation protection in the stateless FHIR chain) and concurrent requests left the browser with
	 * a name that no longer existed. Now the app's requests leave the session alone: its cookie is the same before and
	 * after the app has loaded, and the second launch asks for no sign-in.
	 */
	private void launch(WebDriver browser, WebDriverWait wait, String base, String patientId, boolean signIn) {
		browser.get(base + "/smart/launcher");
		wait.until(d -> !d.findElements(By.id("patient")).isEmpty() || !d.findElements(By.id("username")).isEmpty());
		if (signIn) {
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(CLINICIAN);
			browser.findElement(By.id("password")).sendKeys(PASSWORD);
			browser.findElement(By.cssSelector("button[type=submit]")).click();
		} else {
			assertThat(browser.findElements(By.id("username"))).as("the sign-in session is still there at a later launch").isEmpty();
		}
		wait.until(ExpectedConditions.presenceOfElementLocated(By.id("patient")));
		String session = sessionCookie(browser);
		assertThat(session).isNotEqualTo("none");
		browser.findElement(By.id("patient")).sendKeys(patientId);
		new Select(browser.findElement(By.id("app"))).selectByValue(ClinicianApp.CLIENT_ID);
		browser.findElement(By.id("launch-submit")).click();
		wait.ignoring(org.openqa.selenium.WebDriverException.class).until(d -> ((JavascriptExecutor) d).executeScript(
				"return location.pathname.startsWith('/app/') && document.body ? document.body.dataset.ready || null : null") != null);
		assertThat(((JavascriptExecutor) browser).executeScript("return document.body.dataset.ready")).as(
				browser.findElement(By.id("status")).getText()).isEqualTo("true");
		// the app's many FHIR requests (with the cookie, as fetch sends it) left the sign-in session as it was
		assertThat(sessionCookie(browser)).as("the sign-in session cookie after the app loaded").isEqualTo(session);
	}

	/**
	 * The browser's sign-in session cookie for this server, as a short hash (never the value) with its attributes, or
	 * "none": to tell a lost cookie from a session the server no longer knows.
	 */
	@SuppressWarnings("unchecked")
	private static String sessionCookie(WebDriver browser) {
		Object all = ((org.openqa.selenium.chrome.ChromeDriver) browser).executeCdpCommand("Network.getAllCookies", java.util.Map.of()).get("cookies");
		return ((List<java.util.Map<String, Object>>) all).stream().filter(c -> "JSESSIONID".equals(c.get("name")))
				.map(c -> Integer.toHexString(String.valueOf(c.get("value")).hashCode()) + " path=" + c.get("path") + " domain=" + c.get("domain")
						+ " sameSite=" + c.get("sameSite") + " session=" + c.get("session"))
				.reduce((a, b) -> a + "; " + b).orElse("none");
	}

	private String patientId(String mrn) {
		return client().search().forResource(Patient.class)
				.where(Patient.IDENTIFIER.exactly().systemAndIdentifier(CohortGenerator.MRN_SYSTEM, mrn))
				.returnBundle(Bundle.class).execute().getEntryFirstRep().getResource().getIdElement().getIdPart();
	}

	/** Episodes the timeline shows over the whole history (not entered in error). */
	private long episodes(String patient) {
		Bundle bundle = client().search().byUrl("Observation?subject=Patient/" + patient
				+ "&code=https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs|nssi-episode&_count=200").returnBundle(Bundle.class).execute();
		long count = 0;
		while (true) {
			count += bundle.getEntry().stream().map(e -> (Observation) e.getResource())
					.filter(o -> o.getStatus() != Observation.ObservationStatus.ENTEREDINERROR && (o.hasEffectiveDateTimeType() || o.hasEffectivePeriod()))
					.count();
			if (bundle.getLink(Bundle.LINK_NEXT) == null) {
				return count;
			}
			bundle = client().loadPage().next(bundle).execute();
		}
	}
}
