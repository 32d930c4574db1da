package org.nssifhir.server.security.policy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.interceptor.auth.IAuthorizationSearchParamMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.hl7.fhir.instance.model.api.IBaseReference;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Annotation;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.security.RequestIdentity.Kind;
import org.nssifhir.server.security.SmartScope;
import org.nssifhir.server.security.consent.ProxyConsents;
import org.nssifhir.server.security.consent.TreatingRelationships;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.SecurityLabels;

/**
 * The one place that decides what a caller may see and change. Every interaction reaches it: reads, searches,
 * pages, history, includes and operation output through {@link #mayRead} (called by the consent pipeline while
 * the database answers, and again on the way out for every resource in every response), writes of every kind
 * through {@link #writeRefusal} (called from the storage hooks, so batch, transaction, conditional and
 * operation writes are covered), conditional matching through {@link #conditionalRefusal} before any search runs.
 *
 * <p>The rules, in words:
 * <ul>
 *   <li>Scopes: a resource is readable only through a scope that names its type (or {@code *}) with r or s, whose
 *       query (if any) it matches. AuditEvents need a scope that names {@code AuditEvent} explicitly: a wildcard
 *       never reaches the audit trail, and patient-level tokens never do.
 *   <li>Patient-level tokens: the resource's <em>primary</em> patient ({@code subject}, {@code patient},
 *       {@code for}, {@code beneficiary}; a Patient itself) must be the patient in context, for reads and writes.
 *       Being named elsewhere (a performer, an author) gives no access to another patient's record.
 *   <li>Labels ({@code R}, {@code V}, {@code ADOL}): backend systems and the patient themselves may see them; a
 *       clinician needs a treating relationship (or break-the-glass); a proxy needs the patient's Consent releasing
 *       those labels; an app whose user is unknown never sees them. Writing labelled data needs the same right as
 *       reading it, before and after the change.
 *   <li>Relationships and consents are protected facts: see {@link #writeRefusal}.
 * </ul>
 */
public class AccessPolicy {

	/** The identifiers the server's alerts (Flags, Tasks) carry and are found by (escalation/EscalationService). */
	public static final String SERVER_EVENT_SYSTEM = NssiCanonicals.BASE + "/escalation-event";

	/** Types that describe how to record care, not anyone's care: readable with any valid token. */
	public static final Set<String> DEFINITIONAL_TYPES = Set.of(
			"StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap", "SearchParameter", "Questionnaire",
			"PlanDefinition", "ActivityDefinition", "Library", "ImplementationGuide", "OperationDefinition",
			"CapabilityStatement", "NamingSystem");

	/** {@code Binary.securityContext.identifier.system} of export files (the same value as bulk/BulkExportGuard's). */
	static final String EXPORT_FILE_OWNER = "urn:nssi-fhir:oauth-client";

	/** Elements that name the patient a resource is about, in the order they are looked for. */
	private static final List<String> PRIMARY_PATIENT_ELEMENTS = List.of("patient", "subject", "for", "beneficiary");

	private final FhirContext fhirContext;
	private final TreatingRelationships relationships;
	private final ProxyConsents consents;
	private final IAuthorizationSearchParamMatcher matcher;
	private final NssiProperties.Policy settings;

	public AccessPolicy(
			FhirContext fhirContext,
			TreatingRelationships relationships,
			ProxyConsents consents,
			IAuthorizationSearchParamMatcher matcher,
			NssiProperties.Policy settings) {
		this.fhirContext = fhirContext;
		this.relationships = relationships;
		this.consents = consents;
		this.matcher = matcher;
		this.settings = settings;
	}

	public NssiProperties.Policy settings() {
		return settings;
	}

	// ---------------------------------------------------------------- reading

	/** Whether the caller may see this resource, in full: scopes, patient compartment and labels. */
	public boolean mayRead(RequestDetails request, RequestIdentity who, IBaseResource resource) {
		String type = fhirContext.getResourceType(resource);
		if (DEFINITIONAL_TYPES.contains(type)) {
			return true;
		}
		if (resource instanceof Binary binary && EXPORT_FILE_OWNER.equals(binary.getSecurityContext().getIdentifier().getSystem())) {
			// a Bulk Data export file: readable by exactly the client that asked for the export (its scopes were
			// checked when the export started, type by type: bulk/BulkExportGuard)
			return who.kind() == Kind.BACKEND && who.clientId().equals(binary.getSecurityContext().getIdentifier().getValue());
		}
		return scopesAllowRead(who, type, resource) && labelsAllow(request, who, resource);
	}

