package org.nssifhir.server.treatment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Goal;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Timing;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;

/**
 * Treatment planning over HTTP on PostgreSQL: $apply of the DBT and CBT PlanDefinitions (applicability decided by
 * the CQL in NSSITreatmentLogic), the stored CarePlan, Goals, ServiceRequests and relapse-prevention plan checked
 * in detail and against our profiles, progress against a hand-computed fixture, goals following the data, plan
 * revision with history, and the patient editing their own relapse-prevention plan.
 */
class TreatmentPlanIT extends BaseIT {

	private static final String BASE = NssiCanonicals.BASE;
	/** DBT components ordered from the care team (ServiceRequests); the diary card is the person's own activity. */
	/** DBT components every plan orders, whichever skills group the person attends. */
	private static final List<String> DBT_CORE = List.of("dbt-individual-therapy", "dbt-mindfulness",
			"dbt-distress-tolerance", "dbt-emotion-regulation", "dbt-interpersonal-effectiveness", "dbt-phone-coaching",
			"dbt-commitment");
	/** Family involvement, with the adolescent DBT adaptations when the plan is DBT (issue 19, items 8 and 13). */
	private static final List<String> DBT_FAMILY = List.of("family-psychoeducation", "family-sessions", "lethal-means-counselling",
			"dbt-multifamily-group", "dbt-parent-coaching");
	/** The standard skills group: for everyone but a young person whose family is involved (who attends the multi-family group). */
	private static final String STANDARD_GROUP = "dbt-skills-group";
	private static final List<String> ALWAYS = List.of("relapse-prevention-plan", "increased-check-ins", "medication-review");

	@Test
	void dbtForAnAdolescent_includesFamilyInvolvement_andStoresAProfiledPlanWithGoalsRequestsAndRelapsePlan() {
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		IIdType patient = patient(today.minusYears(15).toString());
		IIdType condition = condition(patient);
		IIdType practitioner = practitioner();
		IIdType careTeam = careTeam(patient, practitioner);
		Observation episode = AssessmentFixtures.episode(patient, daysAgo(20), "intent-none", "care-self");
		episode.addComponent(AssessmentFixtures.component("trigger", new CodeableConcept(new Coding(CONCEPTS_SYSTEM, "trigger-bullying", "Bullying"))));
		client().create().resource(episode).execute();

		CarePlan plan = apply("nssi-dbt", patient, Map.of("persist", new BooleanType(true), "practitioner", new StringType(practitioner.getValue())));

		assertThat(plan.getIdElement().getIdPart()).isNotBlank();
		assertThat(plan.getMeta().hasProfile(BASE + "/StructureDefinition/nssi-dbt-careplan")).isTrue();
		assertThat(codes(plan.getCategory())).contains("dbt-plan");
		assertThat(plan.getStatus()).isEqualTo(CarePlan.CarePlanStatus.ACTIVE);
		assertThat(plan.getIntent()).isEqualTo(CarePlan.CarePlanIntent.PLAN);
		assertThat(plan.getInstantiatesCanonical().get(0).getValue()).isEqualTo(BASE + "/PlanDefinition/nssi-dbt|0.8.0");
		assertThat(plan.getSubject().getReference()).isEqualTo(patient.getValue());
		assertThat(refs(plan.getAddresses())).containsExactly(condition.getValue());
		assertThat(refs(plan.getCareTeam())).containsExactly(careTeam.getValue());
		assertThat(plan.getAuthor().getReference()).isEqualTo(practitioner.getValue());
		assertThat(plan.getPeriod().getStartElement().getValueAsString()).startsWith(today.toString());
		assertThat(labels(plan)).contains("R", "BH", "ADOL", "HTEST");
		assertThat(plan.getText().getDivAsString()).contains("Diary card review");

		List<ServiceRequest> requests = requests(plan);
		assertThat(requests.stream().map(TreatmentPlanIT::code)).containsExactlyInAnyOrderElementsOf(concat(DBT_CORE, ALWAYS, DBT_FAMILY));
		// the consultation team is the programme's, not a per-patient order; check-ins wait for an episode (no standing schedule)
		assertThat(requests.stream().map(TreatmentPlanIT::code)).doesNotContain("dbt-consultation-team");
		assertThat(byCode(requests).get("increased-check-ins").hasOccurrence()).isFalse();
		for (ServiceRequest sr : requests) {
			assertThat(sr.getMeta().hasProfile(BASE + "/StructureDefinition/nssi-treatment-request")).isTrue();
			assertThat(sr.getStatus()).isEqualTo(ServiceRequest.ServiceRequestStatus.ACTIVE);
			assertThat(sr.getIntent()).isEqualTo(ServiceRequest.ServiceRequestIntent.ORDER);
			assertThat(refs(sr.getReasonReference())).containsExactly(condition.getValue());
			assertThat(sr.getRequester().getReference()).isEqualTo(practitioner.getValue());
			assertThat(sr.getInstantiatesCanonical().get(0).getValue())
					.isEqualTo(BASE + "/ActivityDefinition/nssi-" + code(sr) + "|0.8.0");
			assertThat(labels(sr)).contains("R", "BH", "ADOL");
		}
		CarePlan.CarePlanActivityDetailComponent diaryCard = ownActivity(plan, "dbt-diary-card");
		assertThat(diaryCard.getPerformerFirstRep().getReference()).isEqualTo(patient.getValue());
		assertThat(diaryCard.getScheduledTiming().getRepeat().getPeriodUnit()).isEqualTo(Timing.UnitsOfTime.D);
		assertThat(diaryCard.getGoal()).hasSize(3);
		ServiceRequest individual = byCode(requests).get("dbt-individual-therapy");
		Timing.TimingRepeatComponent weekly = ((Timing) individual.getOccurrence()).getRepeat();
		assertThat(weekly.getFrequency()).isEqualTo(1);
		assertThat(weekly.getPeriodUnit()).isEqualTo(Timing.UnitsOfTime.WK);
		assertThat(weekly.getDuration().intValue()).isEqualTo(60);
		assertThat(codes(byCode(requests).get("family-sessions").getCategory())).containsExactly("family-involvement");
		assertThat(byCode(requests).get("family-sessions").getCode().getCoding()).extracting(Coding::getCode).contains("108313002");
		assertThat(byCode(requests).get("medication-review").getCode().getText()).isEqualTo("Medication review");

		List<Goal> goals = goals(plan);
		assertThat(goals).extracting(g -> g.getDescription().getCodingFirstRep().getCode())
				.containsExactlyInAnyOrder("goal-fewer-episodes", "goal-lower-urge-intensity", "goal-more-skills-use");
		for (Goal goal : goals) {
			assertThat(goal.getMeta().hasProfile(BASE + "/StructureDefinition/nssi-goal")).isTrue();
			assertThat(goal.getLifecycleStatus()).isEqualTo(Goal.GoalLifecycleStatus.ACTIVE);
			assertThat(refs(goal.getAddresses())).containsExactly(condition.getValue());
			assertThat(goal.getStartDateType().getValueAsString()).isEqualTo(today.toString());
		}
		Goal fewer = goals.stream().filter(g -> g.getDescription().getCodingFirstRep().getCode().equals("goal-fewer-episodes")).findFirst().orElseThrow();
		assertThat(fewer.getTargetFirstRep().getDueDateType().getValueAsString()).isEqualTo(today.plusWeeks(26).toString());
		assertThat(fewer.getTargetFirstRep().getDetailRange().getHigh().getValue().intValue()).isEqualTo(1);

		CarePlan relapse = relapsePlan(plan);
		assertThat(relapse.getMeta().hasProfile(BASE + "/StructureDefinition/nssi-relapse-prevention-plan")).isTrue();
		assertThat(relapse.getTitle()).isEqualTo("My plan to stay safe");
		assertThat(refs(relapse.getContributor())).contains(patient.getValue(), practitioner.getValue());
		assertThat(relapse.getActivity()).extracting(a -> a.getDetail().getCode().getCodingFirstRep().getCode())
				.containsExactly("personal-trigger", "warning-sign", "coping-strategy", "support-contact", "increased-check-ins", "88848003");
		assertThat(relapse.getActivityFirstRep().getDetail().getReasonCodeFirstRep().getCodingFirstRep().getCode()).isEqualTo("trigger-bullying");
		// check-ins follow an episode (said in words, no schedule from day one); the standing follow-up is the plan's review
		CarePlan.CarePlanActivityDetailComponent checkIns = relapse.getActivity().get(4).getDetail();
		assertThat(checkIns.hasScheduledTiming()).isFalse();
		assertThat(checkIns.getScheduledStringType().getValue()).startsWith("After any self-harm");
		Timing.TimingRepeatComponent review = relapse.getActivity().get(5).getDetail().getScheduledTiming().getRepeat();
		assertThat(review.getPeriod().intValue()).isEqualTo(2);
		assertThat(review.getPeriodUnit()).isEqualTo(Timing.UnitsOfTime.WK);

		List<IBaseResource> produced = new ArrayList<>(List.of(plan, relapse));
		produced.addAll(requests);
		produced.addAll(goals);
		produced.forEach(this::assertValidAgainstItsProfiles);
	}

