package org.nssifhir.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.Date;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Period;
import org.junit.jupiter.api.Test;

/** The care-date and {@code _since} rules of {@code $everything} pages ({@link ClinicalReadsInterceptor.DateFilter}). */
class ClinicalReadsInterceptorTest {

	private static final FhirContext FHIR = FhirContext.forR4Cached();

	private static ClinicalReadsInterceptor.DateFilter care(String start, String end) {
		return new ClinicalReadsInterceptor.DateFilter(null,
				start == null ? null : ClinicalReadsInterceptor.precisionRange(start).getLowerBoundAsInstant(),
				end == null ? null : ClinicalReadsInterceptor.precisionRange(end).getUpperBoundAsInstant());
	}

	@Test
	void testCareDates_EffectiveOnsetPeriod() {
		Observation in2001 = new Observation();
		in2001.setEffective(new DateTimeType("2001-05-05"));
		Condition onset2020 = new Condition();
		onset2020.setOnset(new DateTimeType("2020-02-02T10:00:00Z"));
		CareTeam undated = new CareTeam();
		CareTeam open = new CareTeam();
		open.setPeriod(new Period().setStartElement(new DateTimeType("2019-01-01")));

		ClinicalReadsInterceptor.DateFilter year2001 = care("2001-01-01", "2001-12-31");
		assertThat(year2001.admits(FHIR, in2001)).isTrue();
		assertThat(year2001.admits(FHIR, onset2020)).isFalse();
		assertThat(year2001.admits(FHIR, undated)).as("no care date: kept").isTrue();
		assertThat(year2001.admits(FHIR, open)).isFalse();
		assertThat(care("2020-01-01", null).admits(FHIR, open)).as("an open period reaches into the range").isTrue();
		assertThat(care(null, "2001-05-05").admits(FHIR, in2001)).as("end is inclusive, at the day's precision").isTrue();
	}

	@Test
	void testSince_LastUpdated() {
		Observation o = new Observation();
		o.getMeta().setLastUpdated(new Date(1_000_000L));
		assertThat(new ClinicalReadsInterceptor.DateFilter(new Date(999_999L), null, null).admits(FHIR, o)).isTrue();
		assertThat(new ClinicalReadsInterceptor.DateFilter(new Date(1_000_001L), null, null).admits(FHIR, o)).isFalse();
	}
}
