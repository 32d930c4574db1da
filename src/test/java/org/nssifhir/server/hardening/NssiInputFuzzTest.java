package org.nssifhir.server.hardening;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Type;
import org.nssifhir.server.assessment.AssessmentExtractor;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.conformance.NssiResourceClassifier;
import org.nssifhir.server.escalation.EscalationSignals;
import org.nssifhir.server.security.DeclaredOperations;
import org.nssifhir.server.security.SmartScope;

/**
 * Coverage-guided fuzzing (Jazzer) of our own parsing and checking code: SMART scope parsing, the strict body checks
 * ({@link StrictInputInterceptor}, {@link ResourceShapeChecks}) on raw bytes, and the NSSI logic that reads what
 * clients write — {@link NssiResourceClassifier}, {@link EscalationSignals}, {@link AssessmentExtractor} — on
 * resources parsed from raw bytes and on structured responses and observations built from the fuzzer's data (so it
 * reaches the scoring code without having to invent valid JSON first).
 *
 * <p>A client mistake must surface as a 4xx exception ({@code BaseServerResponseException} below 500) or HAPI's
 * {@link DataFormatException}; anything else thrown here would be a 500 on the server, i.e. a finding. Jazzer runs one
 * fuzz test per run, so this is one test that picks a target from the first input byte.
 *
 * <p>Under {@code mvn verify} the pom sets {@code JAZZER_FUZZ=1} and this fuzzes for {@code maxDuration} (30 s; Jazzer's own start adds about as much); a crash
 * is saved under {@code src/test/resources/org/nssifhir/server/hardening/NssiInputFuzzTestInputs/fuzz/} and from
 * then on replayed as a regression input (also when fuzzing is off).
 */
class NssiInputFuzzTest {

	private static final FhirContext FHIR = FhirContext.forR4Cached();
	private static final StrictInputInterceptor STRICT = new StrictInputInterceptor(FHIR, DeclaredOperations.all());
	private static final String CS = NssiCanonicals.CONCEPTS_SYSTEM;
	private static final String[] LINK_IDS = {
		"phq9-item-1", "phq9-item-2", "phq9-item-3", "phq9-item-4", "phq9-item-5", "phq9-item-6", "phq9-item-7", "phq9-item-8",
		"phq9-item-9", "behaviours", "nssi-any-past-year", "nssi-methods", "nssi-days-past-year", "intent-screening", "nssi-intent",
		"suicidal-ideation", "functions", "nssi-functions", "risk-protective", "nssi-risk-factors", "nssi-protective-factors"
	};
	private static final String[] CODES = {
		"intent-present", "intent-unsure", "care-medical", "care-emergency", "care-level", "method", "suicidal-intent", "nssi",
		"nssi-episode", "function", "risk-factor", "protective-factor", "present", "unsure", "248073004", "44261-6", "44260-8"
	};
	private static final String[] SYSTEMS = {CS, NssiCanonicals.SNOMED, "http://loinc.org", "", "urn:x"};

	@FuzzTest(maxDuration = "30s")
	void fuzz(FuzzedDataProvider data) {
		try {
			switch (data.consumeInt(0, 4)) {
				case 0 -> SmartScope.parse(data.consumeRemainingAsString());
				case 1 -> STRICT.checkBody(data.consumeRemainingAsBytes(), EncodingEnum.JSON, StandardCharsets.UTF_8, null, data.consumeBoolean());
				case 2 -> STRICT.checkBody(data.consumeRemainingAsBytes(), EncodingEnum.XML, StandardCharsets.UTF_8, null, false);
				case 3 -> nssiLogic(FHIR.newJsonParser().parseResource(data.consumeRemainingAsString()));
				default -> nssiLogic(data.consumeBoolean() ? response(data) : observation(data));
			}
		} catch (BaseServerResponseException e) {
			if (e.getStatusCode() >= 500) {
				throw e;
			}
		} catch (DataFormatException e) {
			// HAPI's own parse error: the server answers 400
		}
	}

