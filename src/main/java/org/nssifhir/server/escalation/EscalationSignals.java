package org.nssifhir.server.escalation;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;
import static org.nssifhir.server.conformance.NssiCanonicals.LOINC;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Type;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.Digits;
import org.nssifhir.server.support.StandardCodes;

/**
 * Finds the signals in one resource that must raise an alert. Pure logic (no database), so every rule is unit
 * tested; the frequency rule, which needs the patient's history, lives in {@link EscalationService}.
 *
 * <ul>
 *   <li>suicide risk: an NSSI episode with intent to die "present" or "unsure"; a PHQ-9 response (or an
 *       Observation of PHQ-9 item 9, LOINC 44260-8) with item 9 above 0; an NSSI assessment response answering
 *       the suicidal-ideation item yes, or the intent item present/unsure;</li>
 *   <li>suicide risk from standard codes: PHQ-9 item 9 (LOINC 44260-8) above 0 in every form EHRs send it (an
 *       integer, a LOINC answer LA6569-3/LA6570-1/LA6571-9 of list LL358-3, or any answer coding with an ordinal
 *       value extension above 0), alone, as a component of a PHQ-9 panel (44249-1) or total (44261-6), or as the
 *       answer to an item carrying 44260-8 in any Questionnaire; a Condition or Observation recording suicidal
 *       ideation or a suicide attempt (ICD-10-CM R45.851, T14.91X-; SNOMED CT 6471006, 82313006); intentional
 *       self-harm of unrecorded intent (ICD-10-CM X71–X83 without R45.88/Z91.52; on a Condition also the
 *       intent-neutral SNOMED CT self-harm concepts alone), treated as possible suicide risk as an "unsure" intent is. A Condition that is entered-in-error, refuted, inactive, resolved or in remission
 *       raises nothing;</li>
 *   <li>NSSI escalation: an episode, or an NSSI assessment, reporting self-injury that needed medical or emergency care;</li>
 *   <li>issue 19: suicide risk whatever the recorded intent for a method or body site of high lethality
 *       ({@link #LETHAL_METHODS}, {@link #LETHAL_SITES}, free text matching {@link #LETHAL_TEXT}); the function
 *       "to resist suicidal thoughts"; a previous suicide attempt; an assessment where the person did not expect
 *       the injury to stay minor; and, with a Task of priority asap, a PHQ-9 total of 20 or more with item 9 at 0.</li>
 * </ul>
 *
 * <p>The event key names the response when the data comes from one (an Observation extracted from a
 * QuestionnaireResponse is the same event as the response), otherwise the resource itself.
 */
public final class EscalationSignals {

	static final String PHQ9_ITEM9 = "44260-8";
	static final String PHQ9_TOTAL = "44261-6";
	static final String PHQ9_PANEL = "44249-1";
	/**
	 * LOINC answer list LL358-3 (PHQ-9 items) with the scores it stands for (clinical-content.md §1.3, verified): what
	 * EHRs send and, since package 0.6.0, what our own PHQ-9 answers with.
	 */
	public static final Map<String, Integer> PHQ9_ANSWERS = Map.of("LA6568-5", 0, "LA6569-3", 1, "LA6570-1", 2, "LA6571-9", 3);
	/** Extensions that give an answer coding its score (R5-style ordinalValue, SDC itemWeight, the older iso21090 one). */
	static final Set<String> ORDINAL_EXTENSIONS = Set.of(
			"http://hl7.org/fhir/StructureDefinition/ordinalValue",
			"http://hl7.org/fhir/StructureDefinition/itemWeight",
			"http://hl7.org/fhir/StructureDefinition/iso21090-CO-value");
	private static final Set<String> INACTIVE_CONDITION = Set.of("inactive", "resolved", "remission");
	private static final Set<String> UNCONFIRMED_CONDITION = Set.of("entered-in-error", "refuted");
	static final Set<String> RISKY_INTENT = Set.of("intent-present", "intent-unsure");
	static final Set<String> HIGH_CARE = Set.of("care-medical", "care-emergency");
	private static final Set<String> IGNORED_OBSERVATION_STATUS = Set.of("entered-in-error", "cancelled");
	/** Methods of high lethality (local codes, no verified SNOMED CT concept): a suicide-risk signal whatever the recorded intent. */
	static final Set<String> LETHAL_METHODS = Set.of("method-self-poisoning", "method-ligature", "method-jumping");
	/** Body sites where an injury is a suicide-risk signal whatever the recorded intent (the neck: ligature, cutting the throat). */
	static final Set<String> LETHAL_SITES = Set.of("site-neck");
	/** The function "to resist suicidal thoughts": the CodeSystem calls it a reason to check suicide risk. */
	static final String SUICIDE_FUNCTION = "function-resist-suicidal-thoughts";
	static final String PREVIOUS_ATTEMPT = "risk-previous-suicide-attempt";

