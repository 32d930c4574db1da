package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.fhirpath.ExpressionNode;
import org.hl7.fhir.r4.fhirpath.FHIRPathEngine;
import org.hl7.fhir.r4.hapi.ctx.HapiWorkerContext;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.ElementDefinition;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every invariant of every profile in the built package (the snapshot's {@code constraint.expression}: our own and
 * the ones inherited from R4 core) evaluates the same in HAPI's R4 FHIRPath engine (the one behind
 * {@code FhirContext.newFhirPath()}) and in HL7's fhirpath.js (npm {@code fhirpath}, pinned in
 * {@code src/test/fhirpath-js/package-lock.json}, with its R4 model), over every example and test fixture the profile
 * applies to: the profiles a resource claims or its content implies ({@link NssiResourceClassifier#profilesFor}).
 * Each invariant is evaluated on each instance of the element it sits on, with that instance as the focus and the
 * resource as {@code %resource}, as a validator does; the raw results are compared, so an invariant that errors or
 * returns something else in either engine fails too. A second test compares verdicts with the validator the server
 * writes with.
 * <p>
 * Why: another server or tool validating our resources with our package (most JavaScript tooling uses fhirpath.js)
 * must reach the verdict this server reaches. {@code value.as(Integer)} was the example: HAPI accepted it, fhirpath.js
 * rejected our own diary card.
 * <p>
 * Needs node 20+ (fhirpath 5.2.2 requires it) on the PATH and {@code npm ci} run in {@code src/test/fhirpath-js} (the
 * Maven build does it); the test fails, never skips, without them. Runs in the verify build (its own Surefire
 * execution), or alone with {@code mvn test -Dtest=FhirPathEnginesAgreeTest}.
 */
class FhirPathEnginesAgreeTest {

	private static final Path JS_DIR = Path.of("src/test/fhirpath-js");
	private static final Path WORK_DIR = Path.of("target/fhirpath-js");
	private static final List<Path> FIXTURE_DIRS = List.of(Path.of("profiles/examples"), Path.of("src/test/resources"));
	private static final ObjectMapper JSON = new ObjectMapper();

	/** One invariant on one element of one profile; paths without {@code [x]} so both engines can navigate them. */
	private record Invariant(String profile, String path, String key, String expression) {}

	/** One resource (file and, inside a Bundle, entry) as HAPI parsed it. */
	private record Fixture(String name, Resource resource) {}

	/** An element path and an expression evaluated on one resource: what both engines compute. */
	private record Task(int resource, String path, String expression) {}

	/** Which profile's invariant a task stands for (several profiles share R4 core's). */
	private record Use(String profile, String key) {
		boolean ours() {
			return key.startsWith("nssi-");
		}
	}

	private static FhirContext ctx;
	private static ConformancePackage pkg;
	private static Map<String, List<Invariant>> invariantsByProfile;
	private static List<Fixture> fixtures;
	private static List<String> encoded;
	private static Map<Task, Set<Use>> tasks;
	private static List<Task> taskList;
	private static JsonNode jsResults;

	/** Everything both tests compare: the fixtures, the tasks, and fhirpath.js's results (one node process). */
	@BeforeAll
	static void evaluateWithFhirpathJs() throws Exception {
		ctx = FhirContext.forR4Cached();
		pkg = ConformancePackage.fromClasspath();
		invariantsByProfile = invariants(ctx, pkg);
		assertThat(invariantsByProfile).as("profiles with invariants").isNotEmpty();
		assertThat(invariantsByProfile.values().stream().flatMap(List::stream).map(Invariant::key))
				.as("our own invariants are among them").contains("nssi-dc-1", "nssi-ep-2", "nssi-qr-2", "nssi-rpp-3");

		fixtures = fixtures(ctx, pkg);
		tasks = new LinkedHashMap<>();
		Set<String> profilesCovered = new java.util.TreeSet<>();
		for (int i = 0; i < fixtures.size(); i++) {
			// on a copy: HAPI's getters the classifier calls create empty elements (getCode(), getMeta()) that HAPI's engine
			// would then see as element instances and the JSON given to fhirpath.js would not have
			for (String profile : NssiResourceClassifier.profilesFor(fixtures.get(i).resource().copy())) {
				for (Invariant inv : invariantsByProfile.getOrDefault(profile, List.of())) {
					profilesCovered.add(profile);
					tasks.computeIfAbsent(new Task(i, inv.path(), inv.expression()), t -> new LinkedHashSet<>())
							.add(new Use(profile, inv.key()));
				}
			}
		}
		assertThat(profilesCovered).as("every profile with invariants is exercised by at least one example or fixture")
				.containsAll(invariantsByProfile.keySet());

		// both engines read exactly the same content: the JSON HAPI writes (HAPI's engine gets it parsed afresh)
		IParser json = ctx.newJsonParser();
		encoded = new ArrayList<>();
		ObjectNode cases = JSON.createObjectNode();
		ArrayNode resources = cases.putArray("resources");
		for (Fixture f : fixtures) {
			String text = json.encodeResourceToString(f.resource());
			encoded.add(text);
			resources.add(JSON.readTree(text));
		}
		ArrayNode taskArray = cases.putArray("tasks");
		taskList = new ArrayList<>(tasks.keySet());
		for (Task t : taskList) {
			taskArray.addObject().put("resource", t.resource()).put("path", t.path()).put("expression", t.expression());
		}
		jsResults = runFhirpathJs(cases);
		assertThat(jsResults.size()).as("fhirpath.js answered every task").isEqualTo(taskList.size());
	}

	private static String describe(Task t) {
		return fixtures.get(t.resource()).name() + " | "
				+ tasks.get(t).stream().map(u -> u.profile() + " " + u.key()).collect(java.util.stream.Collectors.joining(", "))
				+ " | " + t.path() + " | " + t.expression();
	}

	@Test
	void everyInvariantEvaluatesTheSameInHapiAndFhirpathJs() {
		IParser json = ctx.newJsonParser();
		// an encoded-and-parsed copy: encoding calls getters that create empty elements (an empty meta) the JSON lacks
		List<Resource> hapiResources = encoded.stream().map(text -> (Resource) json.parseResource(text)).toList();
		// HAPI's engine, the same tasks
		FHIRPathEngine engine = new FHIRPathEngine(new HapiWorkerContext(ctx, new DefaultProfileValidationSupport(ctx)));
		Map<String, ExpressionNode> parsed = new java.util.HashMap<>();
		List<String> disagreements = new ArrayList<>();
		Map<String, Integer> knownSeen = new TreeMap<>();
		int evaluations = 0;
		int ownEvaluations = 0;
		for (int i = 0; i < taskList.size(); i++) {
			Task t = taskList.get(i);
			Resource resource = hapiResources.get(t.resource());
			String where = describe(t);
			List<Base> nodes;
			try {
				// an empty element does not exist in FHIR (JSON cannot carry it), but HAPI's parser leaves an empty meta
				// on a resource that has none: left out, as fhirpath.js never sees it
				nodes = t.path().contains(".")
						? engine.evaluate(resource, t.path()).stream().filter(b -> !b.isEmpty()).toList()
						: List.of(resource);
			} catch (RuntimeException e) {
				disagreements.add(where + "\n    HAPI cannot navigate the path: " + e.getMessage());
				continue;
			}
			JsonNode js = jsResults.get(i);
			if (js.has("error")) {
				disagreements.add(where + "\n    fhirpath.js: " + js.get("error").asText());
				continue;
			}
			if (js.get("nodes").size() != nodes.size()) {
				disagreements.add(where + "\n    element instances: HAPI " + nodes.size() + ", fhirpath.js " + js.get("nodes").size());
				continue;
			}
			boolean ours = tasks.get(t).stream().anyMatch(Use::ours);
			for (int n = 0; n < nodes.size(); n++) {
				evaluations++;
				ownEvaluations += ours ? 1 : 0;
				String hapiResult = hapiResult(engine, parsed, resource, nodes.get(n), t.expression());
				JsonNode jsNode = js.get("nodes").get(n);
				String jsResult = jsNode.has("error") ? "error: " + jsNode.get("error").asText() : jsNode.get("result").toString();
				if (hapiResult.equals(jsResult) && !hapiResult.startsWith("error")) {
					continue;
				}
				String known = knownCoreDisagreement(t, jsResult);
				if (known != null) {
					knownSeen.merge(known, 1, Integer::sum);
				} else {
					disagreements.add(where + " [" + n + "]\n    HAPI:        " + shorten(hapiResult) + "\n    fhirpath.js: " + shorten(jsResult));
				}
			}
		}
		System.out.printf("[fhirpath] %d fixtures, %d invariants in %d profiles, %d tasks, %d evaluations in each engine (%d of our own invariants)%n",
				fixtures.size(), invariantsByProfile.values().stream().mapToInt(List::size).sum(), invariantsByProfile.size(),
				taskList.size(), evaluations, ownEvaluations);
		knownSeen.forEach((known, count) -> System.out.printf("[fhirpath] known R4 core disagreement, %d evaluations: %s%n", count, known));
		assertThat(ownEvaluations).as("evaluations of our own invariants").isPositive();
		if (!disagreements.isEmpty()) {
			fail(disagreements.size() + " evaluations differ between HAPI and fhirpath.js (or fail in both):\n  "
					+ String.join("\n  ", disagreements.subList(0, Math.min(40, disagreements.size()))));
		}
	}

	/**
	 * The verdict that matters: the validator this server writes with (HAPI's instance validator, whose FHIRPath
	 * engine is the R5-based one of the HL7 validator, not the R4 engine above) fails exactly those of our invariants
	 * that fhirpath.js fails, on every example and fixture that claims one of our profiles (the validator checks
	 * claimed profiles; what the server adds from content is the same profiles). An invariant fails when an instance
	 * of its element yields anything but {@code true}.
	 */
	@Test
	void validatorFailsExactlyTheInvariantsFhirpathJsFails() {
		OfflinePackageValidator validator = new OfflinePackageValidator(ctx, pkg.bytes());
		Map<Integer, Set<String>> jsFailed = new TreeMap<>();
		Map<Integer, Set<String>> checked = new TreeMap<>();
		for (int i = 0; i < taskList.size(); i++) {
			Task t = taskList.get(i);
			Set<String> claimed = claimedProfiles(fixtures.get(t.resource()).resource());
			for (Use use : tasks.get(t)) {
				if (!use.ours() || !claimed.contains(use.profile())) {
					continue;
				}
				checked.computeIfAbsent(t.resource(), k -> new java.util.TreeSet<>()).add(use.key());
				for (JsonNode node : jsResults.get(i).path("nodes")) {
					if (!node.path("result").toString().equals("[\"true\"]")) {
						jsFailed.computeIfAbsent(t.resource(), k -> new java.util.TreeSet<>()).add(use.key());
					}
				}
			}
		}
		assertThat(jsFailed).as("fixtures fhirpath.js finds failing one of our invariants").isNotEmpty();
		List<String> differences = new ArrayList<>();
		checked.forEach((fixture, keys) -> {
			List<String> messages = validator.errors(encoded.get(fixture)).stream().map(m -> m.getMessage()).toList();
			Set<String> validatorFailed = new java.util.TreeSet<>();
			for (String key : keys) {
				java.util.regex.Pattern named = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(key) + "(?![0-9])");
				if (messages.stream().anyMatch(m -> named.matcher(m).find())) {
					validatorFailed.add(key);
				}
			}
			Set<String> js = jsFailed.getOrDefault(fixture, Set.of());
			if (!validatorFailed.equals(js)) {
				differences.add(fixtures.get(fixture).name() + ": validator fails " + validatorFailed + ", fhirpath.js fails " + js);
			}
		});
		System.out.printf("[fhirpath] validator and fhirpath.js verdicts compared on %d fixtures claiming our profiles (%d fail one of our invariants)%n",
				checked.size(), jsFailed.size());
		assertThat(differences).as("fixtures where the validator and fhirpath.js disagree on our invariants").isEmpty();
	}

	private static Set<String> claimedProfiles(Resource resource) {
		Set<String> out = new java.util.TreeSet<>();
		for (org.hl7.fhir.r4.model.CanonicalType p : resource.getMeta().getProfile()) {
			if (p.getValue() != null && p.getValue().startsWith(NssiCanonicals.STRUCTURE_DEFINITION)) {
				out.add(p.getValue().substring(NssiCanonicals.STRUCTURE_DEFINITION.length()).replaceFirst("\\|.*$", ""));
			}
		}
		return out;
	}

	/**
	 * Disagreements in R4 core's own invariants, which no profile of ours can change; each with the reason, so the
	 * list stays short and honest. Our own invariants (source = our profiles) are never excused here.
	 * <ul>
	 * <li>dom-3 (contained resources are referenced): R4 core writes {@code %resource.descendants().as(canonical)},
	 * {@code as()} on a collection, which FHIRPath defines for single items only; fhirpath.js raises an error, HAPI
	 * filters. R5 core rewrote it with {@code ofType()}. It matters only for resources with contained resources (our
	 * relapse-prevention plans: their contacts).</li>
	 * </ul>
	 */
	private static String knownCoreDisagreement(Task task, String jsResult) {
		if (task.expression().startsWith("contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical)")
				&& jsResult.startsWith("error: Expected singleton on left side of 'as'")) {
			return "dom-3 (R4 core applies as() to a collection; fhirpath.js refuses, HAPI filters; fixed in R5 core)";
		}
		return null;
	}

	private static String shorten(String text) {
		return text.length() <= 300 ? text : text.substring(0, 300) + "...";
	}

	/** HAPI's result as the same text the node script writes: a JSON array of values, or "error: ...". */
	private static String hapiResult(FHIRPathEngine engine, Map<String, ExpressionNode> parsed, Resource resource, Base node, String expression) {
		try {
			ExpressionNode expr = parsed.computeIfAbsent(expression, engine::parse);
			ArrayNode out = JSON.createArrayNode();
			for (Base b : engine.evaluate(null, resource, resource, node, expr)) {
				out.add(b.isPrimitive() ? b.primitiveValue() : "complex");
			}
			return out.toString();
		} catch (RuntimeException e) {
			return "error: " + e.getMessage();
		}
	}

	/** The invariants of each profile's snapshot, by profile id; element paths with {@code [x]} removed. */
	private static Map<String, List<Invariant>> invariants(FhirContext ctx, ConformancePackage pkg) {
		IParser parser = ctx.newJsonParser();
		Map<String, List<Invariant>> out = new TreeMap<>();
		for (String json : pkg.conformanceFiles().values()) {
			IBaseResource r = parser.parseResource(json);
			if (!(r instanceof StructureDefinition sd)) {
				continue;
			}
			assertThat(sd.getSnapshot().getElement()).as(sd.getId() + " has a snapshot").isNotEmpty();
			Set<String> unsliced = new LinkedHashSet<>();
			List<Invariant> invariants = new ArrayList<>();
			for (ElementDefinition e : sd.getSnapshot().getElement()) {
				String path = e.getPath().replace("[x]", "");
				boolean slice = e.getId() != null && e.getId().contains(":");
				for (ElementDefinition.ElementDefinitionConstraintComponent c : e.getConstraint()) {
					if (!c.hasExpression()) {
						continue;
					}
					boolean ours = c.hasSource() && c.getSource().startsWith(NssiCanonicals.BASE);
					if (slice && ours) {
						// our invariant on a slice holds for the slice's nodes only; this test evaluates per element path
						fail(sd.getIdPart() + ": invariant " + c.getKey() + " on slice " + e.getId() + " needs slice matching in this test");
					}
					// R4 core invariants inside a slice (ele-1, ext-1...) hold for every node of that path: evaluated on all
					if (unsliced.add(path + "|" + c.getKey())) {
						invariants.add(new Invariant(sd.getIdPart(), path, c.getKey(), c.getExpression()));
					}
				}
			}
			out.put(sd.getIdPart(), invariants);
		}
		return out;
	}

	/**
	 * The package's examples and every FHIR resource among the test fixtures (a Bundle counts with its entries).
	 * Files that are not FHIR JSON at all (the hostile-input bodies) are left out: no profile applies to them.
	 */
	private static List<Fixture> fixtures(FhirContext ctx, ConformancePackage pkg) throws IOException {
		IParser lenient = ctx.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false));
		List<Fixture> out = new ArrayList<>();
		for (Path dir : FIXTURE_DIRS) {
			List<Path> files;
			try (Stream<Path> s = Files.walk(dir)) {
				files = s.filter(f -> f.toString().endsWith(".json")).sorted().toList();
			}
			for (Path file : files) {
				IBaseResource parsed;
				try {
					parsed = lenient.parseResource(Files.readString(file));
				} catch (RuntimeException | java.nio.charset.CharacterCodingException e) {
					continue;
				}
				if (parsed instanceof Bundle b) {
					for (int i = 0; i < b.getEntry().size(); i++) {
						if (b.getEntry().get(i).getResource() != null) {
							out.add(new Fixture(file + "#entry[" + i + "]", b.getEntry().get(i).getResource()));
						}
					}
				} else if (parsed instanceof Resource r) {
					out.add(new Fixture(file.toString(), r));
				}
			}
		}
		assertThat(out.stream().filter(f -> f.name().startsWith("profiles/examples")).count())
				.as("every example of the package is among them").isEqualTo(pkg.exampleFiles().size());
		return out;
	}

	private static JsonNode runFhirpathJs(ObjectNode cases) throws IOException, InterruptedException {
		String node = nodeVersion();
		if (node == null) {
			fail("node is not on the PATH: FhirPathEnginesAgreeTest evaluates our invariants with fhirpath.js and needs "
					+ "Node.js 20+ (fhirpath 5.2.2 requires it; .ci/run installs nodejs and npm when missing)");
		}
		if (!Files.isDirectory(JS_DIR.resolve("node_modules/fhirpath"))) {
			fail("fhirpath.js is not installed in " + JS_DIR + ": run `npm ci` there (the Maven build runs it before the tests)");
		}
		Files.createDirectories(WORK_DIR);
		Path in = WORK_DIR.resolve("cases.json").toAbsolutePath();
		Path out = WORK_DIR.resolve("results.json").toAbsolutePath();
		Files.deleteIfExists(out);
		Files.writeString(in, JSON.writeValueAsString(cases), StandardCharsets.UTF_8);
		Path log = WORK_DIR.resolve("node.log").toAbsolutePath();
		Process p = new ProcessBuilder("node", "evaluate-invariants.js", in.toString(), out.toString())
				.directory(JS_DIR.toFile())
				.redirectErrorStream(true)
				.redirectOutput(log.toFile())
				.start();
		if (!p.waitFor(120, TimeUnit.SECONDS)) {
			p.destroyForcibly();
			fail("fhirpath.js did not finish in 120 s");
		}
		if (p.exitValue() != 0 || !Files.exists(out)) {
			fail("fhirpath.js failed (node " + node + ", exit " + p.exitValue() + "):\n" + Files.readString(log));
		}
		return JSON.readTree(out.toFile());
	}

	/** {@code node --version}, or null when node cannot be started. */
	private static String nodeVersion() {
		try {
			Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
			String version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
			return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? version : null;
		} catch (IOException e) {
			return null;
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return null;
		}
	}
}
