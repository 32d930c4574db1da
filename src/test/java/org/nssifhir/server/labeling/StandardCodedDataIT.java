package org.nssifhir.server.labeling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.labeling.EhrTestData.ICD;
import static org.nssifhir.server.labeling.EhrTestData.ICD_OID;
import static org.nssifhir.server.labeling.EhrTestData.LOINC;
import static org.nssifhir.server.labeling.EhrTestData.LOINC_OID;
import static org.nssifhir.server.labeling.EhrTestData.MRN;
import static org.nssifhir.server.labeling.EhrTestData.SNOMED;
import static org.nssifhir.server.labeling.EhrTestData.post;
import static org.nssifhir.server.labeling.EhrTestData.security;
import static org.nssifhir.server.labeling.EhrTestData.tagged;
import static org.nssifhir.server.labeling.EhrTestData.uuid;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Questionnaire;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.SecurityLabels;

/**
 * Standard-coded data as EHRs send it (ICD-10-CM with and without the dot, OID system URIs, SNOMED CT, LOINC PHQ-9
 * with LOINC answers, patients by urn:uuid and conditional reference): every sensitive resource is stored with R,
 * BH and (for a 15-year-old) ADOL and the rule that labelled it, is refused (404) to a clinician without a treating
 * relationship, and every risk signal raises exactly one Flag and one Task through REST, batch and transaction.
 */
class StandardCodedDataIT extends BaseIT {

	private static final String RULES = SecurityLabelingService.RULE_SYSTEM;

	private static Condition condition(String subject, Coding... codes) {
		Condition c = tagged(new Condition());
		c.setSubject(new Reference(subject));
		// as US Core sends a health concern: no clinicalStatus, category health-concern
		c.addCategory().addCoding(new Coding("http://hl7.org/fhir/us/core/CodeSystem/condition-category", "health-concern", "Health Concern"));
		for (Coding code : codes) {
			c.getCode().addCoding(code);
		}
		return c;
	}

	private static Observation phq9Item9(String subject, org.hl7.fhir.r4.model.Type value) {
		Observation o = tagged(new Observation());
		o.setStatus(Observation.ObservationStatus.FINAL);
		o.addCategory().addCoding(new Coding("http://terminology.hl7.org/CodeSystem/observation-category", "survey", null));
		o.getCode().addCoding(new Coding(LOINC, "44260-8", null));
		o.setSubject(new Reference(subject));
		o.setEffective(DateTimeType.now());
		o.setValue(value);
		return o;
	}

	private IIdType patient(IGenericClient client, int age) {
		Patient p = tagged(new Patient());
		p.setBirthDateElement(new DateType(LocalDate.now(ZoneOffset.UTC).minusYears(age).minusDays(30).toString()));
		return client.create().resource(p).execute().getId().toUnqualifiedVersionless();
	}

	private String unrelatedClinician() {
		return EhrTestData.unrelatedClinicianToken(client(), tokens(), fhirBase());
	}

	private <T extends Resource> List<T> search(Class<T> type, String patientId) {
		return EhrTestData.forPatient(client(), type, patientId);
	}

	/** The alerts' own Tasks: a minor's alert also raises a safeguarding Task (issue 19, item 8), counted apart. */
	private List<Task> alertTasks(String patientId) {
		return EhrTestData.alertTasks(search(Task.class, patientId));
	}

	private static List<String> rules(Resource r) {
		return r.getMeta().getTag().stream().filter(t -> RULES.equals(t.getSystem())).map(Coding::getCode).toList();
	}

