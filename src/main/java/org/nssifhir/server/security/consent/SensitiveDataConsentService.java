package org.nssifhir.server.security.consent;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentInterceptor;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentOutcome;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentContextServices;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentService;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.nssifhir.server.conformance.NssiWriteInterceptor;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.SmartScope;
import org.nssifhir.server.security.SmartUsers;
import org.nssifhir.server.support.ErrorCode;

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
 */
@Interceptor
public class SensitiveDataConsentService implements IConsentService {

	static final String CONFIDENTIALITY = NssiWriteInterceptor.CONFIDENTIALITY_SYSTEM;
	static final String ACT_CODE = NssiWriteInterceptor.ACT_CODE_SYSTEM;

	private final FhirContext fhirContext;
	private final TreatingRelationships relationships;
	private final ProxyConsents consents;

	public SensitiveDataConsentService(FhirContext fhirContext, TreatingRelationships relationships, ProxyConsents consents) {
		this.fhirContext = fhirContext;
		this.relationships = relationships;
		this.consents = consents;
	}

	/**
	 * Requests whose results need no filtering skip HAPI's consent machinery altogether: backend systems and a
	 * patient reading their own record. They keep {@code _summary=count} and {@code _total=accurate}, which the
	 * consent interceptor refuses (HAPI-2037/2038) because a count would reveal what filtering hides.
	 */
	@Hook(value = Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED, order = -1)
	public void skipWhenNothingIsFiltered(RequestDetails request) {
		Optional<SmartAccess> current = SmartAccess.current();
		if (current.isEmpty() || BreakTheGlass.unsupportedValue().isPresent() || BreakTheGlass.asserted()) {
			return;
		}
		SmartAccess access = current.get();
		boolean backend = backend(access);
		boolean ownRecord = access.patientId().isPresent() && access.isPatientLevelOnly()
				&& access.fhirUser().map(user -> user.equals("Patient/" + access.patientId().get())).orElse(false);
		if (backend || ownRecord) {
			ConsentInterceptor.skipAllConsentForRequest(request);
			return;
		}
		// filtering only hides what a search returns, not what it matched on: criteria that look into other
		// resources (_has, chains) or at labels could tell a filtered user that a hidden record exists
		for (String name : request.getParameters().keySet()) {
			if (name.startsWith("_has") || name.equals("_security") || name.startsWith("_security:") || name.contains(".")) {
				throw new InvalidRequestException(ErrorCode.SEARCH_NOT_AVAILABLE_WHEN_FILTERED.message(
						"The search parameter '" + name.replaceAll("[^A-Za-z0-9_:.\\-]", "") + "' is not available to this user: "
								+ "it could reveal records that sensitivity labels hide"));
			}
		}
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

	/** Break-the-glass is for one patient's emergency: never a search across patients. */
	private static boolean aboutOnePatient(RequestDetails request) {
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

	@Override
	public ConsentOutcome canSeeResource(RequestDetails request, IBaseResource resource, IConsentContextServices context) {
		Set<String> gating = gatingLabels(resource);
		if (gating.isEmpty()) {
			return ConsentOutcome.PROCEED;
		}
		Optional<SmartAccess> current = SmartAccess.current();
		if (current.isEmpty()) {
			return ConsentOutcome.PROCEED; // not a SMART request (security off, or the server itself)
		}
		SmartAccess access = current.get();
		if (backend(access)) {
			return ConsentOutcome.PROCEED; // a backend system, authorized by its system scopes
		}
		List<String> patients = patientsOf(resource);
		if (patients.isEmpty()) {
			return ConsentOutcome.REJECT; // labelled, but we cannot tell whose it is: fail closed
		}
		SmartUsers.Kind kind = access.fhirUser().map(SmartUsers::kind).orElse(SmartUsers.Kind.UNKNOWN);
		if (kind == SmartUsers.Kind.PATIENT && patients.stream().allMatch(p -> access.fhirUser().get().equals("Patient/" + p))) {
			return ConsentOutcome.PROCEED; // a patient sees their own record
		}
		if (kind == SmartUsers.Kind.CLINICIAN) {
			if (patients.stream().allMatch(p -> relationships.treats(request, access.fhirUser().get(), p))) {
				return ConsentOutcome.PROCEED;
			}
			if (BreakTheGlass.asserted()) {
				return ConsentOutcome.PROCEED; // audited as break-the-glass by the audit writer
			}
			String why = ErrorCode.RESTRICTED_NO_RELATIONSHIP.message(
					"This record is restricted to clinicians with a treating relationship with the patient (or break the glass)");
			if (request.getRestOperationType() == RestOperationTypeEnum.READ || request.getRestOperationType() == RestOperationTypeEnum.VREAD) {
				// a clinician is told why, so that in an emergency they can break the glass
				throw new ForbiddenOperationException(why);
			}
			return ConsentOutcome.REJECT;
		}
		// a proxy, or an app whose user is unknown: only what the patient's Consent releases to that person. Not
		// even a 403: that such a record exists is itself confidential, so a read is a 404 (HAPI's answer)
		if (kind == SmartUsers.Kind.PROXY
				&& patients.stream().allMatch(p -> consents.permits(request, p, access.fhirUser().get(), gating))) {
			return ConsentOutcome.PROCEED;
		}
		return ConsentOutcome.REJECT;
	}

	/**
	 * For operations that compute answers from a patient's NSSI record instead of returning resources (the
	 * summary, pre-filled assessments): the same rule as for the restricted resources they draw on. Returns
	 * normally if this user may see the patient's restricted data, otherwise refuses with a 403.
	 */
	public void requireRestrictedAccess(RequestDetails request, String patientId) {
		Optional<SmartAccess> current = SmartAccess.current();
		if (current.isEmpty() || backend(current.get())) {
			return;
		}
		SmartAccess access = current.get();
		SmartUsers.Kind kind = access.fhirUser().map(SmartUsers::kind).orElse(SmartUsers.Kind.UNKNOWN);
		boolean allowed = switch (kind) {
			case PATIENT -> access.fhirUser().get().equals("Patient/" + patientId);
			case CLINICIAN -> relationships.treats(request, access.fhirUser().get(), patientId) || BreakTheGlass.asserted();
			// the record may carry ADOL (from the patient's minority): the proxy's Consent must release both
			case PROXY -> consents.permits(request, patientId, access.fhirUser().get(), Set.of("R", "ADOL"));
			case UNKNOWN -> false;
		};
		if (!allowed) {
			throw new ForbiddenOperationException(ErrorCode.RESTRICTED_NO_RELATIONSHIP.message(
					"This operation reads the patient's restricted record: it needs a treating relationship, the patient's "
							+ "Consent for a proxy, or break-the-glass"));
		}
	}

	/** The labels that restrict who may see a resource: confidentiality R or V, and ADOL. */
	static Set<String> gatingLabels(IBaseResource resource) {
		Set<String> gating = new java.util.TreeSet<>();
		for (var label : resource.getMeta().getSecurity()) {
			if (CONFIDENTIALITY.equals(label.getSystem()) && ("R".equals(label.getCode()) || "V".equals(label.getCode()))) {
				gating.add(label.getCode());
			} else if (ACT_CODE.equals(label.getSystem()) && "ADOL".equals(label.getCode())) {
				gating.add("ADOL");
			}
		}
		return gating;
	}

	static boolean backend(SmartAccess access) {
		return access.fhirUser().isEmpty() && access.scopes().stream().allMatch(s -> s.context() == SmartScope.Context.SYSTEM);
	}

	/** Every patient whose compartment the resource is in (all must pass: a rule for one is no rule for another). */
	private List<String> patientsOf(IBaseResource resource) {
		return patientsOf(fhirContext, resource);
	}

	static List<String> patientsOf(FhirContext fhirContext, IBaseResource resource) {
		if ("Patient".equals(fhirContext.getResourceType(resource))) {
			return resource.getIdElement().getIdPart() == null ? List.of() : List.of(resource.getIdElement().getIdPart());
		}
		// the terser returns every reference in the compartment's parameters, whatever its type: a CarePlan's
		// activity performer or an Observation's performer can be a Practitioner, who is no patient to check
		List<String> owners = fhirContext.newTerser().getCompartmentOwnersForResource("Patient", resource, Set.of()).stream()
				.filter(id -> "Patient".equals(id.getResourceType()))
				.map(IIdType::getIdPart)
				.filter(id -> id != null)
				.distinct()
				.toList();
		// R4 leaves Task out of the Patient compartment, but an escalation Task (labelled R) is about the patient
		// in Task.for; without this no user could see it, not even the treating clinician who must act on it
		if (owners.isEmpty() && resource instanceof org.hl7.fhir.r4.model.Task task
				&& "Patient".equals(task.getFor().getReferenceElement().getResourceType()) && task.getFor().getReferenceElement().hasIdPart()) {
			return List.of(task.getFor().getReferenceElement().getIdPart());
		}
		return owners;
	}
}
