package org.nssifhir.server.security;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.List;
import java.util.Optional;
import org.nssifhir.server.security.consent.BreakTheGlass;
import org.nssifhir.server.support.RequestScoped;

/**
 * Who is asking, resolved once per request from the validated token and the purpose-of-use header: the kind of
 * user, their FHIR resource, the patient in context, the client, the scopes, and whether they broke the glass.
 * Every access decision reads this one object (see {@code security.policy.AccessPolicy}), never the token itself.
 */
public record RequestIdentity(
		Kind kind,
		SmartAccess access,
		/* the user's FHIR resource (Practitioner/1, Patient/2, RelatedPerson/3), if the token names one */
		Optional<String> fhirUser,
		/* the launch context patient of a patient-level token */
		Optional<String> patientId,
		String clientId,
		boolean breakTheGlass) {

	/** Kinds of caller, from the token's user and scopes. */
	public enum Kind {
		/** a backend system: system scopes only and no user (SMART Backend Services) */
		BACKEND,
		/** a Practitioner or PractitionerRole */
		CLINICIAN,
		/** the patient themselves (fhirUser is the patient in context) */
		PATIENT,
		/** a RelatedPerson or Person acting for a patient */
		PROXY,
		/** an app whose user is unknown or of another type: never sees restricted data */
		UNKNOWN
	}

	private static final String KEY = RequestIdentity.class.getName();

	/** The identity of this request, resolved on first use and kept with the request; empty without a token. */
	public static Optional<RequestIdentity> of(RequestDetails request) {
		if (request != null && RequestScoped.get(request, KEY) instanceof RequestIdentity cached) {
			return Optional.of(cached);
		}
		Optional<RequestIdentity> identity = current();
		if (request != null) {
			identity.ifPresent(i -> RequestScoped.put(request, KEY, i));
		}
		return identity;
	}

	/** The identity of the current HTTP request (from the security context), for code that has no RequestDetails. */
	public static Optional<RequestIdentity> current() {
		return SmartAccess.current().map(access -> from(access, BreakTheGlass.asserted()));
	}

	static RequestIdentity from(SmartAccess access, boolean breakTheGlass) {
		return new RequestIdentity(kindOf(access), access, access.fhirUser(), access.patientId(), access.clientId(), breakTheGlass);
	}

	static Kind kindOf(SmartAccess access) {
		Optional<String> user = access.fhirUser();
		if (user.isEmpty()) {
			boolean systemOnly = !access.scopes().isEmpty()
					&& access.scopes().stream().allMatch(s -> s.context() == SmartScope.Context.SYSTEM);
			return systemOnly ? Kind.BACKEND : Kind.UNKNOWN;
		}
		return switch (SmartUsers.kind(user.get())) {
			case CLINICIAN -> Kind.CLINICIAN;
			// a patient user is "the patient" only for their own record; in any other patient's context, unknown
			case PATIENT -> access.patientId().map(p -> user.get().equals("Patient/" + p)).orElse(true) ? Kind.PATIENT : Kind.UNKNOWN;
			case PROXY -> Kind.PROXY;
			case UNKNOWN -> Kind.UNKNOWN;
		};
	}

	public List<SmartScope> scopes() {
		return access.scopes();
	}

	/** The patient whose record a patient/proxy user stands for: the launch patient, or the user themselves. */
	public Optional<String> ownPatient() {
		if (kind == Kind.PATIENT) {
			return patientId.or(() -> fhirUser.map(u -> u.substring("Patient/".length())));
		}
		return patientId;
	}

	/** Whether every scope is patient-level: the caller is confined to one patient's record. */
	public boolean patientLevelOnly() {
		return access.isPatientLevelOnly();
	}

	/** A stable key for the caller (client, user, patient context), to bind things like paging to who made them. */
	public String key() {
		return clientId + "|" + fhirUser.orElse("-") + "|" + patientId.orElse("-") + "|" + access.subject();
	}
}
