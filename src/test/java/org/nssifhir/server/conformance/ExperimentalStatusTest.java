package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package's status statement holds for every resource (README "Status", the ImplementationGuide's description):
 * whatever names SNOMED CT, LOINC or ICD-10-CM is {@code experimental}, because no external code has been checked on
 * a terminology server. Eight profiles claimed otherwise (informaticist review s7, W3).
 */
class ExperimentalStatusTest {

	private static final List<String> EXTERNAL_SYSTEMS = List.of("http://snomed.info/sct", "http://loinc.org", "http://hl7.org/fhir/sid/icd-10-cm");

	@Test
	void everyResourceNamingAnExternalCodeSystemIsExperimental() throws IOException {
		ObjectMapper json = new ObjectMapper();
		List<String> notExperimental = new ArrayList<>();
		int checked = 0;
		for (String root : List.of("profiles", "terminology")) {
			try (Stream<Path> files = Files.walk(Path.of(root))) {
				for (Path file : files.filter(p -> p.toString().endsWith(".json") && !p.toString().contains("/examples/")).toList()) {
					String text = Files.readString(file);
					JsonNode resource = json.readTree(text);
					if (!resource.has("resourceType") || EXTERNAL_SYSTEMS.stream().noneMatch(text::contains)) {
						continue;
					}
					checked++;
					if (!resource.path("experimental").asBoolean(false)) {
						notExperimental.add(file.getFileName().toString());
					}
				}
			}
		}
		assertThat(checked).as("resources that name an external code system").isGreaterThan(20);
		assertThat(notExperimental).as("resources naming SNOMED CT, LOINC or ICD-10-CM without experimental: true").isEmpty();
	}
}
