package org.nssifhir.server.security.launch;

import jakarta.servlet.http.HttpServletRequest;
import org.nssifhir.server.app.PatientApp;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;
import org.springframework.security.web.savedrequest.SavedRequest;

/**
 * The name the sign-in pages ({@code /login}, {@code /login/code}) go by: a young person signing in to their app
 * reads the deployment's name for it ({@code nssi.enrolment.app-name}), not a server's technical name; anyone else
 * (a clinician launching the clinician app or an EHR's app) reads a neutral clinical one
 * ({@code nssi.enrolment.clinical-name}). Which it is comes from the authorization request waiting in this browser's
 * session (Spring Security keeps it until the sign-in completes): its {@code client_id} is the person's app, or not.
 */
public class SignInSite {

	private final String appName;
	private final String clinicalName;

	public SignInSite(String appName, String clinicalName) {
		this.appName = appName;
		this.clinicalName = clinicalName;
	}

	/** The name for this browser's sign-in. */
	public String name(HttpServletRequest http) {
		return forPersonsApp(http) ? appName : clinicalName;
	}

	/** Whether the sign-in under way is for the person's app (the authorization request waiting names it). */
	static boolean forPersonsApp(HttpServletRequest http) {
		String[] own = http.getParameterValues("client_id");
		if (own != null) {
			// the authorization request itself (its refusal page): its own client, not one waiting in the session
			return own.length == 1 && PatientApp.CLIENT_ID.equals(own[0]);
		}
		if (http.getSession(false) == null) {
			return false;
		}
		SavedRequest request = new HttpSessionRequestCache().getRequest(http, null);
		String[] clientIds = request == null ? null : request.getParameterValues("client_id");
		return clientIds != null && clientIds.length == 1 && PatientApp.CLIENT_ID.equals(clientIds[0]);
	}
}
