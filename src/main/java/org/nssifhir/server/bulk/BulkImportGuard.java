package org.nssifhir.server.bulk;

import ca.uhn.fhir.batch2.api.IJobCoordinator;
import ca.uhn.fhir.batch2.jobs.imprt.BulkImportAppCtx;
import ca.uhn.fhir.batch2.model.JobInstance;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.model.util.JpaConstants;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Parameters;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.SmartScope;
import org.nssifhir.server.support.ErrorCode;

/**
 * What HAPI's {@code $import} does not check, before the job is started:
 * <ul>
 *   <li>every source URL starts with an entry of {@code nssi.integration.import-sources} (empty by default: no
 *       import), is http or https and carries no user-info: the server fetches these URLs itself, so an open list
 *       would let a client make it read internal addresses (SSRF);</li>
 *   <li>with security on, only SMART Backend Services tokens (system scopes, no patient or user) may import, and
 *       only types their scopes let them create and update (an NDJSON line with an id is stored as an update);</li>
 *   <li>the status and report answer only the client that started the import ({@link BulkImportJobOwner} records
 *       it in the job); others get a 404, as if the job did not exist.</li>
 * </ul>
 * The imported resources then go through the storage hooks every write goes through (labels, profile validation,
 * escalation): the job writes with a server request, so the access policy's per-caller checks were made here, on
 * the kick-off, as for a trusted system integration.
 */
@Interceptor
public class BulkImportGuard {

	private final FhirContext fhirContext;
	private final IJobCoordinator jobs;
	private final List<String> allowedSources;
	private final boolean security;

	public BulkImportGuard(FhirContext fhirContext, IJobCoordinator jobs, List<String> allowedSources, boolean security) {
		this.fhirContext = fhirContext;
		this.jobs = jobs;
		this.allowedSources = List.copyOf(allowedSources);
		this.security = security;
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
	public void beforeHandling(RequestDetails request) {
		String operation = request.getOperation();
		if (JpaConstants.OPERATION_IMPORT_POLL_STATUS.equals(operation)) {
			if (security) {
				requireOwnJob(request, backendAccess());
			}
			return;
		}
		if (!JpaConstants.OPERATION_IMPORT.equals(operation)) {
			return;
		}
		IBaseResource body = request.getResource();
		if (body == null && request.loadRequestContents() != null && request.loadRequestContents().length > 0) {
			try {
				body = fhirContext.newJsonParser().parseResource(new String(request.loadRequestContents(), StandardCharsets.UTF_8));
			} catch (DataFormatException e) {
				body = null;
			}
		}
		if (!(body instanceof Parameters parameters)) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message("$import takes a Parameters resource"));
		}
		SmartAccess access = security ? backendAccess() : null;
		Set<String> refused = new TreeSet<>();
		for (Parameters.ParametersParameterComponent input : parameters.getParameter()) {
			if (!"input".equals(input.getName())) {
				continue;
			}
			String type = part(input, "type");
			String url = part(input, "url");
			if (type == null || !fhirContext.getResourceTypes().contains(type)) {
				throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message("Each $import input needs a known resource type"));
			}
			checkSource(url);
			if (access != null && !mayWrite(access, type)) {
				refused.add(type);
			}
		}
		if (!refused.isEmpty()) {
			throw new ForbiddenOperationException(ErrorCode.BULK_IMPORT_NOT_ALLOWED.message(
					"The token's scopes do not allow creating and updating " + String.join(", ", refused)));
		}
	}

	/** The status and report of an import answer only the client that started it; others get "no such import". */
	private void requireOwnJob(RequestDetails request, SmartAccess access) {
		String[] ids = request.getParameters().get(JpaConstants.PARAM_IMPORT_POLL_STATUS_JOB_ID);
		JobInstance job = null;
		if (ids != null && ids.length == 1 && !ids[0].isBlank()) {
			try {
				job = jobs.getInstance(ids[0]);
			} catch (ResourceNotFoundException e) {
				job = null;
			}
		}
		if (job == null
				|| !BulkImportAppCtx.JOB_BULK_IMPORT_PULL.equals(job.getJobDefinitionId())
				|| !access.clientId().equals(job.getTriggeringClientId())) {
			throw new ResourceNotFoundException(ErrorCode.BULK_IMPORT_NOT_FOUND.message("No such import for this client"));
		}
	}

	private void checkSource(String url) {
		URI uri;
		try {
			uri = url == null ? null : new URI(url);
		} catch (URISyntaxException e) {
			uri = null;
		}
		boolean allowed = uri != null
				&& ("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))
				&& uri.getRawUserInfo() == null
				&& allowedSources.stream().anyMatch(url::startsWith);
		if (!allowed) {
			throw new ForbiddenOperationException(ErrorCode.BULK_IMPORT_NOT_ALLOWED.message(
					"An $import source is not on this server's list of import sources (nssi.integration.import-sources)"));
		}
	}

	private static String part(Parameters.ParametersParameterComponent input, String name) {
		return input.getPart().stream()
				.filter(p -> name.equals(p.getName()) && p.getValue() != null)
				.map(p -> p.getValue().primitiveValue())
				.findFirst()
				.orElse(null);
	}

	/** A system scope that creates and one that updates this type (they may be one scope, e.g. system/*.cu). */
	private static boolean mayWrite(SmartAccess access, String type) {
		boolean create = false;
		boolean update = false;
		for (SmartScope scope : access.scopes()) {
			if (scope.context() != SmartScope.Context.SYSTEM || !scope.appliesTo(type) || !scope.query().isEmpty()) {
				continue;
			}
			create |= scope.allows(SmartScope.Permission.CREATE);
			update |= scope.allows(SmartScope.Permission.UPDATE);
		}
		return create && update;
	}

	/** A SMART Backend Services token: system scopes only, no patient or user in context. */
	private static SmartAccess backendAccess() {
		SmartAccess access = SmartAccess.current().orElseThrow(() -> new ForbiddenOperationException(
				ErrorCode.BULK_IMPORT_NOT_ALLOWED.message("Bulk import needs a SMART Backend Services token")));
		boolean systemOnly = !access.scopes().isEmpty()
				&& access.scopes().stream().allMatch(s -> s.context() == SmartScope.Context.SYSTEM)
				&& access.patientId().isEmpty()
				&& access.fhirUser().isEmpty();
		if (!systemOnly) {
			throw new ForbiddenOperationException(ErrorCode.BULK_IMPORT_NOT_ALLOWED.message(
					"Bulk import needs a SMART Backend Services token (system scopes); patient and user tokens are refused"));
		}
		return access;
	}
}
