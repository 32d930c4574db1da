package org.nssifhir.server.assessment;

import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.List;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Questionnaire;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.ScopeGrant;

/**
 * The assessment operations and the scopes that open them.
 * <ul>
 * <li>{@code Patient/[id]/$nssi-summary} and {@code Questionnaire/$populate} read a patient's NSSI data
 * (Observations), so they need {@code Observation} read. A patient token gets {@code $nssi-summary} on its own
 * Patient only (checked by HAPI here); {@code $populate}'s {@code subject} parameter is checked against a patient
 * token by the provider, as HAPI rules cannot see parameters. Both answer with computed Parameters, never with
 * stored resources.
 * <li>{@code QuestionnaireResponse/$extract} needs {@code Observation} create: each Observation it stores is checked
 * against the create rules (and compartment) like any create.
 * </ul>
 */
final class AssessmentOperations implements FeatureOperations {

	@Override
	public List<OperationAccess> operations() {
		return List.of(
				new OperationAccess("$nssi-summary", Protection.COMPUTED_BY_PROVIDER, Input.PARAMETERS_SINGLE_VALUED),
				new OperationAccess("$populate", Protection.COMPUTED_BY_PROVIDER, Input.PARAMETERS_SINGLE_VALUED),
				new OperationAccess("$extract", Protection.WRITES_CHECKED, Input.SINGLE_VALUED));
	}

	@Override
	public void addRules(ScopeGrant grant, RuleBuilder rules) {
		if (grant.reads("Observation")) {
			if (grant.compartment() != null) {
				rules.allow().operation().named("$nssi-summary").onInstance(grant.compartment()).andAllowAllResponses();
			} else {
				rules.allow().operation().named("$nssi-summary").onInstancesOfType(Patient.class).andAllowAllResponses();
			}
			rules.allow().operation().named("$populate").onInstancesOfType(Questionnaire.class).andAllowAllResponses();
			rules.allow().operation().named("$populate").onType(Questionnaire.class).andAllowAllResponses();
		}
		if (grant.creates("Observation")) {
			rules.allow().operation().named("$extract").onInstancesOfType(QuestionnaireResponse.class).andAllowAllResponses();
			rules.allow().operation().named("$extract").onType(QuestionnaireResponse.class).andAllowAllResponses();
		}
	}
}
