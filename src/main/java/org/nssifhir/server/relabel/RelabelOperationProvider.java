package org.nssifhir.server.relabel;

import ca.uhn.fhir.batch2.model.JobInstance;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.support.ErrorCode;

/**
 * {@code POST /fhir/$nssi-relabel} starts a relabelling job (the current labelling and escalation rules applied to
 * every stored resource, see {@link RelabelService}; or to what the {@code url} searches find) and answers its id; {@code GET /fhir/$nssi-relabel-status?jobId=…}
 * answers its state and progress. For backend clients only: a user, patient or proxy token is refused even with a
 * system-like scope, since the job reads and may relabel every record.
 */
class RelabelOperationProvider implements FhirOperationProvider {

	private final RelabelService relabel;

	RelabelOperationProvider(RelabelService relabel) {
		this.relabel = relabel;
	}

	@Operation(name = RelabelService.OPERATION, idempotent = false)
	public Parameters relabel(
			@OperationParam(name = "url", min = 0, max = OperationParam.MAX_UNLIMITED) List<StringType> urls, RequestDetails request) {
		requireBackend(request);
		List<String> searches = new ArrayList<>();
		for (StringType url : urls == null ? List.<StringType>of() : urls) {
			String value = url.getValueAsString();
			int question = value == null ? -1 : value.indexOf('?');
			if (question < 1 || !relabel.relabelledTypes().contains(value.substring(0, question))) {
				throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message(
						"Each url of " + RelabelService.OPERATION + " is a search of a type that can be labelled, such as Observation?subject=Patient/1"));
			}
			searches.add(value);
		}
		RelabelService.Started started = relabel.start(request, searches);
		if (started.jobId() == null) {
			throw new ResourceVersionConflictException(ErrorCode.RELABEL_ALREADY_RUNNING.message(
					"Relabelling job " + started.running() + " has not finished; its status: " + RelabelService.STATUS_OPERATION
							+ "?jobId=" + started.running()));
		}
		return status(relabel.job(started.jobId()).orElseThrow());
	}

	@Operation(name = RelabelService.STATUS_OPERATION, idempotent = true)
	public Parameters relabelStatus(@OperationParam(name = "jobId", min = 1, max = 1) StringType jobId, RequestDetails request) {
		requireBackend(request);
		if (jobId == null || jobId.isEmpty()) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message(RelabelService.STATUS_OPERATION + " needs a jobId"));
		}
		JobInstance job = relabel.job(jobId.getValue()).orElseThrow(() -> new ResourceNotFoundException(
				ErrorCode.RELABEL_JOB_NOT_FOUND.message("No relabelling job with this id")));
		return status(job);
	}

	private static void requireBackend(RequestDetails request) {
		RequestIdentity.of(request).ifPresent(who -> {
			if (who.kind() != RequestIdentity.Kind.BACKEND) {
				throw new ForbiddenOperationException(ErrorCode.RELABEL_NOT_ALLOWED.message(
						"Relabelling is for a backend services client (a system scope that updates every type)"));
			}
		});
	}

	private Parameters status(JobInstance job) {
		Parameters out = new Parameters();
		out.addParameter("jobId", new StringType(job.getInstanceId()));
		out.addParameter("status", new StringType(job.getStatus().name()));
		RelabelJobParameters parameters = job.getParameters(RelabelJobParameters.class);
		out.addParameter("reason", new StringType(parameters.getReason()));
		out.addParameter("rulesFingerprint", new StringType(parameters.getFingerprint()));
		out.addParameter("progress", new DecimalType(job.getProgress()));
		RelabelService.Progress progress = relabel.progress(job.getInstanceId());
		out.addParameter("chunksTotal", new IntegerType(Math.toIntExact(progress.chunksTotal())));
		out.addParameter("chunksDone", new IntegerType(Math.toIntExact(progress.chunksDone())));
		out.addParameter("resourcesExamined", new IntegerType(Math.toIntExact(progress.resourcesExamined())));
		RelabelService.report(job).ifPresent(report -> {
			out.addParameter("resourcesRelabelled", new IntegerType(report.getResourcesChangedCount()));
			out.addParameter("resourcesUnchanged", new IntegerType(report.getResourcesUnchangedCount()));
			out.addParameter("resourcesFailed", new IntegerType(report.getResourcesFailedCount()));
		});
		if (job.getStartTime() != null) {
			out.addParameter("started", new InstantType(job.getStartTime()));
		}
		if (job.getEndTime() != null) {
			out.addParameter("ended", new InstantType(job.getEndTime()));
		}
		return out;
	}
}
