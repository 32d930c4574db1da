package org.nssifhir.server.app;

import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.nssifhir.server.settings.NssiProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The clinician SMART app served by this server at {@code /app/}, registered as a public client (PKCE, no
 * secret) of the built-in authorization server and offered on the built-in EHR launcher.
 *
 * <p>Its redirect URI is {@code nssi.app.redirect-uris} when set (comma-separated, absolute). Otherwise it is
 * derived: {@code <nssi.fhir.server-address origin>/app/} behind a known public address, or the loopback
 * {@code http://127.0.0.1/app/} on the embedded default (Spring Authorization Server accepts any port for a
 * loopback redirect, as RFC 8252 asks). Without either the app is not registered: a public client must never get
 * a redirect URI that could point somewhere else.
 *
 * <p>The scopes are exactly what the app uses, granular and bound to the patient in context where the server allows it.
 */
@Component
public class ClinicianApp {

	public static final String CLIENT_ID = "nssi-clinician-app";
	public static final String PATH = "/app/";
	public static final String LAUNCH_URL = PATH + "launch.html";
	public static final List<String> SCOPES = List.of(
			"openid", "fhirUser", "launch", "launch/patient",
			// u: inviting the person to their own app (Patient/$nssi-invite needs a scope that updates the Patient; the
			// access policy then asks for a treating relationship)
			"patient/Patient.ru",
			// the patient's family members (proxies), to invite them too (RelatedPerson/$nssi-invite: u, as above)
			"patient/RelatedPerson.rus",
			// u: correcting a recorded episode (PUT with If-Match: a colleague's change is never overwritten)
			"patient/Observation.crus",
			"patient/QuestionnaireResponse.crs",
			// resolving a suicide-risk Flag once its Task is done
			"patient/Flag.rus",
			// the review that completes an escalation Task (its documented risk assessment; r: HAPI returns a created
			// resource only to a token that may read it)
			"patient/ClinicalImpression.cr",
			// u: the relapse-prevention (safety) plan is edited with the young person (If-Match, as for Tasks)
			"patient/CarePlan.rus",
			"patient/Goal.rs",
			"patient/ServiceRequest.rs",
			// saving the safety plan with the young person records the safety-planning session (a completed Procedure
			// based on the plan's order; r: HAPI returns a created resource only to a token that may read it)
			"patient/Procedure.cr",
			// Task is not in the R4 Patient compartment: the Tasks this user may see, searched by patient
			"user/Task.rus",
			// PlanDefinition/$apply is refused to patient-context scopes; it stores a CarePlan with its Goals and requests
			"user/CarePlan.cr",
			"user/Goal.c",
			"user/ServiceRequest.c");

	private static final Logger log = LoggerFactory.getLogger(ClinicianApp.class);

	private final Optional<NssiProperties.Client> client;

	@Autowired
	public ClinicianApp(NssiProperties properties) {
		this(properties, properties.app().redirectUris());
	}

	/** With these configured redirect URIs (comma-separated) instead of {@code nssi.app.redirect-uris}. */
	ClinicianApp(NssiProperties properties, String configuredRedirects) {
		List<String> redirects = redirectUris(properties, configuredRedirects);
		this.client = redirects.isEmpty() || !properties.security().enabled()
				? Optional.empty()
				: Optional.of(new NssiProperties.Client(CLIENT_ID, "NSSI clinician app", null, null, SCOPES, redirects, LAUNCH_URL, "RS384"));
		if (client.isEmpty() && properties.security().enabled()) {
			log.info("The clinician app at {} is not registered: set nssi.app.redirect-uris or nssi.fhir.server-address", PATH);
		}
	}

	/** The app as a configured SMART client, when it has a redirect URI. */
	public Optional<NssiProperties.Client> client() {
		return client;
	}

	static List<String> redirectUris(NssiProperties properties, String configured) {
		return redirectUris(properties, configured, PATH);
	}

	/** The redirect URIs of an app served by this server at {@code path}: configured, derived, or the embedded default's loopback. */
	static List<String> redirectUris(NssiProperties properties, String configured, String path) {
		if (configured != null && !configured.isBlank()) {
			return Arrays.stream(configured.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
		}
		String address = properties.fhir().serverAddress();
		if (address != null && !address.isBlank()) {
			URI uri = URI.create(address);
			return List.of(uri.getScheme() + "://" + uri.getRawAuthority() + path);
		}
		boolean embeddedDefault = properties.db().embedded() && properties.security().devClient();
		return embeddedDefault ? List.of("http://127.0.0.1" + path) : List.of();
	}
}
