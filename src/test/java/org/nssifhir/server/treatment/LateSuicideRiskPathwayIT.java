package org.nssifhir.server.treatment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;

/**
 * A suicide-risk Flag raised after a DBT/CBT plan started adds the suicide-risk pathway to the active plan, once,
 * urgent; a patient without an active plan gets no plan.
 */
class LateSuicideRiskPathwayIT extends BaseIT {

	@Test
	void aSuicideRiskFlagAfterThePlanStarted_addsThePathwayOnce() {
		IIdType patient = patient();
		condition(patient);
		CarePlan plan = apply(patient);
		assertThat(codes(requests(plan))).doesNotContain("suicide-risk-assessment", "safety-plan");
		String versionBefore = plan.getMeta().getVersionId();

		// an episode with suicidal intent, written through the API, raises the suicide-risk Flag
		client().create().resource(AssessmentFixtures.episode(patient, hoursAgo(2), "intent-present", null)).execute();
		assertThat(flags(patient)).anyMatch(f -> f.getCode().getCoding().stream().anyMatch(c -> "suicide-risk".equals(c.getCode())));

		CarePlan revised = client().read().resource(CarePlan.class).withId(plan.getIdElement().toUnqualifiedVersionless()).execute();
		assertThat(revised.getMeta().getVersionId()).isNotEqualTo(versionBefore);
		assertThat(revised.getStatus()).isEqualTo(CarePlan.CarePlanStatus.ACTIVE);
		List<ServiceRequest> requests = requests(revised);
		assertThat(codes(requests).stream().filter("suicide-risk-assessment"::equals)).hasSize(1);
		ServiceRequest assessment = byCode(requests, "suicide-risk-assessment");
		assertThat(assessment.getPriority()).isEqualTo(ServiceRequest.ServiceRequestPriority.URGENT);
		assertThat(assessment.getStatus()).isEqualTo(ServiceRequest.ServiceRequestStatus.ACTIVE);
		assertThat(assessment.getInstantiatesCanonical().get(0).getValue())
				.isEqualTo(NssiCanonicals.BASE + "/ActivityDefinition/nssi-suicide-risk-assessment|0.8.0");
		assertThat(categories(assessment)).containsExactly("suicide-risk-pathway");
		assertThat(assessment.getSubject().getReference()).isEqualTo(patient.getValue());
		assertThat(assessment.getReasonReference()).isNotEmpty();
		assertThat(byCode(requests, "safety-plan").getPriority()).isEqualTo(ServiceRequest.ServiceRequestPriority.URGENT);
		// lethal-means counselling is ordered by the pathway (issue 19 review: it was promised, nothing ordered it)
		assertThat(codes(requests).stream().filter("lethal-means-counselling"::equals)).hasSize(1);
		assertThat(categories(byCode(requests, "lethal-means-counselling"))).contains("suicide-risk-pathway");
		// check-ins were already ordered by relapse prevention: still once, now tagged with both modules
		assertThat(codes(requests).stream().filter("increased-check-ins"::equals)).hasSize(1);
		assertThat(categories(byCode(requests, "increased-check-ins"))).containsExactlyInAnyOrder("relapse-prevention", "suicide-risk-pathway");
		assertThat(revised.getText().getDivAsString()).contains("Suicide risk assessment");

		// a second suicide-risk signal raises its own alert but adds nothing more to the plan
		client().create().resource(AssessmentFixtures.episode(patient, hoursAgo(1), "intent-unsure", null)).execute();
		CarePlan after = client().read().resource(CarePlan.class).withId(plan.getIdElement().toUnqualifiedVersionless()).execute();
		assertThat(after.getMeta().getVersionId()).isEqualTo(revised.getMeta().getVersionId());
		assertThat(codes(requests(after)).stream().filter("suicide-risk-assessment"::equals)).hasSize(1);
	}