	private static void nssiLogic(IBaseResource resource) {
		NssiResourceClassifier.profilesFor(resource);
		EscalationSignals.find(resource);
		if (resource instanceof QuestionnaireResponse qr && AssessmentExtractor.supports(qr)) {
			AssessmentExtractor.extract(qr);
		}
		ResourceShapeChecks.check(FHIR, resource);
	}

	private static QuestionnaireResponse response(FuzzedDataProvider data) {
		QuestionnaireResponse qr = new QuestionnaireResponse();
		qr.setQuestionnaire(NssiCanonicals.QUESTIONNAIRE + (data.consumeBoolean() ? "nssi-phq9" : "nssi-assessment")
				+ (data.consumeBoolean() ? "" : "|" + data.consumeString(5)));
		qr.setStatus(data.pickValue(QuestionnaireResponse.QuestionnaireResponseStatus.values()));
		if (data.consumeBoolean()) {
			qr.setSubject(new Reference(data.consumeBoolean() ? "Patient/p1" : data.consumeString(12)));
		}
		if (data.consumeBoolean()) {
			qr.setAuthoredElement(new DateTimeType("2024-01-01"));
		}
		items(data, qr.getItem(), 0);
		return qr;
	}

	private static void items(FuzzedDataProvider data, List<QuestionnaireResponse.QuestionnaireResponseItemComponent> into, int depth) {
		int count = data.consumeInt(0, depth == 0 ? 12 : 4);
		for (int i = 0; i < count; i++) {
			QuestionnaireResponse.QuestionnaireResponseItemComponent item = new QuestionnaireResponse.QuestionnaireResponseItemComponent();
			item.setLinkId(data.consumeBoolean() ? data.pickValue(LINK_IDS) : data.consumeString(12));
			int answers = data.consumeInt(0, 3);
			for (int a = 0; a < answers; a++) {
				item.addAnswer().setValue(value(data, true));
			}
			if (depth < 3 && data.consumeBoolean()) {
				items(data, item.getItem(), depth + 1);
			}
			into.add(item);
		}
	}

	private static Observation observation(FuzzedDataProvider data) {
		Observation obs = new Observation();
		obs.setStatus(data.pickValue(Observation.ObservationStatus.values()));
		obs.addCategory().addCoding(coding(data));
		obs.getCode().addCoding(data.consumeBoolean() ? new Coding(CS, "nssi-episode", null) : coding(data));
		if (data.consumeBoolean()) {
			obs.setSubject(new Reference(data.consumeBoolean() ? "Patient/p1" : data.consumeString(12)));
		}
		int components = data.consumeInt(0, 6);
		for (int i = 0; i < components; i++) {
			Observation.ObservationComponentComponent c = obs.addComponent();
			c.getCode().addCoding(coding(data));
			if (data.consumeBoolean()) {
				c.setValue(value(data, false));
			}
		}
		if (data.consumeBoolean()) {
			obs.setValue(value(data, false));
		}
		return obs;
	}

	private static Coding coding(FuzzedDataProvider data) {
		return new Coding(data.pickValue(SYSTEMS), data.consumeBoolean() ? data.pickValue(CODES) : data.consumeString(10), null);
	}

	/** DecimalType cannot hold NaN or infinity (our JSON check refuses them before they reach this code). */
	private static double finite(double value) {
		return Double.isFinite(value) ? value : 0;
	}

	/**
	 * A value of a type the element allows (HAPI throws an Error for others). An answer: integer, boolean, Coding,
	 * decimal, Quantity, string; an Observation (component) value: integer, boolean, CodeableConcept, Quantity, string.
	 */
	private static Type value(FuzzedDataProvider data, boolean answer) {
		return switch (data.consumeInt(0, 5)) {
			case 0 -> new IntegerType(data.consumeInt());
			case 1 -> new BooleanType(data.consumeBoolean());
			case 2 -> answer ? coding(data) : new CodeableConcept(coding(data));
			case 3 -> answer ? new DecimalType(finite(data.consumeDouble())) : new Quantity().setValue(data.consumeLong());
			case 4 -> new Quantity().setValue(data.consumeLong());
			default -> new StringType(data.consumeString(20));
		};
	}
}
