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
 *   <li>adolescent ({@code ADOL}) data, to a proxy ({@code RelatedPerson}) or to a patient-level app whose user is
 *       unknown: only if an active Consent of the patient permits disclosure to that proxy;
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
		boolean backend = access.fhirUser().isEmpty() && access.scopes().stream().allMatch(s -> s.context() == SmartScope.Context.SYSTEM);
		boolean ownRecord = access.patientId().isPresent() && access.isPatientLevelOnly()
				&& access.fhirUser().map(user -> user.equals("Patient/" + access.patientId().get())).orElse(false);
		if (backend || ownRecord) {
			ConsentInterceptor.skipAllConsentForRequest(request);
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
			boolean clinician = access.flatMap(SmartAccess::fhirUser).map(SmartUsers::kind).orElse(null) == SmartUsers.Kind.CLINICIAN;
			boolean userLevel = access.map(a -> a.scopes().stream().anyMatch(s -> s.context() == SmartScope.Context.USER)).orElse(false);
			if (!clinician || !userLevel) {
				throw new ForbiddenOperationException(ErrorCode.BREAK_GLASS_NOT_ALLOWED.message(
						"Only a clinician (fhirUser Practitioner) with user-level scopes can break the glass"));
			}
		}
		return ConsentOutcome.PROCEED;
	}

	@Override
	public boolean shouldProcessCanSeeResource(RequestDetails request, IConsentContextServices context) {
		return true;
	}

	@Override
	public ConsentOutcome canSeeResource(RequestDetails request, IBaseResource resource, IConsentContextServices context) {
		List<? extends org.hl7.fhir.instance.model.api.IBaseCoding> labels = resource.getMeta().getSecurity();
		boolean restricted = labels.stream().anyMatch(c -> CONFIDENTIALITY.equals(c.getSystem()) && ("R".equals(c.getCode()) || "V".equals(c.getCode())));
		boolean adolescent = labels.stream().anyMatch(c -> ACT_CODE.equals(c.getSystem()) && "ADOL".equals(c.getCode()));
		if (!restricted && !adolescent) {
			return ConsentOutcome.PROCEED;
		}
		Optional<SmartAccess> current = SmartAccess.current();
		if (current.isEmpty()) {
			return ConsentOutcome.PROCEED; // not a SMART request (security off, or the server itself)
		}
		SmartAccess access = current.get();
		boolean anyUserOrPatientScope = access.scopes().stream().anyMatch(s -> s.context() != SmartScope.Context.SYSTEM);
		if (!anyUserOrPatientScope && access.fhirUser().isEmpty()) {
			return ConsentOutcome.PROCEED; // a backend system, authorized by its system scopes
		}
		Optional<String> patient = patientOf(resource);
		if (patient.isEmpty()) {
			return ConsentOutcome.PROCEED; // labelled but about no patient: nothing the rules below can protect
		}
		SmartUsers.Kind kind = access.fhirUser().map(SmartUsers::kind).orElse(null);
		if (kind == SmartUsers.Kind.PATIENT && access.fhirUser().get().equals("Patient/" + patient.get())) {
			return ConsentOutcome.PROCEED; // a patient sees their own record
		}
		if (kind == SmartUsers.Kind.CLINICIAN || (kind == null && !access.isPatientLevelOnly())) {
			if (access.fhirUser().isPresent() && relationships.treats(request, access.fhirUser().get(), patient.get())) {
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
		// a proxy, or a patient-level app whose user is not known to be the patient
		if (adolescent && !access.fhirUser().map(user -> consents.permits(request, patient.get(), user)).orElse(false)) {
			// not even a 403: that this record exists is itself confidential, so a read is a 404 (HAPI's answer)
			return ConsentOutcome.REJECT;
		}
		return ConsentOutcome.PROCEED;
	}

	private Optional<String> patientOf(IBaseResource resource) {
		if ("Patient".equals(fhirContext.getResourceType(resource))) {
			return Optional.ofNullable(resource.getIdElement().getIdPart());
		}
		List<IIdType> owners = fhirContext.newTerser().getCompartmentOwnersForResource("Patient", resource, java.util.Set.of());
		return owners.stream().map(IIdType::getIdPart).filter(id -> id != null).findFirst();
	}
}
