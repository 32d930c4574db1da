package org.nssifhir.server.cohort;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cohort as NDJSON for $import: ids of its own per resource, references to the person's Patient, nothing else. */
class CohortNdjsonTest {

	@Test
	void testNdjson_IdsAndReferencesToThePatient(@TempDir Path dir) throws Exception {
		FhirContext fhir = FhirContext.forR4Cached();
		Map<String, Integer> counts = new CohortNdjson(new CohortGenerator(LocalDate.parse("2026-01-01"), 2), fhir).write(5, 1, 2, dir);

		assertThat(counts.keySet()).startsWith("Patient").contains("Observation");
		assertThat(counts.get("Patient")).isEqualTo(2);
		List<String> patients = Files.readAllLines(dir.resolve("Patient.ndjson"));
		assertThat(patients).hasSize(2);
		assertThat(patients.get(0)).contains("\"id\":\"syn-5-1\"");
		assertThat(patients.get(1)).contains("\"id\":\"syn-5-2\"");
		int total = 0;
		for (String type : counts.keySet()) {
			List<String> lines = Files.readAllLines(dir.resolve(type + ".ndjson"));
			assertThat(lines).hasSize(counts.get(type));
			total += lines.size();
			for (String line : lines) {
				assertThat(line).doesNotContain("urn:uuid").contains("\"id\":\"syn-5-").contains("HTEST");
			}
		}
		assertThat(Files.readAllLines(dir.resolve("Observation.ndjson")).get(0)).contains("\"reference\":\"Patient/syn-5-1\"");
		// the same people as the generator's transactions
		assertThat(total).isEqualTo(new CohortGenerator(LocalDate.parse("2026-01-01"), 2).generate(2, 5).stream()
				.mapToInt(CohortGenerator.PatientHistory::resourceCount).sum());
	}
}
