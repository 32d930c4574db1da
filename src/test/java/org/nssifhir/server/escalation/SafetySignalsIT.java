package org.nssifhir.server.escalation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.assessment.AssessmentFixtures.CS;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.support.BaseIT;

/**
 * Issue 19, "signals that raise nothing" and "follow-through", over HTTP: every signal raises exactly one Flag
 * and one Task (and what must not fire, does not); the Task goes to the care team first, has a due time, cannot
 * be completed without a documented risk assessment, and completing it resolves the Flag.
 */
class SafetySignalsIT extends BaseIT {

	private static final String FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category";

	private List<Flag> flags(IIdType patient) {
		return client().search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> (Flag) e.getResource()).toList();
	}

	private List<Task> tasks(IIdType patient) {
		return client().search().forResource(Task.class).where(Task.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> (Task) e.getResource()).toList();
	}

	private static Date daysAgo(int days) {
		return Date.from(Instant.now().minus(days, ChronoUnit.DAYS));
	}

	private static boolean hasCode(CodeableConcept cc, String code) {
		return cc.getCoding().stream().anyMatch(c -> CS.equals(c.getSystem()) && code.equals(c.getCode()));
	}

	private static String key(Flag flag) {
		return flag.getIdentifierFirstRep().getValue();
	}

	/** Exactly one suicide-risk Flag and one Task, keyed with this prefix; returns the Task. */
	private Task onlySuicideRiskAlert(IIdType patient, String keyPrefix, Task.TaskPriority priority) {
		assertThat(flags(patient)).singleElement().satisfies(f -> {
			assertThat(hasCode(f.getCode(), "suicide-risk")).isTrue();
			assertThat(key(f)).startsWith(keyPrefix);
			// a safety precaution as well as a clinical flag (R4 flag-category; issue 19, item 10)
			assertThat(f.getCategory()).flatExtracting(CodeableConcept::getCoding)
					.extracting(c -> c.getSystem() + "#" + c.getCode())
					.contains(FLAG_CATEGORY + "#clinical", FLAG_CATEGORY + "#safety");
		});
		List<Task> tasks = tasks(patient);
		assertThat(tasks).singleElement().satisfies(t -> assertThat(t.getPriority()).isEqualTo(priority));
		return tasks.get(0);
	}

	private static QuestionnaireResponse.QuestionnaireResponseItemComponent group(QuestionnaireResponse qr, String linkId) {
		return qr.getItem().stream().filter(i -> linkId.equals(i.getLinkId())).findFirst().orElseThrow();
	}

	private static QuestionnaireResponse cleanAssessment(IIdType patient) {
		return AssessmentFixtures.assessment(patient, false, "intent-none", 2, List.of("function-relief-distress"), List.of(), List.of());
	}

	/** An assessment whose methods include "other", described in free text. */
	private static QuestionnaireResponse otherMethod(IIdType patient, String text) {
		QuestionnaireResponse qr = cleanAssessment(patient);
		QuestionnaireResponse.QuestionnaireResponseItemComponent behaviours = group(qr, "behaviours");
		QuestionnaireResponse.QuestionnaireResponseItemComponent methods =
				behaviours.getItem().stream().filter(i -> "nssi-methods".equals(i.getLinkId())).findFirst().orElseThrow();
		methods.addAnswer().setValue(new Coding(CS, "method-other", null));
		// in the Questionnaire's order: right after the methods item
		QuestionnaireResponse.QuestionnaireResponseItemComponent other = new QuestionnaireResponse.QuestionnaireResponseItemComponent();
		other.setLinkId("nssi-methods-other").addAnswer().setValue(new StringType(text));
		behaviours.getItem().add(behaviours.getItem().indexOf(methods) + 1, other);
		return qr;
	}

	// ---------------------------------------------------------------- signals

	@Test
	void assessmentNotExpectingMinorHarm_raisesTheAlertItsNoticePromises_andExpectingMinorHarmRaisesNothing() {
		IGenericClient client = client();
		IIdType calm = AssessmentFixtures.patient(client);
		QuestionnaireResponse minor = cleanAssessment(calm);
		group(minor, "behaviours").addItem().setLinkId("nssi-expected-minor-harm").addAnswer().setValue(new BooleanType(true));
		client.create().resource(minor).execute();
		assertThat(flags(calm)).isEmpty();
		assertThat(tasks(calm)).isEmpty();

		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse qr = cleanAssessment(patient);
		group(qr, "behaviours").addItem().setLinkId("nssi-expected-minor-harm").addAnswer().setValue(new BooleanType(false));
		client.create().resource(qr).execute();
		onlySuicideRiskAlert(patient, "expected-severe-harm:QuestionnaireResponse/", Task.TaskPriority.ASAP);
	}

	@Test
	void suicideScreen_wishToBeDead_plan_orAccessToMeans_eachRaisesTheSuicideRiskAlert_andNoneRaisesNothing() {
		IGenericClient client = client();
		IIdType none = AssessmentFixtures.patient(client);
		QuestionnaireResponse clean = cleanAssessment(none);
		screen(clean, 1, "passive-death-wish", false);
		client.create().resource(clean).execute();
		assertThat(flags(none)).isEmpty();

		IIdType passive = AssessmentFixtures.patient(client);
		QuestionnaireResponse wish = cleanAssessment(passive);
		screen(wish, 1, "passive-death-wish", true);
		client.create().resource(wish).execute();
		assertThat(onlySuicideRiskAlert(passive, "suicide-risk:QuestionnaireResponse/", Task.TaskPriority.ASAP).getDescription())
				.contains("wish to be dead");

		IIdType means = AssessmentFixtures.patient(client);
		QuestionnaireResponse access = cleanAssessment(means);
		screen(access, 1, "passive-death-wish", true);
		screen(access, 3, "access-to-means", true);
		client.create().resource(access).execute();
		assertThat(onlySuicideRiskAlert(means, "suicide-risk:QuestionnaireResponse/", Task.TaskPriority.ASAP).getDescription())
				.contains("access to a means");

		IIdType planned = AssessmentFixtures.patient(client);
		QuestionnaireResponse plan = AssessmentFixtures.assessment(planned, true, "intent-none", 2, List.of("function-relief-distress"), List.of(), List.of());
		screen(plan, 3, "suicide-plan", true);
		client.create().resource(plan).execute();
		assertThat(onlySuicideRiskAlert(planned, "suicide-risk:QuestionnaireResponse/", Task.TaskPriority.ASAP).getDescription())
				.contains("thoughts of suicide").contains("thought through or prepared for");
	}

	@Test
	void currentInjuryNeedingCare_escalates_firstAidOnlyForAMinor() {
		IGenericClient client = client();
		IIdType adult = AssessmentFixtures.patient(client);
		client.create().resource(currentInjury(adult, "care-first-aid")).execute();
		assertThat(flags(adult)).as("first aid, adult").isEmpty();

		IIdType hurt = AssessmentFixtures.patient(client);
		client.create().resource(currentInjury(hurt, "care-medical")).execute();
		assertThat(flags(hurt)).singleElement().satisfies(f -> assertThat(key(f)).startsWith("current-injury:QuestionnaireResponse/"));

		org.hl7.fhir.r4.model.Patient teen = new org.hl7.fhir.r4.model.Patient();
		teen.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		teen.setBirthDateElement(new org.hl7.fhir.r4.model.DateType(java.time.LocalDate.now().minusYears(14).toString()));
		IIdType minor = client.create().resource(teen).execute().getId().toUnqualifiedVersionless();
		client.create().resource(currentInjury(minor, "care-first-aid")).execute();
		assertThat(flags(minor)).singleElement().satisfies(f -> assertThat(key(f)).startsWith("current-injury:QuestionnaireResponse/"));
	}

	@Test
	void aSelfCompletedAssessment_isNotBlockedByTheClinicianItems() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse self = AssessmentFixtures.assessment(patient, false, "intent-none", 2, List.of("function-relief-distress"), List.of(), List.of());
		self.getItem().removeIf(i -> "risk-protective".equals(i.getLinkId()));
		QuestionnaireResponse.QuestionnaireResponseItemComponent respondent = new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId("respondent");
		respondent.addAnswer().setValue(new Coding(CS, "respondent-self", null));
		self.getItem().add(0, respondent);
		self.setSource(new org.hl7.fhir.r4.model.Reference(patient));
		IIdType qr = client.create().resource(self).execute().getId();
		assertThat(qr.getIdPart()).isNotBlank();
		// a clinician item in a self-completed response is not enabled: refused, so the person is never asked it
		QuestionnaireResponse withClinicianItem = self.copy();
		QuestionnaireResponse.QuestionnaireResponseItemComponent risk = new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId("risk-protective");
		risk.addItem().setLinkId("nssi-risk-factors").addAnswer().setValue(new Coding(CS, "risk-depression", null));
		withClinicianItem.addItem(risk);
		assertFailsWithStatus(422, () -> client.create().resource(withClinicianItem).execute());
	}

	/** Adds a yes/no answer to the intent-screening group at the Questionnaire's position. */
	private static void screen(QuestionnaireResponse qr, int index, String linkId, boolean yes) {
		QuestionnaireResponse.QuestionnaireResponseItemComponent item = new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId(linkId);
		item.addAnswer().setValue(new BooleanType(yes));
		List<QuestionnaireResponse.QuestionnaireResponseItemComponent> items = group(qr, "intent-screening").getItem();
		items.add(Math.min(index, items.size()), item);
	}

	/** A clean assessment with a current injury needing the given care (impact section, before the clinician sections). */
	private static QuestionnaireResponse currentInjury(IIdType patient, String care) {
		QuestionnaireResponse qr = cleanAssessment(patient);
		QuestionnaireResponse.QuestionnaireResponseItemComponent impact = new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId("impact");
		impact.addItem().setLinkId("nssi-current-injury-care").addAnswer().setValue(new Coding(CS, care, null));
		// the fixture has no clinician sections when no factor is given: then the impact section is the last
		qr.getItem().add(impact);
		return qr;
	}

	@Test
	void assessmentWithPreviousSuicideAttempt_raisesSuicideRisk() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.assessment(patient, false, "intent-none", 2, List.of(),
				List.of("risk-previous-suicide-attempt", "risk-depression"), List.of())).execute();
		onlySuicideRiskAlert(patient, "suicide-attempt-history:QuestionnaireResponse/", Task.TaskPriority.ASAP);
	}

	/** Issue 19 review: the person is asked about a previous suicide attempt too, not only the clinician. */
	@Test
	void personReportsAPreviousSuicideAttempt_raisesSuicideRisk_andNoRaisesNothing() {
		IGenericClient client = client();
		IIdType never = AssessmentFixtures.patient(client);
		QuestionnaireResponse no = cleanAssessment(never);
		screen(no, 99, "previous-suicide-attempt", false);
		client.create().resource(no).execute();
		assertThat(flags(never)).isEmpty();

		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse yes = cleanAssessment(patient);
		screen(yes, 99, "previous-suicide-attempt", true);
		client.create().resource(yes).execute();
		assertThat(onlySuicideRiskAlert(patient, "suicide-attempt-history:QuestionnaireResponse/", Task.TaskPriority.ASAP).getDescription())
				.contains("previous suicide attempt");
	}

	@Test
	void functionResistSuicidalThoughts_onAnAssessmentOrAnEpisode_raisesSuicideRisk() {
		IGenericClient client = client();
		IIdType assessed = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.assessment(assessed, false, "intent-none", 2,
				List.of("function-relief-distress", "function-resist-suicidal-thoughts"), List.of(), List.of())).execute();
		onlySuicideRiskAlert(assessed, "suicide-function:QuestionnaireResponse/", Task.TaskPriority.ASAP);

		IIdType recorded = AssessmentFixtures.patient(client);
		Observation episode = AssessmentFixtures.episode(recorded, daysAgo(1), "intent-none", "care-self");
		episode.addComponent(AssessmentFixtures.component("function", new CodeableConcept(new Coding(CS, "function-resist-suicidal-thoughts", null))));
		client.create().resource(episode).execute();
		onlySuicideRiskAlert(recorded, "suicide-function:Observation/", Task.TaskPriority.ASAP);
	}

	@Test
	void freeTextOtherMethodNamingOverdoseOrLigature_raisesSuicideRisk_andHarmlessTextDoesNot() {
		IGenericClient client = client();
		IIdType harmless = AssessmentFixtures.patient(client);
		client.create().resource(otherMethod(harmless, "rubbing skin with an eraser")).execute();
		assertThat(flags(harmless)).isEmpty();

		for (String text : List.of("took an overdose of my tablets", "used a ligature", "Hanging")) {
			IIdType patient = AssessmentFixtures.patient(client);
			client.create().resource(otherMethod(patient, text)).execute();
			onlySuicideRiskAlert(patient, "lethal-method:QuestionnaireResponse/", Task.TaskPriority.ASAP);
		}
	}

	@Test
	void assessmentReportingMedicalOrEmergencyCare_raisesAnNssiEscalation() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse qr = cleanAssessment(patient);
		qr.addItem().setLinkId("impact").addItem().setLinkId("nssi-care-level").addAnswer().setValue(new Coding(CS, "care-emergency", null));
		// in the Questionnaire's order: impact comes before risk-protective and treatment-history (absent here)
		client.create().resource(qr).execute();
		assertThat(flags(patient)).singleElement().satisfies(f -> {
			assertThat(hasCode(f.getCode(), "nssi-escalation")).isTrue();
			assertThat(key(f)).startsWith("nssi-care:QuestionnaireResponse/");
			// escalating self-injury is a clinical flag; the safety category is for suicide risk
			assertThat(f.getCategory()).flatExtracting(CodeableConcept::getCoding).extracting(c -> c.getCode()).containsExactly("clinical");
		});
		assertThat(tasks(patient)).singleElement().satisfies(t -> assertThat(t.getPriority()).isEqualTo(Task.TaskPriority.URGENT));
	}

	@Test
	void severePhq9WithItem9AtZero_raisesAnUrgentSevereDepressionAlert_notSuicideRisk_andModerateRaisesNothing() {
		IGenericClient client = client();
		IIdType moderate = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.phq9(moderate, 2, 2, 2, 2, 2, 2, 2, 2, 0)).execute();
		assertThat(flags(moderate)).isEmpty();

		IIdType severe = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.phq9(severe, 3, 3, 3, 3, 2, 2, 2, 2, 0)).execute();
		// not a sign of ideation (issue 19 review, item 3): its own code, never suicide-risk, and no safety category
		assertThat(flags(severe)).singleElement().satisfies(f -> {
			assertThat(hasCode(f.getCode(), "severe-depression-score")).isTrue();
			assertThat(hasCode(f.getCode(), "suicide-risk")).isFalse();
			assertThat(key(f)).startsWith("phq9-severe:QuestionnaireResponse/");
			assertThat(f.getMeta().getProfile()).anyMatch(p -> p.getValue().endsWith("/nssi-escalation-flag"));
			assertThat(f.getCategory()).flatExtracting(CodeableConcept::getCoding).extracting(Coding::getCode).containsExactly("clinical");
		});
		assertThat(tasks(severe)).singleElement().satisfies(task -> {
			assertThat(hasCode(task.getCode(), "severe-depression-score")).isTrue();
			assertThat(hasCode(task.getCode(), "suicide-risk")).isFalse();
			assertThat(task.getPriority()).isEqualTo(Task.TaskPriority.URGENT);
			assertThat(task.getDescription()).contains("PHQ-9 total of 20 or more");
			assertThat(task.getMeta().getProfile()).anyMatch(p -> p.getValue().endsWith("/nssi-escalation-task"));
		});
	}

	@Test
	void lethalMethodOrNeckSite_raisesSuicideRiskWhateverTheRecordedIntent_andAnArmCutDoesNot() {
		IGenericClient client = client();
		IIdType arm = AssessmentFixtures.patient(client);
		Observation cut = AssessmentFixtures.episode(arm, daysAgo(1), "intent-none", "care-self");
		cut.addComponent(AssessmentFixtures.component("body-site", new CodeableConcept(new Coding(CS, "site-forearm-wrist", null))));
		client.create().resource(cut).execute();
		assertThat(flags(arm)).isEmpty();

		for (String method : List.of("method-self-poisoning", "method-ligature", "method-jumping")) {
			IIdType patient = AssessmentFixtures.patient(client);
			Observation episode = AssessmentFixtures.episode(patient, daysAgo(1), "intent-none", "care-self");
			episode.getComponent().stream().filter(c -> hasCode(c.getCode(), "method")).forEach(c -> c.setValue(new CodeableConcept(new Coding(CS, method, null))));
			client.create().resource(episode).execute();
			onlySuicideRiskAlert(patient, "lethal-method:Observation/", Task.TaskPriority.ASAP);
		}

		IIdType neck = AssessmentFixtures.patient(client);
		Observation episode = AssessmentFixtures.episode(neck, daysAgo(1), "intent-none", "care-self");
		episode.addComponent(AssessmentFixtures.component("body-site", new CodeableConcept(new Coding(CS, "site-neck", null))));
		client.create().resource(episode).execute();
		onlySuicideRiskAlert(neck, "lethal-method:Observation/", Task.TaskPriority.ASAP);

		IIdType text = AssessmentFixtures.patient(client);
		Observation other = AssessmentFixtures.episode(text, daysAgo(1), "intent-none", "care-self");
		other.getComponent().stream().filter(c -> hasCode(c.getCode(), "method"))
				.forEach(c -> c.setValue(new CodeableConcept(new Coding(CS, "method-other", null)).setText("overdose")));
		client.create().resource(other).execute();
		onlySuicideRiskAlert(text, "lethal-method:Observation/", Task.TaskPriority.ASAP);
	}

	@Test
	void newBodySitesAreAccepted() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		for (String site : List.of("site-genitals", "site-breast", "site-back")) {
			Observation episode = AssessmentFixtures.episode(patient, daysAgo(200), "intent-none", "care-self");
			episode.addComponent(AssessmentFixtures.component("body-site", new CodeableConcept(new Coding(CS, site, null))));
			client.create().resource(episode).execute();
		}
		assertThat(flags(patient)).isEmpty();
	}

	// ---------------------------------------------------------------- follow-through

	@Test
	void urgentTask_goesToTheCareTeamBeforeTheGp_andIsDueWithin24Hours() {
		IGenericClient client = client();
		Practitioner gp = new Practitioner();
		gp.addName().setFamily("Synthetic GP");
		IIdType gpId = client.create().resource(gp).execute().getId().toUnqualifiedVersionless();
		IIdType patient = AssessmentFixtures.patient(client);
		Patient p = client.read().resource(Patient.class).withId(patient).execute();
		p.addGeneralPractitioner(new Reference(gpId));
		client.update().resource(p).execute();
		CareTeam team = new CareTeam();
		team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
		team.setSubject(new Reference(patient));
		team.addParticipant().setMember(new Reference(gpId));
		IIdType teamId = client.create().resource(team).execute().getId().toUnqualifiedVersionless();

		Date before = new Date();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-present", null)).execute();
		Task task = tasks(patient).get(0);
		assertThat(task.getOwner().getReference()).isEqualTo(teamId.getValue());
		Date due = task.getRestriction().getPeriod().getEnd();
		assertThat(due).isNotNull();
		assertThat(due.getTime() - before.getTime()).isLessThanOrEqualTo(EscalationService.PROMPT_DUE.toMillis() + 60_000);
		assertThat(due).isAfter(before);
	}

	@Test
	void completingTheTask_needsADocumentedRiskAssessment_andResolvesTheFlag() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		IIdType episode = client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-present", null)).execute().getId();
		Task task = tasks(patient).get(0);

		task.setStatus(Task.TaskStatus.COMPLETED);
		// refused by the escalation rule (NSSI-0601) or, when the profile check runs first, by the same rule as the
		// profile's invariant nssi-task-1 (NSSI-0201 naming the escalation-task profile): either way nothing changes
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.update().resource(task).execute())
				.isInstanceOf(ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException.class)
				.satisfies(e -> org.assertj.core.api.Assertions.assertThat(e.getMessage())
						.containsAnyOf("NSSI-0601", "NSSI-0201: Task does not conform to https://nssi-fhir.org/fhir/StructureDefinition/nssi-escalation-task"));
		assertThat(flags(patient)).singleElement().satisfies(f -> assertThat(f.getStatus()).isEqualTo(Flag.FlagStatus.ACTIVE));

		org.hl7.fhir.r4.model.RiskAssessment assessment = new org.hl7.fhir.r4.model.RiskAssessment();
		assessment.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		assessment.setStatus(org.hl7.fhir.r4.model.RiskAssessment.RiskAssessmentStatus.FINAL);
		assessment.setSubject(new Reference(patient));
		assessment.addBasis(new Reference(episode.toUnqualifiedVersionless()));
		IIdType assessmentId = client.create().resource(assessment).execute().getId().toUnqualifiedVersionless();
		task.addOutput().setValue(new Reference(assessmentId)).getType().setText("Suicide risk assessment");
		client.update().resource(task).execute();

		assertThat(tasks(patient)).singleElement().satisfies(t -> assertThat(t.getStatus()).isEqualTo(Task.TaskStatus.COMPLETED));
		assertThat(flags(patient)).singleElement().satisfies(f -> {
			assertThat(f.getStatus()).isEqualTo(Flag.FlagStatus.INACTIVE);
			assertThat(f.getPeriod().hasEnd()).isTrue();
		});
	}

	@Test
	void furtherDoublingOfFrequency_raisesANewAlertWhileTheOldOneIsOpen_andOneMoreEpisodeDoesNot() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(60), "intent-none", "care-self")).execute();
		for (int day : new int[] {20, 15, 10}) {
			client.create().resource(AssessmentFixtures.episode(patient, daysAgo(day), "intent-none", "care-self")).execute();
		}
		assertThat(flags(patient)).as("3 episodes against a baseline of 0.33: the first alert").hasSize(1);
		for (int day : new int[] {9, 8}) {
			client.create().resource(AssessmentFixtures.episode(patient, daysAgo(day), "intent-none", "care-self")).execute();
		}
		assertThat(flags(patient)).as("5 episodes: not yet double the 3 of the open alert").hasSize(1);
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(7), "intent-none", "care-self")).execute();
		assertThat(flags(patient)).as("6 episodes: doubled while the first alert is open").hasSize(2);
		assertThat(tasks(patient)).hasSize(2);
	}

	@Test
	void episodesWithIntentToDie_doNotCountTowardsTheNssiFrequencyRule() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(20), "intent-present", null)).execute();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(10), "intent-unsure", null)).execute();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-none", "care-self")).execute();
		// two suicide-risk alerts (one per episode), no frequency alert: only one episode is NSSI
		assertThat(flags(patient)).hasSize(2).allSatisfy(f -> assertThat(hasCode(f.getCode(), "suicide-risk")).isTrue());
	}

	@Test
	void missingBirthDate_treatsThePersonAsPossiblyMinor_forEscalation() {
		IGenericClient client = client();
		Patient noBirthDate = new Patient();
		noBirthDate.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		noBirthDate.addName().setFamily("Synthetic").addGiven("Unknown-age");
		IIdType patient = client.create().resource(noBirthDate).execute().getId().toUnqualifiedVersionless();
		Date before = new Date();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-none", "care-medical")).execute();
		Task task = tasks(patient).stream().filter(t -> hasCode(t.getCode(), "nssi-escalation")).findFirst().orElseThrow();
		assertThat(tasks(patient)).as("a person of unknown age gets the safeguarding Task too")
				.anySatisfy(t -> assertThat(hasCode(t.getCode(), "safeguarding-review")).isTrue());
		assertThat(task.getPriority()).isEqualTo(Task.TaskPriority.URGENT);
		assertThat(task.getDescription()).contains("treated as possibly under 18");
		assertThat(task.getRestriction().getPeriod().getEnd().getTime() - before.getTime())
				.as("a minor's urgent Task is due as fast as a suicide-risk one").isLessThanOrEqualTo(EscalationService.PROMPT_DUE.toMillis() + 60_000);

		IIdType adult = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(adult, daysAgo(1), "intent-none", "care-medical")).execute();
		assertThat(tasks(adult).get(0).getDescription()).doesNotContain("under 18");
	}

	/** Issue 19, item 8a: the PHQ-9 item 9 follow-up tells NSSI thoughts from suicidal ones; the alert fires either way. */
	@Test
	void phq9Item9FollowUp_saysWhichThoughtsInTheAlert_whichFiresAllTheSame() {
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		QuestionnaireResponse qr = AssessmentFixtures.phq9(patient, 0, 0, 0, 0, 0, 0, 0, 0, 1);
		qr.getItem().add(9, new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId("phq9-item9-followup")
				.addAnswer(new QuestionnaireResponse.QuestionnaireResponseItemAnswerComponent().setValue(new Coding(CS, "item9-thoughts-self-harm", null))));
		client.create().resource(qr).execute();
		Task task = onlySuicideRiskAlert(patient, "suicide-risk:QuestionnaireResponse/", Task.TaskPriority.ASAP);
		assertThat(task.getDescription()).contains("NSSI thoughts");
		assertThat(flags(patient).get(0).getCode().getText()).contains("without wanting to die");
	}

	/**
	 * Issue 19, item 8, for a synthetic 15-year-old: an episode that needed only first aid escalates (an adult's does
	 * not), and every alert of a minor comes with a safeguarding Task that a parent never sees, whatever the Consent,
	 * and whose completion does not end the alert.
	 */
	@Test
	void minorsEpisodeNeedingFirstAid_raisesAnAlertAndASafeguardingTask_hiddenFromTheParent_andAnAdultsRaisesNothing() {
		IGenericClient client = client();
		Patient teen = new Patient();
		teen.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		teen.addName().setFamily("Synthetic").addGiven("Fifteen");
		teen.setBirthDateElement(new org.hl7.fhir.r4.model.DateType(java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusYears(15).minusDays(10).toString()));
		IIdType patient = client.create().resource(teen).execute().getId().toUnqualifiedVersionless();
		Date before = new Date();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-none", "care-first-aid")).execute();

		List<Flag> raised = flags(patient);
		assertThat(raised).singleElement().satisfies(f -> {
			assertThat(hasCode(f.getCode(), "nssi-escalation")).isTrue();
			assertThat(key(f)).startsWith("nssi-care:Observation/");
		});
		Flag flag = raised.get(0);
		List<Task> all = tasks(patient);
		assertThat(all).hasSize(2);
		Task escalation = all.stream().filter(t -> hasCode(t.getCode(), "nssi-escalation")).findFirst().orElseThrow();
		Task safeguarding = all.stream().filter(t -> hasCode(t.getCode(), "safeguarding-review")).findFirst().orElseThrow();
		assertThat(escalation.getDescription()).contains("under 18").contains("a safeguarding review is needed").doesNotContain("Task is raised").doesNotContain("updated if one is open").doesNotContain("(safeguarding-review)");
		assertThat(safeguarding.getIdentifierFirstRep().getValue()).isEqualTo("safeguarding:" + key(flag));
		assertThat(safeguarding.hasFocus()).as("its completion must not end the alert").isFalse();
		assertThat(safeguarding.getReasonReference().getReference()).isEqualTo("Flag/" + flag.getIdElement().getIdPart());
		assertThat(safeguarding.getRestriction().getPeriod().getEnd().getTime() - before.getTime())
				.isLessThanOrEqualTo(EscalationService.PROMPT_DUE.toMillis() + 60_000);
		// held to its own profile (issue 19 review, item 5), with the alert's owner
		assertThat(safeguarding.getMeta().getProfile()).anyMatch(p -> p.getValue().endsWith("/nssi-safeguarding-task"));
		assertThat(safeguarding.getOwner().getReference()).isEqualTo(escalation.getOwner().getReference());
		// an owner by name alone puts the review in no one's work list: refused (nssi-sgt-2, informaticist review s8, W1)
		Task byName = client.read().resource(Task.class).withId(safeguarding.getIdElement().toUnqualifiedVersionless()).execute();
		byName.setOwner(new Reference().setDisplay("Adolescent team"));
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.update().resource(byName).execute())
				.isInstanceOfSatisfying(ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException.class,
						e -> assertThat(e.getResponseBody()).contains("NSSI-0201").contains("nssi-sgt-2"));

		// a parent with a Consent releasing everything still never sees the safeguarding Task (the concern may be the family)
		org.hl7.fhir.r4.model.RelatedPerson rp = new org.hl7.fhir.r4.model.RelatedPerson();
		rp.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		rp.setPatient(new Reference(patient.getValue()));
		String parent = client.create().resource(rp).execute().getId().getIdPart();
		client.create().resource(org.nssifhir.server.support.TestConsents.releaseTo(patient.getIdPart(), parent)).execute();
		IGenericClient parentClient = client(tokens().token().scopes("patient/*.rs").claim("patient", patient.getIdPart())
				.claim("fhirUser", fhirBase() + "/RelatedPerson/" + parent).sign());
		List<String> seen = parentClient.search().forResource(Task.class).where(Task.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute()
				.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
		assertThat(seen).as("the consent releases the alert's Task").contains(escalation.getIdElement().getIdPart())
				.doesNotContain(safeguarding.getIdElement().getIdPart());
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> parentClient.read().resource(Task.class).withId(safeguarding.getIdElement().getIdPart()).execute())
				.isInstanceOf(ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException.class);

		// completed with the recorded decision: the alert stays until its own Task is completed
		org.hl7.fhir.r4.model.ClinicalImpression decision = new org.hl7.fhir.r4.model.ClinicalImpression();
		decision.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		decision.setStatus(org.hl7.fhir.r4.model.ClinicalImpression.ClinicalImpressionStatus.COMPLETED);
		decision.setSubject(new Reference(patient.getValue()));
		decision.setSummary("Safeguarding considered with the young person (synthetic): no referral needed.");
		IIdType decided = client.create().resource(decision).execute().getId().toUnqualifiedVersionless();
		Task done = client.read().resource(Task.class).withId(safeguarding.getIdElement().toUnqualifiedVersionless()).execute();
		done.setStatus(Task.TaskStatus.COMPLETED);
		// not without the decision recorded, nor with a focus that would make completing it end the alert
		assertFailsWithStatus(422, () -> client.update().resource(done).execute());
		Task focused = done.copy();
		focused.setStatus(Task.TaskStatus.RECEIVED);
		focused.setFocus(new Reference("Flag/" + flag.getIdElement().getIdPart()));
		assertFailsWithStatus(422, () -> client.update().resource(focused).execute());
		done.addOutput().setType(new CodeableConcept().setText("Safeguarding decision")).setValue(new Reference(decided.getValue()));
		client.update().resource(done).execute();
		assertThat(flags(patient)).singleElement().satisfies(f -> assertThat(f.getStatus()).isEqualTo(Flag.FlagStatus.ACTIVE));

		// a further alert while a safeguarding review is open is added to it, not a Task of its own; once it is closed
		// (above), the next alert opens a new review
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(2), "intent-unsure", null)).execute();
		List<Task> reviews = tasks(patient).stream().filter(t -> hasCode(t.getCode(), "safeguarding-review")).toList();
		assertThat(reviews).hasSize(2);
		Task open = reviews.stream().filter(t -> t.getStatus() == Task.TaskStatus.REQUESTED).findFirst().orElseThrow();
		Date beforeFurther = new Date(System.currentTimeMillis() - 1000);
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(3), "intent-present", null)).execute();
		assertThat(tasks(patient).stream().filter(t -> hasCode(t.getCode(), "safeguarding-review"))).hasSize(2);
		Task noted = client.read().resource(Task.class).withId(open.getIdElement().toUnqualifiedVersionless()).execute();
		// the further alert, named in words and by its Flag, in a dated note the server signs (clinician review s8, item 3)
		String furtherFlag = flags(patient).stream().filter(f -> f.getStatus() == Flag.FlagStatus.ACTIVE && hasCode(f.getCode(), "suicide-risk"))
				.filter(f -> !("Flag/" + f.getIdElement().getIdPart()).equals(open.getReasonReference().getReference()))
				.map(f -> "Flag/" + f.getIdElement().getIdPart()).reduce((a, b) -> b).orElseThrow();
		assertThat(noted.getNote()).singleElement().satisfies(n -> {
			assertThat(n.getText()).startsWith("Another alert for this person: Suicide risk: ")
					.contains("intent to die").endsWith("Consider it in the same safeguarding review (" + furtherFlag + ").");
			assertThat(n.getAuthorStringType().getValue()).isEqualTo("NSSI FHIR Server (safeguarding)");
			assertThat(n.getTime()).isAfterOrEqualTo(beforeFurther).isBeforeOrEqualTo(new Date());
		});
		assertThat(noted.getDescription()).as("the description stays the first alert's").doesNotContain("Another alert");
		assertThat(tasks(patient).stream().filter(t -> hasCode(t.getCode(), "suicide-risk"))).as("each alert keeps its own Task").hasSize(2);

		// the same episode for an adult: first aid alone raises nothing
		IIdType adult = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(adult, daysAgo(1), "intent-none", "care-first-aid")).execute();
		assertThat(flags(adult)).isEmpty();
		assertThat(tasks(adult)).isEmpty();
	}

	@Test
	void furtherAlertAddedToASafeguardingReview_raisesItsPriority_bringsItsDueForward_andNamesItsKinds() {
		IGenericClient client = client();
		Patient teen = new Patient();
		teen.getMeta().addSecurity(org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		teen.addName().setFamily("Synthetic").addGiven("Fourteen");
		teen.setBirthDateElement(new org.hl7.fhir.r4.model.DateType(java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusYears(14).minusDays(3).toString()));
		IIdType patient = client.create().resource(teen).execute().getId().toUnqualifiedVersionless();
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(1), "intent-none", "care-first-aid")).execute();
		Task review = tasks(patient).stream().filter(t -> hasCode(t.getCode(), "safeguarding-review")).findFirst().orElseThrow();
		assertThat(review.getPriority()).isEqualTo(Task.TaskPriority.URGENT);
		assertThat(review.getDescription()).contains("an alert was raised (NSSI escalation)");
		// the review looks as a review opened days ago would: due later than any new alert's
		Date later = new Date(System.currentTimeMillis() + java.time.Duration.ofDays(3).toMillis());
		review.getRestriction().getPeriod().setEnd(later);
		client.update().resource(review).execute();

		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(2), "intent-present", null)).execute();
		Task alert = tasks(patient).stream().filter(t -> hasCode(t.getCode(), "suicide-risk")).findFirst().orElseThrow();
		Task followed = client.read().resource(Task.class).withId(review.getIdElement().toUnqualifiedVersionless()).execute();
		assertThat(followed.getPriority()).as("the highest of its alerts").isEqualTo(Task.TaskPriority.ASAP);
		assertThat(followed.getRestriction().getPeriod().getEnd()).as("the earliest due time among them")
				.isEqualTo(alert.getRestriction().getPeriod().getEnd());
		assertThat(followed.getDescription()).contains("alerts were raised (NSSI escalation, Suicide risk)").doesNotContain("(NSSI escalation)");
		assertThat(followed.getNote()).singleElement().satisfies(n -> assertThat(n.getText()).startsWith("Another alert for this person: Suicide risk: "));

		// a milder alert later never lowers the priority nor moves the due time later
		client.create().resource(AssessmentFixtures.episode(patient, daysAgo(3), "intent-none", "care-first-aid")).execute();
		Task after = client.read().resource(Task.class).withId(review.getIdElement().toUnqualifiedVersionless()).execute();
		assertThat(after.getPriority()).isEqualTo(Task.TaskPriority.ASAP);
		assertThat(after.getRestriction().getPeriod().getEnd()).isBeforeOrEqualTo(followed.getRestriction().getPeriod().getEnd());
		assertThat(after.getDescription()).contains("alerts were raised (NSSI escalation, Suicide risk)");
	}

	private static void assertThatFailsWith422(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String code) {
		org.assertj.core.api.Assertions.assertThatThrownBy(call)
				.isInstanceOf(ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException.class)
				.hasMessageContaining(code);
	}
}
