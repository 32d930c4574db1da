package org.nssifhir.server.assessment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.nssifhir.server.assessment.AssessmentFixtures.CS;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.hl7.fhir.r4.model.Type;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.escalation.EscalationSignals;
import org.nssifhir.server.support.BaseIT;

/** SDC $populate and $extract on our Questionnaires, scoring, and escalation through $extract, over HTTP. */
class AssessmentWorkflowIT extends BaseIT {

	private List<Observation> observations(IIdType patient) {
		return client().search().forResource(Observation.class).where(Observation.SUBJECT.hasId(patient)).count(200)
				.returnBundle(Bundle.class).execute().getEntry().stream().map(e -> (Observation) e.getResource()).toList();
	}

	private List<Observation> withCode(List<Observation> all, String system, String code) {
		return all.stream().filter(o -> o.getCode().getCoding().stream().anyMatch(c -> system.equals(c.getSystem()) && code.equals(c.getCode()))).toList();
	}

	private Bundle extract(IIdType qr) {
		return client().operation().onInstance(qr.toUnqualifiedVersionless()).named("$extract").withNoParameters(Parameters.class)
				.returnResourceType(Bundle.class).execute();
	}

	private static Date daysAgo(int days) {
		return Date.from(Instant.now().minus(days, ChronoUnit.DAYS));
	}

	@Test
	void extractNssiAssessment_storesProfiledResults_andRunningItTwiceCreatesNothingNew() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse response = AssessmentFixtures.assessment(patient, false, "intent-none", 14,
				List.of("function-relief-distress", "function-control"),
				List.of("risk-depression", "risk-low-self-worth", "risk-social-isolation"),
				List.of("protective-social-support"));
		IIdType qr = client.create().resource(response).execute().getId().toUnqualifiedVersionless();

		Bundle first = extract(qr);
		// days, criterion, functions, 3 risk factors, 1 protective factor, summary
		assertThat(first.getEntry()).hasSize(8);
		assertThat(first.getEntry()).allSatisfy(e -> assertThat(e.getResponse().getStatus()).startsWith("201"));

		List<Observation> stored = observations(patient);
		assertThat(stored).hasSize(8);
		assertThat(stored).allSatisfy(o -> {
			assertThat(o.getDerivedFromFirstRep().getReference()).isEqualTo("QuestionnaireResponse/" + qr.getIdPart());
			assertThat(o.getMeta().getProfile()).isNotEmpty();
			assertThat(o.getMeta().getSecurity()).extracting(Coding::getCode).contains("HTEST", "R", "BH");
		});
		assertThat(withCode(stored, CS, "nssi-days-past-year")).singleElement()
				.satisfies(o -> assertThat(((IntegerType) o.getValue()).getValue()).isEqualTo(14));
		assertThat(withCode(stored, CS, "nssi-frequency-criterion-met")).singleElement()
				.satisfies(o -> assertThat(((BooleanType) o.getValue()).booleanValue()).isTrue());
		assertThat(withCode(stored, CS, "nssi-functions-endorsed")).singleElement()
				.satisfies(o -> assertThat(o.getComponent()).hasSize(2));
		assertThat(withCode(stored, CS, "risk-factor")).hasSize(3)
				.allSatisfy(o -> assertThat(o.getMeta().hasProfile(NssiCanonicals.profile("nssi-risk-factor"))).isTrue());
		assertThat(withCode(stored, CS, "protective-factor")).hasSize(1);
		Observation summary = withCode(stored, CS, "nssi-assessment-summary").get(0);
		assertThat(summary.getHasMember()).hasSize(7);
		assertThat(component(summary, CS, "risk-factor-count")).isEqualTo(3);
		assertThat(component(summary, CS, "protective-factor-count")).isEqualTo(1);
		assertThat(component(summary, CS, "function-count")).isEqualTo(2);

