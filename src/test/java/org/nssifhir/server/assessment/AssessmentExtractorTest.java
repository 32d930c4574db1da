package org.nssifhir.server.assessment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.util.List;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.escalation.EscalationSignals;

/** Scoring and extraction rules of the NSSI assessment and PHQ-9 (no database). */
class AssessmentExtractorTest {

	private static final IdType PATIENT = new IdType("Patient", "p1");

	@Test
	void phq9SeverityBands_followThePublishedCutPoints() {
		assertThat(AssessmentExtractor.severity(0).getCodingFirstRep().getCode()).isEqualTo("phq9-minimal");
		assertThat(AssessmentExtractor.severity(4).getCodingFirstRep().getCode()).isEqualTo("phq9-minimal");
		assertThat(AssessmentExtractor.severity(5).getCodingFirstRep().getCode()).isEqualTo("phq9-mild");
		assertThat(AssessmentExtractor.severity(10).getCodingFirstRep().getCode()).isEqualTo("phq9-moderate");
		assertThat(AssessmentExtractor.severity(15).getCodingFirstRep().getCode()).isEqualTo("phq9-moderately-severe");
		assertThat(AssessmentExtractor.severity(19).getCodingFirstRep().getCode()).isEqualTo("phq9-moderately-severe");
		assertThat(AssessmentExtractor.severity(20).getCodingFirstRep().getCode()).isEqualTo("phq9-severe");
		assertThat(AssessmentExtractor.severity(27).getCodingFirstRep().getCode()).isEqualTo("phq9-severe");
	}

	@Test
	void phq9Total_isTheSumOfTheNineItems_derivedFromTheResponse() {
		QuestionnaireResponse qr = AssessmentFixtures.phq9(PATIENT, 3, 3, 3, 3, 3, 3, 2, 1, 0);
		qr.setId("QuestionnaireResponse/q1");
		Observation total = AssessmentExtractor.extract(qr).get(0).observation();
		assertThat(((Quantity) total.getValue()).getValue().intValue()).isEqualTo(21);
		assertThat(total.getDerivedFromFirstRep().getReference()).isEqualTo("QuestionnaireResponse/q1");
		assertThat(total.getIdentifierFirstRep().getValue()).isEqualTo("QuestionnaireResponse/q1#phq9-total");
	}

	@Test
	void phq9Total_scoresLoincAnswersAndTheIntegersOfOlderResponsesAlike() {
		QuestionnaireResponse coded = AssessmentFixtures.phq9(PATIENT, 3, 3, 3, 3, 3, 3, 2, 1, 2);
		coded.setId("QuestionnaireResponse/q1");
		QuestionnaireResponse integers = AssessmentFixtures.phq9Integers(PATIENT, 3, 3, 3, 3, 3, 3, 2, 1, 2);
		integers.setId("QuestionnaireResponse/q2");
		assertThat(((Coding) coded.getItem().get(8).getAnswerFirstRep().getValue()).getCode()).isEqualTo("LA6570-1");
		for (QuestionnaireResponse qr : List.of(coded, integers)) {
			Observation total = AssessmentExtractor.extract(qr).get(0).observation();
			assertThat(((Quantity) total.getValue()).getValue().intValue()).isEqualTo(23);
			// item 9 keeps its LOINC answer code (issue 19 review, item 2), an integer of an older response becomes it, the score as ordinalValue
			assertThat(total.getComponent()).anySatisfy(c -> {
				assertThat(c.getCode().getCodingFirstRep().getCode()).isEqualTo("44260-8");
				assertThat(c.getValue()).isInstanceOfSatisfying(CodeableConcept.class, v -> {
					assertThat(v.getCodingFirstRep().getSystem()).isEqualTo(NssiCanonicals.LOINC);
					assertThat(v.getCodingFirstRep().getCode()).isEqualTo("LA6570-1");
					assertThat(v.getCodingFirstRep().getExtensionByUrl("http://hl7.org/fhir/StructureDefinition/ordinalValue").getValue().primitiveValue()).isEqualTo("2");
				});
				assertThat(EscalationSignals.number(c.getValue())).contains(2);
			});
		}
	}

	@Test
	void phq9TotalWhileAnItemIsUnanswered_isAContradiction() {
		QuestionnaireResponse partial = AssessmentFixtures.phq9(PATIENT, 1, 1, 1, 1);
		partial.addItem().setLinkId("phq9-total-score").addAnswer().setValue(new IntegerType(4));
		assertThat(AssessmentExtractor.phq9TotalContradiction(partial)).hasValueSatisfying(m -> assertThat(m).contains("item 5 is unanswered"));

	}