	/** Whether the caller's labels-and-relationship rights cover the resource (scopes aside). */
	public boolean labelsAllow(RequestDetails request, RequestIdentity who, IBaseResource resource) {
		if (who.kind() == Kind.PROXY && isSafeguardingTask(resource)) {
			// a safeguarding review may concern the family itself: never a parent's or carer's to see, whatever the Consent
			return false;
		}
		Set<String> gating = SecurityLabels.gating(resource);
		if (gating.isEmpty() || who.kind() == Kind.BACKEND) {
			return true;
		}
		List<String> patients = compartmentPatients(resource);
		if (patients.isEmpty()) {
			return false; // labelled, but we cannot tell whose it is: fail closed
		}
		return patients.stream().allMatch(p -> mayHandleRestricted(request, who, p, gating));
	}

	/** A Task coded safeguarding-review (nssi-concepts-cs): the safeguarding Task of a minor's alert. */
	static boolean isSafeguardingTask(IBaseResource resource) {
		return resource instanceof Task task && task.getCode().getCoding().stream()
				.anyMatch(c -> NssiCanonicals.CONCEPTS_SYSTEM.equals(c.getSystem()) && "safeguarding-review".equals(c.getCode()));
	}

	/**
	 * Whether the caller may see (and so write) a patient's data carrying these labels: the patient, a treating
	 * clinician (or one who broke the glass), a proxy the patient's Consent releases them to.
	 */
	public boolean mayHandleRestricted(RequestDetails request, RequestIdentity who, String patientId, Set<String> labels) {
		return switch (who.kind()) {
			case BACKEND -> true;
			case PATIENT -> who.ownPatient().map(patientId::equals).orElse(false);
			case CLINICIAN -> who.breakTheGlass() || relationships.treats(request, who.fhirUser().orElseThrow(), patientId);
			case PROXY -> who.ownPatient().map(patientId::equals).orElse(false)
					&& consents.permits(request, patientId, who.fhirUser().orElseThrow(), labels);
			case UNKNOWN -> false;
		};
	}

	/**
	 * Whether the caller holds a scope naming AuditEvent itself (never a wildcard, never patient-level): system-level,
	 * or user-level for a privacy officer ({@code nssi.policy.audit-readers}); the only way to the audit trail,
	 * searches and counts included.
	 */
	public boolean mayReadAuditTrail(RequestIdentity who) {
		// a user-level scope is for the privacy officers named in nssi.policy.audit-readers only: the trail names every
		// record of every patient (restricted ones included), so a clinician's app granted user/AuditEvent.rs read
		// which hidden records of patients they do not treat exist (review s8, F6)
		boolean officer = who.fhirUser().map(settings.auditReaders()::contains).orElse(false);
		return who.scopes().stream().anyMatch(scope -> (scope.allows(SmartScope.Permission.READ) || scope.allows(SmartScope.Permission.SEARCH))
				&& "AuditEvent".equals(scope.resourceType())
				&& (scope.context() == SmartScope.Context.SYSTEM || scope.context() == SmartScope.Context.USER && officer));
	}

	private boolean scopesAllowRead(RequestIdentity who, String type, IBaseResource resource) {
		boolean audit = "AuditEvent".equals(type);
		if (audit && !mayReadAuditTrail(who)) {
			return false; // on every path (an include, a batch entry), not only where the request names AuditEvent
		}
		for (SmartScope scope : who.scopes()) {
			if (!(scope.allows(SmartScope.Permission.READ) || scope.allows(SmartScope.Permission.SEARCH))) {
				continue;
			}
			if (audit ? !type.equals(scope.resourceType()) || scope.context() == SmartScope.Context.PATIENT : !scope.appliesTo(type)) {
				continue;
			}
			if (!scope.query().isEmpty() && !matchesQuery(scope, type, resource)) {
				continue; // a granular scope (e.g. ?category=survey) grants only the resources its query matches
			}
			if (scope.context() != SmartScope.Context.PATIENT) {
				return true;
			}
			if (who.patientId().isPresent() && isPrimaryPatient(resource, who.patientId().get())) {
				return true;
			}
		}
		return false;
	}

