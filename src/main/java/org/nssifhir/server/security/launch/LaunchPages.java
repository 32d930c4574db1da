package org.nssifhir.server.security.launch;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirResourceDao;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.rest.api.SortOrderEnum;
import ca.uhn.fhir.rest.api.SortSpec;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.StringParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.FormatStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.nssifhir.server.app.ClinicianApp;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.security.SmartUsers;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;

/**
 * The two pages a clinician sees around a SMART launch on the built-in authorization server:
 * <ul>
 *   <li>{@code /smart/launcher}: a minimal EHR launcher (pick a patient and an app, as an EHR would) that creates a
 *       launch context and sends the browser to the app's launch URL with {@code iss} and {@code launch};
 *   <li>{@code /smart/pick-patient}: the patient picker of a standalone launch asking for {@code launch/patient}.
 * </ul>
 * Server-rendered HTML with every value escaped; forms carry Spring Security's CSRF token. Clinicians only.
 */
@RestController
public class LaunchPages {

	public static final String PICKER = "/smart/pick-patient";
	public static final String LAUNCHER = "/smart/launcher";
	private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
	private static final int SYNTHETIC_LISTED = 25;
	/** How far the launcher pages (25 a page): 10,000 patients; a name search reaches any other. */
	private static final int MAX_LAUNCHER_PAGE = 399;
	/** The authorization request parameter by which the clinician app's "sign in again" names the patient it had open. */
	public static final String RELAUNCH_PATIENT = "nssi_patient";
	private static final Pattern REFERENCE = Pattern.compile("[A-Z][A-Za-z]{1,40}/[A-Za-z0-9\\-.]{1,64}");

	private final LaunchContextStore launches;
	private final SmartUsers users;
	private final DaoRegistry daos;
	private final NssiProperties properties;
	private final PatientPickerAudit pickerAudit;
	private final ClinicianApp clinicianApp;
	private final ServerAddress serverAddress;

	public LaunchPages(
			LaunchContextStore launches, SmartUsers users, DaoRegistry daos, NssiProperties properties, PatientPickerAudit pickerAudit,
			ClinicianApp clinicianApp, ServerAddress serverAddress) {
		this.serverAddress = serverAddress;
		this.pickerAudit = pickerAudit;
		this.clinicianApp = clinicianApp;
		this.launches = launches;
		this.users = users;
		this.daos = daos;
		this.properties = properties;
	}

