package org.nssifhir.server.escalation;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirResourceDao;
import ca.uhn.fhir.jpa.api.model.DaoMethodOutcome;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.rest.api.SortOrderEnum;
import ca.uhn.fhir.rest.api.SortSpec;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.api.server.storage.TransactionDetails;
import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.DateRangeParam;
import ca.uhn.fhir.rest.param.ParamPrefixEnum;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.util.UrlUtil;
import jakarta.persistence.EntityManager;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.Period;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.labeling.QuestionnaireItemCodes;
import org.nssifhir.server.security.policy.AccessPolicy;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.SecurityLabels;
import org.nssifhir.server.support.WholeHistory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raises alerts: for each {@link EscalationSignal} in a resource being written, a profiled Flag (suicide-risk or
 * NSSI escalation, with {@code flag-detail} pointing at the evidence) and a Task for the responsible clinician.
 *
 * <p>Called from {@link EscalationInterceptor} inside the database transaction of the triggering write, through
 * the DAOs, so the alert commits with the data or not at all; an error here fails the write (never a silent
 * miss). Each Flag and Task is a conditional create on the event's identifier: the same event written again (an
 * update, a retried transaction, {@code $extract}) finds the existing ones, and HAPI's unique
 * {@code HFJ_RES_SEARCH_URL} row makes two concurrent creates for one event impossible (one of them fails and is
 * retried by the client).
 */
public class EscalationService {

	/** Identifier system of Flags and Tasks raised by this server; the value names the event. */
	public static final String EVENT_SYSTEM = AccessPolicy.SERVER_EVENT_SYSTEM; // clients may not write it

	private static final Logger log = LoggerFactory.getLogger(EscalationService.class);

	private final DaoRegistry daoRegistry;
	private final NssiProperties.Escalation settings;

	private final EntityManager entityManager;
	private final QuestionnaireItemCodes itemCodes;
	private final TriageQueue triageQueue;

	public EscalationService(DaoRegistry daoRegistry, EntityManager entityManager, NssiProperties.Escalation settings,
			QuestionnaireItemCodes itemCodes, TriageQueue triageQueue) {
		this.daoRegistry = daoRegistry;
		this.entityManager = entityManager;
		this.settings = settings;
		this.itemCodes = itemCodes;
		this.triageQueue = triageQueue;
	}

	/** Every signal of the resource, including a rise in episode frequency (which needs the patient's history). */
	public List<EscalationSignal> signals(IBaseResource resource) {
		List<EscalationSignal> signals = new ArrayList<>(EscalationSignals.find(resource));
		if (resource instanceof QuestionnaireResponse qr && !NssiCanonicals.isOurs(qr.getQuestionnaire())) {
			signals.addAll(EscalationSignals.fromForeignResponse(qr, itemCodes.codesByLinkId(qr)));
		}
		if (resource instanceof QuestionnaireResponse qr && signals.stream().noneMatch(s -> s.eventKey().startsWith("current-injury:"))) {
			// a current injury needing first aid: lower threshold for a person under 18 or of unknown age (issue 19, items 8, 12)
			EscalationSignals.currentInjuryFirstAidForMinor(qr)
					.filter(s -> patientOf(qr).flatMap(this::readPatient).map(EscalationService::possiblyMinor).orElse(true))
					.ifPresent(signals::add);
		}
		if (resource instanceof Observation obs && EscalationSignals.isEpisode(obs) && obs.getStatus() != Observation.ObservationStatus.ENTEREDINERROR) {
			frequencyRise(obs).ifPresent(signals::add);
			// lower threshold for minors (issue 19, item 8): an episode that needed first aid from someone else escalates
			// for a person under 18 or of unknown age, where an adult's needs medical or emergency care
			if (signals.stream().noneMatch(s -> s.eventKey().startsWith("nssi-care:"))) {
				EscalationSignals.firstAidForMinor(obs).filter(s -> patientOf(obs).flatMap(this::readPatient).map(EscalationService::possiblyMinor).orElse(true))
						.ifPresent(signals::add);
			}
		}
		return signals;
	}

	/** Raises the alerts for the resource; returns the signals acted on. */
	public List<EscalationSignal> escalate(IBaseResource resource) {
		if (resource instanceof Resource r && enteredInError(r)) {
			retract(r);
			return List.of();
		}
		List<EscalationSignal> signals = signals(resource);
		if (signals.isEmpty()) {
			return signals;
		}
		Optional<IIdType> patient = patientOf((Resource) resource);
		if (patient.isEmpty()) {
			// nothing to alert on without a patient; the profiles require a subject, so this is a non-NSSI resource
			return List.of();
		}
		for (EscalationSignal signal : signals) {
			raise(signal, patient.get(), (Resource) resource);
		}
		return signals;
	}

	/** R4 flag-category (HL7 terminology; "clinical" and "safety" checked in the R4 definitions HAPI 8.8.0 bundles). */
	static final String FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category";

