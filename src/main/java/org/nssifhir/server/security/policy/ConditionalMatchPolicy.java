package org.nssifhir.server.security.policy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.security.RequestIdentity.Kind;
import org.nssifhir.server.security.SmartScope;
import org.nssifhir.server.security.consent.TreatingRelationships;

/**
 * Conditional interactions (create with {@code If-None-Exist}, conditional update, patch and delete, conditional
 * references such as {@code Patient?identifier=…} in a body) search the whole database for their match, and the
 * answer (created or not, which record was changed, "matched N", 412) tells the caller what exists. So the decision
 * is made from the request alone, before any search runs, and never depends on stored data:
 * <ul>
 *   <li>the match is a search: the caller's scopes must allow searching the type (or created-vs-found tells
 *       whether a record exists);
 *   <li>backend systems (which see everything their scopes name) may match anywhere;
 *   <li>anyone else must confine the match to one patient whose whole record they may see: the patient themselves
 *       ({@code patient=} or {@code subject=} their own id, {@code _id=} for a Patient), or a clinician for a patient
 *       they treat; a proxy or an app whose user is unknown may not match at all;
 *   <li>resources in no patient's record (practitioners, organisations, definitions) may be matched by anyone
 *       whose scopes allow it;
 *   <li>criteria that look into other resources ({@code _has}, chains) are refused, as they would match across
 *       patients whatever the narrowing says.
 * </ul>
 */
final class ConditionalMatchPolicy {

	private ConditionalMatchPolicy() {}

	/** A match is a search: without the right to search the type, "created" vs "found" would answer one. */
	static Optional<String> searchRefusal(RequestIdentity who, String type) {
		boolean maySearch = who.scopes().stream().anyMatch(s -> s.appliesTo(type) && s.allows(SmartScope.Permission.SEARCH)
				&& (s.context() != SmartScope.Context.PATIENT || who.patientId().isPresent()));
		return maySearch ? Optional.empty() : Optional.of("Conditional matching is a search: the token's scopes must allow searching " + type);
	}

	/** Why this match URL (type plus query, as in {@code Observation?identifier=x}) is refused; empty if allowed. */
	static Optional<String> refusal(
			FhirContext fhirContext, TreatingRelationships relationships, RequestDetails request, RequestIdentity who, String matchUrl) {
		String[] parts = matchUrl.split("\\?", 2);
		String type = parts[0].contains("/") ? parts[0].substring(parts[0].lastIndexOf('/') + 1) : parts[0];
		Optional<String> noSearch = searchRefusal(who, type);
		if (noSearch.isPresent()) {
			return noSearch;
		}
		if (who.kind() == Kind.BACKEND) {
			return Optional.empty();
		}
		RuntimeResourceDefinition definition;
		try {
			definition = fhirContext.getResourceDefinition(type);
		} catch (RuntimeException e) {
			return Optional.empty(); // not a resource type: HAPI answers the client's mistake itself
		}
		boolean patientData = "Patient".equals(type) || !definition.getSearchParamsForCompartmentName("Patient").isEmpty()
				|| "Task".equals(type);
		if (!patientData || AccessPolicy.DEFINITIONAL_TYPES.contains(type)) {
			return Optional.empty();
		}
		if (who.kind() != Kind.PATIENT && who.kind() != Kind.CLINICIAN) {
			return Optional.of("Conditional matching on patient data is not available to this user");
		}
		List<String> narrowing = new ArrayList<>();
		for (String pair : parts.length > 1 ? parts[1].split("&") : new String[0]) {
			String[] nv = pair.split("=", 2);
			String name = URLDecoder.decode(nv[0], StandardCharsets.UTF_8);
			String value = nv.length > 1 ? URLDecoder.decode(nv[1], StandardCharsets.UTF_8) : "";
			if (name.startsWith("_has") || name.contains(".")) {
				return Optional.of("Conditional matching cannot look into other resources (_has, chained parameters)");
			}
			String base = name.contains(":") ? name.substring(0, name.indexOf(':')) : name;
			boolean narrows = "Patient".equals(type) ? "_id".equals(base) : "patient".equals(base) || "subject".equals(base);
			if (narrows) {
				if (value.contains(",") || value.isBlank()) {
					return Optional.of("Conditional matching must name exactly one patient");
				}
				narrowing.add(value.contains("/") ? value : "Patient/" + value);
			}
		}
		if (narrowing.isEmpty()) {
			return Optional.of("Conditional matching on patient data must be confined to one patient you may see: add "
					+ ("Patient".equals(type) ? "_id=" : "patient=") + "Patient/[id]");
		}
		for (String reference : narrowing) {
			String[] tid = reference.split("/");
			if (tid.length < 2 || !"Patient".equals(tid[tid.length - 2])) {
				return Optional.of("Conditional matching must be confined to a Patient");
			}
			String patientId = tid[tid.length - 1];
			boolean allowed = switch (who.kind()) {
				case PATIENT -> who.ownPatient().map(patientId::equals).orElse(false);
				case CLINICIAN -> relationships.treats(request, who.fhirUser().orElseThrow(), patientId);
				default -> false;
			};
			if (!allowed) {
				return Optional.of("Conditional matching is available only within a record you may see in full"
						+ " (your own, or a patient you treat)");
			}
		}
		return Optional.empty();
	}
}
