package org.nssifhir.server.security.enrolment;

import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.List;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.ScopeGrant;
import org.nssifhir.server.security.SmartScope;

/**
 * {@code $nssi-invite}, {@code $nssi-revoke-invitation} and {@code $nssi-disable-account} on a Patient or RelatedPerson. A scope that may update
 * the resource type ({@code Patient.u}, {@code RelatedPerson.u}) lets a request reach them (a patient scope only
 * for its own patient); who may actually invite is the access policy's {@code enrolmentRefusal}, asked by the
 * provider (a treating clinician, the EHR's backend client, an administrator).
 */
final class EnrolmentOperations implements FeatureOperations {

	static final String INVITE = "$nssi-invite";
	static final String REVOKE = "$nssi-revoke-invitation";
	static final String DISABLE = "$nssi-disable-account";

	@Override
	public List<OperationAccess> operations() {
		return List.of(new OperationAccess(INVITE, Protection.FEATURE_GUARD), new OperationAccess(REVOKE, Protection.FEATURE_GUARD),
				new OperationAccess(DISABLE, Protection.FEATURE_GUARD));
	}

	@Override
	public void addRules(ScopeGrant grant, RuleBuilder rules) {
		if (!grant.scope().allows(SmartScope.Permission.UPDATE)) {
			return;
		}
		for (String name : List.of(INVITE, REVOKE, DISABLE)) {
			if (grant.scope().appliesTo("Patient")) {
				if (grant.compartment() != null) {
					rules.allow().operation().named(name).onInstance(grant.compartment()).andAllowAllResponses();
				} else {
					rules.allow().operation().named(name).onInstancesOfType(Patient.class).andAllowAllResponses();
				}
			}
			if (grant.scope().appliesTo("RelatedPerson")) {
				// a patient scope's RelatedPerson: the provider checks it belongs to the patient in context
				rules.allow().operation().named(name).onInstancesOfType(RelatedPerson.class).andAllowAllResponses();
			}
		}
	}
}
