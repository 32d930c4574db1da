package org.nssifhir.server.escalation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every risk-related concept and assessment item in our package is either wired to an escalation rule or listed
 * here as exempt, with the reason (issue 19). A new method, body site, function, risk factor, intent or care level,
 * or a new item in the assessment's behaviour, intent or impact sections, fails this test until someone decides.
 */
class RiskContentCoverageTest {

	/** CodeSystem groups whose concepts are risk-related. */
	private static final Set<String> RISK_GROUPS = Set.of("intent", "care-levels", "functions", "risk-factors", "methods", "body-sites",
			"warning-signs", "phq9-item9-followup-answers");

	/** Concepts wired to an escalation rule (EscalationSignals). */
	private static final Set<String> WIRED_CONCEPTS = union(
			EscalationSignals.RISKY_INTENT, EscalationSignals.HIGH_CARE, Set.of(EscalationSignals.MINOR_CARE_THRESHOLD), EscalationSignals.LETHAL_METHODS, EscalationSignals.LETHAL_SITES,
			Set.of(EscalationSignals.SUICIDE_FUNCTION, EscalationSignals.PREVIOUS_ATTEMPT),
			// the PHQ-9 item 9 follow-up: every answer names the thoughts in the item 9 alert, which fires whatever it says
			EscalationSignals.ITEM9_FOLLOW_UP.keySet(),
			// free text of an "other" method is checked by the keyword rule
			Set.of("method-other"));

	private static final String PLAN_STEP = "a warning sign listed in the person's relapse-prevention plan: what to watch for, not a record that it is happening";

	private static final String NOT_DIRECT = "a risk factor or context that informs the plan; not by itself a reason for an alert";

	private static final Map<String, String> EXEMPT_CONCEPTS = Map.ofEntries(
			Map.entry("intent-none", "no intent to die: NSSI, counted by the frequency rule"),
			Map.entry("care-none", "no care needed"),
			Map.entry("care-self", "self-care only"),
			Map.entry("function-intrapersonal", "grouping concept"),
			Map.entry("function-interpersonal", "grouping concept"),
			Map.entry("function-relief-distress", "an NSSI function: treatment target (functional analysis), not an alert"),
			Map.entry("function-feel-something", "an NSSI function: treatment target"),
			Map.entry("function-stop-dissociation", "an NSSI function: treatment target"),
			Map.entry("function-self-punishment", "an NSSI function: treatment target"),
			Map.entry("function-control", "an NSSI function: treatment target"),
			Map.entry("function-reward", "an NSSI function: treatment target"),
			Map.entry("function-communicate-distress", "an NSSI function: treatment target"),
			Map.entry("function-interpersonal-influence", "an NSSI function: treatment target"),
			Map.entry("function-peer-belonging", "an NSSI function: treatment target"),
			Map.entry("function-avoid-demands", "an NSSI function: treatment target"),
			Map.entry("function-other", "free text, reviewed by the clinician with the assessment"),
			Map.entry("risk-childhood-abuse", NOT_DIRECT + "; stops automatic family involvement"),
			Map.entry("risk-neglect", NOT_DIRECT + "; stops automatic family involvement"),
			Map.entry("risk-family-conflict", NOT_DIRECT + "; stops automatic family involvement"),
			Map.entry("risk-depression", NOT_DIRECT + "; severe depression escalates through the PHQ-9 rule"),
			Map.entry("risk-low-self-worth", NOT_DIRECT),
			Map.entry("risk-eating-disorder", NOT_DIRECT),
			Map.entry("risk-bullying-peer-rejection", NOT_DIRECT),
			Map.entry("risk-social-isolation", NOT_DIRECT),
			Map.entry("risk-substance-use", NOT_DIRECT),
			Map.entry("risk-exposure-to-self-harm", NOT_DIRECT),
			Map.entry("risk-borderline-personality", NOT_DIRECT + "; an indication for DBT"),
			Map.entry("risk-distress-intolerance", NOT_DIRECT + "; a target of distress-tolerance skills"),
			Map.entry("ws-urges-stronger", PLAN_STEP),
			Map.entry("ws-withdrawing", PLAN_STEP),
			Map.entry("ws-hiding-skin", PLAN_STEP),
			Map.entry("ws-keeping-means", PLAN_STEP),
			Map.entry("ws-self-critical", PLAN_STEP),
			Map.entry("ws-hopeless", PLAN_STEP + "; when it happens, what the person reports (diary card urge to die, assessment, PHQ-9) escalates"),
			Map.entry("ws-sleep-change", PLAN_STEP),
			Map.entry("ws-more-alcohol-drugs", PLAN_STEP),
			Map.entry("ws-missing-support", PLAN_STEP),
			Map.entry("ws-talking-about-death", PLAN_STEP + "; when it happens, what the person reports (diary card urge to die, assessment, PHQ-9) escalates"),
			Map.entry("method-hair-pulling", "low lethality; medical or emergency care escalates whatever the method"),
			Map.entry("method-inserting-under-skin", "low lethality; medical or emergency care escalates whatever the method"),
			Map.entry("site-forearm-wrist", "site alone is not an alert; care needed and method are"),
			Map.entry("site-upper-arm", "site alone is not an alert"),
			Map.entry("site-hand", "site alone is not an alert"),
			Map.entry("site-thigh", "site alone is not an alert"),
			Map.entry("site-lower-leg", "site alone is not an alert"),
			Map.entry("site-abdomen", "site alone is not an alert"),
			Map.entry("site-chest", "site alone is not an alert"),
			Map.entry("site-head-face", "site alone is not an alert"),
			Map.entry("site-genitals", "site alone is not an alert; a clinician reviews the context with the assessment"),
			Map.entry("site-breast", "site alone is not an alert"),
			Map.entry("site-back", "site alone is not an alert"),
			Map.entry("site-other", "site alone is not an alert"));

