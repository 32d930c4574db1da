package org.nssifhir.server.assessment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;
import static org.nssifhir.server.conformance.NssiCanonicals.LOINC;

import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Type;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.escalation.EscalationSignals;
import org.nssifhir.server.support.ErrorCode;

/**
 * Turns a completed NSSI assessment or PHQ-9 response into our profiled Observations (pure logic, no database):
 *
 * <ul>
 *   <li>NSSI assessment: days with NSSI in the past year, whether the frequency criterion (5 or more days) is
 *       met, the functions endorsed ({@code nssi-screening-result}); one {@code nssi-risk-factor} /
 *       {@code nssi-protective-factor} per factor; and the assessment summary, whose {@code hasMember} points at
 *       the results and whose components give the methods (episode history), the intent and ideation answers,
 *       and the counts of functions, risk and protective factors;</li>
 *   <li>PHQ-9: the total score (LOINC 44261-6) with its severity band and item 9 as components.</li>
 * </ul>
 *
 * <p>Every Observation has {@code derivedFrom} the response and an identifier made of the response id and the
 * item it comes from ({@link #IDENTIFIER_SYSTEM}), which makes extraction idempotent: the caller creates each
 * one conditionally on that identifier.
 */
public final class AssessmentExtractor {

	public static final String IDENTIFIER_SYSTEM = NssiCanonicals.BASE + "/extracted-from";
	static final String ASSESSMENT = NssiCanonicals.QUESTIONNAIRE + "nssi-assessment";
	static final String PHQ9 = NssiCanonicals.QUESTIONNAIRE + "nssi-phq9";
	private static final String SURVEY = "http://terminology.hl7.org/CodeSystem/observation-category";

	/** One Observation to create, with the local id the summary's {@code hasMember} refers to. */
	public record Extracted(String key, Observation observation) {}

	private AssessmentExtractor() {}

	static boolean isAssessment(QuestionnaireResponse qr) {
		return questionnaire(qr).filter(ASSESSMENT::equals).isPresent();
	}

	static boolean isPhq9(QuestionnaireResponse qr) {
		return questionnaire(qr).filter(PHQ9::equals).isPresent();
	}

	public static boolean supports(QuestionnaireResponse qr) {
		return questionnaire(qr).filter(q -> q.equals(ASSESSMENT) || q.equals(PHQ9)).isPresent();
	}

	public static List<Extracted> extract(QuestionnaireResponse qr) {
		String questionnaire = questionnaire(qr).orElse("");
		if (!questionnaire.equals(ASSESSMENT) && !questionnaire.equals(PHQ9)) {
			throw unprocessable(ErrorCode.QUESTIONNAIRE_NOT_SUPPORTED,
					"Only responses to " + ASSESSMENT + " and " + PHQ9 + " can be extracted");
		}
		if (qr.getStatus() != QuestionnaireResponse.QuestionnaireResponseStatus.COMPLETED
				&& qr.getStatus() != QuestionnaireResponse.QuestionnaireResponseStatus.AMENDED) {
			throw unprocessable(ErrorCode.RESPONSE_NOT_EXTRACTABLE, "Only completed or amended responses are extracted");
		}
		if (!qr.hasSubject() || !"Patient".equals(qr.getSubject().getReferenceElement().getResourceType())) {
			throw unprocessable(ErrorCode.RESPONSE_NOT_EXTRACTABLE, "The response has no Patient subject");
		}
		return questionnaire.equals(PHQ9) ? phq9(qr) : assessment(qr);
	}

	static List<Extracted> phq9(QuestionnaireResponse qr) {
		int total = 0;
		for (int item = 1; item <= 9; item++) {
			Optional<Integer> score = first(qr, "phq9-item-" + item).flatMap(AssessmentExtractor::integer);
			if (score.isEmpty() || score.get() < 0 || score.get() > 3) {
				throw unprocessable(ErrorCode.RESPONSE_NOT_EXTRACTABLE,
						"PHQ-9 item " + item + " needs an answer from 0 to 3 for a total score");
			}
			total += score.get();
		}
		Observation obs = base(qr, "phq9-total", true);
		obs.getCode().addCoding(new Coding(LOINC, "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"));
		obs.setValue(new Quantity().setValue(new BigDecimal(total)).setUnit("{score}").setSystem("http://unitsofmeasure.org").setCode("{score}"));
		obs.addComponent(component(new Coding(CONCEPTS_SYSTEM, "phq9-severity", "PHQ-9 severity band"), severity(total)));
		obs.addComponent(component(
				new Coding(LOINC, "44260-8", "Thoughts that you would be better off dead, or of hurting yourself in some way in last 2 weeks [Reported.PHQ]"),
				new CodeableConcept(item9Answer(qr))));
		return List.of(new Extracted("phq9-total", obs));
	}