	private void raise(EscalationSignal signal, IIdType patient, Resource trigger) {
		SystemRequestDetails system = new SystemRequestDetails();
		// inside a FHIR transaction HAPI defers flushing to the commit; the conditional creates below must see
		// what this transaction already wrote (an alert raised by an earlier entry for the same event)
		entityManager.flush();
		TransactionDetails details = new TransactionDetails();
		Flag flag = new Flag();
		copyTestTag(trigger, flag);
		flag.addIdentifier().setSystem(EVENT_SYSTEM).setValue(signal.eventKey());
		flag.addExtension("http://hl7.org/fhir/StructureDefinition/flag-detail", new Reference(signal.evidence()));
		flag.setStatus(Flag.FlagStatus.ACTIVE);
		flag.addCategory().addCoding(new Coding(FLAG_CATEGORY, "clinical", "Clinical"));
		if (signal.kind() == EscalationSignal.Kind.SUICIDE_RISK) {
			// a suicide-risk alert is also a safety precaution (R4 flag-category "safety"): systems that list safety
			// flags apart from other clinical flags show it there too (issue 19, item 10)
			flag.addCategory().addCoding(new Coding(FLAG_CATEGORY, "safety", "Safety"));
		}
		flag.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, signal.kind().code(), signal.kind().display()));
		flag.getCode().setText(signal.reason());
		flag.setSubject(new Reference(patient));
		flag.getPeriod().setStart(new Date());
		@SuppressWarnings("unchecked")
		IFhirResourceDao<Flag> flags = daoRegistry.getResourceDao(Flag.class);
		DaoMethodOutcome flagOutcome = flags.create(flag, matchUrl(signal.eventKey()), true, system, details);
		IIdType flagId = flagOutcome.getId().toUnqualifiedVersionless();

		Task task = new Task();
		copyTestTag(trigger, task);
		SecurityLabels.labelRestricted(task.getMeta());
		task.addIdentifier().setSystem(EVENT_SYSTEM).setValue(signal.eventKey());
		task.setStatus(Task.TaskStatus.REQUESTED);
		task.setIntent(Task.TaskIntent.ORDER);
		task.setPriority(Task.TaskPriority.fromCode(signal.taskPriority()));
		task.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, signal.kind().code(), signal.kind().display()));
		Optional<Patient> subject = readPatient(patient);
		boolean possiblyMinor = subject.map(EscalationService::possiblyMinor).orElse(true);
		// the urgency is the priority and the due time (restriction.period.end), not a word here: "Review now" beside a due
		// time a day away said two things at once (clinician review s8)
		String description = "Review: " + signal.reason();
		String minorNote = subject.map(Patient::hasBirthDate).orElse(false) ? "The person is under 18" : "No birth date recorded: treated as possibly under 18";
		if (possiblyMinor) {
			description += ". " + minorNote + ": a safeguarding review is needed; decide with the person whom to involve"
					+ " (not automatically the family where abuse, neglect or family conflict is recorded).";
		}
		task.setDescription(description);
		// due: asap (suicide risk) within 24 h, urgent within 72 h (24 h for a minor or a person of unknown age)
		Date authored = new Date();
		Duration due = highPriority(Task.TaskPriority.fromCode(signal.taskPriority())) || possiblyMinor ? PROMPT_DUE : STANDARD_DUE;
		task.getRestriction().getPeriod().setStart(authored).setEnd(Date.from(authored.toInstant().plus(due)));
		task.setFor(new Reference(patient));
		task.setFocus(new Reference(flagId));
		task.setReasonReference(new Reference(signal.evidence()));
		task.setAuthoredOn(authored);
		task.setLastModifiedElement(new DateTimeType(new Date(), TemporalPrecisionEnum.MILLI));
		task.setOwner(responsible(patient));
		@SuppressWarnings("unchecked")
		IFhirResourceDao<Task> tasks = daoRegistry.getResourceDao(Task.class);
		if (!Boolean.TRUE.equals(flagOutcome.getCreated())) {
			Optional<Task> withdrawn = byEvent(Task.class, signal.eventKey()).filter(EscalationService::withdrawnAsInError);
			if (withdrawn.isPresent()) {
				reinstate(flagId, withdrawn.get(), task, signal, trigger, system);
				return;
			}
		}
		DaoMethodOutcome taskOutcome = tasks.create(task, matchUrl(signal.eventKey()), true, system, details);
		if (possiblyMinor) {
			Optional<Task> open = openSafeguardingTask(patient);
			if (open.isEmpty()) {
				Task safeguarding = safeguardingTask(signal, patient, flagId, minorNote, authored, task.getRestriction().getPeriod().getEnd());
				copyTestTag(trigger, safeguarding);
				safeguarding.setOwner(task.getOwner().copy());
				tasks.create(safeguarding, matchUrl(SAFEGUARDING_PREFIX + signal.eventKey()), true, system, details);
			} else if (Boolean.TRUE.equals(flagOutcome.getCreated()) && !open.get().getReasonReference().getReference().equals(flagId.getValue())) {
				// one open safeguarding review per person: a further alert is added to it rather than a Task of its own
				// (eight Tasks for one young person's four alerts buried the alerts themselves)
				Task t = open.get();
				noteFurtherAlert(t, flagId, signal, new Date(), task.getRestriction().getPeriod().getEnd());
				tasks.update(t, system);
			}
		}
		if (Boolean.TRUE.equals(flagOutcome.getCreated()) || Boolean.TRUE.equals(taskOutcome.getCreated())) {
			// the event key names resource ids only, no clinical values
			log.info("Escalation raised: {} (Flag/{}, Task/{})", signal.kind(), flagId.getIdPart(), taskOutcome.getId().getIdPart());
		}
	}

	/** The status reason of an alert's Tasks withdrawn because their evidence was marked entered-in-error. */
	static final String WITHDRAWN = "Alert withdrawn: its evidence was entered in error";

	static boolean withdrawnAsInError(Task task) {
		return task.getStatus() == Task.TaskStatus.CANCELLED && WITHDRAWN.equals(task.getStatusReason().getText());
	}

	/**
	 * The evidence of a withdrawn alert is valid again (its entered-in-error status taken back, or the same signal
	 * written again): the alert is raised again, the Flag active and its Tasks open with a new due time. The event's
	 * identifier makes alerts create-once, so without this the record showed suicidal intent with no open alert for
	 * good (review s8, F1). An alert closed by a clinician (completed with its risk assessment) is not reopened.
	 */
	private void reinstate(IIdType flagId, Task withdrawn, Task fresh, EscalationSignal signal, Resource trigger, SystemRequestDetails system) {
		Date now = new Date();
		Flag flag = daoRegistry.getResourceDao(Flag.class).read(flagId, system);
		flag.setStatus(Flag.FlagStatus.ACTIVE);
		flag.getPeriod().setStart(now).setEnd(null);
		daoRegistry.getResourceDao(Flag.class).update(flag, system);
		String note = "Alert raised again: " + trigger.fhirType() + "/" + trigger.getIdElement().getIdPart()
				+ " is no longer marked entered-in-error.";
		withdrawn.setStatus(Task.TaskStatus.REQUESTED);
		withdrawn.setStatusReason(null);
		withdrawn.setRestriction(fresh.getRestriction().copy());
		withdrawn.setLastModifiedElement(new DateTimeType(now, TemporalPrecisionEnum.MILLI));
		withdrawn.addNote().setTime(now).setText(note);
		daoRegistry.getResourceDao(Task.class).update(withdrawn, system);
		byEvent(Task.class, SAFEGUARDING_PREFIX + signal.eventKey()).filter(EscalationService::withdrawnAsInError).ifPresent(t -> {
			t.setStatus(Task.TaskStatus.REQUESTED);
			t.setStatusReason(null);
			t.setRestriction(fresh.getRestriction().copy());
			t.addNote().setTime(now).setText(note);
			daoRegistry.getResourceDao(Task.class).update(t, system);
		});
		log.info("Escalation raised again: {} (Flag/{}, Task/{})", signal.kind(), flagId.getIdPart(), withdrawn.getIdElement().getIdPart());
	}

	/** Identifier prefix of the safeguarding Task raised with each alert for a person under 18 or of unknown age. */
	static final String SAFEGUARDING_PREFIX = "safeguarding:";

	/**
	 * The safeguarding Task of a minor's alert (issue 19, item 8). One open per person: the first alert raises it (due
	 * with the alert), and each further alert while it is open is added to it as a note, so the review considers every
	 * presentation without burying the alerts under Tasks; once it is closed, the next alert raises a new one. It names the Flag as its reason, not its focus: completing it must not end the alert. It is
	 * an escalation Task (server identifier), so closing it needs a documented assessment, it is re-escalated when
	 * overdue, and the access policy never shows it to a proxy (the concern may be the family itself).
	 */
	private static Task safeguardingTask(EscalationSignal signal, IIdType patient, IIdType flagId, String minorNote, Date authored, Date due) {
		Task t = new Task();
		SecurityLabels.labelRestricted(t.getMeta());
		t.addIdentifier().setSystem(EVENT_SYSTEM).setValue(SAFEGUARDING_PREFIX + signal.eventKey());
		t.setStatus(Task.TaskStatus.REQUESTED);
		t.setIntent(Task.TaskIntent.ORDER);
		t.setPriority(Task.TaskPriority.fromCode(signal.taskPriority()));
		t.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, SAFEGUARDING_CODE, "Safeguarding review"));
		t.setDescription("Safeguarding review: " + minorNote + " and an alert was raised (" + signal.kind().display()
				+ ")" + SAFEGUARDING_ADVICE);
		t.setFor(new Reference(patient));
		t.setReasonReference(new Reference(flagId));
		t.setAuthoredOn(authored);
		t.getRestriction().getPeriod().setStart(authored).setEnd(due);
		return t;
	}

	private static final String ANOTHER_ALERT = "Another alert for this person: ";

	/** Who wrote a note the server adds to a safeguarding review (Annotation.authorString): no person did. */
	static final String SAFEGUARDING_NOTE_AUTHOR = "NSSI FHIR Server (safeguarding)";

	/**
	 * The one place a further alert is added to an open safeguarding review: a dated note the server signs, naming the
	 * alert in words (what kind, and what raised it) and, last, the Flag it is. The review's description speaks of the
	 * first alert only; without this the clinician reading it did not learn of the later ones (clinician review s8).
	 */
	static void noteFurtherAlert(Task review, IIdType flagId, EscalationSignal signal, Date when, Date alertDue) {
		review.addNote().setTime(when).setAuthor(new StringType(SAFEGUARDING_NOTE_AUTHOR))
				.setText(ANOTHER_ALERT + signal.kind().display() + ": " + signal.reason().replaceAll("\\.+$", "")
						+ ". Consider it in the same safeguarding review (" + flagId.toUnqualifiedVersionless().getValue() + ").");
		// the review follows the alerts it covers: a suicide-risk alert added to an NSSI review left it "urgent", due
		// days later and headlined "(NSSI escalation)" (clinician review s8). Priority and due time only ever tighten.
		Task.TaskPriority added = Task.TaskPriority.fromCode(signal.taskPriority());
		if (!review.hasPriority() || rank(added) > rank(review.getPriority())) {
			review.setPriority(added);
		}
		Date due = review.getRestriction().getPeriod().getEnd();
		if (alertDue != null && (due == null || alertDue.before(due))) {
			review.getRestriction().getPeriod().setEnd(alertDue);
		}
		review.setDescription(withAlertKind(review.getDescription(), signal.kind().display()));
	}

	/** What a safeguarding review asks of the clinician, after the alerts it names. */
	private static final String SAFEGUARDING_ADVICE = ". Consider whether the young person is safe at home and elsewhere,"
			+ " follow the local safeguarding procedure, and record the decision (a referral, or why none is needed).";

	private static final Pattern ALERT_KINDS = Pattern.compile("(an alert was raised|alerts were raised) \\(([^)]*)\\)");

	/** The review's description naming every kind of alert it covers, each once, in the order they came. */
	static String withAlertKind(String description, String kind) {
		if (description == null) {
			return null;
		}
		Matcher m = ALERT_KINDS.matcher(description);
		if (!m.find()) {
			return description;
		}
		Set<String> kinds = new LinkedHashSet<>(List.of(m.group(2).split(", ")));
		kinds.add(kind);
		String phrase = kinds.size() == 1 ? "an alert was raised (" : "alerts were raised (";
		return description.substring(0, m.start()) + phrase + String.join(", ", kinds) + ")" + description.substring(m.end());
	}

	/** The person's safeguarding Task that is still open (not completed, cancelled, rejected, failed or in error). */
	private Optional<Task> openSafeguardingTask(IIdType patient) {
		SearchParameterMap map = WholeHistory.search()
				.add(Task.SP_PATIENT, new ReferenceParam(patient.getValue()))
				.add(Task.SP_CODE, new TokenParam(CONCEPTS_SYSTEM, SAFEGUARDING_CODE));
		return WholeHistory.all(daoRegistry.getResourceDao("Task").search(map, new SystemRequestDetails())).stream()
				.map(Task.class::cast).filter(t -> !CLOSED.contains(t.getStatus())).findFirst();
	}

	/** Local code (nssi-concepts-cs) of a safeguarding Task. */
	public static final String SAFEGUARDING_CODE = "safeguarding-review";

	private static String matchUrl(String eventKey) {
		return "identifier=" + UrlUtil.escapeUrlParam(EVENT_SYSTEM) + "|" + UrlUtil.escapeUrlParam(eventKey);
	}

	/** Synthetic data stays recognisable as such: the alert carries the HTEST tag of the data that raised it. */
	private static void copyTestTag(Resource trigger, Resource alert) {
		trigger.getMeta().getSecurity().stream()
				.filter(c -> NssiCanonicals.ACT_REASON_SYSTEM.equals(c.getSystem()) && "HTEST".equals(c.getCode()))
				.findFirst()
				.ifPresent(c -> alert.getMeta().addSecurity(c.copy()));
	}

	static Optional<IIdType> patientOf(Resource resource) {
		Reference subject = null;
		if (resource instanceof Observation obs) {
			subject = obs.getSubject();
		} else if (resource instanceof QuestionnaireResponse qr) {
			subject = qr.getSubject();
		} else if (resource instanceof Condition condition) {
			subject = condition.getSubject();
		}
		if (subject == null || subject.getReferenceElement().getResourceType() == null
				|| !"Patient".equals(subject.getReferenceElement().getResourceType())) {
			return Optional.empty();
		}
		return Optional.of(new IdType("Patient", subject.getReferenceElement().getIdPart()));
	}

	// ---------------------------------------------------------------- the person's requests for support

	/** The code of a person's own request for support from their app ("I need support now"). */
	public static final String SUPPORT_REQUEST = "support-request";

	private static int rank(Task.TaskPriority priority) {
		return switch (priority) {
			case STAT -> 3;
			case ASAP -> 2;
			case URGENT -> 1;
			default -> 0;
		};
	}

	/** asap or stat: above urgent in FHIR's request priorities (routine < urgent < asap < stat). */
	static boolean highPriority(Task.TaskPriority priority) {
		return priority == Task.TaskPriority.ASAP || priority == Task.TaskPriority.STAT;
	}

	/**
	 * Routes a person's request for support as the alerts are routed: owned by the treating care team (else the
	 * general practitioner, else the managing organisation, else the clinical triage queue; whatever owner the client
	 * named), and asap when their
	 * latest diary card's urge to die is high ({@link EscalationSignals#DIARY_URGE_TO_DIE_HIGH}), decided here from
	 * the record rather than trusted from the phone. A priority the person chose higher is kept, never one below urgent;
	 * the time it was asked and the due time are the server's.
	 */
	public void routeSupportRequest(IBaseResource resource) {
		if (!(resource instanceof Task task)
				|| !task.getCode().getCoding().stream().anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && SUPPORT_REQUEST.equals(c.getCode()))
				|| !"Patient".equals(task.getFor().getReferenceElement().getResourceType())) {
			return;
		}
		IIdType patient = new IdType("Patient", task.getFor().getReferenceElement().getIdPart());
		task.setOwner(responsible(patient));
		// a high urge to die makes it at least asap (as a suicide-risk alert; FHIR ranks routine < urgent < asap < stat),
		// a higher priority the person chose is kept; otherwise the person's own priority, urgent when they gave none
		boolean highUrge = latestUrgeToDie(patient).filter(v -> v >= EscalationSignals.DIARY_URGE_TO_DIE_HIGH).isPresent();
		if (highUrge && (!task.hasPriority() || rank(task.getPriority()) < rank(Task.TaskPriority.ASAP))) {
			task.setPriority(Task.TaskPriority.ASAP);
		} else if (!task.hasPriority() || rank(task.getPriority()) < rank(Task.TaskPriority.URGENT)) {
			// the app promises contact soon: never routine, whatever the phone sent (review s8, F7)
			task.setPriority(Task.TaskPriority.URGENT);
		}
		// the app tells the person the team will contact them: a due time the server sets (24 h, whatever the phone
		// sent), so OverdueEscalation raises a request nobody has picked up as it does an alert (informaticist review
		// s7, H2: no due time, nothing chased it)
		Date now = new Date();
		task.getRestriction().getPeriod().setStart(now).setEnd(Date.from(now.toInstant().plus(PROMPT_DUE)));
		// when it was asked is the server's clock: a request back-dated by the phone sorted as years old (review s8, F7)
		task.setAuthoredOn(now);
		task.setLastModifiedElement(new DateTimeType(now, TemporalPrecisionEnum.MILLI));
	}

	/**
	 * The highest urge to die recorded on the person's diary cards of the latest day that has one, if any records it.
	 * A day can hold two cards (the person's own and one made elsewhere, or a second one the app accepted): the
	 * highest counts, so a card without the scale never hides a high urge recorded the same day (review s7).
	 */
	Optional<Integer> latestUrgeToDie(IIdType patientId) {
		entityManager.flush(); // a card written earlier in the same transaction counts
		SearchParameterMap cards = SearchParameterMap.newSynchronous()
				.add(Observation.SP_SUBJECT, new ReferenceParam(patientId.getValue()))
				.add(Observation.SP_CODE, new TokenParam(CONCEPTS_SYSTEM, "diary-card"));
		cards.setSort(new SortSpec(Observation.SP_DATE, SortOrderEnum.DESC));
		cards.setCount(LATEST_CARDS);
		List<IBaseResource> found = daoRegistry.getResourceDao("Observation").search(cards, new SystemRequestDetails()).getResources(0, LATEST_CARDS);
		if (found.isEmpty()) {
			return Optional.empty();
		}
		String latestDay = day((Observation) found.get(0));
		return found.stream().map(Observation.class::cast)
				.filter(card -> card.getStatus() != Observation.ObservationStatus.ENTEREDINERROR && latestDay.equals(day(card)))
				.flatMap(card -> card.getComponent().stream())
				.filter(c -> c.getCode().getCoding().stream().anyMatch(k -> CONCEPTS_SYSTEM.equals(k.getSystem()) && "urge-to-die".equals(k.getCode())))
				.filter(c -> c.getValue() instanceof IntegerType)
				.map(c -> ((IntegerType) c.getValue()).getValue())
				.max(Integer::compare);
	}

	/** How many of the newest cards are looked at for the latest day (a day has one or two). */
	private static final int LATEST_CARDS = 10;

	/** The calendar day a card is for, as written (a diary card is dated with a day, or a time on that day). */
	private static String day(Observation card) {
		String effective = card.hasEffectiveDateTimeType() ? card.getEffectiveDateTimeType().getValueAsString()
				: card.hasEffectivePeriod() && card.getEffectivePeriod().hasStart() ? card.getEffectivePeriod().getStartElement().getValueAsString() : "";
		return effective.length() >= 10 ? effective.substring(0, 10) : effective;
	}

	// ---------------------------------------------------------------- withdrawal

	private static final Set<Task.TaskStatus> NOT_STARTED = Set.of(
			Task.TaskStatus.DRAFT, Task.TaskStatus.REQUESTED, Task.TaskStatus.RECEIVED, Task.TaskStatus.ACCEPTED, Task.TaskStatus.READY);
	private static final Set<Task.TaskStatus> CLOSED = Set.of(
			Task.TaskStatus.COMPLETED, Task.TaskStatus.CANCELLED, Task.TaskStatus.REJECTED, Task.TaskStatus.FAILED, Task.TaskStatus.ENTEREDINERROR);
	private static final List<String> EVENT_PREFIXES = List.of("suicide-risk:", "nssi-care:", "lethal-method:", "suicide-function:",
			"suicide-attempt-history:", "expected-severe-harm:", "phq9-severe:", "current-injury:");

	/**
	 * Time to complete a suicide-risk Task (priority asap or stat), and any escalation Task for a minor or a person of
	 * unknown age. FHIR's request priorities rank routine &lt; urgent &lt; asap &lt; stat.
	 */
	public static final Duration PROMPT_DUE = Duration.ofHours(24);
	/** Time to complete an urgent (NSSI escalation, severe PHQ-9 without item 9) Task for an adult. */
	public static final Duration STANDARD_DUE = Duration.ofHours(72);
	private static final int AGE_OF_MAJORITY = 18;

	/**
	 * Whether the minor rules apply: under 18 today, or no birth date recorded. A missing birth date must not
	 * silently switch off what protects minors, so escalation treats the person as possibly a minor.
	 */
	static boolean possiblyMinor(Patient patient) {
		if (!patient.hasBirthDate() || patient.getBirthDate() == null) {
			return true;
		}
		LocalDate born = patient.getBirthDate().toInstant().atZone(ZoneOffset.UTC).toLocalDate();
		return Period.between(born, LocalDate.now(ZoneOffset.UTC)).getYears() < AGE_OF_MAJORITY;
	}

	private Optional<Patient> readPatient(IIdType patientId) {
		try {
			return Optional.of((Patient) daoRegistry.getResourceDao("Patient").read(patientId, new SystemRequestDetails()));
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			return Optional.empty();
		}
	}

	static boolean enteredInError(Resource r) {
		if (r instanceof Observation obs) {
			return obs.getStatus() == Observation.ObservationStatus.ENTEREDINERROR;
		}
		if (r instanceof QuestionnaireResponse qr) {
			return qr.getStatus() == QuestionnaireResponse.QuestionnaireResponseStatus.ENTEREDINERROR;
		}
		if (r instanceof Condition c) {
			return c.getVerificationStatus().getCoding().stream().anyMatch(x -> "entered-in-error".equals(x.getCode()));
		}
		return false;
	}

	/**
	 * The evidence of an alert was marked entered-in-error. When no other evidence of the event remains (the event
	 * is this resource, or the response it was derived from and everything derived from that response is in error
	 * too) and its Task has not started, the alert is withdrawn: the Flag becomes inactive (period ended) and the
	 * Task is cancelled with a note saying why, which is what its owner's work queue shows. Otherwise the alert
	 * stays and the open Task gets a note.
	 */
	void retract(Resource wrong) {
		String self = wrong.fhirType() + "/" + wrong.getIdElement().getIdPart();
		Set<String> events = new LinkedHashSet<>();
		events.add(self);
		if (wrong instanceof Observation obs) {
			obs.getDerivedFrom().stream().map(Reference::getReference)
					.filter(r -> r != null && r.startsWith("QuestionnaireResponse/"))
					.map(r -> new IdType(r).toUnqualifiedVersionless().getValue())
					.forEach(events::add);
		}
		SystemRequestDetails system = new SystemRequestDetails();
		entityManager.flush();
		for (String event : events) {
			for (String prefix : EVENT_PREFIXES) {
				Optional<Flag> flag = byEvent(Flag.class, prefix + event);
				if (flag.isEmpty() || flag.get().getStatus() != Flag.FlagStatus.ACTIVE) {
					continue;
				}
				Optional<Task> task = byEvent(Task.class, prefix + event);
				boolean otherEvidence = otherEvidenceRemains(event, self);
				boolean notStarted = task.map(t -> NOT_STARTED.contains(t.getStatus())).orElse(true);
				Date now = new Date();
				if (!otherEvidence && notStarted) {
					Flag f = flag.get();
					f.setStatus(Flag.FlagStatus.INACTIVE);
					f.getPeriod().setEnd(now);
					daoRegistry.getResourceDao(Flag.class).update(f, system);
					// the safeguarding review goes with its alert, unless later alerts were added to it
					byEvent(Task.class, SAFEGUARDING_PREFIX + prefix + event).filter(t -> NOT_STARTED.contains(t.getStatus()))
							.filter(t -> t.getNote().stream().noneMatch(n -> n.hasText() && n.getText().startsWith(ANOTHER_ALERT))).ifPresent(t -> {
						t.setStatus(Task.TaskStatus.CANCELLED);
						t.getStatusReason().setText(WITHDRAWN);
						daoRegistry.getResourceDao(Task.class).update(t, system);
					});
					task.ifPresent(t -> {
						t.setStatus(Task.TaskStatus.CANCELLED);
						t.getStatusReason().setText(WITHDRAWN);
						t.addNote().setTime(now).setText("Alert withdrawn: " + self + " was marked entered-in-error and no other evidence of this event remains.");
						daoRegistry.getResourceDao(Task.class).update(t, system);
					});
					log.info("Escalation withdrawn: Flag/{} (evidence entered in error)", f.getIdElement().getIdPart());
				} else if (task.isPresent() && !CLOSED.contains(task.get().getStatus())) {
					Task t = task.get();
					t.addNote().setTime(now).setText(self + " was marked entered-in-error; the alert stays: "
							+ (otherEvidence ? "other evidence of this event remains." : "the Task had already started."));
					daoRegistry.getResourceDao(Task.class).update(t, system);
				}
			}
		}
	}

	/** Whether the event still has evidence other than {@code wrong}: the event resource itself, or Observations derived from it. */
	private boolean otherEvidenceRemains(String event, String wrong) {
		SystemRequestDetails system = new SystemRequestDetails();
		if (!event.equals(wrong)) {
			try {
				Resource eventResource = (Resource) daoRegistry.getResourceDao(new IdType(event).getResourceType()).read(new IdType(event), system);
				if (!enteredInError(eventResource)) {
					return true;
				}
			} catch (RuntimeException e) {
				// deleted: no evidence there
			}
		}
		if (!event.startsWith("QuestionnaireResponse/")) {
			return false;
		}
		SearchParameterMap derived = WholeHistory.search().add(Observation.SP_DERIVED_FROM, new ReferenceParam(event));
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("Observation").search(derived, system))) {
			Observation obs = (Observation) r;
			String id = "Observation/" + obs.getIdElement().getIdPart();
			if (!id.equals(wrong) && !enteredInError(obs) && !EscalationSignals.find(obs).isEmpty()) {
				return true;
			}
		}
		return false;
	}

	private <T extends IBaseResource> Optional<T> byEvent(Class<T> type, String eventKey) {
		SearchParameterMap map = WholeHistory.search().add("identifier", new TokenParam(EVENT_SYSTEM, eventKey));
		List<IBaseResource> found = WholeHistory.all(daoRegistry.getResourceDao(type).search(map, new SystemRequestDetails()));
		return found.isEmpty() ? Optional.empty() : Optional.of(type.cast(found.get(0)));
	}

	/**
	 * Who the Task is for: the treating care team first (the first active CareTeam of the patient), then the
	 * patient's general practitioner, then the patient's managing organization, and when none of these is recorded
	 * the clinical triage queue ({@link TriageQueue}): never nobody, because an ownerless Task is in no one's work
	 * list (issue 19 review, item 6).
	 */
	Reference responsible(IIdType patientId) {
		SystemRequestDetails system = new SystemRequestDetails();
		SearchParameterMap teams = WholeHistory.search()
				.add(CareTeam.SP_PATIENT, new ReferenceParam(patientId.getValue()))
				.add(CareTeam.SP_STATUS, new TokenParam("active"));
		teams.setCount(1);
		List<IBaseResource> found = daoRegistry.getResourceDao("CareTeam").search(teams, system).getResources(0, 1);
		if (!found.isEmpty()) {
			return new Reference("CareTeam/" + found.get(0).getIdElement().getIdPart());
		}
		Optional<Patient> patient = readPatient(patientId);
		if (patient.isPresent() && patient.get().hasGeneralPractitioner() && patient.get().getGeneralPractitionerFirstRep().hasReference()) {
			return new Reference(patient.get().getGeneralPractitionerFirstRep().getReference());
		}
		if (patient.isPresent() && patient.get().hasManagingOrganization() && patient.get().getManagingOrganization().hasReference()) {
			return new Reference(patient.get().getManagingOrganization().getReference());
		}
		return triageQueue.owner();
	}

	/**
	 * A rise in NSSI episode frequency, judged at the new episode's time: at least {@code minEpisodes} episodes in
	 * the window ending then, and more than {@code riseFactor} times the patient's average per window over the
	 * baseline windows before it. Only episodes whose intent is recorded as non-suicidal ({@code intent-none})
	 * count: an episode with intent present or unsure raises its own suicide-risk alert, and is suicidal
	 * behaviour rather than NSSI.
	 *
	 * <p>The event key names the patient, the window period and the count ({@code ...:n5}). While a frequency
	 * alert is open, or one was raised in the same period, a new one is raised only when the count has at least
	 * doubled since the highest of them: a further doubling is never swallowed by an open alert, and one more
	 * episode does not raise a new alert each time.
	 */
	Optional<EscalationSignal> frequencyRise(Observation episode) {
		Optional<IIdType> patient = patientOf(episode);
		Date when = effective(episode);
		if (patient.isEmpty() || when == null || !EscalationSignals.isNonSuicidal(episode)) {
			return Optional.empty();
		}
		Duration window = Duration.ofDays(settings.windowDays());
		if (when.toInstant().isBefore(Instant.now().minus(window))) {
			// history entered after the fact: a rise that ended long ago is nothing to act on now
			return Optional.empty();
		}
		Instant end = when.toInstant().plusMillis(1);
		Instant recentStart = end.minus(window);
		Instant baselineStart = recentStart.minus(window.multipliedBy(settings.baselineWindows()));
		Set<String> recent = episodeIds(patient.get(), recentStart, end);
		String self = episode.getIdElement().getIdPart();
		// the new episode may not be visible to the search yet inside its own transaction
		recent.add(self);
		Set<String> baseline = episodeIds(patient.get(), baselineStart, recentStart);
		baseline.remove(self);
		double baselinePerWindow = (double) baseline.size() / settings.baselineWindows();
		if (recent.size() < settings.minEpisodes() || recent.size() <= settings.riseFactor() * baselinePerWindow) {
			return Optional.empty();
		}
		String patientRef = "Patient/" + patient.get().getIdPart();
		long period = when.toInstant().getEpochSecond() / window.getSeconds();
		String periodKey = "nssi-frequency:" + patientRef + ":" + settings.windowDays() + "d-" + period;
		int raisedAt = previousFrequencyCount(patientRef, periodKey);
		if (raisedAt > 0 && recent.size() < 2 * raisedAt) {
			return Optional.empty();
		}
		return Optional.of(new EscalationSignal(EscalationSignal.Kind.NSSI_ESCALATION,
				periodKey + ":n" + recent.size(),
				"Observation/" + self,
				(raisedAt > 0 ? "Further rise (doubled since the last alert) in" : "Rise in") + " self-harm episodes without intent to die: "
						+ recent.size() + " in the last " + settings.windowDays() + " days, baseline "
						+ String.format(Locale.ROOT, "%.1f", baselinePerWindow) + " per " + settings.windowDays() + " days"));
	}

	/**
	 * The highest episode count of the frequency alerts that still bind: open ones, and any raised in this period;
	 * 0 when there is none. An alert from before counts were recorded in its key counts as the minimum.
	 */
	private int previousFrequencyCount(String patientRef, String periodKey) {
		SearchParameterMap map = WholeHistory.search()
				.add(Flag.SP_PATIENT, new ReferenceParam(patientRef))
				.add(Flag.SP_IDENTIFIER, new TokenParam(EVENT_SYSTEM, null));
		int highest = 0;
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("Flag").search(map, new SystemRequestDetails()))) {
			Flag flag = (Flag) r;
			for (Identifier id : flag.getIdentifier()) {
				String key = id.getValue();
				if (key == null || !key.startsWith("nssi-frequency:")) {
					continue;
				}
				boolean samePeriod = key.equals(periodKey) || key.startsWith(periodKey + ":");
				if (flag.getStatus() != Flag.FlagStatus.ACTIVE && !samePeriod) {
					continue;
				}
				int at = key.lastIndexOf(":n");
				int count = settings.minEpisodes();
				if (at > 0) {
					try {
						count = Integer.parseInt(key.substring(at + 2));
					} catch (NumberFormatException e) {
						// keep the minimum
					}
				}
				highest = Math.max(highest, count);
			}
		}
		return highest;
	}

	private Set<String> episodeIds(IIdType patient, Instant from, Instant to) {
		SearchParameterMap map = WholeHistory.search()
				.add(Observation.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(Observation.SP_CODE, new TokenParam(CONCEPTS_SYSTEM, "nssi-episode"))
				.add(Observation.SP_DATE, new DateRangeParam(
						new DateParam(ParamPrefixEnum.GREATERTHAN_OR_EQUALS, Date.from(from)),
						new DateParam(ParamPrefixEnum.LESSTHAN, Date.from(to))));
		Set<String> ids = new HashSet<>();
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("Observation").search(map, new SystemRequestDetails()))) {
			Observation obs = (Observation) r;
			if (obs.getStatus() != Observation.ObservationStatus.ENTEREDINERROR && EscalationSignals.isNonSuicidal(obs)) {
				ids.add(obs.getIdElement().getIdPart());
			}
		}
		return ids;
	}

	private static Date effective(Observation obs) {
		if (obs.hasEffectiveDateTimeType()) {
			return obs.getEffectiveDateTimeType().getValue();
		}
		if (obs.hasEffectivePeriod()) {
			return obs.getEffectivePeriod().getStart();
		}
		return null;
	}
}
