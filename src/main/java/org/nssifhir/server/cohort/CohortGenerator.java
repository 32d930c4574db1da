package org.nssifhir.server.cohort;

import static org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM;
import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;
import static org.nssifhir.server.conformance.NssiCanonicals.ICD10CM;
import static org.nssifhir.server.conformance.NssiCanonicals.SNOMED;

import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.UUID;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Type;
import org.nssifhir.server.assessment.Phq9TotalRule;
import org.nssifhir.server.conformance.NssiCanonicals;

/**
 * Synthetic NSSI cohorts: adolescents and adults with years of self-injury history, shaped like our profiles'
 * examples (profiles/examples). Each person follows a course (improving, escalating, stable, in remission) that
 * sets how often episodes happen over time; episodes vary in method, body site, care needed, triggers, functions
 * and urge; NSSI assessments and PHQ-9s are answered along the way (risk and protective factors come from their
 * {@code $extract}), and an NSSI Condition is recorded after the first episodes. Deterministic for a seed and a
 * "today". Every resource is tagged HTEST, and names are obviously not real people's.
 *
 * <p>People whose NSSI is active and changing also get a {@link Treatment}: the loader starts it through
 * {@code PlanDefinition/$apply}, as a clinician would, and records the sessions and diary cards since.
 */
public final class CohortGenerator {

	/** The synthetic MRN system; values are {@code SYN-<seed>-<n>}, so a cohort can be found (and not loaded twice). */
	public static final String MRN_SYSTEM = NssiCanonicals.BASE + "/sid/synthetic-mrn";

	public enum Course {
		IMPROVING,
		ESCALATING,
		STABLE,
		REMISSION
	}

	/**
	 * One person: a transaction that creates them and their history (Patient first, then everything that points
	 * at it by urn:uuid), and which of its entries are questionnaire responses to {@code $extract} once stored.
	 */
	public record PatientHistory(String mrn, Course course, Bundle transaction, List<Integer> responsesToExtract, Treatment treatment) {

		public PatientHistory(String mrn, Course course, Bundle transaction, List<Integer> responsesToExtract) {
			this(mrn, course, transaction, responsesToExtract, null);
		}

		public int resourceCount() {
			return transaction.getEntry().size();
		}
	}

	/**
	 * A treatment plan to start for the person once their history is stored (through {@code PlanDefinition/$apply},
	 * as a clinician would): which plan, how many weeks ago it started, how many weekly sessions were delivered
	 * since, and the last 14 days of their diary card (urge 0-10 and skills used, oldest first).
	 */
	public record Treatment(String planDefinition, int weeksAgo, int sessions, int[] urges, int[] skills) {}

	private static final String[][] METHODS = {
		{SNOMED, "248073004", "Cutting self"}, {SNOMED, "284744004", "Burning self"}, {SNOMED, "284757007", "Punching self"},
		{SNOMED, "284756003", "Hitting self"}, {SNOMED, "248071002", "Scratches self"}, {SNOMED, "284760000", "Picking own skin"},
		{SNOMED, "248072009", "Biting self"}, {SNOMED, "43954004", "Head-banging"}, {CONCEPTS_SYSTEM, "method-hair-pulling", null}
	};
	/** Body sites that fit each method above (same order). */
	private static final String[][] SITES = {
		{"site-forearm-wrist", "site-thigh", "site-upper-arm", "site-abdomen"}, {"site-forearm-wrist", "site-hand", "site-thigh"},
		{"site-hand", "site-head-face"}, {"site-head-face", "site-thigh", "site-upper-arm"}, {"site-forearm-wrist", "site-upper-arm", "site-lower-leg"},
		{"site-hand", "site-head-face", "site-forearm-wrist"}, {"site-hand", "site-forearm-wrist"}, {"site-head-face"}, {"site-head-face"}
	};
	private static final String[] TRIGGERS = {
		"trigger-interpersonal-conflict", "trigger-rejection", "trigger-bullying", "trigger-school-work-stress", "trigger-loneliness",
		"trigger-negative-emotion", "trigger-self-criticism", "trigger-trauma-reminder", "trigger-online-content", "trigger-substance"
	};
	private static final String[] FUNCTIONS = {
		"function-relief-distress", "function-feel-something", "function-stop-dissociation", "function-self-punishment", "function-control",
		"function-communicate-distress", "function-interpersonal-influence", "function-peer-belonging", "function-avoid-demands"
	};
	private static final String[] RISKS = {
		"risk-childhood-abuse", "risk-neglect", "risk-depression", "risk-low-self-worth", "risk-eating-disorder",
		"risk-bullying-peer-rejection", "risk-social-isolation", "risk-substance-use", "risk-exposure-to-self-harm"
	};
	private static final String[] PROTECTIVE = {
		"protective-family-relationships", "protective-social-support", "protective-school-connectedness", "protective-coping-skills",
		"protective-help-seeking", "protective-reasons-for-living"
	};
	private static final String[] SUBSTANCES = {"substance-none", "substance-none", "substance-none", "substance-alcohol", "substance-drugs", "substance-unknown"};
	private static final String[] GIVEN = {"Alex", "Riley", "Jordan", "Sam", "Robin", "Kim", "Noa", "Charlie", "Avery", "Quinn", "Eden", "Sky"};
	private static final String[] FAMILY = {"Testperson", "Examplesson", "Fakely", "Mockworth", "Sampleton", "Demodottir", "Synthetica", "Placeholder"};

