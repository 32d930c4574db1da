package org.nssifhir.server.security;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.auth.CompartmentSearchParameterModifications;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.interceptor.auth.AuthorizationInterceptor;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthRule;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthRuleBuilderRuleOp;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthRuleBuilderRuleOpClassifier;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthorizationSearchParamMatcher;
import ca.uhn.fhir.rest.server.interceptor.auth.PolicyEnum;
import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.hl7.fhir.r4.model.IdType;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.ErrorCode;

/**
 * Turns the SMART scopes of the request's token into HAPI authorization rules, failing closed: without a token
 * there are no rules and the request is refused; a scope grants only what its letters say, and a patient scope
 * only inside that patient's compartment. HAPI applies the rules to every resource a request reads or returns
 * (search results, includes, history, operation output, each entry of a batch or transaction), so a token for
 * patient A cannot see patient B by any path.
 *
 * <p>Definitional content (profiles, terminology, Questionnaires, plan definitions) holds no patient data and is
 * readable with any valid token; writing it needs a scope for that type.
 */
public class SmartAuthorizationInterceptor extends AuthorizationInterceptor {

	/** Types that describe how to record care, not anyone's care. */
	static final List<String> DEFINITIONAL_TYPES = List.of(
			"StructureDefinition",
			"ValueSet",
			"CodeSystem",
			"ConceptMap",
			"SearchParameter",
			"Questionnaire",
			"PlanDefinition",
			"ActivityDefinition",
			"Library",
			"ImplementationGuide",
			"OperationDefinition",
			"CapabilityStatement",
			"NamingSystem");

	/** Scope query parameters HAPI can check in memory on every returned resource. Others are refused. */
	public static final Set<String> ENFORCEABLE_QUERY_PARAMETERS = Set.of("category", "code", "status");

	private final NssiProperties.Security settings;
	private final List<FeatureOperations> features;

	public SmartAuthorizationInterceptor(
			NssiProperties.Security settings, IAuthorizationSearchParamMatcher matcher, List<FeatureOperations> features) {
		super(PolicyEnum.DENY);
		this.settings = settings;
		this.features = List.copyOf(features);
		setAuthorizationSearchParamMatcher(matcher);
	}

	@Override
	public List<IAuthRule> buildRuleList(RequestDetails request) {
		if (request.getRestOperationType() == RestOperationTypeEnum.METADATA) {
			return new RuleBuilder().allow().metadata().build();
		}
		SmartAccess access = SmartAccess.current()
				.orElseThrow(() -> new AuthenticationException(ErrorCode.UNAUTHENTICATED.message("A bearer token is required")));
		checkAudience(access, request);
		checkScopeQueries(access);

		// one RuleBuilder per rule: HAPI's builder reuses a rule's op between create() and write(), so chaining
		// them on one builder silently turns a write rule into a second create rule
		List<IAuthRule> out = new ArrayList<>();
		RuleBuilder rules = new RuleBuilder();
		rules.allow().metadata();
		for (String type : DEFINITIONAL_TYPES) {
			rules.allow().read().resourcesOfType(type).withAnyId();
		}
		BuiltInOperations.terminology(rules);
		boolean writes = false;
		for (SmartScope scope : access.scopes()) {
			IdType compartment = null;
			if (scope.context() == SmartScope.Context.PATIENT) {
				if (access.patientId().isEmpty()) {
					continue; // a patient scope without a patient in context grants nothing
				}
				compartment = new IdType("Patient", access.patientId().get());
			}
			if (scope.allows(SmartScope.Permission.READ) || scope.allows(SmartScope.Permission.SEARCH)) {
				restrict(scope, on(scope, rules.allow().read()), compartment);
				BuiltInOperations.everything(scope, rules, compartment);
			}
			// the features' own operations (each feature checks the letters its operations need; an operation
			// rule matches only its own operation name, so the order among features does not matter)
			ScopeGrant grant = new ScopeGrant(access, scope, compartment);
			for (FeatureOperations feature : features) {
				feature.addRules(grant, rules);
			}
			if (scope.allows(SmartScope.Permission.CREATE)) {
				RuleBuilder create = new RuleBuilder();
				restrict(scope, on(scope, create.allow().create()), compartment);
				out.addAll(create.build());
				writes = true;
			}
			if (scope.allows(SmartScope.Permission.UPDATE)) {
				RuleBuilder update = new RuleBuilder();
				restrict(scope, on(scope, update.allow().write()), compartment);
				update.allow().patch().allRequests();
				out.addAll(update.build());
				writes = true;
			}
			if (scope.allows(SmartScope.Permission.DELETE)) {
				RuleBuilder delete = new RuleBuilder();
				restrict(scope, on(scope, delete.allow().delete()), compartment);
				out.addAll(delete.build());
				writes = true;
			}
			BuiltInOperations.validateAndMeta(scope, rules);
		}
		// batch and transaction have no scope of their own: each entry is checked against the rules above
		rules.allow().transaction().withAnyOperation().andApplyNormalRules();
		checkLetter(access, request, writes);
		// (AuditEvents are protected from client writes by AuditTrailProtectionInterceptor, not by rules here:
		// HAPI evaluates a conditional delete against delete rules before it knows the resource type)
		List<IAuthRule> all = new ArrayList<>(rules.build());
		all.addAll(out);
		all.addAll(new RuleBuilder().denyAll(ErrorCode.SCOPE_DOES_NOT_ALLOW.message("No granted SMART scope allows this request")).build());
		return all;
	}

