package org.nssifhir.server.security.consent;

import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentOutcome;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentContextServices;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentService;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseBundle;
import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;
import org.hl7.fhir.instance.model.api.IBaseParameters;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.DomainResource;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.SmartScope;
import org.nssifhir.server.security.SmartUsers;
import org.nssifhir.server.security.policy.AccessPolicy;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.RequestScoped;

/**
 * Who may see resources carrying a sensitivity label. Scopes and the patient compartment are checked first (by
 * {@code SmartAuthorizationInterceptor}); this decides, for each resource a request would return (read, search,
 * includes, history, {@code $everything}, batch entries), whether its labels allow this user to see it:
 * <ul>
 *   <li>backend systems (no user) and the patient themselves: yes;
 *   <li>restricted ({@code R}/{@code V}) data, to a clinician: only with a treating relationship with the patient
 *       (an active CareTeam membership, or being their general practitioner), or by breaking the glass;
 *   <li>restricted and adolescent ({@code ADOL}) data, to a proxy ({@code RelatedPerson}): only if an active
 *       Consent of the patient permits disclosure of those labels to that proxy; to an app whose user is unknown:
 *       never;
 * </ul>
 * A resource refused in a search result is left out. A refused read is a 403 naming the rule for a clinician
 * (who may then break the glass), and a 404 for anyone else, because the existence of an adolescent's
 * confidential record is itself confidential.
 *
 * <p>HAPI's consent interceptor calls it: {@link SensitiveDataConsentInterceptor}, the one registered on the REST
 * server. Operations that compute answers from restricted records apply the same rule through
 * {@link RestrictedRecordAccess}.
 */
public class SensitiveDataConsentService implements IConsentService {

	private final AccessPolicy policy;

	public SensitiveDataConsentService(AccessPolicy policy) {
		this.policy = policy;
	}

	@Override
	public ConsentOutcome startOperation(RequestDetails request, IConsentContextServices context) {
		Optional<String> wrong = BreakTheGlass.unsupportedValue();
		if (wrong.isPresent()) {
			throw new InvalidRequestException(ErrorCode.PURPOSE_OF_USE_UNSUPPORTED.message(
					BreakTheGlass.HEADER + " supports only " + BreakTheGlass.CODE + " (break the glass)"));
		}
		if (BreakTheGlass.asserted()) {
			Optional<SmartAccess> access = SmartAccess.current();
			boolean clinician = access.flatMap(SmartAccess::fhirUser).map(SmartUsers::kind).orElse(SmartUsers.Kind.UNKNOWN) == SmartUsers.Kind.CLINICIAN;
			boolean userLevel = access.map(a -> a.scopes().stream().anyMatch(s -> s.context() == SmartScope.Context.USER)).orElse(false);
			if (!clinician || !userLevel) {
				throw new ForbiddenOperationException(ErrorCode.BREAK_GLASS_NOT_ALLOWED.message(
						"Only a clinician (fhirUser Practitioner) with user-level scopes can break the glass"));
			}
			if (!aboutOnePatient(request)) {
				throw new ForbiddenOperationException(ErrorCode.BREAK_GLASS_NOT_ALLOWED.message(
						"Break the glass for one patient at a time: a read, a Patient's $everything, or a search with patient= or subject="));
			}
		}
		return ConsentOutcome.PROCEED;
	}

	/** Break-the-glass is for one patient's emergency: never a search across patients, nor widened by includes. */
	private static boolean aboutOnePatient(RequestDetails request) {
		if (request.getParameters().keySet().stream().anyMatch(name -> name.startsWith("_include") || name.startsWith("_revinclude"))) {
			return false;
		}
		RestOperationTypeEnum op = request.getRestOperationType();
		if (op == RestOperationTypeEnum.READ || op == RestOperationTypeEnum.VREAD || op == RestOperationTypeEnum.HISTORY_INSTANCE) {
			return true;
		}
		if (op == RestOperationTypeEnum.EXTENDED_OPERATION_INSTANCE) {
			return "Patient".equals(request.getResourceName());
		}
		if (op == RestOperationTypeEnum.SEARCH_TYPE) {
			for (String name : List.of("patient", "subject", "_id")) {
				String[] values = request.getParameters().get(name);
				if (values != null && values.length == 1 && !values[0].contains(",")) {
					return !"_id".equals(name) || "Patient".equals(request.getResourceName());
				}
			}
		}
		return false;
	}

	@Override
	public boolean shouldProcessCanSeeResource(RequestDetails request, IConsentContextServices context) {
		return true;
	}

	/**
	 * The access policy decides; a resource refused here is left out of a search and answered as missing on a read,
	 * exactly as a record that does not exist (whatever its labels, whoever asks).
	 */
	@Override
	public ConsentOutcome canSeeResource(RequestDetails request, IBaseResource resource, IConsentContextServices context) {
		Optional<RequestIdentity> who = RequestIdentity.of(request);
		if (who.isEmpty() || resource == null) {
			return ConsentOutcome.PROCEED; // not a SMART request (security off, or the server itself), or nothing left to see
		}
		return policy.mayRead(request, who.get(), resource) ? ConsentOutcome.PROCEED : ConsentOutcome.REJECT;
	}

	/**
	 * The same decision when HAPI is about to show a resource. This is what pages of a stored search go through:
	 * HAPI applies {@link #canSeeResource} (its "pre-access" check) when the search first loads its results, with
	 * the identity of whoever ran the search, and serves later pages, to whoever follows the link, through the
	 * "pre-show" check only. Before this method existed that check always passed, which is how another user's
	 * paging link returned restricted records. Containers (bundles, outcomes, parameters) and the answers to writes
	 * are not judged here: their content is.
	 */
	@Override
	public ConsentOutcome willSeeResource(RequestDetails request, IBaseResource resource, IConsentContextServices context) {
		Optional<RequestIdentity> who = RequestIdentity.of(request);
		RestOperationTypeEnum op = request.getRestOperationType();
		if (who.isEmpty() || resource == null || resource instanceof IBaseBundle
				|| resource instanceof IBaseOperationOutcome
				|| resource instanceof IBaseParameters
				|| op == RestOperationTypeEnum.CREATE || op == RestOperationTypeEnum.UPDATE
				|| op == RestOperationTypeEnum.PATCH || op == RestOperationTypeEnum.DELETE
				|| containedInShown(request).contains(resource)) {
			return ConsentOutcome.PROCEED;
		}
		boolean shown = policy.mayRead(request, who.get(), resource);
		if (shown && resource instanceof DomainResource container) {
			containedInShown(request).addAll(container.getContained());
		}
		return shown ? ConsentOutcome.PROCEED : ConsentOutcome.REJECT;
	}

	/**
	 * The contained resources (a safety plan's contacts, say) of the resources shown in this answer: part of their
	 * container's content, judged with it (HAPI walks a container before its contained resources). Judging them on
	 * their own refused them to every token without a scope for their types, and HAPI, removing one from the
	 * container while walking it, answered the search with a 500 (ConcurrentModificationException). By identity: a
	 * contained resource of one record is never taken for a top-level one.
	 */
	private static Set<IBaseResource> containedInShown(RequestDetails request) {
		return RequestScoped.value(request, CONTAINED, () -> Collections.synchronizedSet(
				Collections.newSetFromMap(new IdentityHashMap<>())));
	}

	private static final String CONTAINED = SensitiveDataConsentService.class.getName() + ".contained";

}