	private final LocalDate today;
	private final int maxYears;

	public CohortGenerator(LocalDate today) {
		this(today, 4);
	}

	/** Histories end on {@code today} and span at most {@code maxYears} years (fewer for a quick cohort). */
	public CohortGenerator(LocalDate today, int maxYears) {
		this.today = today;
		this.maxYears = maxYears;
	}

	/** {@code count} people for {@code seed}; person n is the same whatever the count. */
	public List<PatientHistory> generate(int count, long seed) {
		List<PatientHistory> out = new ArrayList<>();
		for (int n = 1; n <= count; n++) {
			out.add(person(seed, n));
		}
		return out;
	}

	public static String mrn(long seed, int n) {
		return String.format(Locale.ROOT, "SYN-%d-%05d", seed, n);
	}

	PatientHistory person(long seed, int n) {
		SplittableRandom random = new SplittableRandom(seed * 1_000_003L + n);
		Course course = Course.values()[random.nextInt(Course.values().length)];
		boolean adolescent = random.nextInt(100) < 55;
		int age = adolescent ? 13 + random.nextInt(5) : 18 + random.nextInt(28);
		int years = adolescent ? 1 + random.nextInt(Math.max(1, age - 12)) : 1 + random.nextInt(4);
		years = Math.min(years, maxYears);
		LocalDate start = today.minusDays(365L * years - random.nextInt(60));

		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		String patientUrl = "urn:uuid:" + uuid(random);
		String mrn = mrn(seed, n);
		Patient patient = new Patient();
		tag(patient);
		patient.addIdentifier().setSystem(MRN_SYSTEM).setValue(mrn);
		patient.addName().setUse(HumanName.NameUse.OFFICIAL)
				.setFamily(FAMILY[random.nextInt(FAMILY.length)]).addGiven(GIVEN[random.nextInt(GIVEN.length)]).addGiven("Synthetic");
		patient.setGender(new Enumerations.AdministrativeGender[] {
			Enumerations.AdministrativeGender.FEMALE, Enumerations.AdministrativeGender.MALE, Enumerations.AdministrativeGender.OTHER
		}[random.nextInt(10) < 6 ? 0 : random.nextInt(10) < 8 ? 1 : 2]);
		patient.setBirthDateElement(new DateType(today.minusYears(age).minusDays(random.nextInt(365)).toString()));
		add(tx, patientUrl, patient);

		// this person's habits: preferred methods and functions, usual triggers, a base rate per week
		int[] methods = distinct(random, METHODS.length, 1 + random.nextInt(3));
		int[] functions = distinct(random, FUNCTIONS.length, 1 + random.nextInt(3));
		int[] triggers = distinct(random, TRIGGERS.length, 2 + random.nextInt(3));
		double baseRate = 0.2 + random.nextDouble() * 1.3;
		List<LocalDate> episodeDays = new ArrayList<>();
		long span = ChronoUnit.DAYS.between(start, today);
		// histories end yesterday: an episode or response at a later hour today would be dated in the future
		for (long d = 0; d < span; d++) {
			LocalDate day = start.plusDays(d);
			double p = Math.min(0.85, rate(course, baseRate, (double) d / Math.max(1, span), ChronoUnit.DAYS.between(day, today)) / 7.0);
			if (random.nextDouble() < p) {
				episodeDays.add(day);
			}
		}
		if (episodeDays.isEmpty()) {
			episodeDays.add(start.plusDays(random.nextInt(30)));
		}
		// a transaction stays well within the server's bundle limit: keep the most recent 350 episodes
		if (episodeDays.size() > 350) {
			episodeDays = episodeDays.subList(episodeDays.size() - 350, episodeDays.size());
		}
		for (LocalDate day : episodeDays) {
			add(tx, null, episode(random, patientUrl, day, course, methods, functions, triggers, ChronoUnit.DAYS.between(day, today)));
		}

		// the diagnosis, recorded a few weeks after the first episode; assessments from then on
		LocalDate diagnosed = min(episodeDays.get(0).plusDays(14 + random.nextInt(60)), today.minusDays(1));
		add(tx, null, condition(patientUrl, episodeDays.get(0), diagnosed, course));
		List<Integer> responses = new ArrayList<>();
		int[] risks = distinct(random, RISKS.length, 1 + random.nextInt(3));
		int[] protective = distinct(random, PROTECTIVE.length, 1 + random.nextInt(3));
		for (LocalDate when = diagnosed; when.isBefore(today); when = when.plusDays(180)) {
			LocalDate asOf = when;
			int days = (int) episodeDays.stream().filter(d -> !d.isAfter(asOf) && d.isAfter(asOf.minusYears(1))).count();
			responses.add(add(tx, null, assessment(random, patientUrl, when, days, METHODS[methods[0]], functions, risks, protective)));
		}
		for (LocalDate when = diagnosed; when.isBefore(today); when = when.plusDays(91)) {
			LocalDate asOf = when;
			long recent = episodeDays.stream().filter(d -> !d.isAfter(asOf) && d.isAfter(asOf.minusDays(28))).count();
			responses.add(add(tx, null, phq9(random, patientUrl, when, recent, course)));
		}
		return new PatientHistory(mrn, course, tx, responses, treatment(seed, n, course, adolescent));
	}

