package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.validation.SingleValidationMessage;
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

	static Map<String, String> readExpectedFailures() throws IOException {
		return Files.readAllLines(INVALID.resolve("expected-failures.csv")).stream()
				.skip(1)
				.filter(line -> !line.isBlank())
				.map(line -> line.split(",", 2))
				.collect(Collectors.toMap(p -> p[0].trim(), p -> p[1].trim()));
	}
}
