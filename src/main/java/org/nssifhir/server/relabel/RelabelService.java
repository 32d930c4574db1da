package org.nssifhir.server.relabel;

import ca.uhn.fhir.batch2.api.IJobCoordinator;
import ca.uhn.fhir.batch2.api.IJobMaintenanceService;
import ca.uhn.fhir.batch2.api.IJobPartitionProvider;
import ca.uhn.fhir.batch2.api.JobCompletionDetails;
import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.common.BulkModifyResourcesResultsJson;
import ca.uhn.fhir.batch2.model.JobInstance;
import ca.uhn.fhir.batch2.model.JobInstanceStartRequest;
import ca.uhn.fhir.batch2.model.StatusEnum;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.util.JsonUtil;
import java.time.Duration;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.audit.AuditEventWriter;
import org.nssifhir.server.audit.SmartAuditContext;
import org.nssifhir.server.labeling.SecurityLabelingService;
import org.nssifhir.server.labeling.SensitiveCategories;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Starts relabelling jobs (on request, and at startup when the labelling rules changed), answers their status and
 * audits their start and end.
 *
 * <p><b>Once across nodes.</b> The rules' fingerprint that was last applied is one row of {@code nssi_relabel_state}.
 * At startup each node locks that row ({@code SELECT … FOR UPDATE}); the first to see a new fingerprint starts the job
 * and records the fingerprint and job id in the same database transaction as HAPI's job instance; the others wait
 * for the lock and then see the fingerprint already recorded. On request, a job is refused while another relabelling
 * job is unfinished (same lock), so two never run at once.
 */
public class RelabelService {

	public static final String JOB_ID = "NSSI_RELABEL";
	public static final String OPERATION = "$nssi-relabel";
	public static final String STATUS_OPERATION = "$nssi-relabel-status";
	static final String REASON_OPERATION = "operation";
	static final String REASON_RULES_CHANGED = "rules-changed";
	static final String REASON_RETRY = "retry-after-failure";
	static final String RELABEL_STEP = "relabel";
	static final String AUDIT_TAG_SYSTEM = "urn:nssi-fhir:audit";
	static final String AUDIT_TAG = "relabel";
	static final String JOB_SYSTEM = "urn:nssi-fhir:relabel-job";

	/** Resources per work chunk: small enough that a chunk is one short database transaction, and a kill loses little. */
	static final int CHUNK_SIZE = 100;

	private static final Logger log = LoggerFactory.getLogger(RelabelService.class);

	private final IJobCoordinator jobs;
	private final IJobMaintenanceService maintenance;
	private final IJobPartitionProvider partitions;
	private final FhirContext fhirContext;
	private final DaoRegistry daoRegistry;
	private final SensitiveCategories categories;
	private final AuditEventWriter audit;
	private final SmartAuditContext auditContext;
	private final JdbcTemplate jdbc;
	private final TransactionTemplate transaction;

	public RelabelService(
			IJobCoordinator jobs, IJobMaintenanceService maintenance, IJobPartitionProvider partitions, FhirContext fhirContext,
			DaoRegistry daoRegistry, SensitiveCategories categories, AuditEventWriter audit, SmartAuditContext auditContext,
			JdbcTemplate jdbc, TransactionTemplate transaction) {
		this.jobs = jobs;
		this.maintenance = maintenance;
		this.partitions = partitions;
		this.fhirContext = fhirContext;
		this.daoRegistry = daoRegistry;
		this.categories = categories;
		this.audit = audit;
		this.auditContext = auditContext;
		this.jdbc = jdbc;
		this.transaction = transaction;
	}

	/** The fingerprint of the rules this server applies. */
	public String fingerprint() {
		return categories.fingerprint();
	}

	/**
	 * Starts a job on request, over every type that can be labelled or over the resources these searches
	 * ({@code Observation?subject=Patient/1}) find. No job when another relabelling job is unfinished (its id is then
	 * in {@code running}).
	 */
	public Started start(RequestDetails request, List<String> urls) {
		return transaction.execute(status -> {
			lockState();
			Optional<JobInstance> unfinished = unfinished();
			if (unfinished.isPresent()) {
				return new Started(null, unfinished.get().getInstanceId());
			}
			String jobId = submit(REASON_OPERATION, request, urls);
			if (urls.isEmpty()) {
				// a job over everything applies the current rules; one limited to some searches does not, so it must not
				// stand in for a failed automatic run that the next start would otherwise retry
				jdbc.update("UPDATE nssi_relabel_state SET fingerprint = ?, job_id = ?, submitted_at = now(), completed_at = NULL WHERE id = 1",
						fingerprint(), jobId);
			}
			audit(kickOff(jobId, REASON_OPERATION, request));
			return new Started(jobId, null);
		});
	}

	/** What {@link #start} did: the new job, or the unfinished one that prevented it. */
	public record Started(String jobId, String running) {}

