package org.nssifhir.server.bulk;

import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import ca.uhn.fhir.rest.server.provider.ProviderConstants;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Patient;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.SmartScope;

/**
 * The HAPI authorization rules that let a system-level token reach the bulk export endpoints. They open the door
 * only; {@link BulkExportGuard} checks the token kind and the requested types, {@link BulkExportFileGuard} the
 * file owner.
 */
public final class BulkExportRules {

	private BulkExportRules() {}

	public static void allow(RuleBuilder rules) {
		String export = ProviderConstants.OPERATION_EXPORT;
		rules.allow().operation().named(export).onServer().andAllowAllResponses();
		rules.allow().operation().named(export).onType(Patient.class).andAllowAllResponses();
		rules.allow().operation().named(export).onInstancesOfType(Patient.class).andAllowAllResponses();
		rules.allow().operation().named(export).onInstancesOfType(Group.class).andAllowAllResponses();
		rules.allow().operation().named(ProviderConstants.OPERATION_EXPORT_POLL_STATUS).onServer().andAllowAllResponses();
		rules.allow().bulkExport().any();
		rules.allow().read().resourcesOfType("Binary").withAnyId();
	}

	/** Reading one Binary with a system token: maybe an export file, which the file guard checks. */
	public static boolean isFileDownload(RestOperationTypeEnum op, String type, SmartAccess access) {
		return op == RestOperationTypeEnum.READ
				&& "Binary".equals(type)
				&& access.scopes().stream().anyMatch(s -> s.context() == SmartScope.Context.SYSTEM && s.allows(SmartScope.Permission.READ));
	}
}
