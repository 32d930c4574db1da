package org.nssifhir.server.escalation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Date;
import java.util.List;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;

/** Which written data raises which alert, and under which event key (no database). */
class EscalationSignalsTest {

	private static final IdType PATIENT = new IdType("Patient", "p1");

	private static Observation episode(String intent, String care) {
		Observation obs = AssessmentFixtures.episode(PATIENT, new Date(), intent, care);
		obs.setId("Observation/e1");
		return obs;
	}

	@Test
	void episodeIntentPresentOrUnsure_isASuicideRiskSignal_keyedOnTheEpisode() {
		for (String intent : List.of("intent-present", "intent-unsure")) {
			assertThat(EscalationSignals.find(episode(intent, null))).singleElement().satisfies(s -> {
				assertThat(s.kind()).isEqualTo(EscalationSignal.Kind.SUICIDE_RISK);
				assertThat(s.eventKey()).isEqualTo("suicide-risk:Observation/e1");
				assertThat(s.evidence()).isEqualTo("Observation/e1");
			});
		}
		assertThat(EscalationSignals.find(episode("intent-none", "care-self"))).isEmpty();
	}

	/**
	 * Informaticist review s8, H3: a Condition with an intent-neutral SNOMED CT self-harm concept alone is self-harm of
	 * unknown intent, judged as an unrecorded intent (X71–X83) is: suicide risk; with R45.88 it is NSSI and raises nothing.
	 */
	@Test
	void conditionWithAnIntentNeutralSnomedSelfHarmConceptAlone_isTheUnknownIntentSignal() {
		for (String code : List.of("248062006", "276853009", "418420002")) {
			org.hl7.fhir.r4.model.Condition c = new org.hl7.fhir.r4.model.Condition();
			c.setId("Condition/c1");
			c.getCode().addCoding(new Coding(NssiCanonicals.SNOMED, code, null));
			assertThat(EscalationSignals.find(c)).as(code).singleElement().satisfies(s -> {
				assertThat(s.kind()).isEqualTo(EscalationSignal.Kind.SUICIDE_RISK);
				assertThat(s.eventKey()).isEqualTo("suicide-risk:Condition/c1");
				assertThat(s.reason()).contains("intent not recorded");
			});
			c.getCode().addCoding(new Coding(NssiCanonicals.ICD10CM, "R45.88", null));
			assertThat(EscalationSignals.find(c)).as(code + " with R45.88").isEmpty();
		}
		// an Observation with the same code and no intent recorded (an episode from another system) is judged the same way
		Observation obs = new Observation();
		obs.setId("Observation/o1");
		obs.getCode().addCoding(new Coding(NssiCanonicals.SNOMED, "248062006", null));
		assertThat(EscalationSignals.find(obs)).singleElement().satisfies(s -> assertThat(s.kind()).isEqualTo(EscalationSignal.Kind.SUICIDE_RISK));
		obs.getCode().addCoding(new Coding(NssiCanonicals.ICD10CM, "R45.88", null));
		assertThat(EscalationSignals.find(obs)).as("with R45.88: NSSI").isEmpty();
	}

	@Test
	void episodeNeedingMedicalOrEmergencyCare_isAnNssiEscalation() {
		assertThat(EscalationSignals.find(episode("intent-none", "care-medical"))).extracting(EscalationSignal::kind)
				.containsExactly(EscalationSignal.Kind.NSSI_ESCALATION);
		assertThat(EscalationSignals.find(episode("intent-present", "care-emergency"))).extracting(EscalationSignal::kind)
				.containsExactly(EscalationSignal.Kind.SUICIDE_RISK, EscalationSignal.Kind.NSSI_ESCALATION);
		assertThat(EscalationSignals.find(episode("intent-none", "care-first-aid"))).isEmpty();
	}

	@Test
	void episodeNeedingFirstAid_isACandidateEscalationForMinorsOnly() {
		// the age is the service's to judge (it reads the Patient); the candidate is keyed like any care escalation
		assertThat(EscalationSignals.firstAidForMinor(episode("intent-none", "care-first-aid"))).hasValueSatisfying(s -> {
			assertThat(s.kind()).isEqualTo(EscalationSignal.Kind.NSSI_ESCALATION);
			assertThat(s.eventKey()).isEqualTo("nssi-care:Observation/e1");
		});
		assertThat(EscalationSignals.firstAidForMinor(episode("intent-none", "care-self"))).isEmpty();
		assertThat(EscalationSignals.firstAidForMinor(episode("intent-none", "care-medical"))).as("already escalated for everyone").isEmpty();
		Observation wrong = episode("intent-none", "care-first-aid");
		wrong.setStatus(Observation.ObservationStatus.ENTEREDINERROR);
		assertThat(EscalationSignals.firstAidForMinor(wrong)).isEmpty();
	}

