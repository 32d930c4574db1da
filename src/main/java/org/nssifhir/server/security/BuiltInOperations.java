package org.nssifhir.server.security;

import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.List;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;

/**
 * HAPI's own operations that this server offers, in one place: {@code $everything}, {@code $validate},
 * {@code $meta}, {@code $meta-add}, {@code $meta-delete} and the terminology operations, with the rules that open
 * them. ({@code $export} belongs to the bulk feature, which configures and guards it.) The rules are added by
 * {@link SmartAuthorizationInterceptor} at fixed points of its rule list; feature operations come from the
 * other {@link FeatureOperations} beans.
 */
public final class BuiltInOperations implements FeatureOperations {

	static final List<String> TERMINOLOGY = List.of("$expand", "$validate-code", "$lookup", "$subsumes", "$translate");

	@Override
	public List<OperationAccess> operations() {
		return List.of(
				// one _count, _since, start, end: HAPI would use the first and ignore the rest
				new OperationAccess("$everything", Protection.ANSWER_CHECKED, Input.SINGLE_VALUED),
				new OperationAccess("$validate", Protection.ANSWER_CHECKED),
				new OperationAccess("$expand", Protection.DEFINITIONAL),
				new OperationAccess("$validate-code", Protection.DEFINITIONAL),
				new OperationAccess("$lookup", Protection.DEFINITIONAL),
				new OperationAccess("$subsumes", Protection.DEFINITIONAL),
				new OperationAccess("$translate", Protection.DEFINITIONAL),
				new OperationAccess("$meta", Protection.LABELS),
				new OperationAccess("$meta-add", Protection.LABELS),
				new OperationAccess("$meta-delete", Protection.LABELS));
	}

	/** Terminology operations: definitional content only, so any valid token. */
	static void terminology(RuleBuilder rules) {
		for (String op : TERMINOLOGY) {
			rules.allow().operation().named(op).onAnyType().andAllowAllResponses();
			rules.allow().operation().named(op).onAnyInstance().andAllowAllResponses();
		}
	}

	/** {@code Patient/[id]/$everything} for a scope that reads Patients; each resource in the answer is still checked. */
	static void everything(SmartScope scope, RuleBuilder rules, IdType compartment) {
		if (!scope.appliesTo("Patient")) {
			return;
		}
		if (compartment != null) {
			// each resource in the answer is still checked against the compartment rules
			rules.allow().operation().named("$everything").onInstance(compartment).andRequireExplicitResponseAuthorization();
		} else {
			rules.allow().operation().named("$everything").onInstancesOfType(Patient.class).andRequireExplicitResponseAuthorization();
		}
	}

	/** {@code $validate} for a scope that creates or updates, and {@code $meta} for every scope. */
	static void validateAndMeta(SmartScope scope, RuleBuilder rules) {
		if (scope.allows(SmartScope.Permission.CREATE) || scope.allows(SmartScope.Permission.UPDATE)) {
			rules.allow().operation().named("$validate").onAnyType().andAllowAllResponses();
		}
		rules.allow().operation().named("$meta").onAnyInstance().andAllowAllResponses();
	}
}
