package org.nssifhir.server.bulk;

import ca.uhn.fhir.batch2.api.IJobCoordinator;
import ca.uhn.fhir.batch2.model.JobInstance;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.model.util.JpaConstants;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.bulk.BulkExportJobParameters;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.provider.ProviderConstants;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.SmartScope;
import org.nssifhir.server.support.ErrorCode;

/**
 * Bulk Data Access rules that HAPI's scope rules cannot express:
 * <ul>
 *   <li>only SMART Backend Services tokens (system scopes, no patient or user in context) may start an export;</li>
 *   <li>every requested {@code _type} must be readable under the token's system scopes; without {@code _type} the
 *       export is narrowed to the types the token may read;</li>
 *   <li>the output files are stamped with the requesting client ({@code Binary.securityContext}), so that only
 *       that client can download them ({@link BulkExportFileGuard});</li>
 *   <li>the status endpoint (poll, cancel) answers only the client that started the job; others get a 404, as
 *       if the job did not exist.</li>
 * </ul>
 * Consent and sensitivity labels are not applied to exports: a backend service is a trusted system integration,
 * and the consent check is already skipped for backend tokens (see {@code SensitiveDataConsentInterceptor}).
 */
@Interceptor
public class BulkExportGuard {

	/** {@code Binary.securityContext.identifier.system} of export files: the OAuth client that asked for them. */
	public static final String CLIENT_SYSTEM = "urn:nssi-fhir:oauth-client";

	private final IJobCoordinator jobs;

	public BulkExportGuard(IJobCoordinator jobs) {
		this.jobs = jobs;
	}

	@Hook(Pointcut.STORAGE_PRE_INITIATE_BULK_EXPORT)
	public void beforeKickOff(BulkExportJobParameters parameters, RequestDetails request) {
		SmartAccess access = backendAccess();
		boolean typesRequested = request.getParameters().containsKey(JpaConstants.PARAM_EXPORT_TYPE);
		List<String> allowed = new ArrayList<>();
		Set<String> refused = new TreeSet<>();
		for (String type : parameters.getResourceTypes()) {
			Optional<SmartScope> scope = readScope(access, type);
			if (scope.isPresent() && !scope.get().query().isEmpty()) {
				// a scope limited by a query (category=...) cannot be applied to a bulk export file by file
				throw new ForbiddenOperationException(ErrorCode.SCOPE_NOT_ENFORCEABLE.message(
						"A query-restricted scope cannot be used for bulk export of " + type));
			}
			if (scope.isPresent()) {
				allowed.add(type);
			} else {
				refused.add(type);
			}
		}
		if (typesRequested && !refused.isEmpty()) {
			throw new ForbiddenOperationException(ErrorCode.BULK_EXPORT_NOT_ALLOWED.message(
					"The token's scopes do not allow exporting " + String.join(", ", refused)));
		}
		if (allowed.isEmpty()) {
			throw new ForbiddenOperationException(ErrorCode.BULK_EXPORT_NOT_ALLOWED.message(
					"The token's scopes allow exporting none of the requested resource types"));
		}
		// without _type the server chooses what to export (Bulk Data IG): what this client may read
		parameters.setResourceTypes(allowed);
		parameters.setBinarySecurityContextIdentifierSystem(CLIENT_SYSTEM);
		parameters.setBinarySecurityContextIdentifierValue(access.clientId());
	}

	/** Poll and cancel: only the client that started the job may see or stop it. */
	@Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
	public void beforeStatusRequest(RequestDetails request) {
		if (!ProviderConstants.OPERATION_EXPORT_POLL_STATUS.equals(request.getOperation())) {
			return;
		}
		SmartAccess access = backendAccess();
		String[] ids = request.getParameters().get(JpaConstants.PARAM_EXPORT_POLL_STATUS_JOB_ID);
		if (ids == null || ids.length != 1 || ids[0].isBlank()) {
			throw notFound();
		}
		JobInstance job;
		try {
			job = jobs.getInstance(ids[0]);
		} catch (ResourceNotFoundException e) {
			throw notFound();
		}
		BulkExportJobParameters parameters = job.getParameters(BulkExportJobParameters.class);
		if (!CLIENT_SYSTEM.equals(parameters.getBinarySecurityContextIdentifierSystem())
				|| !access.clientId().equals(parameters.getBinarySecurityContextIdentifierValue())) {
			throw notFound();
		}
	}

	private static ResourceNotFoundException notFound() {
		return new ResourceNotFoundException(ErrorCode.BULK_EXPORT_NOT_FOUND.message("No such export for this client"));
	}

	/** A SMART Backend Services token: system scopes only, no patient or user in context. */
	static SmartAccess backendAccess() {
		SmartAccess access = SmartAccess.current().orElseThrow(() -> new ForbiddenOperationException(
				ErrorCode.BULK_EXPORT_NOT_ALLOWED.message("Bulk export needs a SMART Backend Services token")));
		boolean systemOnly = !access.scopes().isEmpty()
				&& access.scopes().stream().allMatch(s -> s.context() == SmartScope.Context.SYSTEM)
				&& access.patientId().isEmpty()
				&& access.fhirUser().isEmpty();
		if (!systemOnly) {
			throw new ForbiddenOperationException(ErrorCode.BULK_EXPORT_NOT_ALLOWED.message(
					"Bulk export needs a SMART Backend Services token (system scopes); patient and user tokens are refused"));
		}
		return access;
	}

	/** The token's system scope that lets it read this type: r, as in system/Observation.rs or system/*.read. */
	static Optional<SmartScope> readScope(SmartAccess access, String type) {
		return access.scopes().stream()
				.filter(s -> s.context() == SmartScope.Context.SYSTEM && s.appliesTo(type) && s.allows(SmartScope.Permission.READ))
				// an unrestricted scope wins over a query-restricted one for the same type
				.sorted((a, b) -> Boolean.compare(!a.query().isEmpty(), !b.query().isEmpty()))
				.findFirst();
	}
}