		// second run: every entry finds its Observation, nothing new is stored, no version changes
		Bundle second = extract(qr);
		assertThat(second.getEntry()).allSatisfy(e -> assertThat(e.getResponse().getStatus()).startsWith("200"));
		List<Observation> after = observations(patient);
		assertThat(after).hasSize(8);
		assertThat(after).allSatisfy(o -> assertThat(o.getMeta().getVersionId()).isEqualTo("1"));
		// a clean response raises no alert
		assertThat(client.search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntry()).isEmpty();
	}

	private static int component(Observation obs, String system, String code) {
		return obs.getComponent().stream()
				.filter(c -> c.getCode().getCoding().stream().anyMatch(k -> system.equals(k.getSystem()) && code.equals(k.getCode())))
				.map(c -> ((IntegerType) c.getValue()).getValue())
				.findFirst()
				.orElseThrow();
	}

	/** A yes/no answer in the intent-screening group, at the Questionnaire's position. */
	private static void screen(QuestionnaireResponse qr, String linkId) {
		QuestionnaireResponse.QuestionnaireResponseItemComponent group =
				qr.getItem().stream().filter(i -> "intent-screening".equals(i.getLinkId())).findFirst().orElseThrow();
		group.addItem().setLinkId(linkId).addAnswer().setValue(new BooleanType(true));
	}

	private static Type componentValue(Observation obs, String code) {
		return obs.getComponent().stream()
				.filter(c -> c.getCode().getCoding().stream().anyMatch(k -> CS.equals(k.getSystem()) && code.equals(k.getCode())))
				.map(Observation.ObservationComponentComponent::getValue).findFirst().orElseThrow(() -> new AssertionError("no component " + code));
	}

	@Test
	void extractAssessment_carriesTheSuicideScreenAndCurrentInjuryAnswersIntoTheSummary() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse qr = AssessmentFixtures.assessment(patient, true, "intent-none", 2, List.of("function-relief-distress"), List.of(), List.of());
		// in the Questionnaire's order: intent, wish to be dead, thoughts of suicide, plan, means
		QuestionnaireResponse.QuestionnaireResponseItemComponent group =
				qr.getItem().stream().filter(i -> "intent-screening".equals(i.getLinkId())).findFirst().orElseThrow();
		QuestionnaireResponse.QuestionnaireResponseItemComponent wish = new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId("passive-death-wish");
		wish.addAnswer().setValue(new BooleanType(true));
		group.getItem().add(1, wish);
		screen(qr, "suicide-plan");
		screen(qr, "access-to-means");
		QuestionnaireResponse.QuestionnaireResponseItemComponent impact = new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId("impact");
		impact.addItem().setLinkId("nssi-current-injury-care").addAnswer().setValue(new Coding(CS, "care-medical", null));
		qr.getItem().add(impact);
		IIdType id = client.create().resource(qr).execute().getId().toUnqualifiedVersionless();
		extract(id);

		Observation summary = withCode(observations(patient), CS, "nssi-assessment-summary").get(0);
		assertThat(((BooleanType) componentValue(summary, "passive-death-wish")).booleanValue()).isTrue();
		assertThat(((BooleanType) componentValue(summary, "suicide-plan")).booleanValue()).isTrue();
		assertThat(((BooleanType) componentValue(summary, "access-to-means")).booleanValue()).isTrue();
		assertThat(((BooleanType) componentValue(summary, "suicidal-thoughts-past-month")).booleanValue()).isTrue();
		assertThat(((CodeableConcept) componentValue(summary, "current-injury-care")).getCodingFirstRep().getCode()).isEqualTo("care-medical");
		assertThat(summary.getMeta().hasProfile(NssiCanonicals.profile("nssi-screening-result"))).isTrue();
	}

	/**
	 * Informaticist review s8: the answers that raise an alert reach the summary too: whether the person expected the
	 * injury to stay minor (no raises a suicide-risk alert) and the description of an "other" method (free text naming a
	 * lethal method raises one), as the text of that method's component.
	 */
	@Test
	void extractAssessment_keepsExpectedMinorHarmAndTheOtherMethodsDescriptionInTheSummary() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse qr = AssessmentFixtures.assessment(patient, false, "intent-none", 2, List.of("function-relief-distress"), List.of(), List.of());
		QuestionnaireResponse.QuestionnaireResponseItemComponent behaviours =
				qr.getItem().stream().filter(i -> "behaviours".equals(i.getLinkId())).findFirst().orElseThrow();
		List<QuestionnaireResponse.QuestionnaireResponseItemComponent> items = behaviours.getItem();
		QuestionnaireResponse.QuestionnaireResponseItemComponent methods =
				items.stream().filter(i -> "nssi-methods".equals(i.getLinkId())).findFirst().orElseThrow();
		methods.addAnswer().setValue(new Coding(CS, "method-other", "Other method of self-injury"));
		// in the Questionnaire's order: methods, their description, days, ..., expected minor harm
		items.add(items.indexOf(methods) + 1, new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId("nssi-methods-other")
				.addAnswer(new QuestionnaireResponse.QuestionnaireResponseItemAnswerComponent().setValue(new StringType("Scratched with a compass"))));
		behaviours.addItem().setLinkId("nssi-expected-minor-harm").addAnswer().setValue(new BooleanType(false));
		IIdType id = client.create().resource(qr).execute().getId().toUnqualifiedVersionless();
		extract(id);

		Observation summary = withCode(observations(patient), CS, "nssi-assessment-summary").get(0);
		assertThat(((BooleanType) componentValue(summary, "expected-minor-harm")).booleanValue()).isFalse();
		assertThat(summary.getComponent().stream()
				.filter(c -> c.getCode().getCodingFirstRep().getCode().equals("method"))
				.map(c -> (CodeableConcept) c.getValue())
				.filter(v -> v.getCodingFirstRep().getCode().equals("method-other")))
				.singleElement().satisfies(v -> assertThat(v.getText()).isEqualTo("Scratched with a compass"));
		// the answer that raised the alert is the one the summary shows
		assertThat(client.search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient))
				.returnBundle(Bundle.class).execute().getEntry()).isNotEmpty();
	}

	@Test
	void validatePhq9WithIntegers_saysPerItemWhichLoincCodeToSend_asTheWriteWouldStoreIt() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse integers = AssessmentFixtures.phq9Integers(patient, 0, 1, 2, 3, 0, 0, 0, 0, 0);
		// $validate answers what the write would do (issue 19 review, item 6): no error, one warning per integer item
		OperationOutcome outcome = (OperationOutcome) client.validate().resource(integers).execute().getOperationOutcome();
		assertThat(outcome.getIssue()).noneMatch(i -> i.getSeverity() == OperationOutcome.IssueSeverity.ERROR
				|| i.getSeverity() == OperationOutcome.IssueSeverity.FATAL);
		List<String> warnings = outcome.getIssue().stream().filter(i -> i.getSeverity() == OperationOutcome.IssueSeverity.WARNING)
				.map(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics).filter(d -> d != null && d.startsWith("PHQ-9 item phq9-item-")).toList();
		assertThat(warnings).hasSize(9);
		assertThat(warnings).anySatisfy(d -> assertThat(d).contains("phq9-item-4").contains("LA6571-9").contains("integer 3"));
		// and the write takes it, stored as LOINC answers
		IIdType id = client.create().resource(integers).execute().getId().toUnqualifiedVersionless();
		QuestionnaireResponse stored = client.read().resource(QuestionnaireResponse.class).withId(id).execute();
		assertThat(((Coding) stored.getItem().get(3).getAnswerFirstRep().getValue()).getCode()).isEqualTo("LA6571-9");
	}

	@Test
	void aResponseWithTheOldTextOfARewordedItem_isStoredWithTheCurrentText_theLinkIdIdentifiesTheQuestion() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse old = AssessmentFixtures.phq9(patient, 1, 0, 0, 0, 0, 0, 0, 0, 0);
		old.getItem().get(0).setText("Had little interest or pleasure in doing things (an older wording)");
		OperationOutcome outcome = (OperationOutcome) client.validate().resource(old).execute().getOperationOutcome();
		assertThat(outcome.getIssue()).noneMatch(i -> i.getSeverity() == OperationOutcome.IssueSeverity.ERROR);
		assertThat(outcome.getIssue()).anySatisfy(i -> assertThat(i.getDiagnostics()).contains("phq9-item-1").contains("current wording"));

		IIdType id = client.create().resource(old).execute().getId().toUnqualifiedVersionless();
		QuestionnaireResponse stored = client.read().resource(QuestionnaireResponse.class).withId(id).execute();
		assertThat(stored.getItem().get(0).getText()).isEqualTo("Little interest or pleasure in doing things");
		assertThat(((Coding) stored.getItem().get(0).getAnswerFirstRep().getValue()).getCode()).isEqualTo("LA6569-3");
	}

	@Test
	void extractPhq9_storesTotalAndSeverityBand_andItem9RaisesExactlyOneAlertAcrossStoreAndExtract() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		// 2+3+2+2+1+3+2+1+1 = 17: moderately severe
		IIdType qr = client.create().resource(AssessmentFixtures.phq9(patient, 2, 3, 2, 2, 1, 3, 2, 1, 1)).execute().getId().toUnqualifiedVersionless();
		extract(qr);
		extract(qr);

		Observation total = withCode(observations(patient), NssiCanonicals.LOINC, "44261-6").get(0);
		assertThat(((Quantity) total.getValue()).getValue().intValue()).isEqualTo(17);
		assertThat(total.getComponent()).anySatisfy(c -> assertThat(((CodeableConcept) c.getValue()).getCodingFirstRep().getCode()).isEqualTo("phq9-moderately-severe"));
		assertThat(total.getMeta().hasProfile(NssiCanonicals.profile("nssi-screening-result"))).isTrue();
		// who answered (the response's source, else its author) is the extracted result's performer
		assertThat(total.getPerformerFirstRep().getReference()).isEqualTo(patient.getValue());
		// item 9 keeps its LOINC answer code, not only its score (issue 19 review, item 2)
		assertThat(total.getComponent()).anySatisfy(c -> {
			assertThat(c.getCode().getCodingFirstRep().getCode()).isEqualTo("44260-8");
			assertThat(((CodeableConcept) c.getValue()).getCodingFirstRep().getCode()).isEqualTo("LA6569-3");
			assertThat(EscalationSignals.number(c.getValue())).contains(1);
		});

		List<Flag> flags = client.search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> (Flag) e.getResource()).toList();
		assertThat(flags).hasSize(1);
		assertThat(client.search().forResource(Task.class).where(Task.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntry()).hasSize(1);
	}

	@Test
	void concurrentExtractionsOfOneResponse_storeEachObservationAndAlertOnce() throws Exception {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		// item 9 = 2: the response raised one alert when stored; the extractions race on the same identifiers
		IIdType qr = client.create().resource(AssessmentFixtures.phq9(patient, 1, 1, 1, 1, 1, 1, 1, 1, 2)).execute().getId().toUnqualifiedVersionless();
		java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
		List<java.util.concurrent.Future<Integer>> runs = new java.util.ArrayList<>();
		for (int i = 0; i < 4; i++) {
			runs.add(pool.submit(() -> {
				try {
					extract(qr);
					return 200;
				} catch (BaseServerResponseException e) {
					return e.getStatusCode();
				}
			}));
		}
		List<Integer> statuses = new java.util.ArrayList<>();
		for (java.util.concurrent.Future<Integer> run : runs) {
			statuses.add(run.get());
		}
		pool.shutdown();
		// a loser of the race may be told to retry (409/412), never a 500; nothing is stored twice
		assertThat(statuses).allMatch(s -> s == 200 || s == 409 || s == 412).contains(200);
		assertThat(withCode(observations(patient), NssiCanonicals.LOINC, "44261-6")).hasSize(1);
		assertThat(client.search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntry()).hasSize(1);
		assertThat(client.search().forResource(Task.class).where(Task.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntry()).hasSize(1);
	}

	@Test
	void extract_refusesAResponseInProgress_withACoded422_andStoresNothing() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse draft = AssessmentFixtures.phq9(patient, 1, 1, 1, 1, 1, 1, 1, 1, 0);
		draft.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.INPROGRESS);
		IIdType qr = client.create().resource(draft).execute().getId();
		assertThatThrownBy(() -> extract(qr))
				.isInstanceOf(BaseServerResponseException.class)
				.satisfies(e -> {
					assertThat(((BaseServerResponseException) e).getStatusCode()).isEqualTo(422);
					assertThat(e.getMessage()).contains("NSSI-0401");
				});
		assertThat(observations(patient)).isEmpty();

		assertFailsWithStatus(404, () -> extract(new org.hl7.fhir.r4.model.IdType("QuestionnaireResponse", "does-not-exist")));
	}

	@Test
	void aPhq9WhoseTotalContradictsItsItems_isRefusedOnEveryWritePath_andNothingIsStored() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		// items sum to 12; a typed total of 3 (what the clinician app once allowed) contradicts them
		QuestionnaireResponse typed = AssessmentFixtures.phq9(patient, 2, 2, 2, 2, 1, 1, 1, 1, 0);
		typed.addItem().setLinkId("phq9-total-score").addAnswer().setValue(new IntegerType(3));
		assertThatThrownBy(() -> client.create().resource(typed).execute())
				.isInstanceOf(BaseServerResponseException.class)
				.satisfies(e -> {
					assertThat(((BaseServerResponseException) e).getStatusCode()).isEqualTo(422);
					assertThat(e.getMessage()).contains("NSSI-0404").contains("(3)").contains("(12)");
				});
		Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		transaction.addEntry().setResource(typed).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("QuestionnaireResponse");
		assertThatThrownBy(() -> client.transaction().withBundle(transaction).execute())
				.isInstanceOf(BaseServerResponseException.class)
				.satisfies(e -> assertThat(e.getMessage()).contains("NSSI-0404"));
		assertThat(client.search().forResource(QuestionnaireResponse.class).where(QuestionnaireResponse.SUBJECT.hasId(patient))
				.returnBundle(Bundle.class).execute().getEntry()).isEmpty();
		// the computed total is stored, and an update cannot make it contradict the items either
		typed.getItem().get(9).getAnswerFirstRep().setValue(new IntegerType(12));
		IIdType stored = client.create().resource(typed).execute().getId().toUnqualifiedVersionless();
		QuestionnaireResponse changed = client.read().resource(QuestionnaireResponse.class).withId(stored).execute();
		changed.getItem().get(0).getAnswerFirstRep().setValue(new IntegerType(0));
		assertFailsWithStatus(422, () -> client.update().resource(changed).execute());
	}

	@Test
	void aPhq9AnsweredWithLoincAnswerCodes_scores_andItem9Escalates() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		// 1+1+2+2+0+1+0+0 + item 9 "Several days" (LA6569-3) = 8
		IIdType qr = client.create().resource(AssessmentFixtures.phq9(patient, 1, 1, 2, 2, 0, 1, 0, 0, 1)).execute().getId().toUnqualifiedVersionless();
		extract(qr);
		Observation total = withCode(observations(patient), NssiCanonicals.LOINC, "44261-6").get(0);
		assertThat(((Quantity) total.getValue()).getValue().intValue()).isEqualTo(8);
		assertThat(client.search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntry())
				.singleElement().satisfies(e -> assertThat(((Flag) e.getResource()).getCode().getCodingFirstRep().getCode()).isEqualTo("suicide-risk"));
		assertThat(client.search().forResource(Task.class).where(Task.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntry()).hasSize(1);
	}

	@Test
	void aPartialPhq9_hasNoTotal_neitherTypedNorExtracted() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		// items 1-4 answered, 5-8 not: a total of 4 would be a partial sum shown as a score
		QuestionnaireResponse partial = AssessmentFixtures.phq9(patient, 1, 1, 1, 1);
		partial.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.INPROGRESS);
		partial.addItem().setLinkId("phq9-total-score").addAnswer().setValue(new IntegerType(4));
		assertThatThrownBy(() -> client.create().resource(partial).execute())
				.isInstanceOf(BaseServerResponseException.class)
				.satisfies(e -> {
					assertThat(((BaseServerResponseException) e).getStatusCode()).isEqualTo(422);
					assertThat(e.getMessage()).contains("NSSI-0404").contains("item 5 is unanswered");
				});
		// the same without the total is kept as a draft, and $extract gives no total for it
		QuestionnaireResponse incomplete = AssessmentFixtures.phq9(patient, 1, 1, 1, 1);
		incomplete.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.INPROGRESS);
		IIdType qr = client.create().resource(incomplete).execute().getId().toUnqualifiedVersionless();
		assertFailsWithStatus(422, () -> extract(qr));
		assertThat(withCode(observations(patient), NssiCanonicals.LOINC, "44261-6")).isEmpty();
	}

	@Test
	void aPhq9AnsweredWithIntegersByAnOlderClient_isStoredCoded_scoresTheSame_andItem9StillEscalates() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		// 2+3+2+2+1+3+2+1+2 = 18, item 9 = 2 as an integer (package 0.5.0 and earlier)
		IIdType qr = client.create().resource(AssessmentFixtures.phq9Integers(patient, 2, 3, 2, 2, 1, 3, 2, 1, 2)).execute().getId()
				.toUnqualifiedVersionless();
		QuestionnaireResponse stored = client.read().resource(QuestionnaireResponse.class).withId(qr).execute();
		assertThat(stored.getItem()).extracting(i -> ((Coding) i.getAnswerFirstRep().getValue()).getCode())
				.containsExactly("LA6570-1", "LA6571-9", "LA6570-1", "LA6570-1", "LA6569-3", "LA6571-9", "LA6570-1", "LA6569-3", "LA6570-1");
		extract(qr);
		Observation total = withCode(observations(patient), NssiCanonicals.LOINC, "44261-6").get(0);
		assertThat(((Quantity) total.getValue()).getValue().intValue()).isEqualTo(18);
		assertThat(client.search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntry()).hasSize(1);
	}

	@org.springframework.beans.factory.annotation.Autowired
	ca.uhn.fhir.interceptor.api.IInterceptorService interceptors;

	@org.springframework.beans.factory.annotation.Autowired
	Phq9TotalRule phq9Rule;

	@org.springframework.beans.factory.annotation.Autowired
	org.nssifhir.server.conformance.NssiWriteInterceptor profileValidation;

	@org.springframework.beans.factory.annotation.Autowired
	ca.uhn.fhir.jpa.api.dao.DaoRegistry daoRegistry;

	@Test
	void aPhq9StoredWithIntegerAnswersBeforePackage060_stillScoresAndEscalates() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		// as a 0.5.0 server stored it: integer answers, no coding step, not checked against the 0.6.0 Questionnaire
		interceptors.unregisterInterceptor(phq9Rule);
		interceptors.unregisterInterceptor(profileValidation);
		IIdType qr;
		try {
			qr = daoRegistry.getResourceDao(QuestionnaireResponse.class)
					.create(AssessmentFixtures.phq9Integers(patient, 2, 3, 2, 2, 1, 3, 2, 1, 2), new ca.uhn.fhir.rest.api.server.SystemRequestDetails())
					.getId().toUnqualifiedVersionless();
		} finally {
			interceptors.registerInterceptor(phq9Rule);
			interceptors.registerInterceptor(profileValidation);
		}
		QuestionnaireResponse stored = client.read().resource(QuestionnaireResponse.class).withId(qr).execute();
		assertThat(stored.getItem().get(8).getAnswerFirstRep().getValue()).isInstanceOf(IntegerType.class);
		// item 9 = 2 raised the suicide-risk alert when stored
		assertThat(client.search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntry()).hasSize(1);
		extract(qr);
		Observation total = withCode(observations(patient), NssiCanonicals.LOINC, "44261-6").get(0);
		assertThat(((Quantity) total.getValue()).getValue().intValue()).isEqualTo(18);
	}

	@Test
	void populateAssessment_prefillsFromEpisodesAndTheLastAssessment_butNeverTheSuicideQuestions() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		Observation first = AssessmentFixtures.episode(patient, daysAgo(40), "intent-none", "care-self");
		first.addComponent(AssessmentFixtures.component("function", new CodeableConcept(new Coding(CS, "function-relief-distress", null))));
		client.create().resource(first).execute();
		Observation second = AssessmentFixtures.episode(patient, daysAgo(5), "intent-none", "care-first-aid");
		second.getComponent().get(0).setValue(new CodeableConcept(new Coding(NssiCanonicals.SNOMED, "284744004", "Burning self")));
		client.create().resource(second).execute();
		// older than a year: not counted
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(400), "intent-none", "care-medical")).execute();
		client.create().resource(AssessmentFixtures.assessment(patient, false, "intent-none", 3, List.of(), List.of("risk-depression"), List.of("protective-coping-skills"))).execute();

		Parameters in = new Parameters();
		in.addParameter().setName("subject").setValue(new Reference(patient));
		Parameters out = client.operation().onInstance(new org.hl7.fhir.r4.model.IdType("Questionnaire", "nssi-assessment"))
				.named("$populate").withParameters(in).execute();
		QuestionnaireResponse draft = (QuestionnaireResponse) out.getParameter("response").getResource();

		assertThat(draft.getStatus()).isEqualTo(QuestionnaireResponse.QuestionnaireResponseStatus.INPROGRESS);
		assertThat(draft.getSubject().getReference()).isEqualTo(patient.getValue());
		assertThat(answers(draft, "nssi-any-past-year")).singleElement().satisfies(a -> assertThat(((BooleanType) a).booleanValue()).isTrue());
		assertThat(answers(draft, "nssi-days-past-year")).singleElement().satisfies(a -> assertThat(((IntegerType) a).getValue()).isEqualTo(2));
		assertThat(answers(draft, "nssi-methods")).extracting(a -> ((Coding) a).getCode()).containsExactlyInAnyOrder("248073004", "284744004");
		assertThat(answers(draft, "nssi-functions")).extracting(a -> ((Coding) a).getCode()).containsExactly("function-relief-distress");
		assertThat(answers(draft, "nssi-care-level")).extracting(a -> ((Coding) a).getCode()).containsExactly("care-first-aid");
		assertThat(answers(draft, "nssi-risk-factors")).extracting(a -> ((Coding) a).getCode()).containsExactly("risk-depression");
		assertThat(answers(draft, "nssi-protective-factors")).extracting(a -> ((Coding) a).getCode()).containsExactly("protective-coping-skills");
		assertThat(answers(draft, "nssi-intent")).isEmpty();
		assertThat(answers(draft, "suicidal-ideation")).isEmpty();
		// the draft is structured like the Questionnaire: answers sit inside their groups
		assertThat(draft.getItem()).extracting(QuestionnaireResponse.QuestionnaireResponseItemComponent::getLinkId).contains("behaviours", "functions");
	}

	@Test
	void populateAssessment_leavesNoSelfInjuryUnanswered_whenNothingIsOnRecord_andCountsOnlyNonSuicidalDays() {
		IGenericClient client = client();
		IIdType nothing = AssessmentFixtures.patient(client);
		QuestionnaireResponse empty = populate(client, nothing);
		assertThat(answers(empty, "nssi-any-past-year")).as("no record is not 'no self-injury'").isEmpty();
		assertThat(answers(empty, "nssi-days-past-year")).isEmpty();

		IIdType patient = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(30), "intent-none", "care-self")).execute();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(20), "intent-present", null)).execute();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(10), "intent-unsure", null)).execute();
		QuestionnaireResponse draft = populate(client, patient);
		assertThat(answers(draft, "nssi-any-past-year")).singleElement().satisfies(a -> assertThat(((BooleanType) a).booleanValue()).isTrue());
		assertThat(answers(draft, "nssi-days-past-year")).as("DSM-5 criterion A counts NSSI days only")
				.singleElement().satisfies(a -> assertThat(((IntegerType) a).getValue()).isEqualTo(1));

		IIdType suicidalOnly = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(suicidalOnly, daysAgo(3), "intent-present", null)).execute();
		assertThat(answers(populate(client, suicidalOnly), "nssi-days-past-year")).isEmpty();
	}

	private static QuestionnaireResponse populate(IGenericClient client, IIdType patient) {
		Parameters in = new Parameters();
		in.addParameter().setName("subject").setValue(new Reference(patient));
		Parameters out = client.operation().onInstance(new org.hl7.fhir.r4.model.IdType("Questionnaire", "nssi-assessment"))
				.named("$populate").withParameters(in).execute();
		return (QuestionnaireResponse) out.getParameter("response").getResource();
	}

	@Test
	void populate_refusesAPatientTokenForAnotherPatient_andAMissingSubject() {
		IGenericClient client = client();
		IIdType mine = AssessmentFixtures.patient(client);
		IIdType other = AssessmentFixtures.patient(client);
		IGenericClient patientClient = client(tokens().ownPatient(mine.getIdPart(), "patient/*.rs"));
		Parameters forOther = new Parameters();
		forOther.addParameter().setName("subject").setValue(new Reference(other));
		assertFailsWithStatus(403, () -> patientClient.operation().onInstance(new org.hl7.fhir.r4.model.IdType("Questionnaire", "nssi-assessment"))
						.named("$populate").withParameters(forOther).execute());
		Parameters forMe = new Parameters();
		forMe.addParameter().setName("subject").setValue(new Reference(mine));
		assertThat(patientClient.operation().onInstance(new org.hl7.fhir.r4.model.IdType("Questionnaire", "nssi-assessment"))
				.named("$populate").withParameters(forMe).execute().getParameter("response")).isNotNull();

		assertFailsWithStatus(400, () -> client.operation().onInstance(new org.hl7.fhir.r4.model.IdType("Questionnaire", "nssi-assessment"))
						.named("$populate").withNoParameters(Parameters.class).execute());
	}

	private static List<Type> answers(QuestionnaireResponse qr, String linkId) {
		return EscalationSignals.answers(qr.getItem(), linkId).toList();
	}

	/**
	 * Issue 19 review: the clinician sections show when {@code respondent} is unanswered, so the server sets it from
	 * the author (else the source) and refuses a contradiction (422 NSSI-0405).
	 */
	@Test
	void respondent_isSetFromTheAuthor_andAContradictionIsRefused() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);

		// the person's own response without respondent: stored as self-completed
		QuestionnaireResponse own = AssessmentFixtures.assessment(patient, false, "intent-none", 2, List.of(), List.of(), List.of());
		IIdType ownId = client.create().resource(own).execute().getId().toUnqualifiedVersionless();
		assertThat(respondent(client.read().resource(QuestionnaireResponse.class).withId(ownId).execute())).isEqualTo("respondent-self");

		// ... so a clinician item in it is not enabled: refused, nothing stored
		QuestionnaireResponse ownWithRisk = AssessmentFixtures.assessment(patient, false, "intent-none", 2, List.of(), List.of("risk-depression"), List.of());
		ownWithRisk.getItem().removeIf(item -> "respondent".equals(item.getLinkId()));
		ownWithRisk.setSource(null);
		ownWithRisk.setAuthor(new Reference(patient));
		assertFailsWithStatus(422, () -> client.create().resource(ownWithRisk).execute());

		// the person as author, answering that a clinician filled it in: a contradiction
		QuestionnaireResponse contradiction = AssessmentFixtures.assessment(patient, false, "intent-none", 2, List.of(), List.of("risk-depression"), List.of());
		contradiction.setAuthor(new Reference(patient));
		assertThatThrownBy(() -> client.create().resource(contradiction).execute()).isInstanceOf(BaseServerResponseException.class)
				.satisfies(e -> {
					assertThat(((BaseServerResponseException) e).getStatusCode()).isEqualTo(422);
					assertThat(e.getMessage()).contains("NSSI-0405").contains("respondent");
				});

		// the clinician app: the person is the source, respondent-clinician, clinician items accepted
		QuestionnaireResponse withClinician = AssessmentFixtures.assessment(patient, false, "intent-none", 2, List.of(), List.of("risk-depression"), List.of());
		IIdType clinicianId = client.create().resource(withClinician).execute().getId().toUnqualifiedVersionless();
		assertThat(respondent(client.read().resource(QuestionnaireResponse.class).withId(clinicianId).execute())).isEqualTo("respondent-clinician");

		// a Practitioner as author, respondent unanswered: set to the clinician
		org.hl7.fhir.r4.model.Practitioner practitioner = new org.hl7.fhir.r4.model.Practitioner();
		practitioner.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		practitioner.addName().setFamily("Synthetic");
		IIdType practitionerId = client.create().resource(practitioner).execute().getId().toUnqualifiedVersionless();
		QuestionnaireResponse byPractitioner = AssessmentFixtures.assessment(patient, false, "intent-none", 2, List.of(), List.of("risk-depression"), List.of());
		byPractitioner.getItem().removeIf(item -> "respondent".equals(item.getLinkId()));
		byPractitioner.setAuthor(new Reference(practitionerId));
		IIdType byPractitionerId = client.create().resource(byPractitioner).execute().getId().toUnqualifiedVersionless();
		assertThat(respondent(client.read().resource(QuestionnaireResponse.class).withId(byPractitionerId).execute())).isEqualTo("respondent-clinician");
	}

	private static String respondent(QuestionnaireResponse qr) {
		return qr.getItem().stream().filter(item -> "respondent".equals(item.getLinkId())).findFirst()
				.map(item -> ((Coding) item.getAnswerFirstRep().getValue()).getCode()).orElse(null);
	}
}