	@Test
	void diaryCardUrgeToDieOfFiveOrMore_isAnUrgentSuicideRiskSignal_keyedOnTheCard() {
		for (int urge : new int[] {5, 10}) {
			assertThat(EscalationSignals.find(diaryCard(urge))).singleElement().satisfies(s -> {
				assertThat(s.kind()).isEqualTo(EscalationSignal.Kind.SUICIDE_RISK);
				assertThat(s.taskPriority()).isEqualTo("asap");
				assertThat(s.eventKey()).isEqualTo("diary-urge-to-die:Observation/d1");
				assertThat(s.reason()).contains("urge to die " + urge + " of 10");
			});
		}
		assertThat(EscalationSignals.find(diaryCard(4))).isEmpty();
		Observation noUrgeRecorded = diaryCard(9);
		noUrgeRecorded.getComponent().removeIf(c -> c.getCode().getCodingFirstRep().getCode().equals("urge-to-die"));
		assertThat(EscalationSignals.find(noUrgeRecorded)).isEmpty();
	}

	private static Observation diaryCard(int urgeToDie) {
		Observation card = new Observation();
		card.setId("Observation/d1");
		card.setStatus(Observation.ObservationStatus.FINAL);
		card.getCode().addCoding(new org.hl7.fhir.r4.model.Coding(org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM, "diary-card", null));
		card.setSubject(new org.hl7.fhir.r4.model.Reference(PATIENT));
		card.addComponent().setValue(new org.hl7.fhir.r4.model.IntegerType(8)).getCode()
				.addCoding(new org.hl7.fhir.r4.model.Coding(org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM, "urge-intensity", null));
		card.addComponent().setValue(new org.hl7.fhir.r4.model.IntegerType(urgeToDie)).getCode()
				.addCoding(new org.hl7.fhir.r4.model.Coding(org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM, "urge-to-die", null));
		return card;
	}

	@Test
	void enteredInErrorEpisode_raisesNothing() {
		Observation obs = episode("intent-present", "care-emergency");
		obs.setStatus(Observation.ObservationStatus.ENTEREDINERROR);
		assertThat(EscalationSignals.find(obs)).isEmpty();
	}

	@Test
	void phq9Item9AboveZero_isASuicideRiskSignal_keyedOnTheResponse() {
		QuestionnaireResponse qr = AssessmentFixtures.phq9(PATIENT, 0, 0, 0, 0, 0, 0, 0, 0, 2);
		qr.setId("QuestionnaireResponse/q1");
		assertThat(EscalationSignals.find(qr)).singleElement()
				.satisfies(s -> assertThat(s.eventKey()).isEqualTo("suicide-risk:QuestionnaireResponse/q1"));
		assertThat(EscalationSignals.find(qr).get(0).reason()).contains("follow-up not answered");
		// item 8a: the follow-up says which thoughts they were; the alert fires (urgent) whatever the answer
		for (String answer : EscalationSignals.ITEM9_FOLLOW_UP.keySet()) {
			QuestionnaireResponse followed = AssessmentFixtures.phq9(PATIENT, 0, 0, 0, 0, 0, 0, 0, 0, 1);
			followed.setId("QuestionnaireResponse/q9");
			followed.getItem().add(9, new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId("phq9-item9-followup")
					.addAnswer(new QuestionnaireResponse.QuestionnaireResponseItemAnswerComponent()
							.setValue(new org.hl7.fhir.r4.model.Coding(AssessmentFixtures.CS, answer, null))));
			assertThat(EscalationSignals.find(followed)).as(answer).singleElement().satisfies(s -> {
				assertThat(s.kind()).isEqualTo(EscalationSignal.Kind.SUICIDE_RISK);
				assertThat(s.taskPriority()).isEqualTo("asap");
				assertThat(s.reason()).isEqualTo("PHQ-9 item 9 (thoughts of being better off dead or of self-harm) above 0"
						+ EscalationSignals.ITEM9_FOLLOW_UP.get(answer));
			});
		}
		QuestionnaireResponse clean = AssessmentFixtures.phq9(PATIENT, 2, 2, 2, 2, 2, 2, 3, 3, 0);
		clean.setId("QuestionnaireResponse/q2");
		assertThat(EscalationSignals.find(clean)).as("total 18").isEmpty();
		// total 24 with item 9 at 0: severe depression, its own alert (not suicide risk: no sign of ideation), urgent
		QuestionnaireResponse severe = AssessmentFixtures.phq9(PATIENT, 3, 3, 3, 3, 3, 3, 3, 3, 0);
		severe.setId("QuestionnaireResponse/q3");
		assertThat(EscalationSignals.find(severe)).singleElement().satisfies(s -> {
			assertThat(s.eventKey()).isEqualTo("phq9-severe:QuestionnaireResponse/q3");
			assertThat(s.kind()).isEqualTo(EscalationSignal.Kind.SEVERE_DEPRESSION_SCORE);
			assertThat(s.taskPriority()).isEqualTo("urgent");
		});
		// responses stored before package 0.6.0 answer with integers: the same rules read them
		QuestionnaireResponse old = AssessmentFixtures.phq9Integers(PATIENT, 0, 0, 0, 0, 0, 0, 0, 0, 1);
		old.setId("QuestionnaireResponse/q4");
		assertThat(EscalationSignals.find(old)).singleElement().satisfies(s -> assertThat(s.eventKey()).isEqualTo("suicide-risk:QuestionnaireResponse/q4"));
		QuestionnaireResponse oldSevere = AssessmentFixtures.phq9Integers(PATIENT, 3, 3, 3, 3, 3, 3, 3, 3, 0);
		oldSevere.setId("QuestionnaireResponse/q5");
		assertThat(EscalationSignals.find(oldSevere)).singleElement().satisfies(s -> assertThat(s.eventKey()).isEqualTo("phq9-severe:QuestionnaireResponse/q5"));
	}

