package org.nssifhir.server.bulk;

import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import ca.uhn.fhir.batch2.api.IJobCoordinator;
import ca.uhn.fhir.batch2.model.JobInstance;
import ca.uhn.fhir.interceptor.api.HookParams;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.model.util.JpaConstants;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.bulk.BulkExportJobParameters;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.provider.ProviderConstants;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nssifhir.server.support.InMemoryFhirServer;

/**
 * What HAPI's JPA bulk export provider does around our guards, without batch jobs: {@code $export} builds the job
 * parameters (all types when no {@code _type}), calls the pre-initiate and initiate hooks, keeps the job and answers
 * 202 with the status URL; {@code $export-poll-status} answers or cancels a kept job. The job store is what
 * {@link BulkExportGuard} reads through a (mock) {@link IJobCoordinator}.
 */
public class InMemoryBulkExport {

	static final List<String> ALL_TYPES = List.of("Patient", "Observation", "Condition");

	final Map<String, BulkExportJobParameters> jobs = new ConcurrentHashMap<>();
	final IJobCoordinator coordinator = mock(IJobCoordinator.class);

	InMemoryBulkExport() {
		when(coordinator.getInstance(anyString())).thenAnswer(call -> {
			BulkExportJobParameters parameters = jobs.get((String) call.getArgument(0));
			if (parameters == null) {
				throw new ResourceNotFoundException("no job");
			}
			JobInstance job = new JobInstance();
			job.setParameters(parameters);
			return job;
		});
	}

	@Operation(name = ProviderConstants.OPERATION_EXPORT, manualResponse = true, idempotent = true)
	public void export(ServletRequestDetails request) {
		BulkExportJobParameters parameters = new BulkExportJobParameters();
		parameters.setExportStyle(BulkExportJobParameters.ExportStyle.SYSTEM);
		String[] types = request.getParameters().get(JpaConstants.PARAM_EXPORT_TYPE);
		parameters.setResourceTypes(types == null ? ALL_TYPES : Arrays.asList(types[0].split(",")));
		String[] filters = request.getParameters().get(JpaConstants.PARAM_EXPORT_TYPE_FILTER);
		if (filters != null) {
			parameters.setFilters(Arrays.asList(filters));
		}
		hooks(Pointcut.STORAGE_PRE_INITIATE_BULK_EXPORT, parameters, request);
		hooks(Pointcut.STORAGE_INITIATE_BULK_EXPORT, parameters, request);
		String id = "job-" + (jobs.size() + 1);
		jobs.put(id, parameters);
		request.getServletResponse().setStatus(202);
		request.getServletResponse().setHeader(Constants.HEADER_CONTENT_LOCATION,
				InMemoryFhirServer.BASE + "/" + ProviderConstants.OPERATION_EXPORT_POLL_STATUS + "?_jobId=" + id);
	}

	@Operation(name = ProviderConstants.OPERATION_EXPORT_POLL_STATUS, manualResponse = true, idempotent = true, deleteEnabled = true)
	public void status(ServletRequestDetails request) {
		request.getServletResponse().setStatus(202);
	}

	private static void hooks(Pointcut pointcut, BulkExportJobParameters parameters, RequestDetails request) {
		request.getInterceptorBroadcaster().callHooks(pointcut, new HookParams()
				.add(BulkExportJobParameters.class, parameters)
				.add(RequestDetails.class, request)
				.addIfMatchesType(ServletRequestDetails.class, request));
	}

	/** A backend (system-scoped) token of this client. */
	static org.springframework.security.oauth2.jwt.Jwt backend(String clientId, String scope) {
		return InMemoryFhirServer.token(Map.of("scope", scope, "client_id", clientId));
	}
}