	/** Assessment sections whose items are risk-related. */
	private static final Set<String> RISK_SECTIONS = Set.of("behaviours", "intent-screening", "impact");

	/** Items read by an escalation rule. */
	private static final Set<String> WIRED_ITEMS = Set.of("nssi-intent", "suicidal-ideation", "nssi-expected-minor-harm", "nssi-methods",
			"nssi-methods-other", "nssi-care-level", "passive-death-wish", "suicide-plan", "access-to-means", "nssi-current-injury-care",
			EscalationSignals.PREVIOUS_ATTEMPT_ITEM);

	private static final Map<String, String> EXEMPT_ITEMS = Map.ofEntries(
			Map.entry("behaviours-definition", "display text"),
			Map.entry("safety-escalation-notice", "display text: its promise is kept by the rules on the items it depends on"),
			Map.entry("nssi-any-past-year", "gate for the items below; never pre-answered no by $populate"),
			Map.entry("nssi-lifetime", "history (self-injury before the past 12 months): context for the clinician, not a current risk"),
			Map.entry("nssi-age-onset", "history (age self-injury began): context, no validated cut-off to alert on"),
			Map.entry("nssi-days-past-year", "frequency criterion (extracted); episodes drive the frequency rule"),
			Map.entry("nssi-last-occurrence", "context"),
			Map.entry("nssi-distress", "severity context for the clinician; no validated cut-off to alert on"),
			Map.entry("nssi-impairment", "DSM-5 criterion E context"),
			Map.entry("nssi-disclosed", "context; not disclosing is common and not an alert by itself"));

	@Test
	void everyRiskConceptIsWiredOrExempt() throws IOException {
		JsonNode cs = new ObjectMapper().readTree(Path.of("terminology/codesystems/CodeSystem-nssi-concepts-cs.json").toFile());
		Set<String> concepts = new TreeSet<>();
		for (JsonNode group : cs.path("concept")) {
			if (RISK_GROUPS.contains(group.path("code").asText())) {
				collect(group.path("concept"), concepts);
			}
		}
		assertThat(concepts).contains("intent-present", "method-ligature", "site-neck");
		for (String code : concepts) {
			assertThat(WIRED_CONCEPTS.contains(code) || EXEMPT_CONCEPTS.containsKey(code))
					.as("%s is neither wired to an escalation rule nor listed as exempt with a reason", code).isTrue();
			assertThat(WIRED_CONCEPTS.contains(code) && EXEMPT_CONCEPTS.containsKey(code)).as("%s both wired and exempt", code).isFalse();
		}
		assertThat(concepts).containsAll(EXEMPT_CONCEPTS.keySet()).containsAll(WIRED_CONCEPTS);
	}

