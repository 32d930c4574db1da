package org.nssifhir.server.assessment;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.util.Date;
import java.util.List;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Type;
import org.nssifhir.server.conformance.NssiCanonicals;

/** Synthetic (HTEST) patients, episodes and responses for the assessment and escalation tests. */
public final class AssessmentFixtures {

	public static final String CS = NssiCanonicals.CONCEPTS_SYSTEM;

	private AssessmentFixtures() {}

	public static IIdType patient(IGenericClient client) {
		Patient patient = new Patient();
		patient.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		patient.addName().setFamily("Synthetic").addGiven("Assessment");
		patient.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1990-01-01"));
		return client.create().resource(patient).execute().getId().toUnqualifiedVersionless();
	}

	public static Observation episode(IIdType patient, Date when, String intent, String careLevel) {
		Observation obs = new Observation();
		obs.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		obs.setStatus(Observation.ObservationStatus.FINAL);
		obs.addCategory().addCoding(new Coding(CS, "nssi", null));
		obs.getCode().addCoding(new Coding(CS, "nssi-episode", null));
		obs.setSubject(new Reference(patient));
		obs.setEffective(new DateTimeType(when));
		obs.addComponent(component("method", new CodeableConcept(new Coding(NssiCanonicals.SNOMED, "248073004", "Cutting self"))));
		obs.addComponent(component("suicidal-intent", new CodeableConcept(new Coding(CS, intent, null))));
		if (careLevel != null) {
			obs.addComponent(component("care-level", new CodeableConcept(new Coding(CS, careLevel, null))));
		}
		return obs;
	}

	public static Observation.ObservationComponentComponent component(String code, Type value) {
		Observation.ObservationComponentComponent c = new Observation.ObservationComponentComponent();
		c.getCode().addCoding().setSystem(CS).setCode(code);
		c.setValue(value);
		return c;
	}

	/** A completed PHQ-9 response with the given item scores, answered as the PHQ-9 asks: LOINC answers of list LL358-3. */
	public static QuestionnaireResponse phq9(IIdType patient, int... items) {
		QuestionnaireResponse qr = response(patient, "nssi-phq9");
		for (int i = 0; i < items.length; i++) {
			qr.addItem().setLinkId("phq9-item-" + (i + 1)).addAnswer().setValue(Phq9TotalRule.answerCoding(items[i]));
		}
		return qr;
	}

	/** The same answered with integers 0-3, as responses to package versions before 0.6.0 are. */
	public static QuestionnaireResponse phq9Integers(IIdType patient, int... items) {
		QuestionnaireResponse qr = response(patient, "nssi-phq9");
		for (int i = 0; i < items.length; i++) {
			qr.addItem().setLinkId("phq9-item-" + (i + 1)).addAnswer().setValue(new IntegerType(items[i]));
		}
		return qr;
	}

	/** A completed NSSI assessment response. */
	public static QuestionnaireResponse assessment(
			IIdType patient, boolean ideation, String intent, int days, List<String> functions, List<String> risks, List<String> protective) {
		QuestionnaireResponse qr = response(patient, "nssi-assessment");
		QuestionnaireResponse.QuestionnaireResponseItemComponent behaviours = qr.addItem().setLinkId("behaviours");
		behaviours.addItem().setLinkId("nssi-any-past-year").addAnswer().setValue(new BooleanType(true));
		behaviours.addItem().setLinkId("nssi-methods").addAnswer().setValue(new Coding(NssiCanonicals.SNOMED, "248073004", "Cutting self"));
		behaviours.addItem().setLinkId("nssi-days-past-year").addAnswer().setValue(new IntegerType(days));
		QuestionnaireResponse.QuestionnaireResponseItemComponent intentGroup = qr.addItem().setLinkId("intent-screening");
		intentGroup.addItem().setLinkId("nssi-intent").addAnswer().setValue(new Coding(CS, intent, null));
		intentGroup.addItem().setLinkId("suicidal-ideation").addAnswer().setValue(new BooleanType(ideation));
		QuestionnaireResponse.QuestionnaireResponseItemComponent fn = qr.addItem().setLinkId("functions").addItem().setLinkId("nssi-functions");
		functions.forEach(f -> fn.addAnswer().setValue(new Coding(CS, f, null)));
		QuestionnaireResponse.QuestionnaireResponseItemComponent rp = qr.addItem().setLinkId("risk-protective");
		if (!risks.isEmpty()) {
			QuestionnaireResponse.QuestionnaireResponseItemComponent r = rp.addItem().setLinkId("nssi-risk-factors");
			risks.forEach(code -> r.addAnswer().setValue(new Coding(CS, code, null)));
		}
		if (!protective.isEmpty()) {
			QuestionnaireResponse.QuestionnaireResponseItemComponent p = rp.addItem().setLinkId("nssi-protective-factors");
			protective.forEach(code -> p.addAnswer().setValue(new Coding(CS, code, null)));
		}
		if (fn.getAnswer().isEmpty()) {
			qr.getItem().removeIf(i -> i.getLinkId().equals("functions"));
		}
		if (rp.getItem().isEmpty()) {
			qr.getItem().remove(rp);
		} else {
			// risk and protective factors are clinician items: filled in by a clinician with the person, as the
			// clinician app records it (the person is the source; the server refuses them from the person alone)
			qr.getItem().add(0, new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId("respondent")
					.addAnswer(new QuestionnaireResponse.QuestionnaireResponseItemAnswerComponent().setValue(new Coding(CS, "respondent-clinician", null))));
			qr.setAuthor(null);
			qr.setSource(new Reference(patient));
		}
		return qr;
	}

	private static QuestionnaireResponse response(IIdType patient, String questionnaire) {
		QuestionnaireResponse qr = new QuestionnaireResponse();
		qr.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		qr.setQuestionnaire(NssiCanonicals.QUESTIONNAIRE + questionnaire);
		qr.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.COMPLETED);
		qr.setSubject(new Reference(patient));
		qr.setAuthored(new Date());
		qr.setAuthor(new Reference(patient));
		return qr;
	}
}
