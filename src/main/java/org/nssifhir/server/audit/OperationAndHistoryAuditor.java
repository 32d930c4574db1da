package org.nssifhir.server.audit;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.IPreResourceShowDetails;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import java.util.Date;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.security.consent.ComputedReadAudit;
import org.springframework.stereotype.Component;

/**
 * The reads HAPI's BALP capture does not record. {@code BalpAuditCaptureInterceptor} audits what a read, vread, search
 * or page shows, and every write; it records nothing for history ({@code _history} of a record, a type or the
 * server), {@code $meta}, and every named operation ({@code $everything} of a whole record included), though each
 * can show a patient's record (found by {@code OperationsPrivacyIT}). Here, each such request that is answered leaves
 * one BALP-shaped AuditEvent (unless it touched no record: a terminology answer): subtype the interaction (and the operation's name), the client and the user as agents
 * (as {@link SmartAuditContext} names them), and as entities the patients whose records were shown, the record named
 * by the request, and the records shown (by reference, never their content or the query).
 *
 * <p>Operations that compute their answer from a patient's record (the summary, a pre-filled assessment, a plan, its
 * progress) show no stored resource; the one check they all pass reports them here too ({@link ComputedReadAudit}),
 * so the request leaves a single record naming the patient.
 */
@Interceptor
@Component
public class OperationAndHistoryAuditor implements ComputedReadAudit {

	static final String TAG = "read-without-balp";

	/** What BALP's capture leaves out (it records reads, vreads, searches, pages and writes). */
	static final Set<RestOperationTypeEnum> NOT_CAPTURED_BY_BALP = EnumSet.of(RestOperationTypeEnum.HISTORY_INSTANCE,
			RestOperationTypeEnum.HISTORY_TYPE, RestOperationTypeEnum.HISTORY_SYSTEM, RestOperationTypeEnum.META,
			RestOperationTypeEnum.EXTENDED_OPERATION_SERVER, RestOperationTypeEnum.EXTENDED_OPERATION_TYPE,
			RestOperationTypeEnum.EXTENDED_OPERATION_INSTANCE);

	/**
	 * Writes that may store nothing: HAPI skips an update or patch that changes nothing (no new version, no storage
	 * hook, so no BALP record), yet answers it with the whole record (Prefer: return=representation). Such an answer is
	 * a read and is recorded as one (review s8, F4: a JSON Patch holding only a "test" op returned the record unaudited).
	 */
	static final Set<RestOperationTypeEnum> MAYBE_NO_OP = EnumSet.of(RestOperationTypeEnum.UPDATE, RestOperationTypeEnum.PATCH);

	private static final String WRITTEN = OperationAndHistoryAuditor.class.getName() + ".written";

	/** A shown page holds at most this many records by name (the patients are always named); a count says the rest. */
	static final int MAX_NAMED = 100;

	private static final String PATIENTS = OperationAndHistoryAuditor.class.getName() + ".patients";
	private static final String SHOWN = OperationAndHistoryAuditor.class.getName() + ".shown";

	private final AuditEventWriter auditWriter;
	private final SmartAuditContext context;
	private final FhirContext fhirContext;

	public OperationAndHistoryAuditor(AuditEventWriter auditWriter, SmartAuditContext context, FhirContext fhirContext) {
		this.auditWriter = auditWriter;
		this.context = context;
		this.fhirContext = fhirContext;
	}

	@Override
	public void recordComputedRead(RequestDetails request, String patientId) {
		if (audited(request)) {
			patients(request).add("Patient/" + patientId);
		}
	}

	@Hook(Pointcut.STORAGE_PRESHOW_RESOURCES)
	public void shown(IPreResourceShowDetails details, RequestDetails request) {
		if (!audited(request)) {
			return;
		}
		Set<String> patients = patients(request);
		Set<String> shown = shownRecords(request);
		for (int i = 0; i < details.size(); i++) {
			IBaseResource resource = details.getResource(i);
			if (resource == null || resource.getIdElement().getIdPart() == null) {
				continue;
			}
			String type = fhirContext.getResourceType(resource);
			String id = type + "/" + resource.getIdElement().getIdPart();
			shown.add(id);
			addPatients(resource, patients);
		}
	}

	/** The patients whose record this resource is part of (the Patient itself, or its compartment's owners). */
	private void addPatients(IBaseResource resource, Set<String> patients) {
		String type = fhirContext.getResourceType(resource);
		if ("Patient".equals(type)) {
			patients.add(type + "/" + resource.getIdElement().getIdPart());
		} else if (!fhirContext.getResourceDefinition(resource).getSearchParamsForCompartmentName("Patient").isEmpty()) {
			for (IIdType owner : fhirContext.newTerser().getCompartmentOwnersForResource("Patient", resource, Set.of())) {
				patients.add("Patient/" + owner.getIdPart());
			}
		}
	}

