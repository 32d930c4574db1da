package org.nssifhir.server.cohort;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.time.LocalDate;
import java.time.Period;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/** Determinism and variety of the synthetic cohort (that it validates is shown over HTTP by CohortIT). */
class CohortGeneratorTest {

	private static final LocalDate TODAY = LocalDate.of(2026, 11, 1);
	private final FhirContext fhir = FhirContext.forR4Cached();

	private String json(List<CohortGenerator.PatientHistory> people) {
		StringBuilder sb = new StringBuilder();
		people.forEach(p -> sb.append(fhir.newJsonParser().encodeResourceToString(p.transaction())));
		return sb.toString();
	}

	@Test
	void sameSeedSameCohort_otherSeedOtherCohort_personNIndependentOfCount() {
		String a = json(new CohortGenerator(TODAY).generate(5, 7));
		assertThat(json(new CohortGenerator(TODAY).generate(5, 7))).isEqualTo(a);
		assertThat(json(new CohortGenerator(TODAY).generate(5, 8))).isNotEqualTo(a);
		assertThat(json(new CohortGenerator(TODAY).generate(8, 7).subList(0, 5))).isEqualTo(a);
	}

	@Test
	void variedRealisticTestTaggedHistories() {
		List<CohortGenerator.PatientHistory> people = new CohortGenerator(TODAY).generate(40, 3);
		Set<CohortGenerator.Course> courses = EnumSet.noneOf(CohortGenerator.Course.class);
		Set<String> methods = new HashSet<>();
		Set<String> careLevels = new HashSet<>();
		int adolescents = 0;
		int adults = 0;
		for (CohortGenerator.PatientHistory person : people) {
			courses.add(person.course());
			Patient patient = (Patient) person.transaction().getEntryFirstRep().getResource();
			int age = Period.between(LocalDate.parse(patient.getBirthDateElement().getValueAsString()), TODAY).getYears();
			if (age < 18) {
				adolescents++;
			} else {
				adults++;
			}
			assertThat(patient.getNameFirstRep().getGivenAsSingleString()).contains("Synthetic");
			long recent = 0;
			long earlier = 0;
			for (Bundle.BundleEntryComponent entry : person.transaction().getEntry()) {
				Resource r = (Resource) entry.getResource();
				assertThat(r.getMeta().getSecurity()).anySatisfy(c -> assertThat(c.getCode()).isEqualTo("HTEST"));
				if (r instanceof Observation obs) {
					obs.getComponent().forEach(c -> {
						String code = c.getCode().getCodingFirstRep().getCode();
						if (code.equals("method")) {
							methods.add(c.getValueCodeableConcept().getCodingFirstRep().getCode());
						} else if (code.equals("care-level")) {
							careLevels.add(c.getValueCodeableConcept().getCodingFirstRep().getCode());
						}
					});
					LocalDate day = obs.getEffectiveDateTimeType().getValue().toInstant().atZone(ZoneOffset.UTC).toLocalDate();
					if (day.isAfter(TODAY.minusDays(90))) {
						recent++;
					} else if (day.isAfter(TODAY.minusDays(450))) {
						earlier++;
					}
				}
			}
			// courses show in the data: escalating people have more episodes per day lately than in the year before
			if (person.course() == CohortGenerator.Course.ESCALATING && earlier > 20) {
				assertThat(recent / 90.0).isGreaterThan(earlier / 360.0);
			}
			if (person.course() == CohortGenerator.Course.REMISSION && earlier > 20) {
				assertThat(recent / 90.0).isLessThan(earlier / 360.0);
			}
			assertThat(person.responsesToExtract()).isNotEmpty();
		}
		assertThat(courses).containsExactlyInAnyOrder(CohortGenerator.Course.values());
		assertThat(adolescents).isGreaterThan(5);
		assertThat(adults).isGreaterThan(5);
		assertThat(methods.size()).isGreaterThanOrEqualTo(6);
		assertThat(careLevels).contains("care-self", "care-first-aid", "care-medical");
	}
}