	@Test
	void cbtForAnAdult_hasNoFamilyInvolvementUnlessChosen_andTheActVariantReplacesCognitiveRestructuring() {
		IIdType patient = patient("1990-05-01");
		condition(patient);

		CarePlan standard = apply("nssi-cbt", patient, Map.of("persist", new BooleanType(true)));
		assertThat(standard.getMeta().hasProfile(BASE + "/StructureDefinition/nssi-cbt-careplan")).isTrue();
		assertThat(codes(standard.getCategory())).contains("cbt-plan");
		assertThat(labels(standard)).doesNotContain("ADOL");
		List<ServiceRequest> requests = requests(standard);
		assertThat(requests.stream().map(TreatmentPlanIT::code)).containsExactlyInAnyOrderElementsOf(concat(
				List.of("cbt-session", "cbt-functional-analysis", "cbt-problem-solving-therapy", "cbt-cognitive-restructuring"), ALWAYS, List.of()));
		// one weekly 50-minute session; the components are worked on within it (no schedule of their own)
		Timing.TimingRepeatComponent cbtWeekly = ((Timing) byCode(requests).get("cbt-session").getOccurrence()).getRepeat();
		assertThat(cbtWeekly.getFrequency()).isEqualTo(1);
		assertThat(cbtWeekly.getPeriodUnit()).isEqualTo(Timing.UnitsOfTime.WK);
		assertThat(requests.stream().filter(r -> code(r).startsWith("cbt-") && !code(r).equals("cbt-session"))).allMatch(r -> !r.hasOccurrence());
		// no episode recorded: the trigger step is left for the person to fill in, not given a placeholder code
		CarePlan relapse = relapsePlan(standard);
		assertThat(relapse.getActivityFirstRep().getDetail().getCode().getCodingFirstRep().getCode()).isEqualTo("personal-trigger");
		assertThat(relapse.getActivityFirstRep().getDetail().hasReasonCode()).isFalse();
		assertThat(relapse.getActivity()).flatExtracting(a -> a.getDetail().getReasonCode()).flatExtracting(CodeableConcept::getCoding)
				.extracting(Coding::getCode).doesNotContain("trigger-other");
		assertThat(ownActivity(standard, "cbt-mindfulness-practice").getDescription()).contains("mindfulness");
		requests.forEach(this::assertValidAgainstItsProfiles);

		// a proposal only: the CQL parameters choose family involvement and the ACT variant; nothing is stored
		int plansBefore = count("CarePlan", patient);
		CarePlan proposal = apply("nssi-cbt", patient, Map.of("familyInvolvement", new BooleanType(true), "cbtVariant", new CodeType("act")));
		assertThat(proposal.getMeta().getVersionId()).as("a proposal is not stored").isNull();
		List<String> proposed = proposal.getContained().stream().filter(ServiceRequest.class::isInstance)
				.map(r -> code((ServiceRequest) r)).toList();
		assertThat(proposed).contains("cbt-act", "family-psychoeducation", "family-sessions").doesNotContain("cbt-cognitive-restructuring");
		assertThat(count("CarePlan", patient)).isEqualTo(plansBefore);
	}

