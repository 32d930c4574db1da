package org.nssifhir.server.relabel;

import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.List;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.ScopeGrant;
import org.nssifhir.server.security.SmartScope;

/**
 * {@code $nssi-relabel} and {@code $nssi-relabel-status}, on the server: only a system scope that updates every type
 * ({@code system/*.u}, {@code system/*.cruds}) opens them, since the job rewrites the labels of any record. The
 * provider also refuses any caller that is not a backend client ({@link RelabelOperationProvider}).
 */
final class RelabelOperations implements FeatureOperations {

	@Override
	public List<OperationAccess> operations() {
		return List.of(
				new OperationAccess(RelabelService.OPERATION, Protection.FEATURE_GUARD, Input.ANY),
				new OperationAccess(RelabelService.STATUS_OPERATION, Protection.FEATURE_GUARD, Input.SINGLE_VALUED));
	}

	@Override
	public void addRules(ScopeGrant grant, RuleBuilder rules) {
		if (grant.system() && "*".equals(grant.scope().resourceType()) && grant.scope().allows(SmartScope.Permission.UPDATE)
				&& grant.scope().query().isEmpty()) {
			rules.allow().operation().named(RelabelService.OPERATION).onServer().andAllowAllResponses();
			rules.allow().operation().named(RelabelService.STATUS_OPERATION).onServer().andAllowAllResponses();
		}
	}
}