	/**
	 * People whose NSSI is active and changing (improving or escalating) get a plan; stable people and those in
	 * remission (whose Condition is no longer active, so no plan could address it) have none, as in real services.
	 * DBT for adolescents, DBT or CBT for adults. Improving people attend nearly every session and report low
	 * urges and daily skills; escalating people miss sessions and report high urges. Drawn from a random of its
	 * own, so the history above is the same with or without it.
	 */
	static Treatment treatment(long seed, int n, Course course, boolean adolescent) {
		if (course != Course.IMPROVING && course != Course.ESCALATING) {
			return null;
		}
		SplittableRandom random = new SplittableRandom(seed * 7_919L + n * 31L + 17);
		String plan = adolescent || random.nextBoolean() ? "nssi-dbt" : "nssi-cbt";
		int weeksAgo = 4 + random.nextInt(17);
		boolean doingWell = course != Course.ESCALATING;
		int sessions = doingWell ? weeksAgo - random.nextInt(2) : weeksAgo / 2 + random.nextInt(2);
		int[] urges = new int[14];
		int[] skills = new int[14];
		for (int d = 0; d < 14; d++) {
			urges[d] = doingWell ? random.nextInt(4) : 5 + random.nextInt(5);
			skills[d] = doingWell ? (random.nextInt(7) < 6 ? 1 + random.nextInt(3) : 0) : (random.nextInt(3) == 0 ? 1 : 0);
		}
		return new Treatment(plan, weeksAgo, sessions, urges, skills);
	}

	/** Episodes per week at a point of the history (0 = start, 1 = today) for each course. */
	private static double rate(Course course, double base, double progress, long daysAgo) {
		return switch (course) {
			case IMPROVING -> base * (1.2 - progress);
			case ESCALATING -> daysAgo < 90 ? base * 3.5 : base * 0.7;
			case STABLE -> base;
			case REMISSION -> progress < 0.6 ? base * 1.2 : base * 0.03;
		};
	}

