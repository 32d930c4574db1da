package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.validation.SingleValidationMessage;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;

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

	/**
	 * Every operation of our own ({@code $nssi-...}, found on the server's classes by their {@code @Operation}) is
	 * described by an OperationDefinition in the package, for each resource type it is bound to: a client learns its
	 * parameters, callers and effects from the package as for any other operation.
	 */
	private static final String SYSTEM_LEVEL = "[base] (system: true)";

	@Test
	void everyNssiOperationHasItsOperationDefinition() throws IOException, ClassNotFoundException {
		Map<String, Set<String>> defined = new TreeMap<>();
		for (String json : pkg.conformanceFiles().values()) {
			JsonNode node = JSON.readTree(json);
			if (node.path("resourceType").asText().equals("OperationDefinition")) {
				Set<String> types = defined.computeIfAbsent(node.path("code").asText(), k -> new TreeSet<>());
				node.path("resource").forEach(r -> types.add(r.asText()));
				if (node.path("system").asBoolean()) {
					types.add(SYSTEM_LEVEL);
				}
			}
		}
		ClassPathScanningCandidateComponentProvider scanner =
				new ClassPathScanningCandidateComponentProvider(false);
		scanner.addIncludeFilter((reader, factory) -> true);
		Map<String, Set<String>> bound = new TreeMap<>();
		for (BeanDefinition candidate : scanner.findCandidateComponents("org.nssifhir.server")) {
			if (candidate.getResourceDescription() != null && candidate.getResourceDescription().contains("test-classes")) {
				continue; // the tests' stand-in operations
			}
			for (Method method : Class.forName(candidate.getBeanClassName()).getDeclaredMethods()) {
				Operation operation = method.getAnnotation(Operation.class);
				if (operation != null && operation.name().startsWith("$nssi-")) {
					String type = operation.type() != IBaseResource.class
							? operation.type().getSimpleName() : operation.typeName().isEmpty() ? SYSTEM_LEVEL : operation.typeName();
					bound.computeIfAbsent(operation.name().substring(1), k -> new TreeSet<>()).add(type);
				}
			}
		}
		assertThat(bound).as("the $nssi- operations found").containsKeys("nssi-summary", "nssi-progress", "nssi-invite", "nssi-disable-account", "nssi-relabel");
		bound.forEach((code, types) -> {
			assertThat(defined).as("OperationDefinition for $" + code).containsKey(code);
			assertThat(defined.get(code)).as("resource types of OperationDefinition " + code).containsAll(types);
		});
	}

	/**
	 * Other servers and tools read profiles by their snapshot: every StructureDefinition ships with one, generated at
	 * build time, next to its differential exactly as written in profiles/ (which stays differential-only).
	 */
	@Test
	void everyStructureDefinitionHasASnapshotAndItsSourceDifferential() throws IOException {
		int profiles = 0;
		for (Map.Entry<String, String> file : pkg.conformanceFiles().entrySet()) {
			JsonNode sd = JSON.readTree(file.getValue());
			if (!sd.path("resourceType").asText().equals("StructureDefinition")) {
				continue;
			}
			profiles++;
			JsonNode snapshot = sd.path("snapshot").path("element");
			assertThat(snapshot.size()).as(file.getKey() + " has a snapshot").isPositive();
			assertThat(snapshot.get(0).path("path").asText()).as(file.getKey() + " snapshot root").isEqualTo(sd.path("type").asText());
			JsonNode source = JSON.readTree(Path.of("profiles/structuredefinitions", file.getKey().substring("package/".length())).toFile());
			assertThat(source.has("snapshot")).as("profiles/ holds differentials only: " + file.getKey()).isFalse();
			assertThat(sd.path("differential")).as(file.getKey() + " differential as written").isEqualTo(source.path("differential"));
			// every element of the differential is in the snapshot
			java.util.Set<String> ids = new java.util.HashSet<>();
			snapshot.forEach(e -> ids.add(e.path("id").asText()));
			sd.path("differential").path("element").forEach(e -> assertThat(ids).as(file.getKey()).contains(e.path("id").asText()));
		}
		assertThat(profiles).isEqualTo(18);
	}

	/**
	 * {@code .index.json} (FHIR NPM package spec, index-version 1 or 2) in package/ and package/example/: exactly one
	 * entry per resource file of the folder, with that file's resourceType, id, url, version, kind and type (when they
	 * are strings in the resource).
	 */
	@Test
	void indexListsEveryFileOfItsFolderExactly() throws IOException {
		for (String folder : List.of("package/", "package/example/")) {
			String indexJson = pkg.files().get(folder + ".index.json");
			assertThat(indexJson).as(folder + ".index.json").isNotNull();
			JsonNode index = JSON.readTree(indexJson);
			assertThat(index.path("index-version").asInt()).as("index-version").isIn(1, 2);
			Map<String, JsonNode> listed = new java.util.TreeMap<>();
			index.path("files").forEach(f -> assertThat(listed.put(f.path("filename").asText(), f)).as("listed once: " + f).isNull());
			Map<String, String> inFolder = new java.util.TreeMap<>();
			pkg.files().forEach((path, json) -> {
				String name = path.substring(folder.length());
				if (path.startsWith(folder) && !name.contains("/") && name.endsWith(".json") && !name.equals("package.json")
						&& !name.equals(".index.json")) {
					inFolder.put(name, json);
				}
			});
			assertThat(listed.keySet()).as(folder + " index lists every file exactly").isEqualTo(inFolder.keySet());
			for (Map.Entry<String, String> file : inFolder.entrySet()) {
				JsonNode resource = JSON.readTree(file.getValue());
				JsonNode entry = listed.get(file.getKey());
				assertThat(entry.path("resourceType")).as(folder + file.getKey()).isEqualTo(resource.path("resourceType"));
				for (String field : List.of("id", "url", "version", "kind", "type")) {
					// the spec's fields are strings: a PlanDefinition's CodeableConcept type is not one
					JsonNode expected = resource.path(field).isTextual() ? resource.path(field) : com.fasterxml.jackson.databind.node.MissingNode.getInstance();
					assertThat(entry.path(field)).as(folder + file.getKey() + " " + field).isEqualTo(expected);
				}
			}
		}
	}

	/** The HL7 package reader (what HAPI and the HL7 validator load packages with) takes our index as it is. */
	@Test
	void hl7PackageReaderReadsTheIndex() throws IOException {
		org.hl7.fhir.utilities.npm.NpmPackage npm = org.hl7.fhir.utilities.npm.NpmPackage.fromPackage(new java.io.ByteArrayInputStream(pkg.bytes()));
		assertThat(npm.listResources("StructureDefinition")).hasSize(18);
		assertThat(npm.listResources("Questionnaire", "ValueSet", "CodeSystem")).isNotEmpty();
		assertThat(npm.getFolders().get("example").getTypes().values().stream().mapToInt(List::size).sum())
				.as("examples indexed").isEqualTo(pkg.exampleFiles().size());
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