	@GetMapping(value = PICKER, produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> picker(
			@RequestParam("request") String authorizeQuery,
			@RequestParam(value = "name", required = false) String name,
			Principal user,
			HttpServletRequest http) {
		if (!clinician(user)) {
			return forbidden();
		}
		Optional<ResponseEntity<String>> relaunch = relaunch(authorizeQuery, user);
		if (relaunch.isPresent()) {
			return relaunch.get();
		}
		StringBuilder body = new StringBuilder("<h1>Choose a patient</h1>")
				.append("<form method='get' action='").append(PICKER).append("'>")
				.append(hidden("request", authorizeQuery))
				.append("<label for='name'>Patient name</label> <input id='name' name='name' value='").append(esc(name)).append("'>")
				.append(" <button type='submit'>Search</button></form>");
		if (name != null && !name.isBlank()) {
			List<Patient> found = searchByName(name);
			audit(user, found);
			body.append("<form method='post' action='").append(PICKER).append("'>").append(csrf(http)).append(hidden("request", authorizeQuery));
			body.append("<fieldset><legend>").append(found.size()).append(" patient(s) found</legend>");
			for (Patient patient : found) {
				String id = patient.getIdElement().getIdPart();
				body.append("<div class='choice'><input type='radio' name='patient' id='p-").append(esc(id)).append("' value='").append(esc(id)).append("' required>")
						.append("<label for='p-").append(esc(id)).append("'>").append(esc(display(patient, http.getLocale()))).append("</label></div>");
			}
			body.append("</fieldset><button type='submit'>Continue</button></form>");
		}
		return page("Choose a patient", body.toString());
	}

	@PostMapping(value = PICKER, produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> picked(@RequestParam("request") String authorizeQuery, @RequestParam("patient") String patientId, Principal user) {
		if (!clinician(user)) {
			return forbidden();
		}
		return continueWith(authorizeQuery, patientId, user);
	}

	/**
	 * "Sign in again" in the built-in clinician app, after its sign-in ended: the app's authorization request names the
	 * patient that was open ({@code nssi_patient}), and the clinician goes back to that person without choosing them
	 * again. Only for the built-in clinician app, whose launch page adds the parameter only when the same browser tab
	 * had that patient open (it passes it through the tab's own session storage, which a link from elsewhere cannot
	 * set); the clinician's access to the patient is decided by the access policy as for any launch.
	 */
	private Optional<ResponseEntity<String>> relaunch(String authorizeQuery, Principal user) {
		MultiValueMap<String, String> query = UriComponentsBuilder.newInstance().query(authorizeQuery).build().getQueryParams();
		List<String> hint = query.getOrDefault(RELAUNCH_PATIENT, List.of());
		List<String> clientIds = query.getOrDefault("client_id", List.of());
		if (hint.size() != 1 || clientIds.size() != 1
				|| !ClinicianApp.CLIENT_ID.equals(UriUtils.decode(clientIds.get(0), StandardCharsets.UTF_8))) {
			return Optional.empty();
		}
		String patientId = UriUtils.decode(hint.get(0), StandardCharsets.UTF_8);
		if (!ID.matcher(patientId).matches() || patient(patientId).isEmpty()) {
			return Optional.empty(); // the patient is gone: the picker asks, as for any standalone launch
		}
		return Optional.of(continueWith(authorizeQuery, patientId, user));
	}

	private ResponseEntity<String> continueWith(String authorizeQuery, String patientId, Principal user) {
		if (!ID.matcher(patientId).matches() || patient(patientId).isEmpty()) {
			return badRequest("No such patient");
		}
		MultiValueMap<String, String> query = UriComponentsBuilder.newInstance().query(authorizeQuery).build().getQueryParams();
		boolean hasLaunch = query.keySet().stream().anyMatch(key -> "launch".equals(UriUtils.decode(key, StandardCharsets.UTF_8)));
		List<String> clientIds = query.getOrDefault("client_id", List.of());
		if (hasLaunch || clientIds.size() != 1) {
			return badRequest("Not an authorization request this picker can complete");
		}
		String clientId = UriUtils.decode(clientIds.get(0), StandardCharsets.UTF_8);
		LaunchContext launch = launches.create(user.getName(), clientId, patientId, null, List.of());
		// always back to our own authorization endpoint: the query is the app's original request plus the launch
		return ResponseEntity.status(HttpStatus.FOUND)
				.header("Location", "/oauth2/authorize?" + authorizeQuery + "&launch=" + launch.id())
				.build();
	}

	@GetMapping(value = LAUNCHER, produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> launcher(
			@RequestParam(value = "name", required = false) String name,
			@RequestParam(value = "page", required = false) String pageParam,
			Principal user,
			HttpServletRequest http) {
		if (!clinician(user)) {
			return forbidden();
		}
		String search = name == null || name.isBlank() ? null : name.strip();
		int page = pageParam != null && pageParam.matches("\\d{1,4}") ? Math.min(Integer.parseInt(pageParam), MAX_LAUNCHER_PAGE) : 0;
		// a page of patients to choose from, as a demo EHR's patient list: the synthetic (HTEST) ones, most recently
		// changed first, or any patient by name; one more than a page is read to know whether there is a next page
		List<Patient> found = search == null ? syntheticPatients(page) : patientsNamed(search, page);
		boolean more = found.size() > SYNTHETIC_LISTED;
		List<Patient> listed = more ? found.subList(0, SYNTHETIC_LISTED) : found;
		if (!listed.isEmpty()) {
			audit(user, listed);
		}
		// a patient is picked from the list by name (as in an EHR's patient list); typing an id is the fallback for one
		// not listed, in its own field ("patient-id"), so a choice and a typed id never arrive as one joined value. The
		// launch form comes first (its button is the page's first): the search and the pages follow it
		StringBuilder body = new StringBuilder("<h1>Launch a SMART app</h1><form method='post' action='").append(LAUNCHER).append("'>").append(csrf(http));
		int first = page * SYNTHETIC_LISTED + 1;
		String range = listed.isEmpty() ? "" : page == 0 && !more ? "" : " " + first + "–" + (first + listed.size() - 1);
		if (!listed.isEmpty()) {
			body.append("<fieldset class='picker' id='patient-picker'><legend>")
					.append(search == null ? "Patient (synthetic patients, most recently changed first)" : "Patients named “" + esc(search) + "”")
					.append(range.isEmpty() ? "" : ":" + range).append("</legend>");
			for (Patient patient : listed) {
				String id = esc(patient.getIdElement().getIdPart());
				body.append("<div class='choice'><input type='radio' name='patient' id='launch-p-").append(id).append("' value='").append(id).append("'>")
						.append("<label for='launch-p-").append(id).append("'>").append(esc(display(patient, http.getLocale()))).append("</label></div>");
			}
			body.append("</fieldset>");
		} else if (search != null) {
			body.append("<p id='launcher-none' role='status'>No patient named “").append(esc(search)).append("”")
					.append(page > 0 ? " on this page" : "").append(".</p>");
		}
		boolean none = listed.isEmpty();
		body.append("<p><label for='patient'>").append(none ? "Patient id" : "Or a patient id not listed")
				.append("</label> <input id='patient' name='patient-id' autocomplete='off'").append(none ? " required" : "").append("></p>")
				.append("<p><label for='encounter'>Encounter id (optional)</label> <input id='encounter' name='encounter'></p>")
				.append("<p><label for='app'>App</label> <select id='app' name='app'>");
		for (NssiProperties.Client app : launchableApps()) {
			body.append("<option value='").append(esc(app.clientId())).append("'>")
					.append(esc(app.clientName() == null ? app.clientId() : app.clientName())).append("</option>");
		}
		body.append("</select></p><button type='submit' id='launch-submit'>Launch</button></form>");
		if (page > 0 || more) {
			body.append("<nav class='pages' aria-label='More patients'><p>");
			if (page > 0) {
				body.append("<a id='launcher-previous' href='").append(esc(launcherLink(search, page - 1))).append("'>Previous ")
						.append(SYNTHETIC_LISTED).append(" patients</a> ");
			}
			if (more) {
				body.append("<a id='launcher-next' href='").append(esc(launcherLink(search, page + 1))).append("'>Next ")
						.append(SYNTHETIC_LISTED).append(" patients</a>");
			}
			body.append("</p></nav>");
		}
		body.append("<form method='get' action='").append(LAUNCHER).append("' role='search' id='launcher-search'>")
				.append("<h2>Find any patient by name</h2>")
				.append("<p><label for='launcher-name'>Name (part of the family or given name)</label> <input id='launcher-name' name='name' value='")
				.append(esc(search)).append("' autocomplete='off'></p><button type='submit' class='secondary'>Search</button>")
				.append(search == null ? "" : " <a href='" + LAUNCHER + "'>Back to the synthetic patients</a>").append("</form>");
		return page("Launch a SMART app", body.toString());
	}

	private static String launcherLink(String search, int page) {
		return LAUNCHER + "?page=" + page + (search == null ? "" : "&name=" + URLEncoder.encode(search, StandardCharsets.UTF_8));
	}

	@PostMapping(value = LAUNCHER, produces = MediaType.TEXT_HTML_VALUE)
	public ResponseEntity<String> launch(
			@RequestParam(value = "patient", required = false) String picked,
			@RequestParam(value = "patient-id", required = false) String typed,
			@RequestParam(value = "encounter", required = false) String encounterId,
			@RequestParam(value = "context", required = false) List<String> fhirContext,
			@RequestParam("app") String appId,
			Principal user,
			HttpServletRequest http) {
		if (!clinician(user)) {
			return forbidden();
		}
		Optional<NssiProperties.Client> app = launchableApps().stream().filter(c -> c.clientId().equals(appId)).findFirst();
		if (app.isEmpty()) {
			return badRequest("No such app");
		}
		// a typed id wins over a choice in the list: it can only have been typed on purpose
		String patientId = typed != null && !typed.isBlank() ? typed.strip() : picked;
		if (patientId == null || patientId.isBlank()) {
			return badRequest("Choose a patient");
		}
		if (!ID.matcher(patientId).matches() || patient(patientId).isEmpty()) {
			return badRequest("No such patient");
		}
		String encounter = encounterId == null || encounterId.isBlank() ? null : encounterId;
		if (encounter != null && !ID.matcher(encounter).matches()) {
			return badRequest("Invalid encounter id");
		}
		List<String> context = fhirContext == null ? List.of() : fhirContext.stream().filter(s -> !s.isBlank()).toList();
		if (context.stream().anyMatch(reference -> !REFERENCE.matcher(reference).matches())) {
			return badRequest("fhirContext entries must be relative references such as CarePlan/123");
		}
		LaunchContext launch = launches.create(user.getName(), app.get().clientId(), patientId, encounter, context);
		// the pinned FHIR base (ServerAddress): the launch's iss is the server the app's tokens will be for
		String iss = serverAddress.fhirBase();
		// a launch URL starting with "/" is an app served by this server (e.g. the clinician app)
		String launchUrl = app.get().launchUrl().startsWith("/")
				? serverAddress.issuer() + app.get().launchUrl()
				: app.get().launchUrl();
		String target = launchUrl + (launchUrl.contains("?") ? "&" : "?")
				+ "iss=" + URLEncoder.encode(iss, StandardCharsets.UTF_8) + "&launch=" + launch.id();
		return ResponseEntity.status(HttpStatus.FOUND).header("Location", target).build();
	}

	private List<NssiProperties.Client> launchableApps() {
		List<NssiProperties.Client> apps = new ArrayList<>();
		clinicianApp.client().ifPresent(apps::add);
		properties.security().clients().stream().filter(c -> c.app() && c.launchUrl() != null && !c.launchUrl().isBlank()).forEach(apps::add);
		return apps;
	}

	/** A page of the synthetic patients (security label HTEST), most recently changed first: demo and test data only. */
	private List<Patient> syntheticPatients(int page) {
		return launcherPage(SearchParameterMap.newSynchronous("_security", new TokenParam(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST")), page);
	}

	/** A page of any patients whose name matches (HAPI's name search: a prefix of any part of the name). */
	private List<Patient> patientsNamed(String name, int page) {
		return launcherPage(SearchParameterMap.newSynchronous("name", new StringParam(name)), page);
	}

	/** One page of a launcher list plus one more patient (to know whether a next page exists). */
	private List<Patient> launcherPage(SearchParameterMap map, int page) {
		map.setSort(new SortSpec("_lastUpdated", SortOrderEnum.DESC).setChain(new SortSpec("_id", SortOrderEnum.ASC)));
		map.setOffset(page * SYNTHETIC_LISTED);
		map.setCount(SYNTHETIC_LISTED + 1);
		IBundleProvider result = daos.getResourceDao(Patient.class).search(map, new SystemRequestDetails());
		return result.getResources(0, SYNTHETIC_LISTED + 1).stream().map(Patient.class::cast).toList();
	}

	private boolean clinician(Principal user) {
		return user != null && users.fhirUser(user.getName()).map(SmartUsers::kind).orElse(null) == SmartUsers.Kind.CLINICIAN;
	}

	private Optional<Patient> patient(String id) {
		try {
			return Optional.of(daos.getResourceDao(Patient.class).read(new IdType("Patient", id), new SystemRequestDetails()));
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			return Optional.empty();
		}
	}

	private List<Patient> searchByName(String name) {
		IFhirResourceDao<Patient> dao = daos.getResourceDao(Patient.class);
		SearchParameterMap map = SearchParameterMap.newSynchronous("name", new StringParam(name));
		map.setCount(20);
		IBundleProvider result = dao.search(map, new SystemRequestDetails());
		return result.getResources(0, 20).stream().map(Patient.class::cast).toList();
	}

	/** The picker shows patients' names and birth dates: a query like any other, so it is audited like one. */
	private void audit(Principal user, List<Patient> shown) {
		String who = users.fhirUser(user.getName()).orElse(user.getName());
		pickerAudit.patientsShown(who, shown);
	}

	/**
	 * A birth date as the clinician app's banner writes it (a medium date in the browser's language: "4 Mar 2011" in
	 * English (UK)), so the launcher and the app never seem to name two dates for one person (clinician review s8,
	 * item 6). A date has no time of day and no time zone: it is formatted as the calendar day it is, never through
	 * an instant; a year or a month alone stays as written.
	 */
	static String birthDate(DateType birthDate, Locale locale) {
		if (birthDate.getPrecision() != TemporalPrecisionEnum.DAY) {
			return birthDate.getValueAsString();
		}
		LocalDate day = LocalDate.of(birthDate.getYear(), birthDate.getMonth() + 1, birthDate.getDay());
		return DateTimeFormatter.ofLocalizedDate(FormatStyle.MEDIUM).withLocale(locale == null ? Locale.UK : locale).format(day);
	}

	private static String display(Patient patient, Locale locale) {
		String name = patient.getNameFirstRep().getNameAsSingleString();
		String born = patient.hasBirthDate() ? ", born " + birthDate(patient.getBirthDateElement(), locale) : "";
		return (name == null || name.isBlank() ? "(no name)" : name) + born + " (Patient/" + patient.getIdElement().getIdPart() + ")";
	}

	private static String csrf(HttpServletRequest http) {
		return Pages.csrf(http);
	}

	private static String hidden(String name, String value) {
		return Pages.hidden(name, value);
	}

	private static String esc(String value) {
		return Pages.esc(value);
	}

	private static ResponseEntity<String> page(String title, String body) {
		return Pages.page(title, body);
	}

	private static ResponseEntity<String> forbidden() {
		return Pages.page(HttpStatus.FORBIDDEN, "Not allowed", "<p>Only clinicians can launch apps or choose a patient.</p>");
	}

	private static ResponseEntity<String> badRequest(String message) {
		return Pages.page(HttpStatus.BAD_REQUEST, "Bad request", "<p>" + esc(message) + "</p>");
	}
}