	private static void assertRestrictedAdolescent(Resource r) {
		assertThat(security(r)).as(r.getIdElement().toUnqualifiedVersionless().getValue())
				.contains(SecurityLabels.CONFIDENTIALITY_SYSTEM + "|R", SecurityLabels.ACT_CODE_SYSTEM + "|BH", SecurityLabels.ACT_CODE_SYSTEM + "|ADOL");
		assertThat(security(r)).filteredOn(s -> s.startsWith(SecurityLabels.CONFIDENTIALITY_SYSTEM)).hasSize(1);
		assertThat(rules(r)).as("rule recorded on " + r.getIdElement().getValue()).isNotEmpty().contains(SecurityLabelingService.RULE_ADOLESCENT);
	}

	/** An EHR's ED visit for a 15-year-old, sent as one transaction with urn:uuid and conditional references. */
	@Test
	void ehrTransaction_everySensitiveResourceIsRestrictedAdolescent_hiddenFromAnUnrelatedClinician_andEachSignalRaisesOneAlert() {
		IGenericClient client = client();
		String mrn = unique("mrn");
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		String patientUrl = uuid();
		Patient patient = tagged(new Patient());
		patient.addIdentifier().setSystem(MRN).setValue(mrn);
		patient.setBirthDateElement(new DateType(LocalDate.now(ZoneOffset.UTC).minusYears(15).minusDays(10).toString()));
		post(tx, patientUrl, patient).getRequest().setIfNoneExist("identifier=" + MRN + "|" + mrn);

		Map<String, String> sensitive = new LinkedHashMap<>(); // fullUrl → what it is
		String encounterUrl = uuid();
		Encounter ed = tagged(new Encounter());
		ed.setStatus(Encounter.EncounterStatus.FINISHED);
		ed.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "EMER", "emergency"));
		ed.setSubject(new Reference(patientUrl));
		ed.addReasonCode().addCoding(new Coding(ICD, "X78.9XXA", "Intentional self-harm by unspecified sharp object, initial encounter"));
		post(tx, encounterUrl, ed);
		sensitive.put(encounterUrl, "ED encounter, reason X78.9XXA");

		String selfHarmUrl = uuid();
		Condition selfHarm = condition(patientUrl, new Coding(ICD, "X78.9XXA", null));
		selfHarm.setEncounter(new Reference(encounterUrl));
		post(tx, selfHarmUrl, selfHarm);
		sensitive.put(selfHarmUrl, "Condition X78.9XXA (intent not recorded)");

		String attemptUrl = uuid();
		// intent-neutral SNOMED self-injury code plus the suicide attempt: kept, not refused as an NSSI condition
		post(tx, attemptUrl, condition(patientUrl, new Coding(SNOMED, "276853009", "Self inflicted injury"), new Coding(ICD, "T14.91XA", null)));
		sensitive.put(attemptUrl, "Condition 276853009 + T14.91XA");

		String ideationUrl = uuid();
		// OID system URI; subject as a conditional reference
		post(tx, ideationUrl, condition("Patient?identifier=" + MRN + "|" + mrn, new Coding(ICD_OID, "R45.851", null)));
		sensitive.put(ideationUrl, "Condition R45.851 (OID system, conditional subject)");

		String nssiUrl = uuid();
		Condition nssi = condition(patientUrl, new Coding(ICD, "R4588", null));
		nssi.getMeta().addSecurity(SecurityLabels.CONFIDENTIALITY_SYSTEM, "N", "normal"); // integration engines label everything N
		post(tx, nssiUrl, nssi);
		sensitive.put(nssiUrl, "Condition R4588 (no dot) sent as N");

		String item9Url = uuid();
		post(tx, item9Url, phq9Item9(patientUrl, new CodeableConcept(new Coding(LOINC, "LA6570-1", "More than half the days"))));
		sensitive.put(item9Url, "PHQ-9 item 9, LOINC answer LA6570-1");

		String panelUrl = uuid();
		Observation panel = tagged(new Observation());
		panel.setStatus(Observation.ObservationStatus.FINAL);
		panel.getCode().addCoding(new Coding(LOINC_OID, "44249-1", null));
		panel.setSubject(new Reference(patientUrl));
		panel.addHasMember(new Reference(item9Url));
		post(tx, panelUrl, panel);
		sensitive.put(panelUrl, "PHQ-9 panel 44249-1 (OID system)");

		String behaviourUrl = uuid();
		Observation behaviour = tagged(new Observation());
		behaviour.setStatus(Observation.ObservationStatus.FINAL);
		behaviour.getCode().addCoding(new Coding(SNOMED, "248062006", "Self-injurious behavior"));
		behaviour.setSubject(new Reference(patientUrl));
		post(tx, behaviourUrl, behaviour);
		sensitive.put(behaviourUrl, "Observation SNOMED 248062006");

		String orderUrl = uuid();
		MedicationRequest order = tagged(new MedicationRequest());
		order.setStatus(MedicationRequest.MedicationRequestStatus.ACTIVE);
		order.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
		order.getMedicationCodeableConcept().setText("sertraline 25 mg tablet");
		order.setSubject(new Reference(patientUrl));
		order.addReasonReference(new Reference(ideationUrl)); // its only link to the sensitive category
		post(tx, orderUrl, order);
		sensitive.put(orderUrl, "MedicationRequest whose reasonReference is the R45.851 Condition");

		String plainUrl = uuid();
		Observation plain = tagged(new Observation());
		plain.setStatus(Observation.ObservationStatus.FINAL);
		plain.getCode().setText("Body temperature");
		plain.setSubject(new Reference(patientUrl));
		post(tx, plainUrl, plain);

		Bundle response = client.transaction().withBundle(tx).execute();
		Map<String, IIdType> ids = new LinkedHashMap<>();
		for (int i = 0; i < tx.getEntry().size(); i++) {
			assertThat(response.getEntry().get(i).getResponse().getStatus()).startsWith("201");
			ids.put(tx.getEntry().get(i).getFullUrl(), new IdType(response.getEntry().get(i).getResponse().getLocation()).toUnqualifiedVersionless());
		}
		String patientId = ids.get(patientUrl).getIdPart();

		String stranger = unrelatedClinician();
		IGenericClient strangerClient = client(stranger);
		for (Map.Entry<String, String> e : sensitive.entrySet()) {
			IIdType id = ids.get(e.getKey());
			Resource stored = (Resource) client.read().resource(id.getResourceType()).withId(id).execute();
			// ADOL too for the Condition whose subject is a conditional reference to the Patient created in this transaction
			assertRestrictedAdolescent(stored);
			assertThatNotFound(strangerClient, id, e.getValue());
		}
		// the rule that labelled each is recorded
		assertThat(rules(read(ids.get(orderUrl)))).contains(SecurityLabelingService.RULE_REFERENCE);
		assertThat(rules(read(ids.get(selfHarmUrl)))).contains("self-harm-suicidality");
		assertThat(rules(read(ids.get(panelUrl)))).contains("behavioral-health");
		// the non-sensitive observation is left as sent
		Resource plainStored = read(ids.get(plainUrl));
		assertThat(SecurityLabels.gating(plainStored)).isEmpty();
		assertThat(rules(plainStored)).isEmpty();

		// signals: X78.9XXA Condition (possible suicide risk), T14.91XA, R45.851, PHQ-9 item 9, the SNOMED-only self-harm
		// Observation (intent not recorded); not the encounter, NSSI, panel or order
		List<Flag> flags = search(Flag.class, patientId);
		List<Task> tasks = alertTasks(patientId);
		List<String> evidence = flags.stream().map(f -> ((Reference) f.getExtensionByUrl("http://hl7.org/fhir/StructureDefinition/flag-detail").getValue()).getReference()).toList();
		assertThat(evidence).containsExactlyInAnyOrder(
				ids.get(selfHarmUrl).getValue(), ids.get(attemptUrl).getValue(), ids.get(ideationUrl).getValue(), ids.get(item9Url).getValue(),
				ids.get(behaviourUrl).getValue());
		assertThat(tasks).hasSize(5);
		// the escalation Tasks and Flags are labelled like the data: R and ADOL
		tasks.forEach(StandardCodedDataIT::assertRestrictedAdolescent);
		flags.forEach(StandardCodedDataIT::assertRestrictedAdolescent);
	}

	private Resource read(IIdType id) {
		return (Resource) client().read().resource(id.getResourceType()).withId(id).execute();
	}

	private static void assertThatNotFound(IGenericClient client, IIdType id, String what) {
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.read().resource(id.getResourceType()).withId(id).execute())
				.as(what + " refused to an unrelated clinician")
				.isInstanceOf(ResourceNotFoundException.class);
	}

	private static Coding ordinal(Coding coding, int score) {
		coding.addExtension("http://hl7.org/fhir/StructureDefinition/ordinalValue", new org.hl7.fhir.r4.model.DecimalType(score));
		return coding;
	}

	@Test
	void phq9Item9_raisesOneAlert_throughRestBatchAndTransaction_inEveryForm() {
		IGenericClient client = client();
		IIdType p = patient(client, 15);
		String subject = p.getValue();
		List<org.hl7.fhir.r4.model.Type> risky = List.of(
				new IntegerType(1),
				new CodeableConcept(new Coding(LOINC, "LA6571-9", "Nearly every day")),
				new CodeableConcept(ordinal(new Coding("urn:example:ehr-answers", "several", "Several days"), 1)));
		List<String> stored = new ArrayList<>();
		// REST
		for (org.hl7.fhir.r4.model.Type value : risky) {
			stored.add(client.create().resource(phq9Item9(subject, value)).execute().getId().toUnqualifiedVersionless().getValue());
		}
		// batch and transaction, one each
		for (Bundle.BundleType type : List.of(Bundle.BundleType.BATCH, Bundle.BundleType.TRANSACTION)) {
			Bundle b = new Bundle().setType(type);
			post(b, uuid(), phq9Item9(subject, new CodeableConcept(new Coding(LOINC, "LA6569-3", "Several days"))));
			Bundle out = client.transaction().withBundle(b).execute();
			stored.add(new IdType(out.getEntryFirstRep().getResponse().getLocation()).toUnqualifiedVersionless().getValue());
		}
		// not at all: nothing
		client.create().resource(phq9Item9(subject, new CodeableConcept(new Coding(LOINC, "LA6568-5", "Not at all")))).execute();

		List<Flag> flags = search(Flag.class, p.getIdPart());
		assertThat(flags.stream().map(f -> ((Reference) f.getExtensionByUrl("http://hl7.org/fhir/StructureDefinition/flag-detail").getValue()).getReference()))
				.containsExactlyInAnyOrderElementsOf(stored);
		assertThat(alertTasks(p.getIdPart())).hasSize(stored.size());
	}

	@Test
	void responseToAnotherQuestionnaireWithAnItemCoded44260_8_isLabelledAndRaisesOneAlert() {
		IGenericClient client = client();
		IIdType p = patient(client, 16);
		String url = "https://ehr.example.test/fhir/Questionnaire/" + UUID.randomUUID();
		Questionnaire q = tagged(new Questionnaire());
		q.setUrl(url);
		q.setStatus(org.hl7.fhir.r4.model.Enumerations.PublicationStatus.ACTIVE);
		q.addItem().setLinkId("q9").setText("Thoughts that you would be better off dead").setType(Questionnaire.QuestionnaireItemType.CHOICE)
				.addCode(new Coding(LOINC, "44260-8", null));
		client.create().resource(q).execute();
		QuestionnaireResponse qr = tagged(new QuestionnaireResponse());
		qr.setQuestionnaire(url);
		qr.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.COMPLETED);
		qr.setSubject(new Reference(p.getValue()));
		qr.addItem().setLinkId("q9").addAnswer().setValue(new Coding(LOINC, "LA6570-1", "More than half the days"));
		IIdType id = client.create().resource(qr).execute().getId().toUnqualifiedVersionless();
		// written again: still one alert
		QuestionnaireResponse again = client.read().resource(QuestionnaireResponse.class).withId(id).execute();
		client.update().resource(again).execute();

		assertRestrictedAdolescent(read(id));
		assertThat(search(Flag.class, p.getIdPart())).hasSize(1);
		assertThat(alertTasks(p.getIdPart())).hasSize(1);
	}

	@Test
	void evidenceEnteredInError_withdrawsTheAlert_whenTheTaskHasNotStarted() {
		IGenericClient client = client();
		IIdType p = patient(client, 30);
		IIdType id = client.create().resource(condition(p.getValue(), new Coding(ICD, "R45.851", "Suicidal ideations"))).execute().getId().toUnqualifiedVersionless();
		assertThat(search(Flag.class, p.getIdPart())).singleElement().satisfies(f -> assertThat(f.getStatus()).isEqualTo(Flag.FlagStatus.ACTIVE));

		Condition wrong = client.read().resource(Condition.class).withId(id).execute();
		wrong.getVerificationStatus().addCoding(new Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "entered-in-error", null));
		client.update().resource(wrong).execute();

		assertThat(search(Flag.class, p.getIdPart())).singleElement().satisfies(f -> assertThat(f.getStatus()).isEqualTo(Flag.FlagStatus.INACTIVE));
		assertThat(alertTasks(p.getIdPart())).singleElement().satisfies(t -> {
			assertThat(t.getStatus()).isEqualTo(Task.TaskStatus.CANCELLED);
			assertThat(t.getNote()).anySatisfy(n -> assertThat(n.getText()).contains("entered-in-error"));
		});
		// an adult: R but no ADOL
		assertThat(security(read(id))).contains(SecurityLabels.CONFIDENTIALITY_SYSTEM + "|R").doesNotContain(SecurityLabels.ACT_CODE_SYSTEM + "|ADOL");
	}

	@Test
	void aClientsLowerConfidentialityIsReplacedAndAnUpdateNeverLowersIt() {
		IGenericClient client = client();
		IIdType p = patient(client, 40);
		Condition c = condition(p.getValue(), new Coding(ICD, "Z91.52", null));
		c.getMeta().addSecurity(SecurityLabels.CONFIDENTIALITY_SYSTEM, "L", "low");
		IIdType id = client.create().resource(c).execute().getId().toUnqualifiedVersionless();
		assertThat(security(read(id))).filteredOn(s -> s.startsWith(SecurityLabels.CONFIDENTIALITY_SYSTEM)).containsExactly(SecurityLabels.CONFIDENTIALITY_SYSTEM + "|R");

		// recoded to something not sensitive and sent as N: stays R (high-water mark), with its earlier reason
		Condition recoded = client.read().resource(Condition.class).withId(id).execute();
		recoded.getCode().getCoding().clear();
		recoded.getCode().setText("Sprained ankle");
		recoded.getMeta().getSecurity().removeIf(s -> SecurityLabels.CONFIDENTIALITY_SYSTEM.equals(s.getSystem()));
		recoded.getMeta().addSecurity(SecurityLabels.CONFIDENTIALITY_SYSTEM, "N", null);
		client.update().resource(recoded).execute();
		Resource after = read(id);
		assertThat(security(after)).filteredOn(s -> s.startsWith(SecurityLabels.CONFIDENTIALITY_SYSTEM)).containsExactly(SecurityLabels.CONFIDENTIALITY_SYSTEM + "|R");
		assertThat(rules(after)).contains("self-harm-suicidality");
	}

	/**
	 * Informaticist review s8, H3: a Condition coded only with an intent-neutral SNOMED CT self-harm concept is
	 * self-harm of unknown intent. It is labelled as before (R, BH, rules nssi-content and self-harm-suicidality),
	 * raises the suicide-risk alert an unsure intent raises, is no NSSI diagnosis for a treatment plan, and fails
	 * nssi-cond-1 when it claims the NSSI condition profile. With R45.88 beside it, it is NSSI and raises nothing.
	 */
	@Test
	void selfHarmConditionOfUnknownIntent_isLabelledAsBefore_raisesTheUnsureIntentAlert_andIsNoNssiDiagnosis() {
		IGenericClient client = client();
		for (String code : List.of("248062006", "276853009", "418420002")) {
			IIdType p = patient(client, 30);
			Condition c = condition(p.getValue(), new Coding(SNOMED, code, null));
			c.setClinicalStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", null)));
			IIdType id = client.create().resource(c).execute().getId().toUnqualifiedVersionless();

			Resource stored = read(id);
			assertThat(security(stored)).as(code).contains(SecurityLabels.CONFIDENTIALITY_SYSTEM + "|R", SecurityLabels.ACT_CODE_SYSTEM + "|BH");
			assertThat(rules(stored)).as(code).contains(SecurityLabelingService.RULE_NSSI_CONTENT, "self-harm-suicidality");
			assertThat(search(Flag.class, p.getIdPart())).as(code).singleElement().satisfies(f -> {
				assertThat(f.getCode().getCoding()).anySatisfy(k -> assertThat(k.getCode()).isEqualTo("suicide-risk"));
				assertThat(((Reference) f.getExtensionByUrl("http://hl7.org/fhir/StructureDefinition/flag-detail").getValue()).getReference())
						.isEqualTo(id.getValue());
			});
			assertThat(alertTasks(p.getIdPart())).as(code).singleElement().satisfies(t -> {
				assertThat(t.getPriority()).isEqualTo(Task.TaskPriority.ASAP);
				assertThat(t.getDescription()).contains("intent not recorded");
			});
			// no NSSI diagnosis: a plan that needs one is refused, nothing stored
			assertFailsWithStatus(422, () -> client.operation().onInstance("PlanDefinition/nssi-dbt").named("$apply")
					.withParameter(org.hl7.fhir.r4.model.Parameters.class, "subject", new org.hl7.fhir.r4.model.StringType(p.getValue()))
					.andParameter("persist", new org.hl7.fhir.r4.model.BooleanType(true))
					.returnResourceType(org.hl7.fhir.r4.model.CarePlan.class).execute());
		}

		// claiming the NSSI condition profile with the SNOMED CT concept alone: refused by nssi-cond-1
		IIdType p = patient(client, 30);
		Condition claimed = condition(p.getValue(), new Coding(SNOMED, "276853009", "Self inflicted injury"));
		claimed.getMeta().addProfile("https://nssi-fhir.org/fhir/StructureDefinition/nssi-condition");
		claimed.getCategory().clear();
		claimed.addCategory().addCoding(new Coding("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", null));
		claimed.setClinicalStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", null)));
		HttpResponseCheck.refused(() -> client.create().resource(claimed).execute(), "nssi-cond-1");
		assertThat(search(Condition.class, p.getIdPart())).isEmpty();
		// with R45.88 it states the intent: an NSSI condition, no alert
		claimed.getCode().addCoding(new Coding(ICD, "R45.88", "Nonsuicidal self-harm"));
		client.create().resource(claimed).execute();
		assertThat(search(Flag.class, p.getIdPart())).isEmpty();
	}

	/** A write refused with 422, NSSI-0201 and the invariant named. */
	private static final class HttpResponseCheck {
		static void refused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String invariant) {
			org.assertj.core.api.Assertions.assertThatThrownBy(call).isInstanceOfSatisfying(ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException.class, e -> {
				assertThat(e.getStatusCode()).isEqualTo(422);
				assertThat(e.getResponseBody() == null ? e.getMessage() : e.getResponseBody()).contains("NSSI-0201").contains(invariant);
			});
		}
	}
}
