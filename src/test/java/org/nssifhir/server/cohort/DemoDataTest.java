package org.nssifhir.server.cohort;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * Which demo people the development clinician treats (issue 20 review, item 6): every other person, and a young
 * person under 18 among them even when the alternation would give the clinician adults only, while someone is always
 * left unrelated for the refusal and break-the-glass.
 */
class DemoDataTest {

	private static final LocalDate TODAY = LocalDate.of(2026, 12, 6);

	@Test
	void aYoungPersonIsAlwaysAmongTheClinicianOwnPatients() {
		// adults at 0, 2, 4; young people at 1 and 3: the first young person is added
		List<CohortGenerator.PatientHistory> people = people(30, 15, 40, 16, 25);
		assertThat(DemoData.related(people, TODAY)).containsExactly(0, 1, 2, 4);
		assertThat(DemoData.minor(people.get(1), TODAY)).isTrue();
		assertThat(DemoData.minor(people.get(0), TODAY)).isFalse();
	}

	@Test
	void everyOtherPersonWhenAYoungPersonIsAlreadyAmongThem() {
		assertThat(DemoData.related(people(14, 30, 40, 16), TODAY)).containsExactly(0, 2);
	}

	@Test
	void someoneIsAlwaysLeftForTheRefusal() {
		// two people, the young one second: adding them would leave nobody unrelated
		assertThat(DemoData.related(people(30, 15), TODAY)).containsExactly(0);
		assertThat(DemoData.related(people(30, 40, 15), TODAY)).containsExactly(0, 2);
	}

	@Test
	void eighteenToday_isNoLongerAMinor() {
		assertThat(DemoData.minor(person(TODAY.minusYears(18)), TODAY)).isFalse();
		assertThat(DemoData.minor(person(TODAY.minusYears(18).plusDays(1)), TODAY)).isTrue();
	}

	private static List<CohortGenerator.PatientHistory> people(int... ages) {
		List<CohortGenerator.PatientHistory> out = new ArrayList<>();
		for (int age : ages) {
			out.add(person(TODAY.minusYears(age).minusDays(10)));
		}
		return out;
	}

	private static CohortGenerator.PatientHistory person(LocalDate birthDate) {
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		Patient patient = new Patient();
		patient.setBirthDateElement(new DateType(birthDate.toString()));
		tx.addEntry().setResource(patient);
		return new CohortGenerator.PatientHistory("SYN-test", null, tx, List.of());
	}
}