	/**
	 * At startup: starts a job if the rules' fingerprint differs from the one last applied (or none was), or if the job
	 * recorded for the current rules ended without finishing. Returns the job's id, or empty when nothing needs doing or
	 * another node started it.
	 */
	public Optional<String> startIfRulesChanged() {
		return transaction.execute(status -> {
			Map<String, Object> state = lockState();
			String applied = (String) state.get("fingerprint");
			boolean sameRules = fingerprint().equals(applied == null ? null : applied.trim());
			if (sameRules && !endedWithoutFinishing((String) state.get("job_id"))) {
				return Optional.<String>empty();
			}
			String reason = sameRules ? REASON_RETRY : REASON_RULES_CHANGED;
			Optional<JobInstance> unfinished = unfinished();
			// a job already running (started on request, or before the rules changed again) is cancelled: it applies
			// rules no longer in force, and every resource will be seen again by the new job
			unfinished.ifPresent(job -> jobs.cancelInstance(job.getInstanceId()));
			String jobId = submit(reason, new SystemRequestDetails(), List.of());
			jdbc.update("UPDATE nssi_relabel_state SET fingerprint = ?, job_id = ?, submitted_at = now(), completed_at = NULL WHERE id = 1",
					fingerprint(), jobId);
			audit(kickOff(jobId, reason, null));
			log.info("{} (fingerprint {}): relabelling job {} started",
					sameRules ? "The last automatic relabelling did not finish" : "Labelling rules changed", fingerprint().substring(0, 12), jobId);
			return Optional.of(jobId);
		});
	}

	/**
	 * Whether the automatic job recorded for the current rules ended without finishing its work (failed, or cancelled
	 * by hand): its fingerprint is recorded at submission, so without this check a failed run would never be retried and
	 * data stored before the rules would keep its old labels until someone ran {@code $nssi-relabel} by hand.
	 */
	private boolean endedWithoutFinishing(String jobId) {
		if (jobId == null || jobId.isBlank()) {
			return false;
		}
		try {
			StatusEnum status = jobs.getInstance(jobId.trim()).getStatus();
			return (status == StatusEnum.FAILED || status == StatusEnum.CANCELLED) && unfinished().isEmpty();
		} catch (ResourceNotFoundException e) {
			// HAPI purged the instance; its outcome is unknown, and running the labelling again is idempotent
			return true;
		}
	}

	private Map<String, Object> lockState() {
		return jdbc.queryForMap("SELECT fingerprint, job_id FROM nssi_relabel_state WHERE id = 1 FOR UPDATE");
	}

	/** The relabelling job that has not finished, if any. */
	public Optional<String> unfinishedJobId() {
		return unfinished().map(JobInstance::getInstanceId);
	}

	private Optional<JobInstance> unfinished() {
		return jobs.getJobInstancesByJobDefinitionIdAndStatuses(JOB_ID, StatusEnum.getNotEndedStatuses(), 1, 0).stream().findFirst();
	}

	/** The types relabelling reads: every type that can be labelled (never the audit trail, definitions or people). */
	public List<String> relabelledTypes() {
		return new TreeSet<>(fhirContext.getResourceTypes()).stream()
				.filter(SecurityLabelingService::labelsType)
				.filter(daoRegistry::isResourceTypeSupported)
				.toList();
	}

	private String submit(String reason, RequestDetails request, List<String> only) {
		RelabelJobParameters parameters = new RelabelJobParameters().setReason(reason).setFingerprint(fingerprint());
		parameters.setBatchSize(CHUNK_SIZE);
		// one URL per type that can be labelled (or the searches the caller named)
		List<String> urls = only.isEmpty() ? relabelledTypes().stream().map(type -> type + "?").toList() : only;
		parameters.addPartitionedUrls(partitions.getPartitionedUrls(request, urls));
		JobInstanceStartRequest start = new JobInstanceStartRequest();
		start.setJobDefinitionId(JOB_ID);
		start.setParameters(parameters);
		return jobs.startInstance(request, start).getInstanceId();
	}

	// ---------------------------------------------------------------- status

	/** The job, if it is a relabelling job. */
	public Optional<JobInstance> job(String jobId) {
		try {
			JobInstance job = jobs.getInstance(jobId);
			return JOB_ID.equals(job.getJobDefinitionId()) ? Optional.of(job) : Optional.empty();
		} catch (ResourceNotFoundException e) {
			return Optional.empty();
		}
	}

	/** Progress of the relabelling step: its chunks by state, and the resources the finished chunks examined. */
	public record Progress(long chunksTotal, long chunksDone, long resourcesExamined) {}

	public Progress progress(String jobId) {
		Map<String, Object> row = jdbc.queryForMap("""
				SELECT count(*) AS total,
				       count(*) FILTER (WHERE stat = 'COMPLETED') AS done,
				       coalesce(sum(records_processed) FILTER (WHERE stat = 'COMPLETED'), 0) AS examined
				FROM bt2_work_chunk WHERE instance_id = ? AND tgt_step_id = ?""", jobId, RELABEL_STEP);
		return new Progress(((Number) row.get("total")).longValue(), ((Number) row.get("done")).longValue(),
				((Number) row.get("examined")).longValue());
	}

