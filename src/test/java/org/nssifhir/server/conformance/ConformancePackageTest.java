package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.validation.SingleValidationMessage;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The built FHIR package, validated offline: every example has zero errors; every invalid fixture fails with the
 * message it must produce. Fixtures live in src/test/resources/conformance/invalid/ and are listed, with the
 * expected message, in expected-failures.csv (file,messageContains).
 */
class ConformancePackageTest {

	private static final Path INVALID = Path.of("src/test/resources/conformance/invalid");
	private static ConformancePackage pkg;
	private static OfflinePackageValidator validator;

	@BeforeAll
	static void load() {
		pkg = ConformancePackage.fromClasspath();
		validator = new OfflinePackageValidator(FhirContext.forR4Cached(), pkg.bytes());
	}

	private static String describe(List<SingleValidationMessage> errors) {
		return errors.stream()
				.map(m -> m.getLocationString() + ": " + m.getMessage())
				.collect(Collectors.joining("\n  ", "\n  ", ""));
	}

	@Test
	void packageHasManifestAndContent() {
		assertThat(pkg.name()).isEqualTo(NssiCanonicals.PACKAGE_ID);
		assertThat(pkg.version()).matches("\\d+\\.\\d+\\.\\d+");
		assertThat(pkg.conformanceFiles()).isNotEmpty();
		assertThat(pkg.exampleFiles()).isNotEmpty();
	}

	@TestFactory
	Stream<DynamicTest> everyConformanceResourceIsValid() {
		return pkg.conformanceFiles().entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
			List<SingleValidationMessage> errors = validator.errors(e.getValue());
			assertThat(errors).as(e.getKey() + describe(errors)).isEmpty();
		}));
	}

	@TestFactory
	Stream<DynamicTest> everyExampleIsValid() {
		return pkg.exampleFiles().entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
			assertThat(e.getValue()).as("synthetic examples carry the HTEST tag").contains("\"HTEST\"");
			List<SingleValidationMessage> errors = validator.errors(e.getValue());
			assertThat(errors).as(e.getKey() + describe(errors)).isEmpty();
		}));
	}

	@TestFactory
	Stream<DynamicTest> everyInvalidFixtureFailsWithItsMessage() throws IOException {
		Map<String, String> expected = readExpectedFailures();
		List<DynamicTest> tests = new ArrayList<>();
		try (Stream<Path> files = Files.list(INVALID)) {
			for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
				String name = file.getFileName().toString();
				tests.add(DynamicTest.dynamicTest(name, () -> {
					assertThat(expected).as("expected-failures.csv lists " + name).containsKey(name);
					List<SingleValidationMessage> errors = validator.errors(Files.readString(file));
					assertThat(errors).as(name + " must fail").isNotEmpty();
					assertThat(errors)
							.as(name + " must fail with '" + expected.get(name) + "'; got" + describe(errors))
							.anySatisfy(m -> assertThat(m.getMessage()).contains(expected.get(name)));
				}));
			}
		}
		assertThat(tests).as("at least one invalid fixture per rule").isNotEmpty();
		return tests.stream();
	}

	@Test
	void everyListedFixtureExists() throws IOException {
		for (String name : readExpectedFailures().keySet()) {
			assertThat(INVALID.resolve(name)).exists();
		}
	}

	@Test
	void implementationGuideListsEveryConformanceResourceInThePackage() throws IOException {
		// examples are not listed: they are not installed, and a server enforcing referential integrity would
		// refuse a guide that points at resources it does not hold
		JsonNode ig = null;
		java.util.Set<String> inPackage = new java.util.TreeSet<>();
		for (String json : pkg.conformanceFiles().values()) {
			JsonNode node = JSON.readTree(json);
			if (node.path("resourceType").asText().equals("ImplementationGuide")) {
				ig = node;
			} else {
				inPackage.add(node.path("resourceType").asText() + "/" + node.path("id").asText());
			}
		}
		assertThat(ig).as("the package has its ImplementationGuide").isNotNull();
		java.util.Set<String> listed = new java.util.TreeSet<>();
		ig.path("definition").path("resource").forEach(r -> listed.add(r.path("reference").path("reference").asText()));
		assertThat(listed).isEqualTo(inPackage);
	}

	/** No SNOMED CT, LOINC or ICD-10-CM code ships without a recorded source (clinical-content.md rule). */
	@Test
	void everyExternalCodeIsListedInSources() throws IOException {
		String sources = Files.readString(Path.of("terminology/SOURCES.md"));
		Map<String, String> all = new java.util.LinkedHashMap<>(pkg.conformanceFiles());
		all.putAll(pkg.exampleFiles());
		java.util.Set<String> codes = new java.util.TreeSet<>();
		for (String json : all.values()) {
			collectExternalCodes(JSON.readTree(json), codes);
		}
		assertThat(codes).as("the walker finds the codes we know are there").contains("R45.88", "248062006", "44260-8");
		for (String code : codes) {
			assertThat(sources).as(code + " is used but not listed in terminology/SOURCES.md").contains("| " + code + " |");
		}
		for (String banned : new String[] {"442163000", "418290006"}) {
			assertThat(all.values()).as("do-not-use code " + banned).noneMatch(json -> json.contains("\"" + banned + "\""));
		}
	}

	private static final java.util.Set<String> EXTERNAL = java.util.Set.of(NssiCanonicals.SNOMED, NssiCanonicals.LOINC, NssiCanonicals.ICD10CM);
	private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

	private static void collectExternalCodes(JsonNode node, java.util.Set<String> codes) {
		if (node.isObject()) {
			if (EXTERNAL.contains(node.path("system").asText())) {
				if (node.path("code").isTextual()) {
					codes.add(node.path("code").asText());
				}
				node.path("concept").forEach(c -> codes.add(c.path("code").asText()));
			}
			if (EXTERNAL.contains(node.path("target").asText())) {
				node.path("element").forEach(e -> e.path("target").forEach(t -> codes.add(t.path("code").asText())));
			}
			node.forEach(child -> collectExternalCodes(child, codes));
		} else if (node.isArray()) {
			node.forEach(child -> collectExternalCodes(child, codes));
		}
	}

	static Map<String, String> readExpectedFailures() throws IOException {
		return Files.readAllLines(INVALID.resolve("expected-failures.csv")).stream()
				.skip(1)
				.filter(line -> !line.isBlank())
				.map(line -> line.split(",", 2))
				.collect(Collectors.toMap(p -> p[0].trim(), p -> p[1].trim()));
	}
}
