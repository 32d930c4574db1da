package org.nssifhir.server.treatment;

import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.List;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.ScopeGrant;

/**
 * The treatment operations and the scopes that open them (both need {@code CarePlan} read).
 * {@code CarePlan/[id]/$nssi-progress} reads the plan through the caller's request (so a patient sees only their
 * own plans). {@code PlanDefinition/[id]/$apply} is for clinicians and systems, not patient-context tokens: it
 * proposes a plan, and with {@code persist=true} each resource it stores is checked against the create rules, like
 * any transaction entry.
 */
final class TreatmentOperations implements FeatureOperations {

	@Override
	public List<OperationAccess> operations() {
		return List.of(
				new OperationAccess("$nssi-progress", Protection.COMPUTED_BY_PROVIDER),
				new OperationAccess("$apply", Protection.WRITES_CHECKED));
	}

	@Override
	public void addRules(ScopeGrant grant, RuleBuilder rules) {
		if (!grant.reads("CarePlan")) {
			return;
		}
		// each operation answers with figures from other resource types: the token must be able to read those too
		if (grant.tokenReadsAll("Observation", "Goal")) {
			rules.allow().operation().named("$nssi-progress").onInstancesOfType(CarePlan.class).andAllowAllResponses();
		}
		if (grant.compartment() == null && grant.tokenReadsAll("Patient", "Flag")) {
			rules.allow().operation().named("$apply").onInstancesOfType(PlanDefinition.class).andAllowAllResponses();
		}
	}
}
