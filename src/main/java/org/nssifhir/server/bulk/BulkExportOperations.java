package org.nssifhir.server.bulk;

import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import ca.uhn.fhir.rest.server.provider.ProviderConstants;
import java.util.List;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.ScopeGrant;
import org.nssifhir.server.security.SmartAccess;

/**
 * Bulk Data {@code $export} and {@code $export-poll-status} (HAPI's operations, configured and guarded by this
 * package): a system scope that reads or searches opens them ({@link BulkExportRules}); which types, and whose
 * files, are checked by {@link BulkExportGuard} and {@link BulkExportFileGuard}.
 */
final class BulkExportOperations implements FeatureOperations {

	@Override
	public List<OperationAccess> operations() {
		return List.of(
				new OperationAccess(ProviderConstants.OPERATION_EXPORT, Protection.FEATURE_GUARD),
				new OperationAccess(ProviderConstants.OPERATION_EXPORT_POLL_STATUS, Protection.FEATURE_GUARD));
	}

	@Override
	public void addRules(ScopeGrant grant, RuleBuilder rules) {
		if (grant.system() && grant.readsOrSearches()) {
			BulkExportRules.allow(rules);
		}
	}

	@Override
	public boolean decidesInteraction(RestOperationTypeEnum op, String resourceType, SmartAccess access) {
		return BulkExportRules.isFileDownload(op, resourceType, access);
	}
}