	/** The report of a finished job (HAPI's bulk modification results), if there is one. */
	public static Optional<BulkModifyResourcesResultsJson> report(JobInstance job) {
		String report = job.getReport();
		if (report == null || report.isBlank()) {
			return Optional.empty();
		}
		try {
			return Optional.of(JsonUtil.deserialize(report, BulkModifyResourcesResultsJson.class));
		} catch (RuntimeException e) {
			return Optional.empty();
		}
	}

	// ---------------------------------------------------------------- ends of a job (batch2 handlers)

	void completed(JobCompletionDetails<RelabelJobParameters> details) {
		ended(details, true);
	}

	void failed(JobCompletionDetails<RelabelJobParameters> details) {
		ended(details, false);
	}

	private void ended(JobCompletionDetails<RelabelJobParameters> details, boolean completed) {
		String jobId = details.getInstance().getInstanceId();
		if (completed) {
			jdbc.update("UPDATE nssi_relabel_state SET completed_at = now() WHERE job_id = ?", jobId);
		}
		JobInstance job = jobs.getInstance(jobId);
		AuditEvent event = base(completed ? "relabelling completed" : "relabelling ended: " + job.getStatus());
		event.setOutcome(completed ? AuditEvent.AuditEventOutcome._0 : AuditEvent.AuditEventOutcome._8);
		report(job).ifPresent(r -> event.setOutcomeDesc(event.getOutcomeDesc() + ": " + r.getResourcesChangedCount() + " relabelled, "
				+ r.getResourcesUnchangedCount() + " unchanged, " + r.getResourcesFailedCount() + " failed"));
		entityJob(event, jobId, details.getParameters().getReason());
		server(event);
		audit(event);
		log.info("Relabelling job {} ended: {}", jobId, job.getStatus());
	}

	// ---------------------------------------------------------------- audit

	private AuditEvent kickOff(String jobId, String reason, RequestDetails request) {
		AuditEvent event = base("relabelling started (" + reason + ")");
		entityJob(event, jobId, reason);
		if (request != null && !(request instanceof SystemRequestDetails)) {
			event.addAgent().setRequestor(true).setWho(auditContext.getAgentClientWho(request));
			event.addAgent().setRequestor(false).setWho(auditContext.getAgentUserWho(request));
		} else {
			server(event);
		}
		return event;
	}

	private static void server(AuditEvent event) {
		event.addAgent().setRequestor(true).setWho(new Reference().setDisplay("NSSI FHIR Server (labelling rules changed)"));
	}

	private static AuditEvent base(String outcome) {
		AuditEvent event = new AuditEvent();
		event.getMeta().addTag(AUDIT_TAG_SYSTEM, AUDIT_TAG, null);
		event.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"));
		event.addSubtype(new Coding("http://hl7.org/fhir/restful-interaction", "operation", OPERATION));
		event.setAction(AuditEvent.AuditEventAction.U);
		event.setRecorded(new Date());
		event.setOutcome(AuditEvent.AuditEventOutcome._0);
		event.setOutcomeDesc(outcome);
		event.getSource().setObserver(new Reference().setDisplay("NSSI FHIR Server"));
		return event;
	}

	private static void entityJob(AuditEvent event, String jobId, String reason) {
		AuditEvent.AuditEventEntityComponent entity = event.addEntity();
		entity.getWhat().getIdentifier().setSystem(JOB_SYSTEM).setValue(jobId);
		entity.getWhat().setDisplay("relabelling job " + jobId);
		entity.setDescription(reason);
	}

	private void audit(AuditEvent event) {
		audit.recordAuditEvent(event);
	}

	// ---------------------------------------------------------------- resuming after a lost node

	/**
	 * Puts back to READY the chunks of unfinished relabelling jobs that a node took (QUEUED or IN_PROGRESS) and has not
	 * touched for {@code staleAfter}: HAPI's batch messages travel in memory here, so a chunk whose node was killed
	 * would wait forever. The next maintenance pass queues them again; a chunk done twice changes nothing twice (see
	 * {@link RelabelResourcesStep}). The report step's chunks are left to HAPI. A chunk put back counts as touched now,
	 * so one still waiting for a worker is not put back again at every sweep. Returns how many were put back.
	 */
	public int requeueStaleChunks(Duration staleAfter) {
		int requeued = 0;
		for (JobInstance job : jobs.getJobInstancesByJobDefinitionIdAndStatuses(
				JOB_ID, EnumSet.of(StatusEnum.QUEUED, StatusEnum.IN_PROGRESS, StatusEnum.ERRORED), 10, 0)) {
			requeued += jdbc.update("""
					UPDATE bt2_work_chunk SET stat = 'READY', update_time = now()
					WHERE instance_id = ? AND tgt_step_id <> 'report' AND stat IN ('QUEUED', 'IN_PROGRESS')
					  AND coalesce(update_time, start_time, create_time) < now() - make_interval(secs => ?)""",
					job.getInstanceId(), (double) staleAfter.toSeconds());
		}
		if (requeued > 0) {
			log.info("Relabelling: {} work chunk(s) of a lost node queued again", requeued);
			maintenance.triggerMaintenancePass();
		}
		return requeued;
	}

}
