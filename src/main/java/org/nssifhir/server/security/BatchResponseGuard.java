package org.nssifhir.server.security;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthorizationSearchParamMatcher;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentOperationStatusEnum;
import org.nssifhir.server.security.consent.SensitiveDataConsentService;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.util.FhirTerser;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;
import org.nssifhir.server.support.ErrorCode;

/**
 * Second line of defence for batch and transaction responses. HAPI applies the authorization rules to the
 * writes inside a bundle, but the resources its JPA layer returns for GET entries of a batch were observed to
 * reach the client unchecked (a patient-A token could read patient B through {@code Bundle.entry.request GET}).
 * This checks every resource in a batch/transaction response, including search results nested in it, against
 * the token: its type must be granted for reading (and match a granular scope's query), and for a patient-level token it must lie in that patient's
 * compartment. An entry holding anything else is replaced, as a whole, by a 403 entry. The same for sensitivity
 * labels ({@link SensitiveDataConsentService}).
 */
@Interceptor
public class BatchResponseGuard {

	private final FhirContext fhirContext;
	private final SensitiveDataConsentService consent;
	private final IAuthorizationSearchParamMatcher matcher;

	public BatchResponseGuard(FhirContext fhirContext, SensitiveDataConsentService consent, IAuthorizationSearchParamMatcher matcher) {
		this.fhirContext = fhirContext;
		this.consent = consent;
		this.matcher = matcher;
	}

	@Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
	public void guard(RequestDetails request, ResponseDetails response) {
		RestOperationTypeEnum op = request.getRestOperationType();
		if ((op != RestOperationTypeEnum.TRANSACTION && op != RestOperationTypeEnum.BATCH)
				|| !(response.getResponseResource() instanceof Bundle bundle)) {
			return;
		}
		SmartAccess access = SmartAccess.current().orElse(null);
		if (access == null) {
			return; // security is off; with security on, the request could not have got this far without a token
		}
		for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
			Resource resource = entry.getResource();
			if (resource == null || resource instanceof OperationOutcome) {
				continue;
			}
			// sensitivity labels: HAPI's consent interceptor does not see the GET entries of a batch either. A
			// search result loses what the labels hide, as a search would; a read of a hidden resource is a 404
			if (resource instanceof Bundle nested) {
				nested.getEntry().removeIf(e -> e.getResource() != null && hidden(request, e.getResource()));
				nested.setTotalElement(null);
			} else if (hidden(request, resource)) {
				OperationOutcome gone = new OperationOutcome();
				gone.addIssue()
						.setSeverity(OperationOutcome.IssueSeverity.ERROR)
						.setCode(OperationOutcome.IssueType.NOTFOUND)
						.setDiagnostics("Resource " + resource.fhirType() + "/" + resource.getIdElement().getIdPart() + " is not known");
				entry.setResource(gone);
				entry.getResponse().setStatus("404 Not Found").setEtag(null).setLocation(null).setLastModified(null);
				continue;
			}
			// HAPI answers a search entry with a Bundle around the resource(s) found
			boolean permitted = resource instanceof Bundle nested
					? nested.getEntry().stream().allMatch(e -> e.getResource() == null || allowed(access, e.getResource()))
					: allowed(access, resource);
			if (!permitted) {
				OperationOutcome refused = new OperationOutcome();
				refused.addIssue()
						.setSeverity(OperationOutcome.IssueSeverity.ERROR)
						.setCode(OperationOutcome.IssueType.FORBIDDEN)
						.setDiagnostics(ErrorCode.SCOPE_DOES_NOT_ALLOW.message("No granted SMART scope allows this entry"));
				entry.setResource(refused);
				entry.getResponse().setStatus("403 Forbidden").setEtag(null).setLocation(null).setLastModified(null);
			}
		}
	}

	private boolean matchesQuery(SmartScope scope, Resource resource) {
		String query = scope.query().entrySet().stream()
				.map(e -> e.getKey() + "=" + e.getValue())
				.collect(java.util.stream.Collectors.joining("&"));
		IAuthorizationSearchParamMatcher.MatchResult result = matcher.match(resource.fhirType() + "?" + query, resource);
		return result.match == IAuthorizationSearchParamMatcher.Match.MATCH;
	}

	private boolean hidden(RequestDetails request, Resource resource) {
		return consent.canSeeResource(request, resource, null).getStatus() == ConsentOperationStatusEnum.REJECT;
	}

	boolean allowed(SmartAccess access, Resource resource) {
		String type = resource.fhirType();
		if (SmartAuthorizationInterceptor.DEFINITIONAL_TYPES.contains(type)) {
			return true;
		}
		FhirTerser terser = fhirContext.newTerser();
		for (SmartScope scope : access.scopes()) {
			if (!scope.appliesTo(type) || !(scope.allows(SmartScope.Permission.READ) || scope.allows(SmartScope.Permission.SEARCH))) {
				continue;
			}
			if (!scope.query().isEmpty() && !matchesQuery(scope, resource)) {
				continue; // a granular scope (e.g. ?category=survey) grants only the resources its query matches
			}
			if (scope.context() != SmartScope.Context.PATIENT) {
				return true;
			}
			if (access.patientId().isEmpty()) {
				continue;
			}
			IdType patient = new IdType("Patient", access.patientId().get());
			if ("Patient".equals(type)) {
				if (resource.getIdElement().getIdPart().equals(patient.getIdPart())) {
					return true;
				}
			} else if (terser.isSourceInCompartmentForTarget("Patient", resource, patient)) {
				return true;
			}
		}
		return false;
	}
}
