package org.nssifhir.server.audit;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.security.AuthenticationFailures;
import org.nssifhir.server.security.RequestIdentity;
import org.springframework.stereotype.Component;

/**
 * Audits what BALP does not: requests that were refused (401 from the token check inside the FHIR layer, 403 from
 * the scope rules) and failed authentication at the Spring Security layer. The record names who tried, which
 * interaction on which resource type, the record the URL named and the patient the request named (see
 * {@link #addEntities}), and the outcome; never other query values or resource content.
 */
@Interceptor
@Component
public class RefusedAccessAuditor implements AuthenticationFailures {

	static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";
	static final String REST_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-type";
	static final String ENTITY_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
	static final String OBJECT_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/object-role";

	/** A FHIR id, and a resource type name: anything else in a URL is not recorded. */
	private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
	private static final Pattern TYPE = Pattern.compile("[A-Z][A-Za-z]{1,63}");
	/** A plain patient reference: {@code Patient/123}, or {@code 123} where the parameter can only mean a patient. */
	private static final Pattern PATIENT_REFERENCE = Pattern.compile("(Patient/)?([A-Za-z0-9\\-.]{1,64})");
	/** Search parameters whose value names a patient: {@code subject} only as {@code Patient/123} ... */
	private static final Set<String> PATIENT_PARAMETERS = Set.of("subject");
	/** ... these also as a bare id. */
	private static final Set<String> PATIENT_PARAMETERS_BARE_ID = Set.of("patient", "patient:Patient", "subject:Patient");

	private final AuditEventWriter writer;
	private final SmartAuditContext context;
	private final DaoRegistry daos;

	public RefusedAccessAuditor(AuditEventWriter writer, SmartAuditContext context, DaoRegistry daos) {
		this.writer = writer;
		this.context = context;
		this.daos = daos;
	}

	@Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
	public BaseServerResponseException auditRefusal(RequestDetails request, Throwable exception) {
		// a record the caller may not see is answered as missing (404): that refusal is audited too, like a real
		// miss by a user (the two look the same to the caller, and the trail need not tell them apart either)
		boolean notFound = (exception instanceof ResourceNotFoundException || exception instanceof ResourceGoneException)
				&& request.getId() != null && request.getId().hasIdPart() && context.getAgentUserWho(request) != null
				&& RequestIdentity.of(request).map(who -> who.kind() != RequestIdentity.Kind.BACKEND).orElse(false);
		if (exception instanceof ForbiddenOperationException || exception instanceof AuthenticationException || notFound) {
			AuditEvent event = base(exception instanceof AuthenticationException ? "authentication" : "authorization");
			event.setOutcomeDesc(exception instanceof AuthenticationException ? "refused: no valid token"
					: notFound ? "refused: not found or not visible to this user" : "refused: scope does not allow");
			String what = (request.getRestOperationType() == null ? "request" : request.getRestOperationType().getCode())
					+ (request.getResourceName() == null ? "" : " " + request.getResourceName());
			event.getSubtypeFirstRep().setSystem("http://hl7.org/fhir/restful-interaction").setCode(
					request.getRestOperationType() == null ? "operation" : request.getRestOperationType().getCode());
			event.addAgent().setRequestor(true).setWho(context.getAgentClientWho(request)).setName(what);
			event.addAgent().setRequestor(false).setWho(context.getAgentUserWho(request));
			addEntities(event, request, this::exists);
			writer.recordAuditEvent(event);
		}
		return null;
	}

	/**
	 * What the request tried to reach: the resource named by the URL ({@code Observation/123}), and the patient when
	 * the request names one, either in the URL ({@code Patient/123}, {@code Patient/123/Observation}) or as a
	 * {@code patient} / {@code subject} search value that is a plain patient reference. No other query value is
	 * recorded (a search string can say what was looked for), nor a value that is not a plain reference.
	 */
	static void addEntities(AuditEvent event, RequestDetails request, Predicate<String> exists) {
		Set<String> patients = new LinkedHashSet<>();
		IIdType id = request.getId();
		String target = null;
		if (id != null && id.hasIdPart() && ID.matcher(id.getIdPart()).matches()) {
			String type = id.hasResourceType() ? id.getResourceType() : request.getResourceName();
			if (type != null && TYPE.matcher(type).matches()) {
				target = type + "/" + id.getIdPart();
				if ("Patient".equals(type)) {
					patients.add(target);
				} else {
					event.addEntity().setWhat(named(target, exists))
							.setType(new Coding(ENTITY_TYPE_SYSTEM, "2", "System Object"))
							.setRole(new Coding(OBJECT_ROLE_SYSTEM, "4", "Domain Resource"));
				}
			}
		}
		Map<String, String[]> parameters = request.getParameters();
		if (parameters != null) {
			parameters.forEach((name, values) -> {
				boolean bareIdAllowed = PATIENT_PARAMETERS_BARE_ID.contains(name);
				if (values == null || (!bareIdAllowed && !PATIENT_PARAMETERS.contains(name))) {
					return;
				}
				for (String value : values) {
					for (String one : value == null ? new String[0] : value.split(",", -1)) {
						Matcher m = PATIENT_REFERENCE.matcher(one);
						if (m.matches() && (m.group(1) != null || bareIdAllowed)) {
							patients.add("Patient/" + m.group(2));
						}
					}
				}
			});
		}
		for (String patient : patients) {
			event.addEntity().setWhat(named(patient, exists))
					.setType(new Coding(ENTITY_TYPE_SYSTEM, "1", "Person"))
					.setRole(new Coding(OBJECT_ROLE_SYSTEM, "1", "Patient"));
		}
	}

	/**
	 * A reference to what was tried when it exists (so {@code AuditEvent?entity=} finds it); an identifier when it does
	 * not, because a stored AuditEvent cannot reference a missing resource (and a refusal must never fail to be stored).
	 */
	private static Reference named(String target, Predicate<String> exists) {
		return exists.test(target)
				? new Reference(target)
				: new Reference().setIdentifier(new Identifier().setSystem("urn:nssi-fhir:resource").setValue(target));
	}

	private boolean exists(String reference) {
		try {
			IdType id = new IdType(reference);
			daos.getResourceDao(id.getResourceType()).read(id, new SystemRequestDetails());
			return true;
		} catch (RuntimeException e) {
			return false; // missing, deleted, or not a type this server stores
		}
	}

	/** Authentication failed before reaching FHIR (no token, bad signature, expired): no agent is known. */
	@Override
	public void authenticationFailed(String path) {
		AuditEvent event = base("authentication");
		event.setOutcomeDesc("refused: no valid token");
		event.addAgent().setRequestor(true).setName("unauthenticated request to " + path);
		writer.recordAuditEvent(event);
	}

	private static AuditEvent base(String kind) {
		AuditEvent event = new AuditEvent();
		event.getMeta().addTag("urn:nssi-fhir:audit", "refused-" + kind, null);
		event.setType(new Coding(DCM, "110114", "User Authentication"));
		if (!"authentication".equals(kind)) {
			event.setType(new Coding(REST_TYPE_SYSTEM, "rest", "Restful Operation"));
		}
		event.setAction(AuditEvent.AuditEventAction.E);
		event.setRecorded(new Date());
		event.setOutcome(AuditEvent.AuditEventOutcome._4);
		event.getSource().setObserver(new Reference().setDisplay("NSSI FHIR Server"));
		return event;
	}
}