	/** Once the answer is ready, before it is written: committed before the client has it, as every audit record is. */
	@Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
	public void answered(RequestDetails request, IBaseResource response) {
		if (audited(request)) {
			record(request, AuditEvent.AuditEventOutcome._0);
		} else if (countOnly(request)) {
			// a count shows no resource, so HAPI's capture records nothing, yet it says how many alerts or episodes a
			// patient has (review s8, F8): recorded as a query naming the patients the search names, never other values
			for (String name : List.of("patient", "subject", "_id")) {
				for (String value : request.getParameters().getOrDefault(name, new String[0])) {
					String id = value.substring(value.lastIndexOf('/') + 1);
					if (("_id".equals(name) ? "Patient".equals(request.getResourceName()) : value.startsWith("Patient/") || !value.contains("/"))
							&& id.matches("[A-Za-z0-9\\-\\.]{1,64}")) {
						patients(request).add("Patient/" + id);
					}
				}
			}
			record(request, AuditEvent.AuditEventOutcome._0);
		} else if (noOpWrite(request) && response != null && response.getIdElement().hasIdPart()
				&& !"OperationOutcome".equals(fhirContext.getResourceType(response))) {
			String id = fhirContext.getResourceType(response) + "/" + response.getIdElement().getIdPart();
			shownRecords(request).add(id);
			addPatients(response, patients(request));
			record(request, AuditEvent.AuditEventOutcome._0);
		}
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_CREATED)
	public void created(RequestDetails request) {
		written(request);
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_UPDATED)
	public void updated(RequestDetails request) {
		written(request);
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_DELETED)
	public void deleted(RequestDetails request) {
		written(request);
	}

	private static void written(RequestDetails request) {
		if (request != null) {
			request.getUserData().put(WRITTEN, Boolean.TRUE);
		}
	}

	/** A search answered with its count only ({@code _summary=count}, {@code _count=0}): nothing shown, a number told. */
	private static boolean countOnly(RequestDetails request) {
		if (request == null || request instanceof SystemRequestDetails || request.getRestOperationType() == null
				|| !(request.getRestOperationType() == RestOperationTypeEnum.SEARCH_TYPE || request.getRestOperationType() == RestOperationTypeEnum.SEARCH_SYSTEM)) {
			return false;
		}
		String[] summary = request.getParameters().get("_summary");
		String[] count = request.getParameters().get("_count");
		return summary != null && List.of(summary).contains("count") || count != null && List.of(count).contains("0");
	}

	private static boolean noOpWrite(RequestDetails request) {
		return request != null && !(request instanceof SystemRequestDetails) && request.getRestOperationType() != null
				&& MAYBE_NO_OP.contains(request.getRestOperationType()) && !Boolean.TRUE.equals(request.getUserData().get(WRITTEN));
	}

	/**
	 * A computed operation that read the record and then refused for a clinical reason (a plan already active: 409)
	 * still read it, and its answer says something about it: recorded, as a minor failure. Refusals by the access
	 * rules happen before any read and are recorded by {@link RefusedAccessAuditor}.
	 */
	@Hook(Pointcut.SERVER_HANDLE_EXCEPTION)
	public boolean failed(RequestDetails request) {
		if (audited(request) && !patients(request).isEmpty()) {
			record(request, AuditEvent.AuditEventOutcome._4);
		}
		return true;
	}

	private void record(RequestDetails request, AuditEvent.AuditEventOutcome outcome) {
		RestOperationTypeEnum op = request.getRestOperationType();
		AuditEvent event = new AuditEvent();
		event.getMeta().addTag("urn:nssi-fhir:audit", TAG, "a read HAPI's BALP capture does not record");
		event.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"));
		// restful-interaction knows history-instance/-type/-system and "operation" ($meta is an operation too)
		String interaction = op.name().startsWith("HISTORY") || MAYBE_NO_OP.contains(op) || op.name().startsWith("SEARCH") ? op.getCode() : "operation";
		event.addSubtype(new Coding("http://hl7.org/fhir/restful-interaction", interaction, interaction));
		if (request.getOperation() != null) {
			event.addSubtype(new Coding("urn:nssi-fhir:operation", request.getOperation(), null));
		}
		event.setAction(op.name().startsWith("EXTENDED_OPERATION") || op == RestOperationTypeEnum.META ? AuditEvent.AuditEventAction.E : AuditEvent.AuditEventAction.R);
		event.setRecorded(new Date());
		event.setOutcome(outcome);
		event.getSource().setObserver(new Reference().setDisplay("NSSI FHIR Server"));
		event.addAgent().setRequestor(false).setWho(context.getAgentClientWho(request));
		event.addAgent().setRequestor(true).setWho(context.getAgentUserWho(request));
		Set<String> patients = patients(request);
		if (request.getId() != null && request.getId().hasIdPart() && request.getResourceName() != null) {
			String target = request.getResourceName() + "/" + request.getId().getIdPart();
			if ("Patient".equals(request.getResourceName())) {
				patients.add(target);
			} else {
				shownRecords(request).add(target);
			}
		}
		if (patients.isEmpty() && shownRecords(request).isEmpty() && !countOnly(request)) {
			return; // terminology and other definitional answers: no record of anyone was touched
		}
		for (String patient : patients) {
			event.addEntity().setWhat(new Reference(patient))
					.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person"))
					.setRole(new Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient"));
		}
		int named = 0;
		for (String record : shownRecords(request)) {
			if (patients.contains(record)) {
				continue;
			}
			if (named++ == MAX_NAMED) {
				event.addEntity().setDescription((shownRecords(request).size() - MAX_NAMED) + " more records shown");
				break;
			}
			event.addEntity().setWhat(new Reference(record))
					.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"));
		}
		auditWriter.recordAuditEvent(event);
	}

	private static boolean audited(RequestDetails request) {
		return request != null && !(request instanceof SystemRequestDetails) && request.getRestOperationType() != null
				&& NOT_CAPTURED_BY_BALP.contains(request.getRestOperationType());
	}

	@SuppressWarnings("unchecked")
	private static Set<String> patients(RequestDetails request) {
		return (Set<String>) request.getUserData().computeIfAbsent(PATIENTS, k -> new LinkedHashSet<String>());
	}

	@SuppressWarnings("unchecked")
	private static Set<String> shownRecords(RequestDetails request) {
		return (Set<String>) request.getUserData().computeIfAbsent(SHOWN, k -> new LinkedHashSet<String>());
	}
}