	/**
	 * Item 9 as answered: its LL358-3 LOINC answer, kept as the response has it (issue 19 review, item 2: the answer
	 * code, not only its score, as the standard PHQ-9 item Observation carries it), with the score as ordinalValue; an
	 * integer of a response stored before 0.6.0 becomes the LOINC answer of that score, as a write of it would now.
	 * Readers score it by the same rule as every PHQ-9 answer ({@link EscalationSignals#number}).
	 */
	private static Coding item9Answer(QuestionnaireResponse qr) {
		Type answer = first(qr, "phq9-item-9").orElseThrow();
		int score = integer(answer).orElseThrow();
		if (answer instanceof Coding coded && NssiCanonicals.LOINC.equals(coded.getSystem()) && coded.hasCode()) {
			Coding kept = coded.copy();
			if (!kept.hasExtension(ORDINAL_VALUE)) {
				kept.addExtension(ORDINAL_VALUE, new org.hl7.fhir.r4.model.DecimalType(score));
			}
			return kept;
		}
		return Phq9TotalRule.answerCoding(score);
	}

	private static final String ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue";

	/**
	 * The suicide-screen and injury answers that must reach the summary, not only the response (issue 19 review,
	 * item 2): a reader of extracted results (a registry, an EHR importing Observations) must see a wish to be dead, a
	 * plan, access to means, a previous attempt and a current injury needing care. linkId → the item's own local code
	 * (its {@code item.code} in the Questionnaire).
	 */
	private static final String[][] SCREEN_ITEMS = {
		{"passive-death-wish", "passive-death-wish", "Wish to be dead without thoughts of acting on it (question)"},
		{"suicide-plan", "suicide-plan", "A way of ending one's life thought through or prepared for (question)"},
		{"access-to-means", "access-to-means", "Access to a means of serious self-harm or suicide (question)"},
		{"previous-suicide-attempt", "previous-suicide-attempt", "Previous suicide attempt, asked of the person (question)"},
		// "no" raises an alert (the form promises a safety conversation): the summary shows why (informaticist review s8)
		{"nssi-expected-minor-harm", "expected-minor-harm", "Expected the injury to stay minor or moderate (question)"},
	};

	/** Band of a PHQ-9 total by the published cut-points 5, 10, 15, 20. */
	public static CodeableConcept severity(int total) {
		String[][] bands = {
			{"phq9-minimal", "Minimal or none (0-4)"},
			{"phq9-mild", "Mild (5-9)"},
			{"phq9-moderate", "Moderate (10-14)"},
			{"phq9-moderately-severe", "Moderately severe (15-19)"},
			{"phq9-severe", "Severe (20-27)"}
		};
		String[] band = bands[Math.min(total / 5, 4)];
		return new CodeableConcept(new Coding(CONCEPTS_SYSTEM, band[0], band[1]));
	}