	/** The person's own item on a previous suicide attempt (intent screen); the same signal as the clinician's risk factor. */
	static final String PREVIOUS_ATTEMPT_ITEM = "previous-suicide-attempt";
	/** PHQ-9 total from which depression is "severe" (published cut-point 20). */
	static final int PHQ9_SEVERE = 20;

	/**
	 * A diary card's urge to die (0-10) at or above this raises an urgent suicide-risk alert: the upper half of the
	 * scale. Deliberately not higher: a false alarm costs a review, a miss can cost a life. The person's app shows
	 * crisis contacts at the same value ({@code /patient/}, js/text-en.js).
	 */
	public static final int DIARY_URGE_TO_DIE_HIGH = 5;
	/**
	 * Free text naming a method of high lethality ("other method" in the assessment, the text of an episode's
	 * method). Deliberately conservative: stems of self-poisoning (overdose, poison, pills, tablets, paracetamol,
	 * acetaminophen, bleach, antifreeze), hanging and ligature (hang, ligature, noose, rope, cord, belt, strangle,
	 * choke, suffocate, asphyxia), jumping, drowning, firearms (gun, shoot, shot), traffic and trains, and the neck
	 * or throat. A false alarm costs a clinician's review; a miss can cost a life. Words are matched whole
	 * (case-insensitive), so "hangout" does not match but "hanging" does.
	 */
	static final Pattern LETHAL_TEXT = Pattern.compile(
			"\\b(overdos\\w*|od|poison\\w*|pills?|tablets?|paracetamol|acetaminophen|tylenol|bleach|antifreeze"
					+ "|hang|hangs|hanged|hanging|ligatures?|noose|ropes?|cords?|belts?|strangl\\w*|chok(e|es|ed|ing)|suffocat\\w*|asphyx\\w*"
					+ "|jump\\w*|drown\\w*|guns?|firearms?|shoot\\w*|shot|traffic|trains?|neck|throat)\\b",
			Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

	/** Whether free text names a method of high lethality ({@link #LETHAL_TEXT}). */
	public static boolean namesLethalMethod(String text) {
		return text != null && LETHAL_TEXT.matcher(text).find();
	}

	private EscalationSignals() {}

	public static List<EscalationSignal> find(IBaseResource resource) {
		if (resource instanceof Observation obs) {
			return fromObservation(obs);
		}
		if (resource instanceof QuestionnaireResponse qr) {
			return fromResponse(qr);
		}
		if (resource instanceof Condition condition) {
			return fromCondition(condition);
		}
		return List.of();
	}

	private static List<EscalationSignal> fromCondition(Condition condition) {
		boolean unconfirmed = condition.getVerificationStatus().getCoding().stream().anyMatch(c -> c.hasCode() && UNCONFIRMED_CONDITION.contains(c.getCode()));
		boolean inactive = condition.getClinicalStatus().getCoding().stream().anyMatch(c -> c.hasCode() && INACTIVE_CONDITION.contains(c.getCode()));
		if (unconfirmed || inactive) {
			return List.of();
		}
		return standardCodeSignal(List.of(condition.getCode()), ref(condition), true).stream().toList();
	}

	/**
	 * Suicidality, or self-harm of unrecorded intent, in these concepts: one signal for the resource (suicidality
	 * wins; R45.88/Z91.52 alongside X71–X83 records the intent as non-suicidal).
	 */
	static Optional<EscalationSignal> standardCodeSignal(List<CodeableConcept> concepts, String self) {
		return standardCodeSignal(concepts, self, false);
	}

	/**
	 * {@code condition}: the concepts are a Condition's code, where an intent-neutral SNOMED CT self-harm concept
	 * (248062006, 276853009, 418420002) without R45.88/Z91.52 is self-harm of unknown intent too, judged as an
	 * X71–X83 code is and as an episode with intent "unsure" is: possible suicide risk (informaticist review s8, H3).
	 * The same holds for an Observation with those codes and no intent recorded (an episode from another system,
	 * ConceptMap nssi-inbound-episode, which the episode figures count as of unknown intent).
	 */
	static Optional<EscalationSignal> standardCodeSignal(List<CodeableConcept> concepts, String self, boolean condition) {
		List<Coding> codings = concepts.stream().filter(c -> c != null).flatMap(c -> c.getCoding().stream()).toList();
		if (codings.stream().anyMatch(c -> StandardCodes.isSuicidality(c.getSystem(), c.getCode()))) {
			return Optional.of(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-risk:" + self, self,
					"Suicidal ideation or suicide attempt recorded"));
		}
		boolean selfHarm = codings.stream().anyMatch(c -> StandardCodes.isIntentionalSelfHarmExternalCause(c.getSystem(), c.getCode())
				|| condition && StandardCodes.isIntentNeutralSelfHarm(c.getSystem(), c.getCode()));
		boolean nonSuicidal = codings.stream().anyMatch(c -> StandardCodes.isNonSuicidalSelfHarm(c.getSystem(), c.getCode()));
		if (selfHarm && !nonSuicidal) {
			return Optional.of(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-risk:" + self, self,
					"Intentional self-harm, intent not recorded: possible suicide risk"));
		}
		return Optional.empty();
	}

	/** Answers of the PHQ-9 item 9 follow-up (nssi-item9-followup-vs) and what the alert says for each. */
	static final Map<String, String> ITEM9_FOLLOW_UP = Map.of(
			"item9-thoughts-self-harm", "; follow-up: thoughts of hurting themselves without wanting to die (NSSI thoughts); check suicide risk all the same",
			"item9-thoughts-death", "; follow-up: thoughts of being better off dead or of ending their life (suicidal thoughts)",
			"item9-thoughts-both", "; follow-up: both thoughts of self-harm and of being better off dead or of suicide",
			"item9-thoughts-unsure", "; follow-up: the person is not sure which");

	private static String item9FollowUp(QuestionnaireResponse qr) {
		return answerCodes(qr, "phq9-item9-followup").stream().map(ITEM9_FOLLOW_UP::get).filter(t -> t != null).findFirst()
				.orElse("; follow-up not answered: which thoughts is not known");
	}

	/**
	 * The yes/no items of the NSSI assessment's suicide screen that raise the suicide-risk alert, with the words the
	 * alert uses. A wish to be dead without thoughts of acting on it is included: in people who self-injure it is a
	 * reason to assess suicide risk now, not only a context.
	 */
	public static final Map<String, String> SUICIDE_SCREEN = orderedScreen();

	private static Map<String, String> orderedScreen() {
		Map<String, String> screen = new java.util.LinkedHashMap<>();
		screen.put("passive-death-wish", "wish to be dead reported");
		screen.put("suicidal-ideation", "thoughts of suicide reported");
		screen.put("suicide-plan", "a way to end their life thought through or prepared for");
		screen.put("access-to-means", "access to a means of serious self-harm or suicide");
		return java.util.Collections.unmodifiableMap(screen);
	}

	/**
	 * A current injury that needs first aid, reported in an NSSI assessment, as a candidate escalation for a person
	 * under 18 or of unknown age: the same lower threshold as for episodes ({@link #firstAidForMinor}).
	 */
	static Optional<EscalationSignal> currentInjuryFirstAidForMinor(QuestionnaireResponse qr) {
		if (qr.getStatus() == QuestionnaireResponse.QuestionnaireResponseStatus.ENTEREDINERROR || qr.getQuestionnaire() == null
				|| !qr.getQuestionnaire().startsWith(NssiCanonicals.QUESTIONNAIRE + "nssi-assessment")) {
			return Optional.empty();
		}
		String self = ref(qr);
		return answerCodes(qr, "nssi-current-injury-care").stream().filter(MINOR_CARE_THRESHOLD::equals).findFirst()
				.map(care -> new EscalationSignal(EscalationSignal.Kind.NSSI_ESCALATION, "current-injury:" + self, self,
						"NSSI assessment: a current injury needs first aid, in a person under 18 or of unknown age (lower threshold for minors)"));
	}

	/** Care level from which an episode of a person under 18 (or of unknown age) escalates: first aid from someone else. */
	static final String MINOR_CARE_THRESHOLD = "care-first-aid";

	/**
	 * An episode that needed first aid, as a candidate NSSI escalation for a person under 18 or of unknown age (the
	 * caller knows the age; an adult's episode escalates from medical care, {@link #HIGH_CARE}). Choice and reason: a
	 * young person's injury that someone else had to treat is a reason to review now, and young people under-report.
	 */
	static Optional<EscalationSignal> firstAidForMinor(Observation episode) {
		String status = episode.getStatus() == null ? null : episode.getStatus().toCode();
		if (status != null && IGNORED_OBSERVATION_STATUS.contains(status)) {
			return Optional.empty();
		}
		String self = ref(episode);
		return component(episode, "care-level").flatMap(EscalationSignals::localCode).filter(MINOR_CARE_THRESHOLD::equals)
				.map(care -> new EscalationSignal(EscalationSignal.Kind.NSSI_ESCALATION, "nssi-care:" + self, self,
						"Self-harm episode that needed first aid, in a person under 18 or of unknown age (lower threshold for minors)"));
	}

	static boolean isDiaryCard(Observation obs) {
		return hasCode(obs.getCode(), CONCEPTS_SYSTEM, "diary-card");
	}

	static boolean isEpisode(Observation obs) {
		return hasCode(obs.getCode(), CONCEPTS_SYSTEM, "nssi-episode");
	}

	/**
	 * Whether a self-harm episode counts as NSSI: its intent to die is recorded as absent ({@code intent-none}).
	 * Intent present is suicidal behaviour; intent unsure, or no intent recorded (data that bypassed the
	 * profile), is treated as possible suicidal behaviour. Neither counts towards NSSI-specific figures (the
	 * frequency rule, the "fewer episodes" goal, the DSM-5 day count of {@code $populate}).
	 */
	public static boolean isNonSuicidal(Observation episode) {
		List<String> intents = episode.getComponent().stream()
				.filter(c -> hasCode(c.getCode(), CONCEPTS_SYSTEM, "suicidal-intent"))
				.map(c -> localCode(c.getValue()).orElse("unrecorded"))
				.toList();
		return !intents.isEmpty() && intents.stream().allMatch("intent-none"::equals);
	}

	private static List<EscalationSignal> fromObservation(Observation obs) {
		List<EscalationSignal> signals = new ArrayList<>();
		// toCode() is null for a status set in code but not to a FHIR value (Set.contains(null) throws: NssiInputFuzzTest)
		String status = obs.getStatus() == null ? null : obs.getStatus().toCode();
		if (status != null && IGNORED_OBSERVATION_STATUS.contains(status)) {
			return signals;
		}
		String self = ref(obs);
		if (isEpisode(obs)) {
			component(obs, "suicidal-intent").flatMap(EscalationSignals::localCode).filter(RISKY_INTENT::contains).ifPresent(intent -> signals.add(
					new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-risk:" + self, self,
							"Self-harm episode with intent to die " + (intent.equals("intent-present") ? "present" : "unsure"))));
			component(obs, "care-level").flatMap(EscalationSignals::localCode).filter(HIGH_CARE::contains).ifPresent(care -> signals.add(
					new EscalationSignal(EscalationSignal.Kind.NSSI_ESCALATION, "nssi-care:" + self, self,
							"Self-harm episode that needed " + (care.equals("care-emergency") ? "emergency" : "medical") + " care")));
			lethality(obs).ifPresent(why -> signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "lethal-method:" + self, self,
					"Self-harm episode by a method or at a site of high lethality (" + why + "): check suicide risk whatever the recorded intent")));
			if (components(obs, "function").map(EscalationSignals::localCode).flatMap(Optional::stream).anyMatch(SUICIDE_FUNCTION::equals)) {
				signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-function:" + self, self,
						"Self-harm episode done to resist suicidal thoughts"));
			}
			return signals;
		}
		if (isDiaryCard(obs)) {
			// the person's own diary card: a high urge to die is a direct suicide signal (the app shows crisis contacts
			// at the same threshold); a self-harm act is recorded as an episode of its own, which the rules above judge
			component(obs, "urge-to-die").flatMap(EscalationSignals::number).filter(v -> v >= DIARY_URGE_TO_DIE_HIGH).ifPresent(v -> signals.add(
					new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "diary-urge-to-die:" + self, self,
							"Diary card: urge to die " + v + " of 10 (" + DIARY_URGE_TO_DIE_HIGH + " or more)")));
			return signals;
		}
		String event = eventOf(obs, self);
		// extracted assessment answers (risk factors, functions endorsed) are the same event as their response
		if (localCodes(obs).contains(PREVIOUS_ATTEMPT) && hasCode(obs.getCode(), CONCEPTS_SYSTEM, "risk-factor")) {
			signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-attempt-history:" + event, self,
					"Previous suicide attempt recorded"));
		}
		if (localCodes(obs).contains(SUICIDE_FUNCTION)) {
			signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-function:" + event, self,
					"Self-injury used to resist suicidal thoughts"));
		}
		// PHQ-9 item 9 recorded as an Observation of its own, or as a component of a PHQ-9 panel or total
		Optional<Integer> item9 = hasCode(obs.getCode(), LOINC, PHQ9_ITEM9)
				? number(obs.getValue())
				: hasCode(obs.getCode(), LOINC, PHQ9_TOTAL) || hasCode(obs.getCode(), LOINC, PHQ9_PANEL)
						? obs.getComponent().stream().filter(c -> hasCode(c.getCode(), LOINC, PHQ9_ITEM9)).findFirst().flatMap(c -> number(c.getValue()))
						: Optional.empty();
		Optional<Integer> total = hasCode(obs.getCode(), LOINC, PHQ9_TOTAL)
				? number(obs.getValue())
				: hasCode(obs.getCode(), LOINC, PHQ9_PANEL)
						? obs.getComponent().stream().filter(c -> hasCode(c.getCode(), LOINC, PHQ9_TOTAL)).findFirst().flatMap(c -> number(c.getValue()))
						: Optional.empty();
		if (item9.filter(v -> v > 0).isEmpty() && total.filter(t -> t >= PHQ9_SEVERE).isPresent()) {
			signals.add(severeDepression(event, self, item9.isPresent()));
			return signals;
		}
		if (item9.filter(v -> v > 0).isPresent()) {
			signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-risk:" + event, self,
					"PHQ-9 item 9 (thoughts of being better off dead or of self-harm) above 0"));
			return signals;
		}
		List<CodeableConcept> concepts = new ArrayList<>(List.of(obs.getCode()));
		if (obs.getValue() instanceof CodeableConcept value) {
			concepts.add(value);
		}
		// an EHR's self-harm Observation coded only with an intent-neutral SNOMED CT concept, with no intent recorded, is
		// self-harm of unknown intent exactly as such a Condition is: the same alert whatever the resource type (it
		// raised none as an Observation; informaticist review s8, left item). An episode recording its intent is judged
		// by that intent above.
		boolean intentRecorded = obs.getComponent().stream().anyMatch(c -> hasCode(c.getCode(), CONCEPTS_SYSTEM, "suicidal-intent"));
		standardCodeSignal(concepts, self, !intentRecorded).ifPresent(signals::add);
		return signals;
	}

	/**
	 * A response to a Questionnaire that is not ours: PHQ-9 item 9 is the item whose Questionnaire item carries
	 * LOINC 44260-8, or whose linkId is that code ({@code itemCodes}: linkId → the codes of the item).
	 */
	public static List<EscalationSignal> fromForeignResponse(QuestionnaireResponse qr, Map<String, List<Coding>> itemCodes) {
		if (qr.getStatus() == QuestionnaireResponse.QuestionnaireResponseStatus.ENTEREDINERROR) {
			return List.of();
		}
		String self = ref(qr);
		boolean item9 = itemCodes.entrySet().stream()
				.filter(e -> e.getValue().stream().anyMatch(c -> StandardCodes.is(c.getSystem(), c.getCode(), LOINC, PHQ9_ITEM9)))
				.flatMap(e -> answers(qr.getItem(), e.getKey()))
				.map(EscalationSignals::number).flatMap(Optional::stream)
				.anyMatch(v -> v > 0);
		return item9
				? List.of(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-risk:" + self, self,
						"PHQ-9 item 9 (thoughts of being better off dead or of self-harm) above 0"))
				: List.of();
	}

	private static List<EscalationSignal> fromResponse(QuestionnaireResponse qr) {
		List<EscalationSignal> signals = new ArrayList<>();
		if (qr.getStatus() == QuestionnaireResponse.QuestionnaireResponseStatus.ENTEREDINERROR || qr.getQuestionnaire() == null) {
			return signals;
		}
		String self = ref(qr);
		if (qr.getQuestionnaire().startsWith(NssiCanonicals.QUESTIONNAIRE + "nssi-phq9")) {
			boolean item9 = answers(qr.getItem(), "phq9-item-9").map(a -> number(a)).flatMap(Optional::stream).anyMatch(v -> v > 0);
			if (item9) {
				// always a suicide-risk alert; the follow-up (item 9a, issue 19 item 8a) only says which thoughts it was
				signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-risk:" + self, self,
						"PHQ-9 item 9 (thoughts of being better off dead or of self-harm) above 0" + item9FollowUp(qr)));
			} else {
				int total = 0;
				for (int i = 1; i <= 9; i++) {
					total += answers(qr.getItem(), "phq9-item-" + i).map(EscalationSignals::number).flatMap(Optional::stream).findFirst().orElse(0);
				}
				if (total >= PHQ9_SEVERE) {
					signals.add(severeDepression(self, self, true));
				}
			}
		} else if (qr.getQuestionnaire().startsWith(NssiCanonicals.QUESTIONNAIRE + "nssi-assessment")) {
			boolean intent = answers(qr.getItem(), "nssi-intent")
					.anyMatch(a -> a instanceof Coding c && CONCEPTS_SYSTEM.equals(c.getSystem()) && c.hasCode() && RISKY_INTENT.contains(c.getCode()));
			// every yes of the suicide screen, named in the one alert of this response (the notice promises one call)
			List<String> endorsed = new ArrayList<>();
			if (intent) {
				endorsed.add("intent to die present or unsure");
			}
			SUICIDE_SCREEN.forEach((item, words) -> {
				if (answers(qr.getItem(), item).anyMatch(a -> a instanceof BooleanType b && b.booleanValue())) {
					endorsed.add(words);
				}
			});
			if (!endorsed.isEmpty()) {
				signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-risk:" + self, self,
						"NSSI assessment: " + String.join("; ", endorsed)));
			}
			// an injury that needs medical or emergency care now, whatever the age (first aid: minors, EscalationService)
			answerCodes(qr, "nssi-current-injury-care").stream().filter(HIGH_CARE::contains).findFirst().ifPresent(care -> signals.add(
					new EscalationSignal(EscalationSignal.Kind.NSSI_ESCALATION, "current-injury:" + self, self,
							"NSSI assessment: a current injury needs " + (care.equals("care-emergency") ? "emergency" : "medical") + " care")));
			// the on-screen notice promises a call for this answer: the Task is that call
			if (answers(qr.getItem(), "nssi-expected-minor-harm").anyMatch(a -> a instanceof BooleanType b && Boolean.FALSE.equals(b.getValue()))) {
				signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "expected-severe-harm:" + self, self,
						"NSSI assessment: did not expect the injury to stay minor or moderate (the form promised a safety conversation)"));
			}
			// the clinician's risk factor or the person's own answer: one event key, so both together raise one alert
			if (answerCodes(qr, "nssi-risk-factors").contains(PREVIOUS_ATTEMPT)
					|| answers(qr.getItem(), PREVIOUS_ATTEMPT_ITEM).anyMatch(a -> a instanceof BooleanType b && b.booleanValue())) {
				signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-attempt-history:" + self, self,
						"NSSI assessment: previous suicide attempt"));
			}
			if (answerCodes(qr, "nssi-functions").contains(SUICIDE_FUNCTION)) {
				signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "suicide-function:" + self, self,
						"NSSI assessment: self-injury used to resist suicidal thoughts"));
			}
			answerCodes(qr, "nssi-care-level").stream().filter(HIGH_CARE::contains).findFirst().ifPresent(care -> signals.add(
					new EscalationSignal(EscalationSignal.Kind.NSSI_ESCALATION, "nssi-care:" + self, self,
							"NSSI assessment: self-injury needed " + (care.equals("care-emergency") ? "emergency" : "medical") + " care in the past 12 months")));
			List<String> lethal = new ArrayList<>(answerCodes(qr, "nssi-methods").stream().filter(LETHAL_METHODS::contains).toList());
			if (answers(qr.getItem(), "nssi-methods-other").anyMatch(a -> a instanceof StringType t && namesLethalMethod(t.getValue()))) {
				lethal.add("other method described in free text");
			}
			if (!lethal.isEmpty()) {
				signals.add(new EscalationSignal(EscalationSignal.Kind.SUICIDE_RISK, "lethal-method:" + self, self,
						"NSSI assessment: method of high lethality (" + String.join(", ", lethal) + "): check suicide risk"));
			}
		}
		return signals;
	}

	/** All answer values of the items with this linkId, at any depth (groups and nested answers). */
	public static Stream<Type> answers(List<QuestionnaireResponse.QuestionnaireResponseItemComponent> items, String linkId) {
		return items.stream().flatMap(item -> {
			Stream<Type> own = linkId.equals(item.getLinkId())
					? item.getAnswer().stream().map(QuestionnaireResponse.QuestionnaireResponseItemAnswerComponent::getValue).filter(v -> v != null)
					: Stream.empty();
			Stream<Type> nested = Stream.concat(
					answers(item.getItem(), linkId),
					item.getAnswer().stream().flatMap(a -> answers(a.getItem(), linkId)));
			return Stream.concat(own, nested);
		});
	}

	/**
	 * A total of 20 or more without item 9 above 0. {@code item9Known}: item 9 was answered 0; otherwise the total came
	 * alone (an EHR's 44261-6 without its 44260-8 component), and the alert says so and asks for item 9 now rather than
	 * claiming it was 0 (informaticist review s7, W2).
	 */
	private static EscalationSignal severeDepression(String event, String self, boolean item9Known) {
		return new EscalationSignal(EscalationSignal.Kind.SEVERE_DEPRESSION_SCORE, "phq9-severe:" + event, self,
				"PHQ-9 total of " + PHQ9_SEVERE + " or more (severe depression) with " + (item9Known
						? "item 9 at 0: review depression and check suicide risk"
						: "item 9 not reported: ask item 9 (thoughts of being better off dead or of self-harm) now, review depression and check suicide risk"));
	}

	/** The response an Observation was extracted from (the event), or the Observation itself. */
	private static String eventOf(Observation obs, String self) {
		return obs.getDerivedFrom().stream()
				.map(Reference::getReference)
				.filter(r -> r != null && r.startsWith("QuestionnaireResponse/"))
				.map(EscalationSignals::versionless)
				.findFirst()
				.orElse(self);
	}

	/** Why an episode's method or body site is of high lethality, if it is: lethal method codes, the neck, or free text naming one. */
	static Optional<String> lethality(Observation episode) {
		List<String> why = new ArrayList<>();
		components(episode, "method").forEach(value -> {
			localCode(value).filter(LETHAL_METHODS::contains).ifPresent(why::add);
			if (value instanceof CodeableConcept cc) {
				boolean text = namesLethalMethod(cc.getText())
						|| cc.getCoding().stream().anyMatch(c -> "method-other".equals(c.getCode()) && namesLethalMethod(c.getDisplay()));
				if (text) {
					why.add("method described in free text");
				}
			}
		});
		components(episode, "body-site").forEach(value -> {
			localCode(value).filter(LETHAL_SITES::contains).ifPresent(why::add);
			if (value instanceof CodeableConcept cc && namesLethalMethod(cc.getText())) {
				why.add("body site described in free text");
			}
		});
		return why.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", why.stream().distinct().toList()));
	}

	/** The local codes of an Observation's value and component values. */
	private static Set<String> localCodes(Observation obs) {
		Set<String> codes = new HashSet<>();
		Stream.concat(Stream.of(obs.getValue()), obs.getComponent().stream().map(Observation.ObservationComponentComponent::getValue))
				.filter(v -> v != null)
				.forEach(v -> {
					if (v instanceof CodeableConcept cc) {
						cc.getCoding().stream().filter(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && c.hasCode()).forEach(c -> codes.add(c.getCode()));
					} else {
						localCode(v).ifPresent(codes::add);
					}
				});
		return codes;
	}

	/** The local codes answered to the items with this linkId. */
	private static Set<String> answerCodes(QuestionnaireResponse qr, String linkId) {
		Set<String> codes = new HashSet<>();
		answers(qr.getItem(), linkId).forEach(a -> localCode(a).ifPresent(codes::add));
		return codes;
	}

	private static Stream<Type> components(Observation obs, String localCode) {
		return obs.getComponent().stream()
				.filter(c -> hasCode(c.getCode(), CONCEPTS_SYSTEM, localCode))
				.map(Observation.ObservationComponentComponent::getValue)
				.filter(v -> v != null);
	}

	private static Optional<Type> component(Observation obs, String localCode) {
		return obs.getComponent().stream()
				.filter(c -> hasCode(c.getCode(), CONCEPTS_SYSTEM, localCode))
				.map(Observation.ObservationComponentComponent::getValue)
				.filter(v -> v != null)
				.findFirst();
	}

	private static Optional<String> localCode(Type value) {
		if (value instanceof CodeableConcept cc) {
			// codings without a code are skipped: findFirst() and Set.contains() throw on null (found by NssiInputFuzzTest)
			return cc.getCoding().stream().filter(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && c.hasCode()).map(Coding::getCode).findFirst();
		}
		if (value instanceof Coding c && CONCEPTS_SYSTEM.equals(c.getSystem())) {
			return Optional.ofNullable(c.getCode());
		}
		return Optional.empty();
	}

	/**
	 * The score an answer stands for, in every form a PHQ-9 item is answered: an integer (our responses before 0.6.0),
	 * an LL358-3 LOINC answer, a coding with an ordinal value, a code of digits, a quantity.
	 */
	public static Optional<Integer> number(Type value) {
		if (value instanceof IntegerType i && i.getValue() != null) {
			return Optional.of(i.getValue());
		}
		if (value instanceof Quantity q && q.getValue() != null) {
			return Optional.of(q.getValue().intValue());
		}
		if (value instanceof Coding c) {
			return codingNumber(c);
		}
		if (value instanceof CodeableConcept cc) {
			return cc.getCoding().stream().map(EscalationSignals::codingNumber).flatMap(Optional::stream).findFirst();
		}
		return Optional.empty();
	}

	/** The score an answer coding stands for: a PHQ-9 LOINC answer, an ordinal-value extension, or a code of digits. */
	private static Optional<Integer> codingNumber(Coding c) {
		if (StandardCodes.LOINC.equals(StandardCodes.system(c.getSystem())) && c.getCode() != null && PHQ9_ANSWERS.containsKey(c.getCode().trim())) {
			return Optional.of(PHQ9_ANSWERS.get(c.getCode().trim()));
		}
		for (Extension ext : c.getExtension()) {
			if (ORDINAL_EXTENSIONS.contains(ext.getUrl()) && ext.getValue() instanceof DecimalType d && d.getValue() != null) {
				BigDecimal v = d.getValue();
				// any score above 0 counts: 0.5 is not "not at all"
				return Optional.of(v.signum() <= 0 ? 0 : Math.max(1, v.intValue()));
			}
		}
		return Digits.of(c.getCode());
	}

	static boolean hasCode(CodeableConcept concept, String system, String code) {
		return concept != null && concept.getCoding().stream().anyMatch(c -> StandardCodes.is(c.getSystem(), c.getCode(), system, code));
	}

	private static String ref(Resource resource) {
		return resource.fhirType() + "/" + resource.getIdElement().getIdPart();
	}

	private static String versionless(String reference) {
		int history = reference.indexOf("/_history");
		return history < 0 ? reference : reference.substring(0, history);
	}
}
