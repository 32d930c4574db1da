package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.*;

import java.time.Duration;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.Browsers;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * An independent SMART client library, {@code fhirclient} (smart-on-fhir/client-js, vendored), performs an EHR
 * launch against the running server in headless Chromium: sign-in, the built-in launcher, discovery, PKCE,
 * authorization, token, and FHIR reads with the token, including a refused read outside the patient's context.
 */
class SmartClientLibraryIT extends BaseIT {

	@Test
	void fhirclientCompletesAnEhrLaunch() {
		Patient patient = tagged(new Patient());
		patient.setId("fc-pat");
		patient.addName().setFamily("Browsertest");
		client().update().resource(patient).execute();
		Patient other = tagged(new Patient());
		other.setId("fc-other");
		other.addName().setFamily("Notincontext");
		client().update().resource(other).execute();
		Practitioner dr = tagged(new Practitioner());
		dr.setId(PRACTITIONER_ID);
		client().update().resource(dr).execute();
		for (int i = 0; i < 2; i++) {
			Observation o = tagged(new Observation());
			o.setStatus(Observation.ObservationStatus.FINAL);
			o.getCode().addCoding().setSystem("urn:example:test").setCode("x");
			o.setSubject(new Reference("Patient/fc-pat"));
			o.setValue(new StringType("v" + i));
			client().create().resource(o).execute();
		}

		// 127.0.0.1, not localhost: the app's loopback redirect URI is registered without a port
		String base = "http://127.0.0.1:" + port;
		WebDriver browser = Browsers.chromium();
		try {
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
			browser.get(base + "/smart/launcher");
			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username"))).sendKeys(CLINICIAN);
			browser.findElement(By.id("password")).sendKeys(PASSWORD);
			browser.findElement(By.cssSelector("button[type=submit]")).click();

			wait.until(ExpectedConditions.presenceOfElementLocated(By.id("patient"))).sendKeys("fc-pat");
			new Select(browser.findElement(By.id("app"))).selectByValue(FHIRCLIENT_APP);
			Browsers.screenshot(browser, "smart-launcher");
			browser.findElement(By.cssSelector("button[type=submit]")).click();

			wait.until(d -> {
				String status = d.findElements(By.id("status")).isEmpty() ? "" : d.findElement(By.id("status")).getText();
				return status.equals("ready") || status.startsWith("error");
			});
			Browsers.screenshot(browser, "smart-fhirclient-app");
			assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("ready");
			assertThat(browser.findElement(By.id("patient")).getText()).isEqualTo("fc-pat");
			assertThat(browser.findElement(By.id("name")).getText()).isEqualTo("Browsertest");
			assertThat(browser.findElement(By.id("user")).getText()).isEqualTo("Practitioner/" + PRACTITIONER_ID); // fhirclient reduces the id_token URL to Type/id
			assertThat(browser.findElement(By.id("count")).getText()).isEqualTo("2");
			assertThat(browser.findElement(By.id("other")).getText()).isEqualTo("refused 403");
			assertThat(browser.getCurrentUrl()).startsWith(base + "/smart-test-app/index.html");
		} finally {
			browser.quit();
		}
	}

	private static <T extends Resource> T tagged(T resource) {
		resource.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
		return resource;
	}
}
