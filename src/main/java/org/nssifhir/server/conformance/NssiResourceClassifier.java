package org.nssifhir.server.conformance;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;
import static org.nssifhir.server.conformance.NssiCanonicals.ICD10CM;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CanonicalType;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Goal;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.support.StandardCodes;

/**
 * Decides whether a resource is an NSSI resource and which of our profiles it must meet: the profiles it claims
 * (ours only), plus the profile its content implies (its code, category or questionnaire). A resource that claims
 * nothing but carries an NSSI episode code is still an NSSI episode, and is held to the episode profile.
 * Anything else is not ours and passes through untouched.
 */
public final class NssiResourceClassifier {

	private record Rule(Class<? extends Resource> type, Predicate<Resource> matches, String profileId) {}

	private static final String ACTIVITY_DEFINITION = NssiCanonicals.BASE + "/ActivityDefinition/nssi-";

	/** Local codes of the treatment components (nssi-treatment-activity-vs): DBT, CBT and the shared modules. */
	private static final Set<String> TREATMENT_PREFIXES = Set.of("dbt-", "cbt-", "family-", "relapse-prevention", "increased-check-ins",
			"medication-review", "suicide-risk-pathway", "safety-plan", "lethal-means-counselling");

	private static final Map<String, String> OBSERVATION_CODE_TO_PROFILE = Map.of(
			"nssi-episode", "nssi-episode",
			"risk-factor", "nssi-risk-factor",
			"protective-factor", "nssi-protective-factor",
			"nssi-assessment-summary", "nssi-screening-result",
			"nssi-days-past-year", "nssi-screening-result",
			"nssi-frequency-criterion-met", "nssi-screening-result",
			"nssi-functions-endorsed", "nssi-screening-result",
			"diary-card", "nssi-diary-card");

	/**
	 * Codes that make a Condition an NSSI diagnosis: they state the intent as non-suicidal. The intent-neutral SNOMED
	 * CT self-harm concepts (248062006, 276853009, 418420002) do not: alone they are self-harm of unknown intent
	 * ({@link #isSelfHarmOfUnknownIntent}), labelled as before but no NSSI diagnosis for a plan or nssi-cond-1, and
	 * the escalation rules treat them as an unsure intent (informaticist review s8, H3).
	 */
	private static final Set<String> NSSI_CONDITION_CODES = Set.of(
			ICD10CM + "|R45.88", ICD10CM + "|Z91.52", CONCEPTS_SYSTEM + "|nssi");

	private static final List<Rule> RULES = List.of(
			// classified by intent, not by the presence of a self-injury code: a self-inflicted injury recorded as a
			// suicide attempt (276853009 + T14.91XA) is not an NSSI condition, nor is one of unknown intent (276853009 alone)
			new Rule(Condition.class, r -> hasAny(((Condition) r).getCode(), NSSI_CONDITION_CODES) && !suicidality((Condition) r), "nssi-condition"),
			new Rule(Flag.class, r -> hasLocal(((Flag) r).getCode(), "suicide-risk"), "nssi-suicide-risk-flag"),
			new Rule(Flag.class, r -> hasLocal(((Flag) r).getCode(), "nssi-escalation") || hasLocal(((Flag) r).getCode(), "severe-depression-score"),
					"nssi-escalation-flag"),
			new Rule(Goal.class, r -> hasLocalPrefix(((Goal) r).getDescription(), "goal-"), "nssi-goal"),
			new Rule(CarePlan.class, r -> ((CarePlan) r).getCategory().stream().anyMatch(c -> hasLocal(c, "dbt-plan")), "nssi-dbt-careplan"),
			new Rule(CarePlan.class, r -> ((CarePlan) r).getCategory().stream().anyMatch(c -> hasLocal(c, "cbt-plan")), "nssi-cbt-careplan"),
			new Rule(CarePlan.class, r -> ((CarePlan) r).getCategory().stream().anyMatch(c -> hasLocal(c, "relapse-prevention-plan-category")), "nssi-relapse-prevention-plan"),
			new Rule(ServiceRequest.class, r -> treatmentCode(((ServiceRequest) r).getCode())
					|| ((ServiceRequest) r).getInstantiatesCanonical().stream().anyMatch(c -> c.getValue() != null && c.getValue().startsWith(ACTIVITY_DEFINITION)), "nssi-treatment-request"),
			new Rule(Procedure.class, r -> treatmentCode(((Procedure) r).getCode()), "nssi-treatment-session"),
			new Rule(QuestionnaireResponse.class, r -> questionnaire(r, "nssi-assessment"), "nssi-assessment-response"),
			new Rule(QuestionnaireResponse.class, r -> questionnaire(r, "nssi-phq9"), "nssi-phq9-response"),
			// an alert's Task (not the safeguarding review raised beside a minor's alert, which has no Flag as focus);
			// Tasks stored before 0.6.0 are given a due time at startup (escalation/EscalationTaskMigration)
			new Rule(Task.class, r -> hasLocal(((Task) r).getCode(), "suicide-risk") || hasLocal(((Task) r).getCode(), "nssi-escalation")
					|| hasLocal(((Task) r).getCode(), "severe-depression-score"),
					"nssi-escalation-task"),
			// the safeguarding review raised beside a minor's alert (since 0.7.0; the server has always made it this way)
			new Rule(Task.class, r -> hasLocal(((Task) r).getCode(), "safeguarding-review"), "nssi-safeguarding-task"));

	/**
	 * Profiles no content rule implies: a resource is held to them only when it claims them in {@code meta.profile}.
	 * A profile belongs here only when its resources are not held to it by content; add it with the reason next to
	 * it. {@code ProfileReachabilityTest} fails for a profile that is neither implied by content nor listed here.
	 */
	static final Set<String> CLAIM_ONLY_PROFILES = Set.of();

