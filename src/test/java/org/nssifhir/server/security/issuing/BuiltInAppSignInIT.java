package org.nssifhir.server.security.issuing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.app.ClinicianApp;
import org.nssifhir.server.app.PatientApp;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.SmartBrowser;
import org.nssifhir.server.support.SmartBrowser.Pkce;
import org.nssifhir.server.support.SmartTestApps;

/**
 * The server's own web apps at the authorization endpoint: the person's app signs in patients and proxies only (a
 * clinician gets an error page, no code), and both apps get their codes only at their exact redirect URI (this
 * server's own port), never at another loopback port as a native app would.
 */
class BuiltInAppSignInIT extends BaseIT {

	@Test
	void thePersonsAppIsForPatientsAndProxiesOnly() throws Exception {
		HttpResponse<String> clinician = authorize(SmartTestApps.CLINICIAN, PatientApp.CLIENT_ID, ownRedirect(PatientApp.PATH),
				String.join(" ", PatientApp.SCOPES));
		assertThat(clinician.statusCode()).as(clinician.body()).isEqualTo(400);
		assertThat(clinician.headers().firstValue("Location")).isEmpty();
		assertThat(clinician.body()).contains("authorize-error").contains("patients and their families");
		// the refusal at the person's app's link goes by the app's name, like its sign-in pages
		assertThat(clinician.body()).contains("<header class='site'><p>My support app</p></header>");
		assertThat(words(clinician.body())).doesNotContainIgnoringCase("nssi").doesNotContain("FHIR");

		HttpResponse<String> patient = authorize(SmartTestApps.PATIENT_USER, PatientApp.CLIENT_ID, ownRedirect(PatientApp.PATH),
				String.join(" ", PatientApp.SCOPES));
		assertThat(codeOf(patient)).containsKey("code");
	}

	@Test
	void theClinicianAppIsForClinicians() throws Exception {
		// its patient-level scopes are for a clinician's acts on the patient they open (review s7, F1): a patient or
		// proxy signed in there held patient/Flag.rus and patient/Procedure.cr on their own record
		for (String user : java.util.List.of(SmartTestApps.PATIENT_USER, SmartTestApps.PROXY_USER)) {
			HttpResponse<String> refused = authorize(user, ClinicianApp.CLIENT_ID, ownRedirect(ClinicianApp.PATH),
					"openid fhirUser launch/patient patient/Patient.ru patient/Flag.rus patient/Procedure.cr");
			assertThat(refused.statusCode()).as(user + ": " + refused.body()).isEqualTo(400);
			assertThat(refused.headers().firstValue("Location")).isEmpty();
			assertThat(refused.body()).contains("authorize-error").contains("for clinicians").contains("<header class='site'><p>Care records</p></header>");
		}
		HttpResponse<String> clinician = authorize(SmartTestApps.CLINICIAN, ClinicianApp.CLIENT_ID, ownRedirect(ClinicianApp.PATH),
				"openid fhirUser patient/Patient.ru");
		assertThat(codeOf(clinician)).containsKey("code");
	}

	@Test
	void theBuiltInWebAppsGetCodesOnlyAtTheirOwnRedirect() throws Exception {
		int port = URI.create(baseUrl()).getPort();
		int other = port == 65000 ? 65001 : 65000;
		HttpResponse<String> elsewhere = authorize(SmartTestApps.PATIENT_USER, PatientApp.CLIENT_ID,
				"http://127.0.0.1:" + other + PatientApp.PATH, String.join(" ", PatientApp.SCOPES));
		assertThat(elsewhere.headers().firstValue("Location").orElse("")).doesNotContain("code=");
		assertThat(elsewhere.statusCode()).isEqualTo(400);

		HttpResponse<String> clinicianElsewhere = authorize(SmartTestApps.CLINICIAN, ClinicianApp.CLIENT_ID,
				"http://127.0.0.1:" + other + ClinicianApp.PATH, "openid fhirUser patient/Patient.ru");
		assertThat(clinicianElsewhere.headers().firstValue("Location").orElse("")).doesNotContain("code=");
		assertThat(clinicianElsewhere.statusCode()).isEqualTo(400);

		HttpResponse<String> clinicianHere = authorize(SmartTestApps.CLINICIAN, ClinicianApp.CLIENT_ID,
				ownRedirect(ClinicianApp.PATH), "openid fhirUser patient/Patient.ru");
		assertThat(codeOf(clinicianHere)).containsKey("code");
	}

