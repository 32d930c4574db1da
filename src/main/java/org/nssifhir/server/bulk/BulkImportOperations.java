package org.nssifhir.server.bulk;

import ca.uhn.fhir.jpa.model.util.JpaConstants;
import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.List;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.ScopeGrant;
import org.nssifhir.server.security.SmartScope;

/**
 * Bulk Data {@code $import} and {@code $import-poll-status} (HAPI's batch job, configured and guarded by this
 * package): a system scope that creates opens them; which types, which sources and which token kind are checked by
 * {@link BulkImportGuard}.
 */
final class BulkImportOperations implements FeatureOperations {

	@Override
	public List<OperationAccess> operations() {
		return List.of(
				new OperationAccess(JpaConstants.OPERATION_IMPORT, Protection.FEATURE_GUARD),
				new OperationAccess(JpaConstants.OPERATION_IMPORT_POLL_STATUS, Protection.FEATURE_GUARD));
	}

	@Override
	public void addRules(ScopeGrant grant, RuleBuilder rules) {
		if (grant.system() && grant.scope().allows(SmartScope.Permission.CREATE)) {
			rules.allow().operation().named(JpaConstants.OPERATION_IMPORT).onServer().andAllowAllResponses();
			rules.allow().operation().named(JpaConstants.OPERATION_IMPORT_POLL_STATUS).onServer().andAllowAllResponses();
		}
	}
}
