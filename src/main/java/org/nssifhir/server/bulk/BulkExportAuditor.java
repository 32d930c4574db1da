package org.nssifhir.server.bulk;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.model.util.JpaConstants;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.bulk.BulkExportJobParameters;
import ca.uhn.fhir.rest.server.provider.ProviderConstants;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.util.Date;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.audit.AuditEventWriter;
import org.nssifhir.server.audit.SmartAuditContext;

/**
 * Audits bulk export and import requests, which BALP does not see (they answer with no resources): an export's
 * kick-off (who, which export style, which types, which Group or Patients, the job id) and a cancellation; an
 * import's kick-off (who, which types, how many sources, the job id; never the source URLs). Downloads of the files are
 * Binary reads and audited by BALP like any other read. No query values are recorded (a {@code _typeFilter} can
 * hold PHI); only whether filters were given.
 */
@Interceptor
public class BulkExportAuditor {

	static final String AUDIT_TAG_SYSTEM = "urn:nssi-fhir:audit";
	private static final String JOB_SYSTEM = "urn:nssi-fhir:bulk-export-job";
	private static final String KEY = BulkExportAuditor.class.getName();

	private final AuditEventWriter writer;
	private final SmartAuditContext context;

	public BulkExportAuditor(AuditEventWriter writer, SmartAuditContext context) {
		this.writer = writer;
		this.context = context;
	}

	/** Remembered per request: the job parameters as finally decided (after {@link BulkExportGuard}). */
	@Hook(Pointcut.STORAGE_INITIATE_BULK_EXPORT)
	public void remember(BulkExportJobParameters parameters, RequestDetails request) {
		request.getUserData().put(KEY, parameters);
	}

	@Hook(Pointcut.SERVER_PROCESSING_COMPLETED_NORMALLY)
	public void completed(ServletRequestDetails request) {
		String operation = request.getOperation();
		if (ProviderConstants.OPERATION_EXPORT.equals(operation)
				&& request.getUserData().get(KEY) instanceof BulkExportJobParameters parameters) {
			String location = request.getServletResponse().getHeader(Constants.HEADER_CONTENT_LOCATION);
			String jobId = location == null ? null : location.substring(location.indexOf('=') + 1);
			AuditEvent event = base("bulk-export-kickoff", "$export");
			event.setOutcomeDesc("export started: " + parameters.getExportStyle() + " " + String.join(",", parameters.getResourceTypes())
					+ (parameters.getFilters().isEmpty() ? "" : " (with _typeFilter)")
					+ (parameters.getSince() == null ? "" : " (with _since)"));
			entityJob(event, jobId);
			if (parameters.getGroupId() != null) {
				event.addEntity().setWhat(new Reference(parameters.getGroupId())).setRole(new Coding(
						"http://terminology.hl7.org/CodeSystem/object-role", "3", "Report"));
			}
			for (String patient : parameters.getPatientIds()) {
				event.addEntity().setWhat(new Reference(patient.startsWith("Patient/") ? patient : "Patient/" + patient))
						.setRole(new Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient"));
			}
			agents(event, request);
			writer.recordAuditEvent(event);
		} else if (JpaConstants.OPERATION_IMPORT.equals(operation)
				&& request.getResource() instanceof Parameters parameters) {
			// the kick-off of a bulk import (its resources are audited as what they are: server writes)
			String location = request.getServletResponse().getHeader(Constants.HEADER_CONTENT_LOCATION);
			String jobId = location == null ? null : location.substring(location.indexOf('=') + 1);
			Set<String> types = new TreeSet<>();
			int sources = 0;
			for (Parameters.ParametersParameterComponent input : parameters.getParameter()) {
				if ("input".equals(input.getName())) {
					sources++;
					input.getPart().stream().filter(p -> "type".equals(p.getName()) && p.getValue() != null)
							.forEach(p -> types.add(p.getValue().primitiveValue()));
				}
			}
			AuditEvent event = base("bulk-import-kickoff", "$import");
			event.setAction(AuditEvent.AuditEventAction.C);
			event.setOutcomeDesc("import started: " + String.join(",", types) + " from " + sources + " source(s)");
			entityJob(event, jobId, "urn:nssi-fhir:bulk-import-job", "bulk import job ");
			agents(event, request);
			writer.recordAuditEvent(event);
		} else if (ProviderConstants.OPERATION_EXPORT_POLL_STATUS.equals(operation) && request.getRequestType() == RequestTypeEnum.DELETE) {
			AuditEvent event = base("bulk-export-cancel", "$export-poll-status");
			event.setOutcomeDesc("export cancelled");
			String[] ids = request.getParameters().get("_jobId");
			entityJob(event, ids == null ? null : ids[0]);
			agents(event, request);
			writer.recordAuditEvent(event);
		}
	}

	private void agents(AuditEvent event, RequestDetails request) {
		event.addAgent().setRequestor(true).setWho(context.getAgentClientWho(request));
		event.addAgent().setRequestor(false).setWho(context.getAgentUserWho(request));
	}

	private static void entityJob(AuditEvent event, String jobId) {
		entityJob(event, jobId, JOB_SYSTEM, "bulk export job ");
	}

	private static void entityJob(AuditEvent event, String jobId, String system, String label) {
		if (jobId != null) {
			AuditEvent.AuditEventEntityComponent entity = event.addEntity();
			entity.getWhat().getIdentifier().setSystem(system).setValue(jobId);
			entity.getWhat().setDisplay(label + jobId);
		}
	}

	private static AuditEvent base(String tag, String operation) {
		AuditEvent event = new AuditEvent();
		event.getMeta().addTag(AUDIT_TAG_SYSTEM, tag, null);
		event.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"));
		event.addSubtype(new Coding("http://hl7.org/fhir/restful-interaction", "operation", operation));
		event.setAction(AuditEvent.AuditEventAction.E);
		event.setRecorded(new Date());
		event.setOutcome(AuditEvent.AuditEventOutcome._0);
		event.getSource().setObserver(new Reference().setDisplay("NSSI FHIR Server"));
		return event;
	}
}