	static List<Extracted> assessment(QuestionnaireResponse qr) {
		List<Extracted> out = new ArrayList<>();
		Optional<Integer> days = first(qr, "nssi-days-past-year").flatMap(AssessmentExtractor::integer);
		days.ifPresent(d -> {
			Observation obs = base(qr, "nssi-days-past-year", true);
			obs.getCode().addCoding(local("nssi-days-past-year", "Days with NSSI in the past year"));
			obs.setValue(new IntegerType(d));
			out.add(new Extracted("nssi-days-past-year", obs));
		});
		// criterion A: 5 or more days; from the reported days, else from the clinician's judgement
		Optional<Boolean> criterion = days.map(d -> d >= 5)
				.or(() -> first(qr, "clin-frequency-criterion-met").filter(BooleanType.class::isInstance).map(b -> ((BooleanType) b).booleanValue()));
		criterion.ifPresent(met -> {
			Observation obs = base(qr, "nssi-frequency-criterion-met", true);
			obs.getCode().addCoding(local("nssi-frequency-criterion-met", "NSSI frequency criterion met"));
			obs.setValue(new BooleanType(met));
			out.add(new Extracted("nssi-frequency-criterion-met", obs));
		});
		List<Coding> functions = codings(qr, "nssi-functions");
		if (!functions.isEmpty()) {
			Observation obs = base(qr, "nssi-functions", true);
			obs.getCode().addCoding(local("nssi-functions-endorsed", "NSSI functions endorsed"));
			functions.forEach(f -> obs.addComponent(component(local("function", "Function"), new CodeableConcept(f))));
			out.add(new Extracted("nssi-functions", obs));
		}
		List<Coding> risks = codings(qr, "nssi-risk-factors");
		for (Coding risk : risks) {
			Observation obs = base(qr, "nssi-risk-factors/" + risk.getCode(), false);
			obs.getCode().addCoding(local("risk-factor", "NSSI risk factor"));
			obs.setValue(new CodeableConcept(risk));
			out.add(new Extracted("risk/" + risk.getCode(), obs));
		}
		List<Coding> protective = codings(qr, "nssi-protective-factors");
		for (Coding factor : protective) {
			Observation obs = base(qr, "nssi-protective-factors/" + factor.getCode(), false);
			obs.getCode().addCoding(local("protective-factor", "NSSI protective factor"));
			obs.setValue(new CodeableConcept(factor));
			out.add(new Extracted("protective/" + factor.getCode(), obs));
		}

		Observation summary = base(qr, "summary", true);
		summary.getCode().addCoding(local("nssi-assessment-summary", "NSSI assessment summary"));
		for (Extracted member : out) {
			summary.addHasMember(new Reference(member.key()));
		}
		// an "other" method keeps the person's description as its text: free text naming a lethal method raises an
		// alert, and a reader of the summary must see what it said (informaticist review s8)
		Optional<String> otherMethod = first(qr, "nssi-methods-other").filter(StringType.class::isInstance)
				.map(t -> ((StringType) t).getValue()).filter(t -> t != null && !t.isBlank());
		codings(qr, "nssi-methods").forEach(m -> {
			CodeableConcept method = new CodeableConcept(m);
			if ("method-other".equals(m.getCode()) && CONCEPTS_SYSTEM.equals(m.getSystem())) {
				otherMethod.ifPresent(method::setText);
			}
			summary.addComponent(component(local("method", "Method of self-injury"), method));
		});
		codings(qr, "nssi-intent").stream().findFirst()
				.ifPresent(i -> summary.addComponent(component(local("suicidal-intent", "Any intent to die"), new CodeableConcept(i))));
		// a question code with a yes/no value: SNOMED CT 6471006 is the finding "suicidal thoughts", so "6471006 = false"
		// would read as a finding recorded and negated in the same place (issue 19, item 9)
		first(qr, "suicidal-ideation").filter(BooleanType.class::isInstance).ifPresent(b -> summary.addComponent(
				component(local("suicidal-thoughts-past-month", "Thoughts of ending one's life in the past month (question)"), ((BooleanType) b).copy())));
		for (String[] item : SCREEN_ITEMS) {
			first(qr, item[0]).filter(BooleanType.class::isInstance)
					.ifPresent(b -> summary.addComponent(component(local(item[1], item[2]), ((BooleanType) b).copy())));
		}
		codings(qr, "nssi-current-injury-care").stream().findFirst().ifPresent(care -> summary.addComponent(
				component(local("current-injury-care", "Care a current self-injury needs (question)"), new CodeableConcept(care))));
		summary.addComponent(component(local("function-count", "Number of functions endorsed"), new IntegerType(functions.size())));
		summary.addComponent(component(local("risk-factor-count", "Number of risk factors"), new IntegerType(risks.size())));
		summary.addComponent(component(local("protective-factor-count", "Number of protective factors"), new IntegerType(protective.size())));
		out.add(new Extracted("summary", summary));
		return out;
	}

	private static Observation base(QuestionnaireResponse qr, String part, boolean survey) {
		Observation obs = new Observation();
		qr.getMeta().getSecurity().stream()
				.filter(c -> NssiCanonicals.ACT_REASON_SYSTEM.equals(c.getSystem()) && "HTEST".equals(c.getCode()))
				.findFirst()
				.ifPresent(c -> obs.getMeta().addSecurity(c.copy()));
		obs.addIdentifier().setSystem(IDENTIFIER_SYSTEM).setValue(identifierValue(qr, part));
		// declared, so the write interceptor validates and labels it even where the code alone (LOINC) would not say
		String profile = survey ? "nssi-screening-result" : part.startsWith("nssi-risk-factors/") ? "nssi-risk-factor" : "nssi-protective-factor";
		obs.getMeta().addProfile(NssiCanonicals.profile(profile));
		obs.setStatus(qr.getStatus() == QuestionnaireResponse.QuestionnaireResponseStatus.AMENDED
				? Observation.ObservationStatus.AMENDED
				: Observation.ObservationStatus.FINAL);
		if (survey) {
			obs.addCategory().addCoding(new Coding(SURVEY, "survey", "Survey"));
		}
		obs.addCategory().addCoding(local("nssi", "Non-suicidal self-injury"));
		obs.setSubject(new Reference(qr.getSubject().getReference()));
		// who gave the answers (QuestionnaireResponse.source, else the author): a reader tells self-report from a record
		Reference who = qr.hasSource() ? qr.getSource() : qr.hasAuthor() ? qr.getAuthor() : null;
		if (who != null && who.hasReference()) {
			obs.addPerformer(new Reference(who.getReference()));
		}
		Date when = qr.hasAuthored() ? qr.getAuthored() : new Date();
		obs.setEffective(new DateTimeType(when));
		obs.addDerivedFrom(new Reference("QuestionnaireResponse/" + qr.getIdElement().getIdPart()));
		return obs;
	}