	@Test
	void twoSignalsAtOnce_addThePathwayOnce_andBothWritesSucceed() throws Exception {
		IIdType patient = patient();
		condition(patient);
		CarePlan plan = apply(patient);
		java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
		try {
			java.util.concurrent.Callable<Boolean> write1 = () -> client().create()
					.resource(AssessmentFixtures.episode(patient, hoursAgo(3), "intent-present", null)).execute().getCreated();
			java.util.concurrent.Callable<Boolean> write2 = () -> client().create()
					.resource(AssessmentFixtures.episode(patient, hoursAgo(2), "intent-present", null)).execute().getCreated();
			for (java.util.concurrent.Future<Boolean> f : pool.invokeAll(List.of(write1, write2))) {
				assertThat(f.get()).isTrue();
			}
		} finally {
			pool.shutdown();
		}
		CarePlan revised = client().read().resource(CarePlan.class).withId(plan.getIdElement().toUnqualifiedVersionless()).execute();
		assertThat(codes(requests(revised)).stream().filter("suicide-risk-assessment"::equals)).hasSize(1);
		Bundle orders = client().search().forResource(ServiceRequest.class).where(ServiceRequest.SUBJECT.hasId(patient))
				.count(100).returnBundle(Bundle.class).execute();
		assertThat(orders.getEntry().stream().map(e -> code((ServiceRequest) e.getResource())).filter("suicide-risk-assessment"::equals))
				.as("the losing write's orders were rolled back with it").hasSize(1);
	}

	@Test
	void aPatientWithoutAnActivePlan_isUnaffected() {
		IIdType patient = patient();
		condition(patient);
		client().create().resource(AssessmentFixtures.episode(patient, hoursAgo(2), "intent-present", null)).execute();
		assertThat(flags(patient)).isNotEmpty();
		Bundle plans = client().search().forResource(CarePlan.class).where(CarePlan.SUBJECT.hasId(patient)).returnBundle(Bundle.class).execute();
		assertThat(plans.getEntry()).isEmpty();
		Bundle orders = client().search().forResource(ServiceRequest.class).where(ServiceRequest.SUBJECT.hasId(patient)).returnBundle(Bundle.class).execute();
		assertThat(orders.getEntry()).isEmpty();
	}

	// ---- helpers ----

	private CarePlan apply(IIdType patient) {
		Parameters in = new Parameters();
		in.addParameter("subject", new StringType(patient.getValue()));
		in.addParameter("persist", new BooleanType(true));
		return client().operation().onInstance("PlanDefinition/nssi-dbt").named("$apply").withParameters(in)
				.returnResourceType(CarePlan.class).execute();
	}

	private List<Flag> flags(IIdType patient) {
		return client().search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> (Flag) e.getResource()).toList();
	}

	private List<ServiceRequest> requests(CarePlan plan) {
		return plan.getActivity().stream().filter(CarePlan.CarePlanActivityComponent::hasReference)
				.map(a -> client().read().resource(ServiceRequest.class).withUrl(a.getReference().getReference()).execute())
				.toList();
	}

	private static List<String> codes(List<ServiceRequest> requests) {
		return requests.stream().map(LateSuicideRiskPathwayIT::code).toList();
	}

	private static ServiceRequest byCode(List<ServiceRequest> requests, String code) {
		return requests.stream().filter(r -> code.equals(code(r))).findFirst().orElseThrow(() -> new AssertionError("no order " + code));
	}

	private static String code(ServiceRequest sr) {
		return sr.getCode().getCoding().stream().filter(c -> CONCEPTS_SYSTEM.equals(c.getSystem())).map(Coding::getCode).findFirst()
				.orElse(sr.getInstantiatesCanonical().get(0).getValue().replaceAll(".*/nssi-|\\|.*", ""));
	}

	private static List<String> categories(ServiceRequest sr) {
		return sr.getCategory().stream().flatMap(c -> c.getCoding().stream()).map(Coding::getCode).toList();
	}

	private static Date hoursAgo(int hours) {
		return new Date(System.currentTimeMillis() - hours * 3_600_000L);
	}

	private IIdType patient() {
		Patient p = new Patient();
		p.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		p.addName().setFamily("Synthetic").addGiven("Pathway");
		p.setBirthDateElement(new DateType(LocalDate.now(ZoneOffset.UTC).minusYears(30).toString()));
		return client().create().resource(p).execute().getId().toUnqualifiedVersionless();
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
}
