package org.nssifhir.server.bulk;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.interceptor.binary.BinarySecurityContextInterceptor;
import org.hl7.fhir.instance.model.api.IBaseBinary;
import org.hl7.fhir.r4.model.Binary;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.SmartScope;
import org.nssifhir.server.support.ErrorCode;

/**
 * Export files (Binary resources stamped by {@link BulkExportGuard}) are served only to the OAuth client that
 * started the export. Any system token may attempt to read a Binary (the scope rules let it, so that a client
 * with {@code system/Observation.rs} can fetch its Observation file); this guard then refuses every Binary that
 * is not that client's export file, unless the token has a scope for Binary itself.
 */
@Interceptor
public class BulkExportFileGuard extends BinarySecurityContextInterceptor {

	public BulkExportFileGuard(FhirContext fhirContext) {
		super(fhirContext);
	}

	@Override
	protected void applyAccessControl(IBaseBinary binary, RequestDetails request) {
		if (request instanceof SystemRequestDetails) {
			return;
		}
		boolean binaryScope = SmartAccess.current()
				.map(access -> access.scopes().stream().anyMatch(s -> s.appliesTo("Binary") && s.allows(SmartScope.Permission.READ)))
				.orElse(false);
		boolean exportFile = !((Binary) binary).getSecurityContext().getIdentifier().isEmpty();
		if (exportFile) {
			super.applyAccessControl(binary, request); // the owner check below
		} else if (!binaryScope) {
			handleForbidden(binary);
		}
	}

	@Override
	protected boolean securityContextIdentifierAllowed(String system, String value, RequestDetails request) {
		return BulkExportGuard.CLIENT_SYSTEM.equals(system)
				&& SmartAccess.current().map(access -> access.clientId().equals(value)).orElse(false);
	}

	@Override
	protected void handleForbidden(IBaseBinary binary) {
		throw new ForbiddenOperationException(ErrorCode.BULK_EXPORT_NOT_ALLOWED.message(
				"This file belongs to another client's export"));
	}
}