	@Test
	void lethalFreeText_isMatchedConservatively_onWholeWords() {
		for (String text : List.of("overdose", "took 20 Pills", "paracetamol", "hanging", "a ligature", "belt round my neck",
				"jumped off a bridge", "tried to drown", "poisoned myself", "OD", "strangled", "choking")) {
			assertThat(EscalationSignals.namesLethalMethod(text)).as(text).isTrue();
		}
		for (String text : List.of("scratching with a pen", "hangout with friends", "picking", "rubbing with an eraser", "", "odd marks")) {
			assertThat(EscalationSignals.namesLethalMethod(text)).as(text).isFalse();
		}
		assertThat(EscalationSignals.namesLethalMethod(null)).isFalse();
	}

	@Test
	void extractedPhq9Total_isTheSameEventAsItsResponse() {
		Observation total = new Observation();
		total.setId("Observation/t1");
		total.setStatus(Observation.ObservationStatus.FINAL);
		total.getCode().addCoding(new Coding(NssiCanonicals.LOINC, "44261-6", null));
		total.setValue(new Quantity(5));
		total.addComponent().setValue(new IntegerType(1)).getCode().addCoding(new Coding(NssiCanonicals.LOINC, "44260-8", null));
		total.addDerivedFrom(new Reference("QuestionnaireResponse/q1/_history/1"));
		assertThat(EscalationSignals.find(total)).singleElement()
				.satisfies(s -> assertThat(s.eventKey()).isEqualTo("suicide-risk:QuestionnaireResponse/q1"));
	}

	@Test
	void aSevereTotalSentAloneSaysItem9WasNotReported_notThatItWas0() {
		Observation alone = new Observation();
		alone.setId("Observation/t2");
		alone.setStatus(Observation.ObservationStatus.FINAL);
		alone.getCode().addCoding(new Coding(NssiCanonicals.LOINC, "44261-6", null));
		alone.setValue(new Quantity(22));
		assertThat(EscalationSignals.find(alone)).singleElement().satisfies(s -> {
			assertThat(s.kind()).isEqualTo(EscalationSignal.Kind.SEVERE_DEPRESSION_SCORE);
			assertThat(s.reason()).contains("item 9 not reported").contains("ask item 9").doesNotContain("item 9 at 0");
		});
		alone.addComponent().setValue(new IntegerType(0)).getCode().addCoding(new Coding(NssiCanonicals.LOINC, "44260-8", null));
		assertThat(EscalationSignals.find(alone)).singleElement().satisfies(s -> assertThat(s.reason()).contains("item 9 at 0"));
	}

	@Test
	void assessmentWithIdeationOrRiskyIntent_isASuicideRiskSignal() {
		QuestionnaireResponse ideation = AssessmentFixtures.assessment(PATIENT, true, "intent-none", 2, List.of(), List.of(), List.of());
		ideation.setId("QuestionnaireResponse/a1");
		assertThat(EscalationSignals.find(ideation)).hasSize(1);
		QuestionnaireResponse unsure = AssessmentFixtures.assessment(PATIENT, false, "intent-unsure", 2, List.of(), List.of(), List.of());
		unsure.setId("QuestionnaireResponse/a2");
		assertThat(EscalationSignals.find(unsure)).hasSize(1);
		QuestionnaireResponse clean = AssessmentFixtures.assessment(PATIENT, false, "intent-none", 2, List.of(), List.of(), List.of());
		clean.setId("QuestionnaireResponse/a3");
		assertThat(EscalationSignals.find(clean)).isEmpty();
	}

	@Test
	void responseToAnotherQuestionnaire_isNotOurs() {
		QuestionnaireResponse other = new QuestionnaireResponse();
		other.setId("QuestionnaireResponse/x");
		other.setQuestionnaire("http://example.org/Questionnaire/other");
		other.addItem().setLinkId("suicidal-ideation").addAnswer().setValue(new BooleanType(true));
		assertThat(EscalationSignals.find(other)).isEmpty();
	}
}
