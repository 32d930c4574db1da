package org.nssifhir.server.app;

import java.util.List;
import java.util.Optional;
import org.nssifhir.server.settings.NssiProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The person's own SMART app at {@code /patient/} (a patient, or a parent acting as their proxy), registered as a
 * public client (PKCE, no secret) of the built-in authorization server, with the same redirect rules as the
 * clinician app ({@link ClinicianApp#redirectUris}): {@code nssi.patient-app.redirect-uris}, else derived from the
 * server's public address, else the loopback address on the embedded default.
 *
 * <p>Its scopes are patient-level only and exactly what it uses: the diary card and episodes (Observation, created
 * by conditional create, so {@code s} too), the support request (Task), the plan (CarePlan), the person's Patient,
 * and the Consents that say what a proxy may see. What it may do with them is the access policy's decision.
 */
@Component
public class PatientApp {

	public static final String CLIENT_ID = "nssi-patient-app";
	public static final String PATH = "/patient/";
	public static final List<String> SCOPES = List.of(
			"openid", "fhirUser", "launch/patient",
			// a refresh token (rotating, bound to this client): a person on their phone stays signed in past the
			// access token's hour, until they sign out or the account is disabled
			"offline_access",
			"patient/Patient.r",
			"patient/Observation.crs",
			// "I need support now": the request to the care team, whether they have answered, and (u) the person saying they
			// have seen the answer: a note of theirs, the one change besides cancelling the access policy lets them make
			"patient/Task.crus",
			// u: the person adds their own steps to their relapse-prevention plan (the only plan a patient may edit:
			// treatment/RelapsePlanEditRule)
			"patient/CarePlan.rus",
			// a proxy's view says what the patient's consent releases, and what it does not
			"patient/Consent.rs");

	private static final Logger log = LoggerFactory.getLogger(PatientApp.class);

	private final Optional<NssiProperties.Client> client;

	public PatientApp(NssiProperties properties, PatientAppSettings settings) {
		List<String> redirects = ClinicianApp.redirectUris(properties, String.join(",", settings.redirectUris()), PATH);
		this.client = redirects.isEmpty() || !properties.security().enabled()
				? Optional.empty()
				: Optional.of(new NssiProperties.Client(CLIENT_ID, "NSSI care app (patients and families)", null, null, SCOPES, redirects,
						PATH + "launch.html", "RS384"));
		if (client.isEmpty() && properties.security().enabled()) {
			log.info("The patient app at {} is not registered: set nssi.patient-app.redirect-uris or nssi.fhir.server-address", PATH);
		}
	}

	/** The app as a configured SMART client, when it has a redirect URI. */
	public Optional<NssiProperties.Client> client() {
		return client;
	}
}