	/**
	 * The sign-in page goes by the person's app's name (nssi.enrolment.app-name) when the sign-in is for that app,
	 * by a neutral clinical name otherwise: never the server's technical name or a product code.
	 */
	@Test
	void theSignInPageGoesByThePersonsAppNameForThatAppAndANeutralNameOtherwise() throws Exception {
		SmartBrowser person = new SmartBrowser(baseUrl(), SmartTestApps.PATIENT_USER, SmartTestApps.PASSWORD);
		assertThat(codeOf(authorize(person, PatientApp.CLIENT_ID, ownRedirect(PatientApp.PATH), String.join(" ", PatientApp.SCOPES))))
				.containsKey("code");
		assertThat(person.loginPage()).contains("<header class='site'><p>My support app</p></header>")
				.contains("<title>Sign in - My support app</title>");
		assertThat(words(person.loginPage())).doesNotContainIgnoringCase("nssi").doesNotContain("FHIR");

		SmartBrowser clinician = new SmartBrowser(baseUrl(), SmartTestApps.CLINICIAN, SmartTestApps.PASSWORD);
		assertThat(codeOf(authorize(clinician, ClinicianApp.CLIENT_ID, ownRedirect(ClinicianApp.PATH), "openid fhirUser patient/Patient.ru")))
				.containsKey("code");
		assertThat(clinician.loginPage()).contains("<header class='site'><p>Care records</p></header>");
		assertThat(words(clinician.loginPage())).doesNotContainIgnoringCase("nssi").doesNotContain("FHIR").doesNotContain("My support app");

		// no authorization request waiting (the sign-in page opened by itself): the neutral name
		HttpResponse<String> alone = new SmartBrowser(baseUrl(), SmartTestApps.PATIENT_USER, SmartTestApps.PASSWORD).get("/login?error");
		assertThat(alone.body()).contains("<header class='site'><p>Care records</p></header>");
		assertThat(words(alone.body())).doesNotContainIgnoringCase("nssi");
	}

	/** What a page says (its title and text, not its markup: the stylesheet's path is no one's reading). */
	private static String words(String html) {
		return html.replaceAll("<[^>]*>", " ");
	}

	/** The app's own redirect is on this server, so the browser follows it: the code is in the last address it opened. */
	private static Map<String, String> codeOf(HttpResponse<String> response) {
		return response.headers().firstValue("Location").isPresent() ? SmartBrowser.query(response) : SmartBrowser.queryOf(response.uri());
	}

	private String ownRedirect(String path) {
		return "http://127.0.0.1:" + URI.create(baseUrl()).getPort() + path;
	}

	private HttpResponse<String> authorize(String user, String clientId, String redirect, String scopes) throws Exception {
		return authorize(new SmartBrowser(baseUrl(), user, SmartTestApps.PASSWORD), clientId, redirect, scopes);
	}

	private HttpResponse<String> authorize(SmartBrowser browser, String clientId, String redirect, String scopes) throws Exception {
		Pkce pkce = Pkce.create();
		Map<String, String> p = new LinkedHashMap<>();
		p.put("response_type", "code");
		p.put("client_id", clientId);
		p.put("redirect_uri", redirect);
		p.put("scope", scopes);
		p.put("state", "s-1");
		p.put("aud", fhirBase());
		p.put("code_challenge", pkce.challenge());
		p.put("code_challenge_method", "S256");
		return browser.get("/oauth2/authorize?" + SmartBrowser.encode(p));
	}
}