	private NssiResourceClassifier() {}

	/** Ids of the profiles {@link #profilesFor} can derive from content alone (claims aside). */
	static Set<String> contentProfiles() {
		Set<String> ids = new TreeSet<>(OBSERVATION_CODE_TO_PROFILE.values());
		RULES.forEach(rule -> ids.add(rule.profileId()));
		return Collections.unmodifiableSet(ids);
	}

	private static boolean treatmentCode(CodeableConcept code) {
		return code.getCoding().stream().anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && c.getCode() != null
				&& TREATMENT_PREFIXES.stream().anyMatch(c.getCode()::startsWith));
	}

	/**
	 * Profiles implied only by standard codes an EHR sends (ICD-10-CM, SNOMED CT): the resource is an NSSI resource
	 * for classification (labels, CDS, care plans), but it is held to the profile only when it claims it. A
	 * US Core Condition with R45.88 and a health-concern category or no clinicalStatus is legitimate R4.
	 */
	static final Set<String> STANDARD_CODE_PROFILES = Set.of("nssi-condition");

	/**
	 * Ids of the profiles a write is validated against: those the resource claims, and those its content implies
	 * through our own codes or Questionnaires. Not those implied by standard codes alone ({@link #STANDARD_CODE_PROFILES}).
	 */
	public static Set<String> profilesToEnforce(IBaseResource resource) {
		Set<String> profiles = profilesFor(resource);
		if (resource instanceof Resource r) {
			Set<String> claimed = new LinkedHashSet<>();
			r.getMeta().getProfile().stream().map(CanonicalType::getValue)
					.filter(url -> url != null && url.startsWith(NssiCanonicals.STRUCTURE_DEFINITION))
					.forEach(url -> claimed.add(stripVersion(url.substring(NssiCanonicals.STRUCTURE_DEFINITION.length()))));
			profiles.removeIf(p -> STANDARD_CODE_PROFILES.contains(p) && !claimed.contains(p));
		}
		return profiles;
	}

	/** Ids of our profiles the resource must meet; empty when it is not an NSSI resource. */
	public static Set<String> profilesFor(IBaseResource resource) {
		Set<String> profiles = new LinkedHashSet<>();
		if (!(resource instanceof Resource r)) {
			return profiles;
		}
		for (CanonicalType claimed : r.getMeta().getProfile()) {
			String url = claimed.getValue();
			if (url != null && url.startsWith(NssiCanonicals.STRUCTURE_DEFINITION)) {
				profiles.add(stripVersion(url.substring(NssiCanonicals.STRUCTURE_DEFINITION.length())));
			}
		}
		if (r instanceof Observation obs) {
			obs.getCode().getCoding().stream()
					// a coding without a code is not one of ours (Map.get(null) would throw: found by NssiInputFuzzTest)
					.filter(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && c.hasCode())
					.map(c -> OBSERVATION_CODE_TO_PROFILE.get(c.getCode()))
					.filter(p -> p != null)
					.forEach(profiles::add);
		}
		for (Rule rule : RULES) {
			if (rule.type().isInstance(r) && rule.matches().test(r)) {
				profiles.add(rule.profileId());
			}
		}
		return profiles;
	}

	/**
	 * A Condition recording self-harm whose intent is unknown: an intent-neutral SNOMED CT self-harm concept
	 * ({@link StandardCodes#isIntentNeutralSelfHarm}) with neither an NSSI code nor a suicidality code. Not an NSSI
	 * diagnosis ({@link #profilesFor} gives it no profile), but NSSI care content for labelling, exactly as it was
	 * labelled while these codes counted as NSSI codes.
	 */
	public static boolean isSelfHarmOfUnknownIntent(IBaseResource resource) {
		return resource instanceof Condition c && !suicidality(c) && !hasAny(c.getCode(), NSSI_CONDITION_CODES)
				&& c.getCode().getCoding().stream().anyMatch(k -> StandardCodes.isIntentNeutralSelfHarm(k.getSystem(), k.getCode()));
	}

	private static boolean suicidality(Condition condition) {
		return condition.getCode().getCoding().stream().anyMatch(c -> StandardCodes.isSuicidality(c.getSystem(), c.getCode()));
	}

	private static String stripVersion(String id) {
		int bar = id.indexOf('|');
		return bar < 0 ? id : id.substring(0, bar);
	}

	private static boolean hasLocal(CodeableConcept concept, String code) {
		return concept.getCoding().stream().anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && code.equals(c.getCode()));
	}

	private static boolean hasLocalPrefix(CodeableConcept concept, String prefix) {
		return concept.getCoding().stream()
				.anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && c.getCode() != null && c.getCode().startsWith(prefix));
	}

	/** Any coding equal to one of {@code system|code}, compared as {@link StandardCodes} does (OID URIs, ICD-10-CM without the dot). */
	private static boolean hasAny(CodeableConcept concept, Set<String> systemAndCodes) {
		return concept.getCoding().stream().anyMatch(c -> systemAndCodes.stream().anyMatch(sc -> {
			int bar = sc.indexOf('|');
			return StandardCodes.is(c.getSystem(), c.getCode(), sc.substring(0, bar), sc.substring(bar + 1));
		}));
	}

	private static boolean questionnaire(Resource r, String id) {
		String canonical = ((QuestionnaireResponse) r).getQuestionnaire();
		return canonical != null && stripVersion(canonical).equals(NssiCanonicals.QUESTIONNAIRE + id);
	}
}