	@Test
	void everyRiskItemOfTheAssessmentIsWiredOrExempt() throws IOException {
		JsonNode q = new ObjectMapper().readTree(Path.of("profiles/questionnaires/Questionnaire-nssi-assessment.json").toFile());
		Set<String> items = new TreeSet<>();
		for (JsonNode section : q.path("item")) {
			if (RISK_SECTIONS.contains(section.path("linkId").asText())) {
				section.path("item").forEach(i -> items.add(i.path("linkId").asText()));
			}
		}
		assertThat(items).contains("nssi-intent", "nssi-expected-minor-harm", "passive-death-wish", "suicide-plan", "access-to-means", "previous-suicide-attempt",
				"nssi-current-injury-care", "nssi-lifetime", "nssi-age-onset");
		// the suicide screen's yes/no items are exactly the ones the rule reads
		assertThat(EscalationSignals.SUICIDE_SCREEN.keySet()).containsExactlyInAnyOrder("passive-death-wish", "suicidal-ideation", "suicide-plan", "access-to-means");
		assertThat(items).containsAll(WIRED_ITEMS).containsAll(EXEMPT_ITEMS.keySet());
		for (String item : items) {
			assertThat(WIRED_ITEMS.contains(item) || EXEMPT_ITEMS.containsKey(item))
					.as("assessment item %s is neither wired to an escalation rule nor listed as exempt with a reason", item).isTrue();
		}
	}

	/**
	 * PHQ-9 item 9 is answered with LOINC codes (package 0.6.0): each answer above "Not at all" must be scored above 0
	 * by the escalation rule (which raises the suicide-risk alert), and its score must be the Questionnaire's ordinal.
	 */
	@Test
	void everyPhq9Item9AnswerIsScoredByTheEscalationRule() throws IOException {
		JsonNode q = new ObjectMapper().readTree(Path.of("profiles/questionnaires/Questionnaire-nssi-phq9.json").toFile());
		JsonNode item9 = null;
		for (JsonNode item : q.path("item")) {
			if ("phq9-item-9".equals(item.path("linkId").asText())) {
				item9 = item;
			}
		}
		assertThat(item9).isNotNull();
		assertThat(item9.path("answerOption")).hasSize(4);
		for (JsonNode option : item9.path("answerOption")) {
			JsonNode coding = option.path("valueCoding");
			int ordinal = -1;
			for (JsonNode ext : coding.path("extension")) {
				if ("http://hl7.org/fhir/StructureDefinition/ordinalValue".equals(ext.path("url").asText())) {
					ordinal = ext.path("valueDecimal").asInt();
				}
			}
			org.hl7.fhir.r4.model.Coding answer = new org.hl7.fhir.r4.model.Coding(coding.path("system").asText(), coding.path("code").asText(), null);
			assertThat(EscalationSignals.number(answer)).as("score of %s", answer.getCode()).contains(ordinal);
			// exempt: only "Not at all" (0), which is no signal
			assertThat(ordinal > 0 || "LA6568-5".equals(answer.getCode())).as("%s scores 0 but is not Not at all", answer.getCode()).isTrue();
		}
	}

	private static void collect(JsonNode concepts, Set<String> into) {
		for (JsonNode c : concepts) {
			into.add(c.path("code").asText());
			collect(c.path("concept"), into);
		}
	}

	@SafeVarargs
	private static Set<String> union(Set<String>... sets) {
		Set<String> all = new HashSet<>();
		for (Set<String> s : sets) {
			all.addAll(s);
		}
		return all;
	}
}