	/** Response id + the item (and answer) it comes from: the same for every extraction of the same response. */
	public static String identifierValue(QuestionnaireResponse qr, String part) {
		return "QuestionnaireResponse/" + qr.getIdElement().getIdPart() + "#" + part;
	}

	private static Observation.ObservationComponentComponent component(Coding code, Type value) {
		Observation.ObservationComponentComponent c = new Observation.ObservationComponentComponent();
		c.getCode().addCoding(code);
		c.setValue(value);
		return c;
	}

	private static Coding local(String code, String display) {
		return new Coding(CONCEPTS_SYSTEM, code, display);
	}

	private static Optional<Type> first(QuestionnaireResponse qr, String linkId) {
		return EscalationSignals.answers(qr.getItem(), linkId).findFirst();
	}

	private static List<Coding> codings(QuestionnaireResponse qr, String linkId) {
		return EscalationSignals.answers(qr.getItem(), linkId)
				.filter(Coding.class::isInstance)
				.map(c -> ((Coding) c).copy())
				.toList();
	}

	/**
	 * An answer's number: an integer (days, and PHQ-9 items in responses before package 0.6.0), or a coded PHQ-9
	 * answer (LL358-3 LOINC answer, ordinal value or digits), read by the same rule as escalation so the score and
	 * the alert never disagree.
	 */
	private static Optional<Integer> integer(Type value) {
		if (value instanceof IntegerType i && i.getValue() != null) {
			return Optional.of(i.getValue());
		}
		if (value instanceof Coding) {
			return EscalationSignals.number(value);
		}
		return Optional.empty();
	}

	/**
	 * The PHQ-9 total is computed (SDC calculatedExpression, read-only), never typed: a response to our PHQ-9 whose
	 * total answer differs from the sum of its nine item answers contradicts itself (the stored response kept a typed
	 * 3 while the extracted score said 12). A total while any item is unanswered is a partial sum shown as a score:
	 * refused too (the calculated item gives no value until all nine are answered). The total may always be absent.
	 */
	static Optional<String> phq9TotalContradiction(QuestionnaireResponse qr) {
		if (!questionnaire(qr).filter(PHQ9::equals).isPresent()) {
			return Optional.empty();
		}
		Optional<Integer> stated = first(qr, "phq9-total-score").flatMap(AssessmentExtractor::integer);
		if (stated.isEmpty()) {
			return Optional.empty();
		}
		int sum = 0;
		for (int item = 1; item <= 9; item++) {
			if (first(qr, "phq9-item-" + item).isEmpty()) {
				return Optional.of("The PHQ-9 has a total score answer (" + stated.get() + ") while item " + item
						+ " is unanswered: a total is given only once all nine items are answered, so leave it out");
			}
			Optional<Integer> score = first(qr, "phq9-item-" + item).flatMap(AssessmentExtractor::integer);
			if (score.isEmpty() || score.get() < 0 || score.get() > 3) {
				return Optional.empty(); // out of range: the profile's own rules answer that
			}
			sum += score.get();
		}
		return stated.get() == sum ? Optional.empty()
				: Optional.of("The PHQ-9 total score answer (" + stated.get() + ") is not the sum of items 1-9 (" + sum
						+ "): send the computed sum, or leave the total out");
	}

	private static Optional<String> questionnaire(QuestionnaireResponse qr) {
		String canonical = qr.getQuestionnaire();
		if (canonical == null) {
			return Optional.empty();
		}
		int bar = canonical.indexOf('|');
		return Optional.of(bar < 0 ? canonical : canonical.substring(0, bar));
	}

	private static UnprocessableEntityException unprocessable(ErrorCode code, String text) {
		return new UnprocessableEntityException(code.message(text));
	}
}
