package org.nssifhir.server.cohort;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.validation.SingleValidationMessage;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.conformance.ConformancePackage;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.conformance.NssiResourceClassifier;
import org.nssifhir.server.conformance.OfflinePackageValidator;

/**
 * Every questionnaire response the generator writes, over many seeds, meets the profiles the server will hold it
 * to and its Questionnaire (enableWhen, required items, value ranges), checked offline with our package: whether a
 * cohort loads must not depend on the seed (an assessment during a year without self-injury used to answer items
 * the form disables, a 422 for some seeds only).
 */
class CohortResponsesValidTest {

	private static final FhirContext FHIR = FhirContext.forR4Cached();
	private static OfflinePackageValidator validator;

	@BeforeAll
	static void load() {
		validator = new OfflinePackageValidator(FHIR, ConformancePackage.fromClasspath().bytes());
	}

	@Test
	void everyGeneratedQuestionnaireResponseIsValid_overTwoHundredSeeds() {
		LocalDate today = LocalDate.of(2026, 12, 6);
		List<String> failures = new ArrayList<>();
		int checked = 0;
		int withoutSelfInjury = 0;
		for (long seed = 1; seed <= 200; seed++) {
			for (CohortGenerator.PatientHistory person : new CohortGenerator(today).generate(2, seed)) {
				for (Bundle.BundleEntryComponent entry : person.transaction().getEntry()) {
					if (!(entry.getResource() instanceof QuestionnaireResponse generated)) {
						continue;
					}
					QuestionnaireResponse qr = generated.copy();
					// as stored: the Patient's urn:uuid is a real reference by then, and the server holds the
					// response to the profiles the classifier names
					qr.setSubject(new Reference("Patient/1")).setAuthor(new Reference("Patient/1"));
					NssiResourceClassifier.profilesFor(qr).forEach(p -> qr.getMeta().addProfile(p.startsWith("http") ? p : NssiCanonicals.profile(p)));
					if (qr.getItem().stream().flatMap(i -> i.getItem().stream())
							.anyMatch(i -> "nssi-any-past-year".equals(i.getLinkId()) && !i.getAnswerFirstRep().getValueBooleanType().booleanValue())) {
						withoutSelfInjury++;
					}
					checked++;
					List<SingleValidationMessage> errors = validator.errors(FHIR.newJsonParser().encodeResourceToString(qr));
					if (!errors.isEmpty()) {
						failures.add("seed " + seed + " " + person.mrn() + " " + qr.getQuestionnaire() + ": "
								+ errors.stream().map(SingleValidationMessage::getMessage).toList());
					}
				}
			}
		}
		assertThat(checked).isGreaterThan(1000);
		assertThat(withoutSelfInjury).as("the case that used to fail is covered").isPositive();
		assertThat(failures).as(String.join("\n", failures.subList(0, Math.min(10, failures.size())))).isEmpty();
	}
}