	private boolean matchesQuery(SmartScope scope, String type, IBaseResource resource) {
		String query = scope.query().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("&"));
		return matcher.match(type + "?" + query, resource).match == IAuthorizationSearchParamMatcher.Match.MATCH;
	}

	/** Whether the patient is the one the resource is about (a Patient: itself). */
	public boolean isPrimaryPatient(IBaseResource resource, String patientId) {
		List<String> primary = primaryPatients(resource);
		return !primary.isEmpty() && primary.stream().allMatch(patientId::equals);
	}

	/**
	 * The patient(s) a resource is about: its id for a Patient, else the Patient references in the first of
	 * {@code patient}, {@code subject}, {@code for}, {@code beneficiary} that the type has. Empty when the type names
	 * its patient some other way (an Appointment's participants): then no patient-level token reaches it.
	 */
	public List<String> primaryPatients(IBaseResource resource) {
		if (resource instanceof Patient) {
			return resource.getIdElement().hasIdPart() ? List.of(resource.getIdElement().getIdPart()) : List.of();
		}
		var definition = fhirContext.getResourceDefinition(resource);
		for (String element : PRIMARY_PATIENT_ELEMENTS) {
			if (definition.getChildByName(element) == null) {
				continue;
			}
			return fhirContext.newTerser().getValues(resource, element, IBaseReference.class).stream()
					.map(IBaseReference::getReferenceElement)
					.filter(id -> "Patient".equals(id.getResourceType()) && id.hasIdPart())
					.map(IIdType::getIdPart)
					.distinct()
					.toList();
		}
		return List.of();
	}

	/** Every patient whose compartment the resource is in (labels: all must pass, a right for one is no right for another). */
	public List<String> compartmentPatients(IBaseResource resource) {
		if (resource instanceof Patient) {
			return primaryPatients(resource);
		}
		Set<String> owners = new LinkedHashSet<>(fhirContext.newTerser().getCompartmentOwnersForResource("Patient", resource, Set.of()).stream()
				.filter(id -> "Patient".equals(id.getResourceType()))
				.map(IIdType::getIdPart)
				.filter(Objects::nonNull)
				.toList());
		// R4 leaves Task out of the Patient compartment, but an escalation Task (labelled R) is about Task.for
		owners.addAll(primaryPatients(resource));
		return List.copyOf(owners);
	}

	// ---------------------------------------------------------------- writing

	/**
	 * Why the caller may not make this change, or empty if they may. {@code before} is the stored version (update,
	 * patch, delete), {@code after} the new content (create, update, patch) with the server's labels already added.
	 */
	public Optional<Refusal> writeRefusal(RequestDetails request, RequestIdentity who, IBaseResource before, IBaseResource after) {
		if (who.kind() == Kind.BACKEND) {
			return protectedFacts(request, who, before, after);
		}
		for (IBaseResource version : new IBaseResource[] {before, after}) {
			if (version == null) {
				continue;
			}
			if (who.patientLevelOnly() && !DEFINITIONAL_TYPES.contains(fhirContext.getResourceType(version))
					&& !who.patientId().map(p -> isPrimaryPatient(version, p)).orElse(false)) {
				return Optional.of(Refusal.notFoundOr(before == version, "A patient-level token writes only its own patient's record"
						+ " (the patient in subject/patient/for, not any reference)"));
			}
			if (!labelsAllow(request, who, version)) {
				return Optional.of(Refusal.notFoundOr(before == version,
						"Restricted data needs the same right to write as to read: a treating relationship, the patient's own"
								+ " record, or the patient's Consent for a proxy"));
			}
		}
		return protectedFacts(request, who, before, after);
	}

	/**
	 * Relationships and consents decide who sees restricted data, so who may change them is policy, not scope:
	 * <ul>
	 *   <li>CareTeams and a Patient's general practitioners (treating relationships): backend systems (an EHR's
	 *       integration) and the administrators in {@code nssi.policy.relationship-administrators}; never a
	 *       clinician's own assertion;
	 *   <li>Consents and RelatedPersons (who a proxy is, what they may see): backend systems, administrators, the
	 *       patient themselves, or a clinician treating the patient documenting the patient's decision; never a proxy
	 *       or an app whose user is unknown;
	 *   <li>Subscriptions: only the backend clients in {@code nssi.policy.subscription-clients}, to endpoints on the
	 *       allow-list ({@link SubscriptionPolicy}).
	 * </ul>
	 */
	private Optional<Refusal> protectedFacts(RequestDetails request, RequestIdentity who, IBaseResource before, IBaseResource after) {
		IBaseResource any = after != null ? after : before;
		String type = fhirContext.getResourceType(any);
		boolean admin = who.fhirUser().map(settings.relationshipAdministrators()::contains).orElse(false);
		if (!serverMarkers(before).equals(serverMarkers(after))) {
			// the server finds its alerts by these identifiers (create-once): a client that planted one silenced or
			// blocked another patient's suicide-risk alert, and a forged "escalation" Task closed a hidden Flag
			return Optional.of(Refusal.forbidden("Identifiers in " + SERVER_EVENT_SYSTEM + " are the server's own (its alerts):"
					+ " no client may add, change or remove them"));
		}
		if (serverMade(before) || serverMade(after)) {
			// the built-in triage queue owns the alerts of people nobody else is recorded for: a client that renamed,
			// deactivated or deleted it, or planted a second resource with its identifier (the server's conditional
			// create then matched two, or the planted one), could hide or stop those alerts. The server's own
			// records are kept by the server; a deployment points nssi.escalation.fallback-owner at its real queue.
			return Optional.of(Refusal.forbidden("Resources the server made for itself (tag " + NssiCanonicals.SYSTEM_MADE_TAG_SYSTEM
					+ ", identifier system " + NssiCanonicals.TRIAGE_QUEUE_IDENTIFIER_SYSTEM + ") are kept by the server: no client"
					+ " may create, change or delete them"));
		}
		if (who.kind() != Kind.BACKEND && who.kind() != Kind.CLINICIAN && !admin && clinicalAct(type, before, after)) {
			// a patient token closed its own suicide-risk Task with a Procedure it had recorded itself, set the Flag
			// inactive and moved the due time past the overdue re-escalation: alerts and the acts that close them are
			// a clinician's record (the person's app writes Observations, support requests and its plan only)
			return Optional.of(Refusal.forbidden("Alerts, their Tasks and clinical acts (" + String.join(", ", CLINICIANS_RECORD)
					+ ", Tasks other than a request for support) are recorded by clinicians and the EHR's backend client,"
					+ " not by the patient, a proxy or an app whose user is unknown"));
		}
		if (who.kind() != Kind.BACKEND && who.kind() != Kind.CLINICIAN && !admin && after != null && markedInError(after)
				&& (before == null || !markedInError(before))) {
			// marking a record entered-in-error withdraws the alerts it raised: a patient token that did so on its own
			// intent-present episode (or one the EHR recorded) silenced its suicide-risk alert (review s8, F1)
			return Optional.of(Refusal.forbidden("Marking a record entered-in-error withdraws the alerts it raised: it is done by a"
					+ " clinician or the EHR's backend client, not by the patient, a proxy or an app whose user is unknown"));
		}
		if ("Task".equals(type) && before == null && who.kind() != Kind.BACKEND && who.kind() != Kind.CLINICIAN && !admin) {
			Optional<Refusal> supportRequest = newSupportRequest(who, (Task) after);
			if (supportRequest.isPresent()) {
				return supportRequest;
			}
		}
		if ("Task".equals(type) && before != null && who.kind() != Kind.BACKEND && who.kind() != Kind.CLINICIAN && !admin) {
			Optional<Refusal> supportRequest = supportRequestChange(who, (Task) before, (Task) after);
			if (supportRequest.isPresent()) {
				return supportRequest;
			}
		}
		switch (type) {
			case "CareTeam" -> {
				if (who.kind() != Kind.BACKEND && !admin) {
					return Optional.of(Refusal.forbidden("Care relationships are asserted by the EHR's backend client or an administrator,"
							+ " not by a clinician's own request"));
				}
			}
			case "Patient" -> {
				if (who.kind() != Kind.BACKEND && !admin && !generalPractitioners(before).equals(generalPractitioners(after))) {
					return Optional.of(Refusal.forbidden("A patient's general practitioners are a care relationship: set by the EHR's"
							+ " backend client or an administrator"));
				}
				Optional<Refusal> demographics = patientFacts(request, who, admin, before, after);
				if (demographics.isPresent()) {
					return demographics;
				}
			}
			case "Consent", "RelatedPerson" -> {
				if (who.kind() == Kind.BACKEND || admin) {
					return Optional.empty();
				}
				List<String> patients = new ArrayList<>();
				for (IBaseResource version : new IBaseResource[] {before, after}) {
					if (version != null) {
						patients.addAll(primaryPatients(version));
					}
				}
				boolean allowed = !patients.isEmpty() && switch (who.kind()) {
					case PATIENT -> patients.stream().allMatch(p -> who.ownPatient().map(p::equals).orElse(false));
					case CLINICIAN -> !who.breakTheGlass() && patients.stream()
							.allMatch(p -> relationships.treats(request, who.fhirUser().orElseThrow(), p));
					default -> false;
				};
				if (!allowed) {
					return Optional.of(Refusal.forbidden("Consents and proxies are recorded by the patient, a clinician treating the"
							+ " patient on their behalf, the EHR's backend client or an administrator; never by a proxy"));
				}
			}
			case "Subscription" -> {
				return SubscriptionPolicy.refusal(settings, who, after);
			}
			default -> {}
		}
		return Optional.empty();
	}

	/**
	 * A stored Patient decides safety: its birth date whether the adolescent rules and the ADOL label apply, its
	 * managing organisation who owns an alert when no one treats the patient, its links and death who the record is.
	 * So a Patient is changed by the EHR's backend client, an administrator or a clinician treating the patient; the
	 * patient may correct their own record but not those facts; a proxy, an app whose user is unknown and a clinician
	 * without a relationship (break-the-glass included: it is for reading) may not change it. Creating a Patient (a
	 * registration) is not limited here.
	 */
	private Optional<Refusal> patientFacts(RequestDetails request, RequestIdentity who, boolean admin, IBaseResource before, IBaseResource after) {
		if (before == null || who.kind() == Kind.BACKEND || admin) {
			return Optional.empty();
		}
		String patientId = before.getIdElement().getIdPart();
		boolean allowed = switch (who.kind()) {
			case CLINICIAN -> !who.breakTheGlass() && relationships.treats(request, who.fhirUser().orElseThrow(), patientId);
			case PATIENT -> who.ownPatient().map(patientId::equals).orElse(false)
					&& (after == null ? false : safetyFacts((Patient) before).equals(safetyFacts((Patient) after)));
			default -> false;
		};
		return allowed ? Optional.empty() : Optional.of(Refusal.forbidden("A patient's record is changed by a clinician treating"
				+ " them, the EHR's backend client or an administrator; the patient may correct their own, but not their birth date,"
				+ " managing organisation, links, death or whether the record is active"));
	}

	private static List<String> safetyFacts(Patient patient) {
		return List.of(String.valueOf(patient.getBirthDateElement().getValueAsString()),
				String.valueOf(patient.getManagingOrganization().getReference()),
				patient.getLink().stream().map(l -> l.getOther().getReference() + "|" + l.getType()).toList().toString(),
				String.valueOf(patient.hasDeceased() ? patient.getDeceased().primitiveValue() : null),
				// an inactive record refuses new sign-ins: a person closing their own record locked themselves out of
				// "I need support now" (review s8, F10)
				String.valueOf(patient.getActiveElement().getValueAsString()));
	}

	/** Types that record a clinician's judgement or act, which escalation, "what is due" and Task closure rely on. */
	static final List<String> CLINICIANS_RECORD = List.of("Flag", "Procedure", "RiskAssessment", "ClinicalImpression", "DetectedIssue");

	/** The Task the person's app makes ("I need support now"): the one Task a patient or proxy may write. */
	static final String SUPPORT_REQUEST = "support-request";

	private boolean clinicalAct(String type, IBaseResource before, IBaseResource after) {
		if (CLINICIANS_RECORD.contains(type)) {
			return true;
		}
		if (!"Task".equals(type)) {
			return false;
		}
		for (IBaseResource version : new IBaseResource[] {before, after}) {
			if (version instanceof Task task && (!serverMarkers(task).isEmpty() || task.getCode().getCoding().stream()
					.noneMatch(c -> NssiCanonicals.CONCEPTS_SYSTEM.equals(c.getSystem()) && SUPPORT_REQUEST.equals(c.getCode())))) {
				return true;
			}
		}
		return false;
	}

	/** Whether a version carries the server's own tag or the built-in triage queue's identifier. */
	private boolean serverMade(IBaseResource resource) {
		if (resource == null) {
			return false;
		}
		if (resource.getMeta().getTag().stream().anyMatch(tag -> NssiCanonicals.SYSTEM_MADE_TAG_SYSTEM.equals(tag.getSystem()))) {
			return true;
		}
		return fhirContext.getResourceDefinition(resource).getChildByName("identifier") != null
				&& fhirContext.newTerser().getValues(resource, fhirContext.getResourceType(resource) + ".identifier", Identifier.class)
						.stream().anyMatch(identifier -> NssiCanonicals.TRIAGE_QUEUE_IDENTIFIER_SYSTEM.equals(identifier.getSystem()));
	}

	/** Whether a version says it was entered in error (its status, or a Condition's verification status). */
	private boolean markedInError(IBaseResource resource) {
		if (resource instanceof Condition condition) {
			return condition.getVerificationStatus().getCoding().stream().anyMatch(c -> "entered-in-error".equals(c.getCode()));
		}
		return fhirContext.getResourceDefinition(resource).getChildByName("status") != null
				&& fhirContext.newTerser().getSinglePrimitiveValue(resource, "status").map("entered-in-error"::equals).orElse(false);
	}

	/** A support request's statuses from which the person may still cancel it (FHIR's open Task states). */
	private static final Set<Task.TaskStatus> OPEN = Set.of(Task.TaskStatus.DRAFT, Task.TaskStatus.REQUESTED, Task.TaskStatus.RECEIVED,
			Task.TaskStatus.ACCEPTED, Task.TaskStatus.READY, Task.TaskStatus.INPROGRESS, Task.TaskStatus.ONHOLD);

	/**
	 * What the person (or a proxy, or an app whose user is unknown) may change in a request for support they sent: they
	 * may cancel it while it is open and add notes (their own: a note naming another author is not theirs to add), and
	 * nothing else. The server owns its routing and the care team its handling: the priority and the due time
	 * ({@code restriction.period}) the server set from the record, the owner it routed to, businessStatus, output,
	 * for/focus, and the notes already there. A change to any of them, or deleting the request, is refused (review s8:
	 * a patient token could move its own request's due time past the overdue re-escalation, or route it elsewhere).
	 * Only the version's metadata (labels are the server's, added before this check) is left out of the comparison.
	 */
	private static Optional<Refusal> supportRequestChange(RequestIdentity who, Task before, Task after) {
		String rule = "A request for support is routed by the server and handled by the care team: the person may cancel it while"
				+ " it is open and add their own notes, nothing else";
		if (after == null) {
			return Optional.of(Refusal.forbidden(rule + " (not delete it)"));
		}
		Task probe = after.copy();
		if (after.getStatus() != before.getStatus()) {
			if (after.getStatus() != Task.TaskStatus.CANCELLED || !OPEN.contains(before.getStatus())) {
				return Optional.of(Refusal.forbidden(rule + " (a status other than cancelled, or cancelling a request no longer open)"));
			}
			probe.setStatus(before.getStatus());
		}
		List<Annotation> notes = after.getNote();
		if (notes.size() < before.getNote().size()) {
			return Optional.of(Refusal.forbidden(rule + " (the notes already there stay as they are)"));
		}
		for (int i = 0; i < notes.size(); i++) {
			Annotation note = notes.get(i);
			if (i < before.getNote().size() ? !note.equalsDeep(before.getNote().get(i)) : !ownNote(who, note)) {
				return Optional.of(Refusal.forbidden(rule + (i < before.getNote().size() ? " (the notes already there stay as they are)"
						: " (a note the person adds is their own: no other author)")));
			}
		}
		probe.setNote(before.getNote().stream().map(Annotation::copy).toList());
		probe.setMeta(before.getMeta().copy());
		probe.setIdElement(before.getIdElement().copy());
		if (!probe.equalsDeep(before)) {
			return Optional.of(Refusal.forbidden(rule + " (the priority, due time, owner, business status, output, for, focus and the"
					+ " rest of the request are not the person's to change)"));
		}
		return Optional.empty();
	}

	/**
	 * A request for support as the person (a proxy, an app whose user is unknown) sends it: asked, not already handled.
	 * The server routes it (owner, priority floor, due time, time asked); what the care team records about it
	 * (businessStatus, output, its own notes) and links to the team's records (focus, basedOn, partOf) are theirs, and
	 * the requester is the sender. A request stored as "accepted" with a clinician's note forged by the phone was
	 * never chased by re-escalation (review s8, F7).
	 */
	private static Optional<Refusal> newSupportRequest(RequestIdentity who, Task task) {
		String rule = "A new request for support is sent as asked (status requested) by the person themselves; its handling"
				+ " (business status, output, the team's notes) and links to other records (focus, basedOn, partOf) are the care team's";
		// the requester is the sender, or the person the request is for (a parent at the person's app asks for them)
		String requester = task.getRequester().getReferenceElement().toUnqualifiedVersionless().getValue();
		boolean sender = !task.hasRequester() || !task.getRequester().hasReference()
				|| requester.equals(task.getFor().getReferenceElement().toUnqualifiedVersionless().getValue())
				|| who.fhirUser().map(user -> new IdType(user).toUnqualifiedVersionless().getValue().equals(requester)).orElse(false);
		if (task.getStatus() != Task.TaskStatus.REQUESTED || task.hasBusinessStatus() || task.hasOutput() || task.hasFocus()
				|| task.hasBasedOn() || task.hasPartOf() || !sender || task.getNote().stream().anyMatch(note -> !ownNote(who, note))) {
			return Optional.of(Refusal.forbidden(rule));
		}
		return Optional.empty();
	}

	/** A note without an author, or by the caller themselves. */
	private static boolean ownNote(RequestIdentity who, Annotation note) {
		if (note.hasAuthorStringType()) {
			return false;
		}
		if (!note.hasAuthorReference() || !note.getAuthorReference().hasReference()) {
			return true;
		}
		String author = note.getAuthorReference().getReferenceElement().toUnqualifiedVersionless().getValue();
		return who.fhirUser().map(user -> new IdType(user).toUnqualifiedVersionless().getValue().equals(author)).orElse(false);
	}

	/** The server's alert identifiers a resource carries (empty for none, or no resource). */
	private Set<String> serverMarkers(IBaseResource resource) {
		if (resource == null || fhirContext.getResourceDefinition(resource).getChildByName("identifier") == null) {
			return Set.of();
		}
		Set<String> markers = new TreeSet<>();
		for (Identifier identifier : fhirContext.newTerser().getValues(resource,
				fhirContext.getResourceType(resource) + ".identifier", Identifier.class)) {
			if (SERVER_EVENT_SYSTEM.equals(identifier.getSystem())) {
				markers.add(identifier.getValue());
			}
		}
		return markers;
	}

	/**
	 * Why the caller may not invite a person (the patient, or a proxy of the patient) to sign in as their FHIR
	 * resource, or revoke such an invitation; empty if they may. Giving someone a sign-in for a patient's record is a
	 * fact that decides access, like a consent: the EHR's backend client, an administrator, or a clinician treating
	 * the patient (in their own name, not through break-the-glass); never the patient, a proxy or an unknown user
	 * (a proxy inviting another proxy would widen access the patient never granted).
	 */
	public Optional<Refusal> enrolmentRefusal(RequestDetails request, RequestIdentity who, String patientId) {
		boolean admin = who.fhirUser().map(settings.relationshipAdministrators()::contains).orElse(false);
		boolean allowed = switch (who.kind()) {
			case BACKEND -> true;
			case CLINICIAN -> admin || (!who.breakTheGlass() && relationships.treats(request, who.fhirUser().orElseThrow(), patientId));
			default -> admin;
		};
		return allowed ? Optional.empty() : Optional.of(Refusal.forbidden("Invitations to sign in are sent by a clinician treating the"
				+ " patient, the EHR's backend client or an administrator; never by the patient or a proxy"));
	}

	/** A Patient's general practitioners as references (empty for anything else): a care relationship. */
	static Set<String> generalPractitioners(IBaseResource patient) {
		if (!(patient instanceof Patient p)) {
			return Set.of();
		}
		return p.getGeneralPractitioner().stream()
				.map(Reference::getReferenceElement)
				.map(id -> id.toUnqualifiedVersionless().getValue())
				.collect(Collectors.toSet());
	}

	/**
	 * A refusal: either "not found" (the caller may not know the record exists, so the answer is the one a missing
	 * record gets) or "forbidden" (decided from the request alone, revealing nothing about stored data).
	 */
	public record Refusal(boolean asNotFound, String reason) {
		static Refusal forbidden(String reason) {
			return new Refusal(false, reason);
		}

		static Refusal notFoundOr(boolean aboutStoredVersion, String reason) {
			return new Refusal(aboutStoredVersion, reason);
		}
	}
}