	private Observation episode(
			SplittableRandom random, String patient, LocalDate day, Course course, int[] methods, int[] functions, int[] triggers, long daysAgo) {
		Observation obs = new Observation();
		tag(obs);
		obs.setStatus(Observation.ObservationStatus.FINAL);
		obs.addCategory(local("nssi", "Non-suicidal self-injury"));
		obs.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, "nssi-episode", "Self-harm episode (legacy code)"));
		// its equivalent (both mean a self-harm episode of any intent); not SNOMED CT 248062006, a behaviour concept only
		// broader than one episode (ConceptMap nssi-inbound-episode), which a CodeableConcept may not pair as a translation
		obs.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, "self-harm-episode", "Self-harm episode"));
		obs.setSubject(new Reference(patient));
		obs.setEffective(new DateTimeType(Date.from(day.atTime(LocalTime.of(random.nextInt(24), random.nextInt(4) * 15)).toInstant(ZoneOffset.UTC))));
		int m = methods[random.nextInt(methods.length)];
		String[] method = METHODS[m];
		obs.addComponent(component("method", new CodeableConcept(new Coding(method[0], method[1], method[2]))));
		// intent to die: almost always none; now and then unsure in an escalating course (which raises a suicide-risk alert)
		String intent = course == Course.ESCALATING && daysAgo < 90 && random.nextInt(100) < 2 ? "intent-unsure" : "intent-none";
		obs.addComponent(component("suicidal-intent", local(intent, null)));
		int c = random.nextInt(1000);
		int heavier = course == Course.ESCALATING && daysAgo < 90 ? 40 : 0;
		String care = c < 5 + heavier / 4 ? "care-emergency" : c < 40 + heavier ? "care-medical" : c < 250 ? "care-first-aid" : c < 800 ? "care-self" : "care-none";
		obs.addComponent(component("care-level", local(care, null)));
		obs.addComponent(component("urge-intensity", new IntegerType(Math.min(10, 3 + random.nextInt(8)))));
		String[] sites = SITES[m];
		obs.addComponent(component("body-site", local(sites[random.nextInt(sites.length)], null)));
		obs.addComponent(component("trigger", local(TRIGGERS[triggers[random.nextInt(triggers.length)]], null)));
		obs.addComponent(component("function", local(FUNCTIONS[functions[random.nextInt(functions.length)]], null)));
		obs.addComponent(component("substance-use", local(SUBSTANCES[random.nextInt(SUBSTANCES.length)], null)));
		obs.addComponent(component("social-context", local(random.nextInt(10) < 8 ? "context-alone" : "context-with-others", null)));
		obs.addComponent(component("disclosed", new BooleanType(random.nextInt(10) < 3)));
		return obs;
	}

	private static Condition condition(String patient, LocalDate onset, LocalDate recorded, Course course) {
		Condition condition = new Condition();
		tag(condition);
		String status = course == Course.REMISSION ? "remission" : "active";
		condition.setClinicalStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", status,
				status.equals("active") ? "Active" : "Remission")));
		condition.setVerificationStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")));
		condition.addCategory(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")));
		condition.getCode().addCoding(new Coding(ICD10CM, "R45.88", "Nonsuicidal self-harm"));
		condition.getCode().addCoding(new Coding(SNOMED, "248062006", "Self-injurious behavior"));
		condition.getCode().setText("Non-suicidal self-injury");
		condition.setSubject(new Reference(patient));
		condition.setOnset(new DateTimeType(onset.toString()));
		condition.setRecordedDateElement(new DateTimeType(recorded.toString()));
		return condition;
	}

	private static QuestionnaireResponse assessment(
			SplittableRandom random, String patient, LocalDate when, int days, String[] method, int[] functions, int[] risks, int[] protective) {
		QuestionnaireResponse qr = response(patient, "nssi-assessment", when, random);
		// filled in by a clinician with the person (it has the clinician sections): the person is the source of the
		// answers, and the respondent says so (the server would otherwise read the person as the respondent)
		qr.setAuthor(null);
		qr.setSource(new Reference(patient));
		qr.addItem().setLinkId("respondent").addAnswer().setValue(new Coding(CONCEPTS_SYSTEM, "respondent-clinician", null));
		QuestionnaireResponse.QuestionnaireResponseItemComponent behaviours = qr.addItem().setLinkId("behaviours");
		behaviours.addItem().setLinkId("nssi-any-past-year").addAnswer().setValue(new BooleanType(days > 0));
		// With no self-injury in the past year (someone in remission for a year) the form asks nothing more about
		// it: methods, the day count (1-366), intent and functions are enabled only once a method is given, and an
		// answer to a disabled item is refused (422). Answering them anyway made assessments late in a long
		// remission invalid, so whether a cohort loaded depended on the seed.
		if (days > 0) {
			behaviours.addItem().setLinkId("nssi-methods").addAnswer().setValue(new Coding(method[0], method[1], method[2]));
			behaviours.addItem().setLinkId("nssi-days-past-year").addAnswer().setValue(new IntegerType(days));
		}
		QuestionnaireResponse.QuestionnaireResponseItemComponent intent = qr.addItem().setLinkId("intent-screening");
		if (days > 0) {
			intent.addItem().setLinkId("nssi-intent").addAnswer().setValue(new Coding(CONCEPTS_SYSTEM, "intent-none", null));
		}
		intent.addItem().setLinkId("suicidal-ideation").addAnswer().setValue(new BooleanType(false));
		if (days > 0) {
			QuestionnaireResponse.QuestionnaireResponseItemComponent fn = qr.addItem().setLinkId("functions").addItem().setLinkId("nssi-functions");
			for (int f : functions) {
				fn.addAnswer().setValue(new Coding(CONCEPTS_SYSTEM, FUNCTIONS[f], null));
			}
		}
		QuestionnaireResponse.QuestionnaireResponseItemComponent rp = qr.addItem().setLinkId("risk-protective");
		QuestionnaireResponse.QuestionnaireResponseItemComponent r = rp.addItem().setLinkId("nssi-risk-factors");
		for (int i : risks) {
			r.addAnswer().setValue(new Coding(CONCEPTS_SYSTEM, RISKS[i], null));
		}
		QuestionnaireResponse.QuestionnaireResponseItemComponent p = rp.addItem().setLinkId("nssi-protective-factors");
		for (int i : protective) {
			p.addAnswer().setValue(new Coding(CONCEPTS_SYSTEM, PROTECTIVE[i], null));
		}
		return qr;
	}

	/** PHQ-9 items follow recent episode frequency; item 9 is rarely above 0 (that raises a suicide-risk alert). */
	private static QuestionnaireResponse phq9(SplittableRandom random, String patient, LocalDate when, long recentEpisodes, Course course) {
		QuestionnaireResponse qr = response(patient, "nssi-phq9", when, random);
		int level = (int) Math.min(3, recentEpisodes / 3);
		for (int item = 1; item <= 9; item++) {
			int score = item == 9
					? (course == Course.ESCALATING && recentEpisodes > 6 && random.nextInt(10) == 0 ? 1 : 0)
					: Math.max(0, Math.min(3, level + random.nextInt(3) - 1));
			qr.addItem().setLinkId("phq9-item-" + item).addAnswer().setValue(Phq9TotalRule.answerCoding(score));
		}
		return qr;
	}

	private static QuestionnaireResponse response(String patient, String questionnaire, LocalDate when, SplittableRandom random) {
		QuestionnaireResponse qr = new QuestionnaireResponse();
		tag(qr);
		qr.setQuestionnaire(NssiCanonicals.QUESTIONNAIRE + questionnaire);
		qr.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.COMPLETED);
		qr.setSubject(new Reference(patient));
		qr.setAuthor(new Reference(patient));
		qr.setAuthored(Date.from(when.atTime(9 + random.nextInt(8), 0).toInstant(ZoneOffset.UTC)));
		return qr;
	}

	private static Observation.ObservationComponentComponent component(String code, Type value) {
		Observation.ObservationComponentComponent c = new Observation.ObservationComponentComponent();
		c.getCode().addCoding().setSystem(CONCEPTS_SYSTEM).setCode(code);
		c.setValue(value);
		return c;
	}

	private static CodeableConcept local(String code, String display) {
		return new CodeableConcept(new Coding(CONCEPTS_SYSTEM, code, display));
	}

	private static void tag(Resource resource) {
		resource.getMeta().addSecurity(ACT_REASON_SYSTEM, "HTEST", "test health data");
	}

	/** Adds an entry (POST); returns its index. */
	private static int add(Bundle tx, String fullUrl, Resource resource) {
		Bundle.BundleEntryComponent entry = tx.addEntry().setResource(resource);
		if (fullUrl != null) {
			entry.setFullUrl(fullUrl);
		}
		entry.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl(resource.fhirType());
		return tx.getEntry().size() - 1;
	}

	private static int[] distinct(SplittableRandom random, int bound, int count) {
		return random.ints(0, bound).distinct().limit(Math.min(count, bound)).toArray();
	}

	private static String uuid(SplittableRandom random) {
		return new UUID(random.nextLong(), random.nextLong()).toString();
	}

	private static LocalDate min(LocalDate a, LocalDate b) {
		return a.isBefore(b) ? a : b;
	}
}