	/**
	 * R4 leaves Task out of the Patient compartment, but the access policy counts a Task's {@code for} as its patient
	 * ({@code AccessPolicy.primaryPatients}): an escalation Task, a person's request for support from their app. The
	 * patient-scope rules say the same, so a patient's own Task is theirs (and only their own: the policy still
	 * decides every read and write).
	 */
	private static final CompartmentSearchParameterModifications TASK_FOR_PATIENT = taskForPatient();

	/**
	 * HAPI fills the modification's maps lazily (computeIfAbsent per resource type) while rules are applied; one
	 * instance is shared by every request and by a batch's entries checked in parallel on HAPI's worker threads, and
	 * that write threw ConcurrentModificationException (a 500 batch entry in CI). Every type is entered once here, so
	 * applying a rule only reads the maps.
	 */
	private static CompartmentSearchParameterModifications taskForPatient() {
		CompartmentSearchParameterModifications modifications =
				CompartmentSearchParameterModifications.fromAdditionalCompartmentParamNames("Task", Set.of("patient", "subject"));
		for (String type : FhirContext.forR4Cached().getResourceTypes()) {
			modifications.getAdditionalSearchParamNamesForResourceType(type);
			modifications.getOmittedSPNamesForResourceType(type);
		}
		return modifications;
	}

	private static IAuthRuleBuilderRuleOpClassifier on(SmartScope scope, IAuthRuleBuilderRuleOp op) {
		return "*".equals(scope.resourceType()) ? op.allResources() : op.resourcesOfType(scope.resourceType());
	}

	private static void restrict(SmartScope scope, IAuthRuleBuilderRuleOpClassifier target, IdType compartment) {
		String filter = scope.query().entrySet().stream()
				.map(e -> e.getKey() + "=" + e.getValue())
				.collect(Collectors.joining("&"));
		if (compartment != null && filter.isEmpty()) {
			target.inModifiedCompartment("Patient", List.of(compartment), TASK_FOR_PATIENT);
		} else if (compartment != null) {
			target.inCompartmentWithFilter("Patient", compartment, filter);
		} else if (!filter.isEmpty()) {
			target.withFilter(filter);
		} else {
			target.withAnyId();
		}
	}

	/**
	 * HAPI's read rules cover read and search alike; SMART v2 separates them ({@code r} vs {@code s}). So the
	 * letter the operation needs is checked here, before the rules run.
	 */
	private void checkLetter(SmartAccess access, RequestDetails request, boolean anyWrite) {
		RestOperationTypeEnum op = request.getRestOperationType();
		String type = request.getResourceName();
		if (op == null || type == null || DEFINITIONAL_TYPES.contains(type)) {
			return;
		}
		if (features.stream().anyMatch(feature -> feature.decidesInteraction(op, type, access))) {
			return; // e.g. export files: bulk/BulkExportFileGuard decides
		}
		SmartScope.Permission needed = switch (op) {
			case SEARCH_TYPE -> SmartScope.Permission.SEARCH;
			case READ, VREAD, HISTORY_INSTANCE -> SmartScope.Permission.READ;
			case HISTORY_TYPE -> SmartScope.Permission.SEARCH;
			case CREATE -> SmartScope.Permission.CREATE;
			case UPDATE, PATCH -> SmartScope.Permission.UPDATE;
			case DELETE -> SmartScope.Permission.DELETE;
			default -> null;
		};
		if (needed == null) {
			return;
		}
		boolean granted = access.scopes().stream()
				.filter(s -> s.context() != SmartScope.Context.PATIENT || access.patientId().isPresent())
				.anyMatch(s -> s.appliesTo(type) && s.allows(needed));
		// an update may create (upsert): FHIR treats it as update, so 'u' is what counts
		if (!granted) {
			throw new ForbiddenOperationException(ErrorCode.SCOPE_DOES_NOT_ALLOW.message(
					"The token's scopes do not allow '" + needed.name().toLowerCase() + "' on " + type));
		}
	}

	private void checkAudience(SmartAccess access, RequestDetails request) {
		List<String> expected = settings.audiences().isEmpty() ? List.of(stripSlash(request.getFhirServerBase())) : settings.audiences();
		boolean ok = access.audiences().stream().map(SmartAuthorizationInterceptor::stripSlash).anyMatch(expected::contains);
		if (!ok) {
			throw new AuthenticationException(ErrorCode.UNAUTHENTICATED.message("The token's audience is not this FHIR server"));
		}
	}

	private static void checkScopeQueries(SmartAccess access) {
		if (!access.unparsedResourceScopes().isEmpty()) {
			throw new ForbiddenOperationException(ErrorCode.SCOPE_NOT_ENFORCEABLE.message(
					"Scope(s) not understood, so not enforceable: " + access.unparsedResourceScopes()));
		}
		for (SmartScope scope : access.scopes()) {
			for (Map.Entry<String, String> q : scope.query().entrySet()) {
				String name = q.getKey();
				if (!ENFORCEABLE_QUERY_PARAMETERS.contains(name)) {
					throw new ForbiddenOperationException(ErrorCode.SCOPE_NOT_ENFORCEABLE.message(
							"The scope query parameter '" + name + "' cannot be enforced by this server"));
				}
			}
		}
	}

	/** Audiences compare without a trailing slash ({@code https://x/fhir/} is {@code https://x/fhir}). */
	public static String stripSlash(String url) {
		return url != null && url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
	}
}