	/** Issue 19: family involvement is not automatic for a minor when abuse, neglect or family conflict is recorded. */
	@Test
	void adolescentWithRecordedAbuseOrFamilyConflict_getsNoAutomaticFamilyInvolvement() {
		for (String risk : List.of("risk-childhood-abuse", "risk-family-conflict")) {
			IIdType patient = patient(LocalDate.now(ZoneOffset.UTC).minusYears(15).toString());
			condition(patient);
			Observation factor = new Observation();
			factor.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
			factor.setStatus(Observation.ObservationStatus.FINAL);
			factor.addCategory().addCoding(new Coding(CONCEPTS_SYSTEM, "nssi", null));
			factor.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, "risk-factor", null));
			factor.setSubject(new Reference(patient));
			factor.setEffective(new DateTimeType(new Date()));
			factor.setValue(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, risk, null)));
			client().create().resource(factor).execute();

			CarePlan proposal = apply("nssi-dbt", patient, Map.of());
			List<String> proposed = proposal.getContained().stream().filter(ServiceRequest.class::isInstance)
					.map(r -> code((ServiceRequest) r)).toList();
			assertThat(proposed).as(risk).containsAll(DBT_CORE).contains(STANDARD_GROUP).doesNotContainAnyElementsOf(DBT_FAMILY);
			// the clinician can still choose it with the young person
			CarePlan chosen = apply("nssi-dbt", patient, Map.of("familyInvolvement", new BooleanType(true)));
			assertThat(chosen.getContained().stream().filter(ServiceRequest.class::isInstance).map(r -> code((ServiceRequest) r)).toList())
					.contains("family-psychoeducation", "family-sessions", "dbt-multifamily-group").doesNotContain(STANDARD_GROUP);
		}
	}

	/**
	 * Informaticist review s8, W4: $apply orders one skills group per person (the multi-family group for a young person
	 * whose family is involved, the standard group otherwise), and the commitment stage comes before individual
	 * therapy (relatedAction after-end), in the proposal as in the PlanDefinition.
	 */
	@Test
	void dbtApply_ordersExactlyOneSkillsGroup_andIndividualTherapyAfterTheCommitmentStage() {
		IIdType adult = patient("1990-03-03");
		IIdType teen = patient(LocalDate.now(ZoneOffset.UTC).minusYears(14).toString());
		IIdType teenNoFamily = patient(LocalDate.now(ZoneOffset.UTC).minusYears(16).toString());
		Observation conflict = new Observation();
		conflict.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		conflict.setStatus(Observation.ObservationStatus.FINAL);
		conflict.addCategory().addCoding(new Coding(CONCEPTS_SYSTEM, "nssi", null));
		conflict.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, "risk-factor", null));
		conflict.setSubject(new Reference(teenNoFamily));
		conflict.setEffective(new DateTimeType(new Date()));
		conflict.setValue(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, "risk-family-conflict", null)));
		client().create().resource(conflict).execute();

		Map<IIdType, String> expected = Map.of(adult, STANDARD_GROUP, teen, "dbt-multifamily-group", teenNoFamily, STANDARD_GROUP);
		expected.forEach((patient, group) -> {
			CarePlan proposal = apply("nssi-dbt", patient, Map.of());
			List<String> proposed = proposal.getContained().stream().filter(ServiceRequest.class::isInstance)
					.map(r -> code((ServiceRequest) r)).toList();
			assertThat(proposed).as(patient.getValue()).contains(group)
					.filteredOn(c -> c.equals(STANDARD_GROUP) || c.equals("dbt-multifamily-group")).containsExactly(group);
			// the four modules are taught in either group
			assertThat(proposed).as(patient.getValue()).contains("dbt-mindfulness", "dbt-distress-tolerance", "dbt-emotion-regulation",
					"dbt-interpersonal-effectiveness");

			List<org.hl7.fhir.r4.model.RequestGroup.RequestGroupActionComponent> actions = new ArrayList<>();
			proposal.getContained().stream().filter(org.hl7.fhir.r4.model.RequestGroup.class::isInstance)
					.forEach(g -> flatten(((org.hl7.fhir.r4.model.RequestGroup) g).getAction(), actions));
			// contained ServiceRequests by local id (with or without the '#' the parser keeps), then the action ordering one
			Map<String, String> codeByLocalId = new java.util.HashMap<>();
			proposal.getContained().stream().filter(ServiceRequest.class::isInstance)
					.forEach(r -> codeByLocalId.put(r.getIdElement().getIdPart().replace("#", ""), code((ServiceRequest) r)));
			Function<String, org.hl7.fhir.r4.model.RequestGroup.RequestGroupActionComponent> byRequest = wanted -> actions.stream()
					.filter(a -> a.hasResource() && a.getResource().getReference() != null
							&& wanted.equals(codeByLocalId.get(a.getResource().getReference().replace("#", "").replace("ServiceRequest/", ""))))
					.findFirst().orElseThrow(() -> new AssertionError("no action orders " + wanted + " in " + codeByLocalId));
			org.hl7.fhir.r4.model.RequestGroup.RequestGroupActionComponent individual = byRequest.apply("dbt-individual-therapy");
			assertThat(individual.getRelatedAction()).as(patient.getValue()).singleElement().satisfies(related -> {
				assertThat(related.getActionId()).isEqualTo("dbt-commitment");
				assertThat(related.getRelationship()).isEqualTo(org.hl7.fhir.r4.model.RequestGroup.ActionRelationshipType.AFTEREND);
			});
		});
	}

	private static void flatten(List<org.hl7.fhir.r4.model.RequestGroup.RequestGroupActionComponent> in,
			List<org.hl7.fhir.r4.model.RequestGroup.RequestGroupActionComponent> out) {
		for (org.hl7.fhir.r4.model.RequestGroup.RequestGroupActionComponent a : in) {
			if (a != null) {
				out.add(a);
				flatten(a.getAction(), out);
			}
		}
	}

	@Test
	void anOpenSuicideRiskFlag_addsTheSuicideRiskPathway() {
		IIdType patient = patient("1995-02-02");
		condition(patient);
		// an episode with unsure intent raises the suicide-risk Flag (escalation)
		client().create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-unsure", null)).execute();

		CarePlan plan = apply("nssi-dbt", patient, Map.of("persist", new BooleanType(true)));
		Map<String, ServiceRequest> requests = byCode(requests(plan));
		assertThat(requests.keySet()).containsAll(DBT_CORE).contains(STANDARD_GROUP, "suicide-risk-assessment", "safety-plan", "lethal-means-counselling")
				.doesNotContain("family-sessions");
		ServiceRequest assessment = requests.get("suicide-risk-assessment");
		assertThat(assessment.getCode().getCoding()).extracting(Coding::getSystem, Coding::getCode)
				.containsExactly(org.assertj.core.groups.Tuple.tuple(NssiCanonicals.SNOMED, "225337009"));
		assertThat(assessment.getPriority()).isEqualTo(ServiceRequest.ServiceRequestPriority.URGENT);
		assertThat(codes(assessment.getCategory())).containsExactly("suicide-risk-pathway");
		assertThat(requests.get("safety-plan").getPriority()).as("safety planning is as urgent as the assessment")
				.isEqualTo(ServiceRequest.ServiceRequestPriority.URGENT);
		// both modules ask for more frequent check-ins: ordered once, tagged with both
		assertThat(codes(requests.get("increased-check-ins").getCategory()))
				.containsExactlyInAnyOrder("relapse-prevention", "suicide-risk-pathway");
		assertValidAgainstItsProfiles(assessment);

		// the alert's review closed as "risk assessed" (its documented assessment as the Task's output) is the risk
		// assessment the pathway ordered: counted delivered (clinician review s8, item 4b)
		String assessmentId = "ServiceRequest/" + assessment.getIdElement().getIdPart();
		assertThat(delivered(plan, assessmentId)).isZero();
		org.hl7.fhir.r4.model.Task review = client().search().forResource(org.hl7.fhir.r4.model.Task.class)
				.where(org.hl7.fhir.r4.model.Task.PATIENT.hasId(patient))
				.and(org.hl7.fhir.r4.model.Task.CODE.exactly().systemAndCode(CONCEPTS_SYSTEM, "suicide-risk"))
				.returnBundle(Bundle.class).execute().getEntry().stream().map(e -> (org.hl7.fhir.r4.model.Task) e.getResource())
				.findFirst().orElseThrow();
		org.hl7.fhir.r4.model.ClinicalImpression assessed = new org.hl7.fhir.r4.model.ClinicalImpression();
		assessed.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		assessed.setStatus(org.hl7.fhir.r4.model.ClinicalImpression.ClinicalImpressionStatus.COMPLETED);
		assessed.setSubject(new Reference(patient.getValue())).setDate(new Date());
		assessed.setDescription("Suicide-risk review (synthetic). Outcome: Reviewed: risk assessed and action taken");
		String impression = client().create().resource(assessed).execute().getId().toUnqualifiedVersionless().getValue();
		review.setStatus(org.hl7.fhir.r4.model.Task.TaskStatus.COMPLETED);
		review.addOutput().setType(new CodeableConcept().setText("Risk assessment")).setValue(new Reference(impression));
		client().update().resource(review).execute();
		assertThat(delivered(plan, assessmentId)).isEqualTo(1);
	}

	/** How many sessions $nssi-progress counts delivered for one of the plan's orders. */
	private int delivered(CarePlan plan, String request) {
		Parameters progress = client().operation().onInstance(plan.getIdElement().toUnqualifiedVersionless()).named("$nssi-progress")
				.withNoParameters(Parameters.class).useHttpGet().execute();
		Parameters.ParametersParameterComponent component = progress.getParameter().stream().filter(p -> p.getName().equals("component"))
				.filter(p -> ((Reference) part(p, "request").getValue()).getReference().equals(request)).findFirst().orElseThrow();
		return ((IntegerType) part(component, "delivered").getValue()).getValue();
	}

	@Test
	void badRequests_getAClearErrorAndStoreNothing() {
		IIdType noCondition = patient("1980-01-01");
		int before = count("CarePlan", noCondition);
		BaseServerResponseException e = org.junit.jupiter.api.Assertions.assertThrows(BaseServerResponseException.class,
				() -> apply("nssi-dbt", noCondition, Map.of("persist", new BooleanType(true))));
		assertThat(e.getStatusCode()).isEqualTo(422);
		assertThat(e.getMessage()).contains("NSSI-0501");
		assertThat(count("CarePlan", noCondition)).isEqualTo(before);
		assertThat(count("Goal", noCondition)).isZero();
		assertThat(count("ServiceRequest", noCondition)).isZero();

		assertFailsWithStatus(400, () -> client().operation().onInstance("PlanDefinition/nssi-dbt").named("$apply")
				.withParameter(Parameters.class, "subject", new StringType("Observation/1")).returnResourceType(CarePlan.class).execute());
		assertFailsWithStatus(400, () -> apply("nssi-cbt", noCondition, Map.of("cbtVariant", new CodeType("hypnosis"))));
		assertFailsWithStatus(400, () -> apply("nssi-family-involvement", noCondition, Map.of()));
		assertFailsWithStatus(404, () -> apply("no-such-plan", noCondition, Map.of()));
		assertFailsWithStatus(400, () -> client().operation().onInstance("PlanDefinition/nssi-dbt").named("$apply")
				.withParameter(Parameters.class, "persist", new BooleanType(true)).returnResourceType(CarePlan.class).execute());
		Parameters wrongCql = new Parameters();
		wrongCql.addParameter("FamilyInvolvementChosen", new StringType("yes"));
		Parameters withWrongCql = new Parameters();
		withWrongCql.addParameter("subject", new StringType(noCondition.getValue()));
		withWrongCql.addParameter().setName("parameters").setResource(wrongCql);
		assertFailsWithStatus(400, () -> client().operation().onInstance("PlanDefinition/nssi-dbt").named("$apply")
				.withParameters(withWrongCql).returnResourceType(CarePlan.class).execute());
		assertFailsWithStatus(400, () -> apply("nssi-dbt", noCondition, Map.of("practitioner", new StringType("Practitioner/does-not-exist"))));

		// one active treatment plan at a time: a second persist (a double submit) is a conflict and stores nothing
		IIdType treated = patient("1985-01-01");
		condition(treated);
		apply("nssi-cbt", treated, Map.of("persist", new BooleanType(true)));
		int plans = count("CarePlan", treated);
		assertFailsWithStatus(409, () -> apply("nssi-dbt", treated, Map.of("persist", new BooleanType(true))));
		assertThat(count("CarePlan", treated)).isEqualTo(plans);
		CarePlan current = client().search().forResource(CarePlan.class).where(CarePlan.SUBJECT.hasId(treated))
				.and(CarePlan.CATEGORY.exactly().systemAndCode(CONCEPTS_SYSTEM, "cbt-plan")).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(entry -> (CarePlan) entry.getResource()).findFirst().orElseThrow();
		assertFailsWithStatus(400, () -> client().operation().onInstance(current.getIdElement().toUnqualifiedVersionless()).named("$nssi-progress")
				.withParameter(Parameters.class, "date", new DateType("2026-03")).useHttpGet().execute());
		// a patient-context token may not start a plan
		IGenericClient patientApp = client(tokens().ownPatient(noCondition.getIdPart(), "patient/*.cruds"));
		assertFailsWithStatus(403, () -> patientApp.operation().onInstance("PlanDefinition/nssi-dbt").named("$apply")
				.withParameter(Parameters.class, "subject", new StringType(noCondition.getValue())).returnResourceType(CarePlan.class).execute());
	}

	/**
	 * The fixture, by hand. The plan is revised to start 55 days ago (56 days in the plan, today included).
	 * Episodes: 5 in the 56 days before the start; 2 since (start + 5 days and 10 days ago), so 1 in the last 30.
	 * Individual therapy (weekly): 6 sessions completed, 1 in progress (not counted), 1 in the future (not counted);
	 * expected 55 / 7 = 7 weeks, so 7. Diary: the first week has urges 8 and 7 and skills on 1 day; the last 7 days
	 * have 7 cards, skills on 5 of them (2 each: 10 skills), strongest urge 4.
	 * Goals: fewer episodes achieved (1 in 30 days, at most 1); lower urge improving (4 > 3, first week 8);
	 * more skills achieved (5 days, at least 5).
	 */
	@Test
	void progress_matchesTheHandComputedFixture_andGoalsFollowTheData() throws Exception {
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		LocalDate start = today.minusDays(55);
		IIdType patient = patient("1988-08-08");
		condition(patient);
		CarePlan plan = apply("nssi-dbt", patient, Map.of("persist", new BooleanType(true)));

		// revise: a new version with an earlier start; the first version stays in the history
		plan.getPeriod().setStartElement(new DateTimeType(java.sql.Date.valueOf(start)));
		plan.setText(null);
		plan.getText().setStatus(org.hl7.fhir.r4.model.Narrative.NarrativeStatus.GENERATED)
				.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>DBT, revised start date</p></div>");
		client().update().resource(plan).withId(plan.getIdElement().toUnqualifiedVersionless())
				.withAdditionalHeader("If-Match", "W/\"1\"").execute();
		Bundle history = client().history().onInstance(plan.getIdElement().toUnqualifiedVersionless()).returnBundle(Bundle.class).execute();
		assertThat(history.getEntry()).hasSize(2);

		for (int d : new int[] {56, 40, 30, 12, 1}) {
			client().create().resource(AssessmentFixtures.episode(patient, date(start.minusDays(d)), "intent-none", null)).execute();
		}
		client().create().resource(AssessmentFixtures.episode(patient, date(start.plusDays(5)), "intent-none", null)).execute();
		client().create().resource(AssessmentFixtures.episode(patient, date(today.minusDays(10)), "intent-none", null)).execute();

		String individual = byCode(requests(client().read().resource(CarePlan.class).withId(plan.getIdElement().getIdPart()).execute()))
				.get("dbt-individual-therapy").getIdElement().toUnqualifiedVersionless().getValue();
		for (int w = 0; w < 6; w++) {
			client().create().resource(session(patient, individual, start.plusDays(7L * w + 1), Procedure.ProcedureStatus.COMPLETED)).execute();
		}
		client().create().resource(session(patient, individual, today, Procedure.ProcedureStatus.INPROGRESS)).execute();
		client().create().resource(session(patient, individual, today.plusDays(3), Procedure.ProcedureStatus.COMPLETED)).execute();

		client().create().resource(diary(patient, start, 8, 0)).execute();
		client().create().resource(diary(patient, start.plusDays(2), 7, 1)).execute();
		int[] urges = {4, 3, 2, 4, 1, 0, 2};
		int[] skills = {2, 0, 2, 2, 0, 2, 2};
		for (int i = 0; i < 7; i++) {
			client().create().resource(diary(patient, today.minusDays(6 - i), urges[i], skills[i])).execute();
		}

		Parameters progress = client().operation().onInstance(plan.getIdElement().toUnqualifiedVersionless()).named("$nssi-progress")
				.withNoParameters(Parameters.class).useHttpGet().execute();
		assertThat(integer(progress, "daysInPlan")).isEqualTo(56);
		assertThat(integer(progress, "episodesBefore")).isEqualTo(5);
		assertThat(integer(progress, "episodesSince")).isEqualTo(2);
		assertThat(integer(progress, "episodesLast30Days")).isEqualTo(1);
		assertThat(integer(progress, "sessionsDelivered")).isEqualTo(6);
		Parameters.ParametersParameterComponent therapy = progress.getParameter().stream()
				.filter(p -> p.getName().equals("component"))
				.filter(p -> ((Reference) part(p, "request").getValue()).getReference().equals(individual))
				.findFirst().orElseThrow();
		assertThat(((IntegerType) part(therapy, "delivered").getValue()).getValue()).isEqualTo(6);
		assertThat(((IntegerType) part(therapy, "expected").getValue()).getValue()).isEqualTo(7);
		Parameters.ParametersParameterComponent diary = progress.getParameter().stream()
				.filter(p -> p.getName().equals("diaryLast7Days")).findFirst().orElseThrow();
		assertThat(((IntegerType) part(diary, "daysRecorded").getValue()).getValue()).isEqualTo(7);
		assertThat(((IntegerType) part(diary, "daysWithSkills").getValue()).getValue()).isEqualTo(5);
		assertThat(((IntegerType) part(diary, "skillsUsed").getValue()).getValue()).isEqualTo(10);
		assertThat(((IntegerType) part(diary, "maxUrge").getValue()).getValue()).isEqualTo(4);
		Map<String, String> goalStatus = progress.getParameter().stream().filter(p -> p.getName().equals("goal"))
				.collect(Collectors.toMap(p -> ((Coding) part(p, "code").getValue()).getCode(),
						p -> ((Coding) part(p, "achievementStatus").getValue()).getCode()));
		assertThat(goalStatus).containsExactlyInAnyOrderEntriesOf(Map.of(
				"goal-fewer-episodes", "achieved", "goal-lower-urge-intensity", "improving", "goal-more-skills-use", "achieved"));

		// the Goals themselves now say so, with the figures behind it
		Map<String, Goal> goals = goals(plan).stream().collect(Collectors.toMap(g -> g.getDescription().getCodingFirstRep().getCode(), g -> g));
		assertThat(goals.get("goal-lower-urge-intensity").getAchievementStatus().getCodingFirstRep().getCode()).isEqualTo("improving");
		assertThat(goals.get("goal-lower-urge-intensity").getStatusReason()).contains("4/10");
		assertThat(goals.get("goal-fewer-episodes").getAchievementStatus().getCodingFirstRep().getCode()).isEqualTo("achieved");

		// $nssi-summary shows the same progress for the active treatment plan
		Parameters summary = client().operation().onInstance(patient).named("$nssi-summary").withNoParameters(Parameters.class).useHttpGet().execute();
		Parameters.ParametersParameterComponent active = summary.getParameter().stream()
				.filter(p -> p.getName().equals("activeCarePlan")).findFirst().orElseThrow();
		assertThat(((Reference) part(active, "carePlan").getValue()).getReference()).isEqualTo("CarePlan/" + plan.getIdElement().getIdPart());
		Parameters.ParametersParameterComponent summaryProgress = part(active, "progress");
		assertThat(((IntegerType) part(summaryProgress, "episodesSince").getValue()).getValue()).isEqualTo(2);
		assertThat(((IntegerType) part(summaryProgress, "sessionsDelivered").getValue()).getValue()).isEqualTo(6);

		// one more episode today: 2 in the last 30 days is over the target, though fewer than before the plan (3 vs 5);
		// the Goal follows without anyone calling $nssi-progress
		client().create().resource(AssessmentFixtures.episode(patient, date(today), "intent-none", null)).execute();
		IIdType episodesGoal = goals.get("goal-fewer-episodes").getIdElement().toUnqualifiedVersionless();
		long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
		String status = null;
		while (System.nanoTime() < deadline) {
			status = client().read().resource(Goal.class).withId(episodesGoal).execute().getAchievementStatus().getCodingFirstRep().getCode();
			if ("improving".equals(status)) {
				break;
			}
			Thread.sleep(250);
		}
		assertThat(status).as("fewer-episodes goal after a new episode").isEqualTo("improving");
	}

	/**
	 * Issue 19: 30 days of a plan with nothing on record is non-reporting, not success; and suicidal episodes are not
	 * NSSI episodes for the "fewer episodes" goal.
	 */
	@Test
	void fewerEpisodesGoal_isNotAchievedByNonReporting_andCountsOnlyNonSuicidalEpisodes() throws Exception {
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		LocalDate start = today.minusDays(45);
		IIdType patient = patient("1985-05-05");
		condition(patient);
		CarePlan plan = apply("nssi-dbt", patient, Map.of("persist", new BooleanType(true)));
		plan.getPeriod().setStartElement(new DateTimeType(java.sql.Date.valueOf(start)));
		client().update().resource(plan).withId(plan.getIdElement().toUnqualifiedVersionless()).execute();
		client().create().resource(AssessmentFixtures.episode(patient, date(start.minusDays(10)), "intent-none", null)).execute();

		Parameters silent = client().operation().onInstance(plan.getIdElement().toUnqualifiedVersionless()).named("$nssi-progress")
				.withNoParameters(Parameters.class).useHttpGet().execute();
		assertThat(goalStatus(silent, "goal-fewer-episodes")).as("no diary card, no episode for 30 days: " + goalReason(silent, "goal-fewer-episodes"))
				.isEqualTo("in-progress");

		// a suicidal episode is not an NSSI episode (0 NSSI episodes in 30 days), but no goal about self-injury reads
		// "achieved" beside it (issue 20 item 9: the status would contradict what the record shows)
		client().create().resource(AssessmentFixtures.episode(patient, date(today.minusDays(3)), "intent-present", null)).execute();
		Parameters reported = client().operation().onInstance(plan.getIdElement().toUnqualifiedVersionless()).named("$nssi-progress")
				.withNoParameters(Parameters.class).useHttpGet().execute();
		assertThat(integer(reported, "episodesLast30Days")).isZero();
		assertThat(goalStatus(reported, "goal-fewer-episodes")).isEqualTo("in-progress");
		assertThat(goalReason(reported, "goal-fewer-episodes")).contains("not judged as achieved")
				.contains("1 self-harm episode(s) in the last 30 days with intent to die present, unsure or not recorded");
		// the Goal itself says the same (brought up to date by $nssi-progress)
		Goal stored = goals(plan).stream().filter(g -> g.getDescription().getCodingFirstRep().getCode().equals("goal-fewer-episodes")).findFirst().orElseThrow();
		assertThat(stored.getAchievementStatus().getCodingFirstRep().getCode()).isEqualTo("in-progress");
		assertThat(stored.getStatusReason()).contains("intent to die present, unsure or not recorded");
	}

	/** Issue 20 item 9: within the target but rising (one episode now, none in the 30 days before) is not "achieved". */
	@Test
	void fewerEpisodesGoal_isNotAchievedWhileEpisodesRise() {
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		IIdType patient = patient("1986-06-06");
		condition(patient);
		CarePlan plan = apply("nssi-dbt", patient, Map.of("persist", new BooleanType(true)));
		plan.getPeriod().setStartElement(new DateTimeType(java.sql.Date.valueOf(today.minusDays(45))));
		client().update().resource(plan).withId(plan.getIdElement().toUnqualifiedVersionless()).execute();
		client().create().resource(AssessmentFixtures.episode(patient, date(today.minusDays(3)), "intent-none", null)).execute();
		Parameters rising = client().operation().onInstance(plan.getIdElement().toUnqualifiedVersionless()).named("$nssi-progress")
				.withNoParameters(Parameters.class).useHttpGet().execute();
		assertThat(integer(rising, "episodesLast30Days")).isEqualTo(1);
		assertThat(goalStatus(rising, "goal-fewer-episodes")).isEqualTo("worsening");
		assertThat(goalReason(rising, "goal-fewer-episodes")).contains("within the target but rising").contains("0 in the 30 days before");

		// the same episode count a month earlier as well: steady within the target, achieved
		client().create().resource(AssessmentFixtures.episode(patient, date(today.minusDays(35)), "intent-none", null)).execute();
		Parameters steady = client().operation().onInstance(plan.getIdElement().toUnqualifiedVersionless()).named("$nssi-progress")
				.withNoParameters(Parameters.class).useHttpGet().execute();
		assertThat(goalStatus(steady, "goal-fewer-episodes")).isEqualTo("achieved");
	}

	private static String goalReason(Parameters progress, String goal) {
		return progress.getParameter().stream().filter(p -> p.getName().equals("goal"))
				.filter(p -> ((Coding) part(p, "code").getValue()).getCode().equals(goal))
				.map(p -> ((org.hl7.fhir.r4.model.StringType) part(p, "reason").getValue()).getValue())
				.findFirst().orElse("?") + " / daysInPlan " + integer(progress, "daysInPlan") + " / last30 " + integer(progress, "episodesLast30Days");
	}

	private static String goalStatus(Parameters progress, String goal) {
		return progress.getParameter().stream().filter(p -> p.getName().equals("goal"))
				.filter(p -> ((Coding) part(p, "code").getValue()).getCode().equals(goal))
				.map(p -> ((Coding) part(p, "achievementStatus").getValue()).getCode())
				.findFirst().orElseThrow();
	}

	@Test
	void thePatientEditsTheirRelapsePreventionPlan_butNotTheTreatmentPlan() {
		IIdType patient = patient("1999-09-09");
		condition(patient);
		CarePlan plan = apply("nssi-cbt", patient, Map.of("persist", new BooleanType(true)));
		CarePlan relapse = relapsePlan(plan);
		IGenericClient patientApp = client(tokens().ownPatient(patient.getIdPart(), "patient/CarePlan.rus"));

		CarePlan mine = patientApp.read().resource(CarePlan.class).withId(relapse.getIdElement().toUnqualifiedVersionless()).execute();
		CarePlan.CarePlanActivityDetailComponent coping = mine.addActivity().getDetail();
		coping.setCode(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, "coping-strategy", "Coping strategy")));
		coping.setStatus(CarePlan.CarePlanActivityStatus.INPROGRESS);
		coping.setDescription("Hold ice cubes and call my sister");
		patientApp.update().resource(mine).execute();
		CarePlan after = client().read().resource(CarePlan.class).withId(relapse.getIdElement().toUnqualifiedVersionless()).execute();
		assertThat(after.getMeta().getVersionId()).isEqualTo("2");
		assertThat(after.getActivity()).extracting(a -> a.getDetail().getDescription()).contains("Hold ice cubes and call my sister");

		CarePlan treatment = patientApp.read().resource(CarePlan.class).withId(plan.getIdElement().toUnqualifiedVersionless()).execute();
		treatment.setStatus(CarePlan.CarePlanStatus.REVOKED);
		BaseServerResponseException e = org.junit.jupiter.api.Assertions.assertThrows(BaseServerResponseException.class,
				() -> patientApp.update().resource(treatment).execute());
		assertThat(e.getStatusCode()).isEqualTo(403);
		assertThat(e.getMessage()).contains("NSSI-0503");
		assertThat(client().read().resource(CarePlan.class).withId(plan.getIdElement().toUnqualifiedVersionless()).execute().getStatus())
				.isEqualTo(CarePlan.CarePlanStatus.ACTIVE);

		// nor turn their own plan into a "treatment plan" pointing at Goals, nor delete or rewrite the clinician's records
		IGenericClient fullPatientApp = client(tokens().ownPatient(patient.getIdPart(), "patient/*.cruds"));
		CarePlan disguised = mine.copy();
		disguised.setId((String) null);
		disguised.addCategory(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, "dbt-plan", null)));
		disguised.addGoal(plan.getGoalFirstRep());
		assertFailsWithStatus(403, () -> fullPatientApp.create().resource(disguised).execute());
		assertFailsWithStatus(403, () -> fullPatientApp.delete().resourceById(plan.getIdElement().toUnqualifiedVersionless()).execute());
		Goal goal = fullPatientApp.read().resource(Goal.class).withUrl(plan.getGoalFirstRep().getReference()).execute();
		goal.setLifecycleStatus(Goal.GoalLifecycleStatus.CANCELLED);
		assertFailsWithStatus(403, () -> fullPatientApp.update().resource(goal).execute());
		assertThat(client().read().resource(Goal.class).withUrl(plan.getGoalFirstRep().getReference()).execute().getLifecycleStatus())
				.isEqualTo(Goal.GoalLifecycleStatus.ACTIVE);

		// the patient sees their own progress, another patient does not
		Parameters own = fullPatientApp.operation().onInstance(plan.getIdElement().toUnqualifiedVersionless()).named("$nssi-progress")
				.withNoParameters(Parameters.class).useHttpGet().execute();
		assertThat(integer(own, "daysInPlan")).isEqualTo(1);
		IIdType other = patient("1999-01-01");
		IGenericClient otherApp = client(tokens().ownPatient(other.getIdPart(), "patient/*.cruds"));
		// another patient's plan is answered as a missing one would be (the access policy: refusals reveal nothing)
		assertFailsWithStatus(404, () -> otherApp.operation().onInstance(plan.getIdElement().toUnqualifiedVersionless()).named("$nssi-progress")
				.withNoParameters(Parameters.class).useHttpGet().execute());
	}

	// ---- helpers ----

	private CarePlan apply(String planDefinition, IIdType patient, Map<String, org.hl7.fhir.r4.model.Type> extra) {
		Parameters in = new Parameters();
		in.addParameter("subject", new StringType(patient.getValue()));
		extra.forEach(in::addParameter);
		return client().operation().onInstance("PlanDefinition/" + planDefinition).named("$apply").withParameters(in)
				.returnResourceType(CarePlan.class).execute();
	}

	private void assertValidAgainstItsProfiles(IBaseResource resource) {
		// type-level $validate of the stored content (an id would make it instance-level)
		IBaseResource copy = ((org.hl7.fhir.r4.model.Resource) resource).copy().setId((String) null);
		OperationOutcome outcome = (OperationOutcome) client().validate().resource(copy).execute().getOperationOutcome();
		assertThat(outcome.getIssue().stream().filter(i -> i.getSeverity().ordinal() <= OperationOutcome.IssueSeverity.ERROR.ordinal())
				.map(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics).toList())
				.as(resource.getIdElement().getValue()).isEmpty();
	}

	private static CarePlan.CarePlanActivityDetailComponent ownActivity(CarePlan plan, String code) {
		return plan.getActivity().stream().filter(CarePlan.CarePlanActivityComponent::hasDetail).map(CarePlan.CarePlanActivityComponent::getDetail)
				.filter(d -> d.getCode().getCoding().stream().anyMatch(c -> code.equals(c.getCode())))
				.findFirst().orElseThrow(() -> new AssertionError("no activity " + code));
	}

	private List<ServiceRequest> requests(CarePlan plan) {
		return plan.getActivity().stream().filter(CarePlan.CarePlanActivityComponent::hasReference)
				.map(a -> client().read().resource(ServiceRequest.class).withUrl(a.getReference().getReference()).execute())
				.toList();
	}

	private List<Goal> goals(CarePlan plan) {
		return plan.getGoal().stream().map(g -> client().read().resource(Goal.class).withUrl(g.getReference()).execute()).toList();
	}

	private CarePlan relapsePlan(CarePlan plan) {
		Bundle b = client().search().forResource(CarePlan.class)
				.where(CarePlan.PART_OF.hasId("CarePlan/" + plan.getIdElement().getIdPart()))
				.returnBundle(Bundle.class).execute();
		assertThat(b.getEntry()).hasSize(1);
		return (CarePlan) b.getEntryFirstRep().getResource();
	}

	private int count(String type, IIdType patient) {
		return client().search().forResource(type).where(new ca.uhn.fhir.rest.gclient.ReferenceClientParam("subject").hasId(patient))
				.returnBundle(Bundle.class).execute().getEntry().size();
	}

	private static Map<String, ServiceRequest> byCode(List<ServiceRequest> requests) {
		return requests.stream().collect(Collectors.toMap(TreatmentPlanIT::code, Function.identity()));
	}

	private static String code(ServiceRequest sr) {
		return sr.getCode().getCoding().stream().filter(c -> CONCEPTS_SYSTEM.equals(c.getSystem())).map(Coding::getCode).findFirst()
				.orElse(sr.getInstantiatesCanonical().get(0).getValue().replaceAll(".*/nssi-|\\|.*", ""));
	}

	private static List<String> codes(List<CodeableConcept> concepts) {
		return concepts.stream().flatMap(c -> c.getCoding().stream()).map(Coding::getCode).toList();
	}

	private static List<String> refs(List<Reference> refs) {
		return refs.stream().map(Reference::getReference).toList();
	}

	private static List<String> labels(org.hl7.fhir.r4.model.Resource r) {
		return r.getMeta().getSecurity().stream().map(Coding::getCode).toList();
	}

	@SafeVarargs
	private static List<String> concat(List<String>... lists) {
		return java.util.Arrays.stream(lists).flatMap(List::stream).toList();
	}

	private static Parameters.ParametersParameterComponent part(Parameters.ParametersParameterComponent p, String name) {
		return p.getPart().stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no part " + name));
	}

	private static int integer(Parameters p, String name) {
		return ((IntegerType) p.getParameter().stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow().getValue()).getValue();
	}

	private static Date daysAgo(int days) {
		return date(LocalDate.now(ZoneOffset.UTC).minusDays(days));
	}

	private static Date date(LocalDate day) {
		// just after midnight UTC: "today" is then never in the future (episodes may not be)
		return Date.from(day.atTime(0, 0, 30).toInstant(ZoneOffset.UTC));
	}

	private IIdType patient(String birthDate) {
		Patient p = new Patient();
		p.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		p.addName().setFamily("Synthetic").addGiven("Treatment");
		p.setBirthDateElement(new DateType(birthDate));
		return client().create().resource(p).execute().getId().toUnqualifiedVersionless();
	}

	private IIdType practitioner() {
		Practitioner p = new Practitioner();
		p.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		p.addName().setFamily("Synthetic").addGiven("Therapist");
		return client().create().resource(p).execute().getId().toUnqualifiedVersionless();
	}

	private IIdType careTeam(IIdType patient, IIdType practitioner) {
		CareTeam team = new CareTeam();
		team.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
		team.setSubject(new Reference(patient));
		team.addParticipant().setMember(new Reference(practitioner));
		return client().create().resource(team).execute().getId().toUnqualifiedVersionless();
	}

	private IIdType condition(IIdType patient) {
		Condition c = new Condition();
		c.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		c.setClinicalStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", null)));
		c.setVerificationStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", null)));
		c.addCategory(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", null)));
		c.getCode().addCoding(new Coding(NssiCanonicals.ICD10CM, "R45.88", "Nonsuicidal self-harm"));
		c.setSubject(new Reference(patient));
		c.setRecordedDateElement(new DateTimeType(new Date()));
		return client().create().resource(c).execute().getId().toUnqualifiedVersionless();
	}

	private static Procedure session(IIdType patient, String request, LocalDate day, Procedure.ProcedureStatus status) {
		Procedure p = new Procedure();
		p.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		p.addBasedOn(new Reference(request));
		p.setStatus(status);
		p.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, "dbt-individual-therapy", "DBT individual therapy"));
		p.setSubject(new Reference(patient));
		p.setPerformed(new DateTimeType(date(day)));
		return p;
	}

	private static Observation diary(IIdType patient, LocalDate day, int urge, int skills) {
		Observation o = new Observation();
		o.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		o.setStatus(Observation.ObservationStatus.FINAL);
		o.addCategory().addCoding(new Coding(CONCEPTS_SYSTEM, "nssi", null));
		o.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, "diary-card", "Diary card entry"));
		o.setSubject(new Reference(patient));
		o.setEffective(new DateTimeType(date(day)));
		o.addComponent(AssessmentFixtures.component("urge-intensity", new IntegerType(urge)));
		o.addComponent(AssessmentFixtures.component("skills-used", new IntegerType(skills)));
		return o;
	}
}