	@Test
	void phq9WithAMissingItem_isRefusedWithACode() {
		QuestionnaireResponse qr = AssessmentFixtures.phq9(PATIENT, 1, 1, 1, 1, 1, 1, 1, 1);
		qr.setId("QuestionnaireResponse/q1");
		assertThatThrownBy(() -> AssessmentExtractor.extract(qr))
				.isInstanceOf(UnprocessableEntityException.class)
				.hasMessageContaining("NSSI-0401");
	}

	@Test
	void frequencyCriterion_isMetFromFiveDays() {
		assertThat(criterion(4)).isFalse();
		assertThat(criterion(5)).isTrue();
	}

	private static boolean criterion(int days) {
		QuestionnaireResponse qr = AssessmentFixtures.assessment(PATIENT, false, "intent-none", days, List.of(), List.of(), List.of());
		qr.setId("QuestionnaireResponse/a1");
		return AssessmentExtractor.extract(qr).stream()
				.filter(e -> e.key().equals("nssi-frequency-criterion-met"))
				.map(e -> ((BooleanType) e.observation().getValue()).booleanValue())
				.findFirst()
				.orElseThrow();
	}

	@Test
	void assessmentSummary_countsFactorsAndFunctions_andListsItsMembers() {
		QuestionnaireResponse qr = AssessmentFixtures.assessment(PATIENT, false, "intent-none", 9,
				List.of("function-relief-distress"), List.of("risk-depression", "risk-neglect"), List.of());
		qr.setId("QuestionnaireResponse/a1");
		List<AssessmentExtractor.Extracted> out = AssessmentExtractor.extract(qr);
		// days, criterion, functions, 2 risk factors, summary
		assertThat(out).hasSize(6);
		Observation summary = out.get(out.size() - 1).observation();
		assertThat(summary.getHasMember()).hasSize(5);
		assertThat(summary.getComponent())
				.filteredOn(c -> c.getCode().getCodingFirstRep().getCode().equals("risk-factor-count"))
				.singleElement()
				.satisfies(c -> assertThat(((IntegerType) c.getValue()).getValue()).isEqualTo(2));
		assertThat(out).extracting(e -> e.observation().getIdentifierFirstRep().getValue()).doesNotHaveDuplicates();
		// the ideation answer is a yes/no under a question code, never the SNOMED CT finding 6471006 set to false (issue 19, item 9)
		assertThat(summary.getComponent())
				.filteredOn(c -> c.getCode().getCodingFirstRep().getCode().equals("suicidal-thoughts-past-month"))
				.singleElement()
				.satisfies(c -> assertThat(((BooleanType) c.getValue()).booleanValue()).isFalse());
		assertThat(summary.getComponent()).flatExtracting(c -> c.getCode().getCoding()).extracting(c -> c.getCode()).doesNotContain("6471006");
	}

	@Test
	void responsesNotCompletedOrToOtherQuestionnaires_areRefused() {
		QuestionnaireResponse draft = AssessmentFixtures.phq9(PATIENT, 1, 1, 1, 1, 1, 1, 1, 1, 1);
		draft.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.INPROGRESS);
		assertThatThrownBy(() -> AssessmentExtractor.extract(draft)).hasMessageContaining("NSSI-0401");
		QuestionnaireResponse other = new QuestionnaireResponse().setQuestionnaire("http://example.org/Questionnaire/x");
		assertThatThrownBy(() -> AssessmentExtractor.extract(other)).hasMessageContaining("NSSI-0402");
	}

	@Test
	void phq9TotalContradiction_whenTheStatedTotalDiffers_orIsGivenWhileAnItemIsUnanswered() {
		QuestionnaireResponse qr = AssessmentFixtures.phq9(new IdType("Patient", "p"), 3, 3, 3, 1, 1, 1, 0, 0, 0);
		assertThat(AssessmentExtractor.phq9TotalContradiction(qr)).isEmpty(); // no total: nothing to contradict
		qr.addItem().setLinkId("phq9-total-score").addAnswer().setValue(new IntegerType(12));
		assertThat(AssessmentExtractor.phq9TotalContradiction(qr)).isEmpty();
		qr.getItem().get(9).getAnswerFirstRep().setValue(new IntegerType(13));
		assertThat(AssessmentExtractor.phq9TotalContradiction(qr)).get().asString().contains("(13)").contains("(12)");
		qr.getItem().remove(8); // item 9 unanswered: any total is a partial sum (package 0.6.0)
		assertThat(AssessmentExtractor.phq9TotalContradiction(qr)).get().asString().contains("item 9 is unanswered");
	}
}
