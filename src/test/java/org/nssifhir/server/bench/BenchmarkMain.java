package org.nssifhir.server.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Benchmark harness (run with {@code src/bench/run.sh}). Starts the packaged server as a child process against
 * PostgreSQL (NSSI_DB_URL, or the embedded PostgreSQL in a fresh directory), measures time to readiness and RSS,
 * loads synthetic patients with observations through transaction bundles, then runs each workload and prints a
 * table. Everything is measured in this one run, so figures can be compared as ratios.
 *
 * <p>Arguments: {@code --patients N} (default 50), {@code --obs-per-patient M} (default 20),
 * {@code --requests R} (default 400, per timed workload), {@code --jar path}, {@code --compare-security true} (then
 * restart the server on the same data with security off and report read/search ratios). Data is synthetic and
 * tagged HTEST.
 */
public final class BenchmarkMain {

	private static final String JSON = "application/fhir+json";

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
	private final Map<String, String> args;
	private String base;
	private String authorization;

	private BenchmarkMain(Map<String, String> args) {
		this.args = args;
	}

	public static void main(String[] argv) throws Exception {
		Map<String, String> args = new LinkedHashMap<>();
		for (int i = 0; i + 1 < argv.length; i += 2) {
			args.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
		}
		new BenchmarkMain(args).run();
	}

	private int intArg(String name, int fallback) {
		return Integer.parseInt(args.getOrDefault(name, String.valueOf(fallback)));
	}

	private void run() throws Exception {
		int patients = intArg("patients", 50);
		int obsPerPatient = intArg("obs-per-patient", 20);
		int requests = intArg("requests", 400);
		int port = intArg("port", 18080);
		Path jar = Path.of(args.getOrDefault("jar", "target/nssi-fhir-server.jar"));
		base = "http://localhost:" + port + "/fhir";

		Process server = startServer(jar, port);
		Map<String, Stats> secured = new LinkedHashMap<>();
		List<String> patientIds = new ArrayList<>();
		try {
			long startNanos = System.nanoTime();
			awaitReady(port, Duration.ofMinutes(5));
			double startupSeconds = (System.nanoTime() - startNanos) / 1e9;
			long rssAfterStartup = rssKb(server.pid());
			authorization = "Bearer " + token(port);
			// the first request after readiness is a validated NSSI episode: it shows whether warm-up did its job
			String firstPatient = createPatient();
			Stats firstRequest = new Stats();
			timed(firstRequest, () -> post("/Observation", episode(firstPatient, 0)));

			Stats load = loadCohort(patients, obsPerPatient, patientIds);

			Map<String, Stats> results = new LinkedHashMap<>();
			results.put("create Observation, unprofiled (serial)", repeat(requests, 1, i -> () -> post("/Observation", observation(pick(patientIds, i), i))));
			results.put("create nssi-episode, validated + labelled (serial)", repeat(requests, 1, i -> () -> post("/Observation", episode(pick(patientIds, i), i))));
			results.put("create Observation, unprofiled (8 clients)", repeat(requests, 8, i -> () -> post("/Observation", observation(pick(patientIds, i), i))));
			results.put("create nssi-episode, validated + labelled (8 clients)", repeat(requests, 8, i -> () -> post("/Observation", episode(pick(patientIds, i), i))));
			results.put("transaction, 1 patient + 10 obs (4 clients)", repeat(Math.max(8, requests / 10), 4, i -> () -> post("", transaction(10))));
			// assessment workflow: a PHQ-9 response stored then extracted; the patient summary over 5 years of weekly episodes
			results.put("submit PHQ-9 response + $extract (serial)", repeat(Math.max(50, requests / 4), 1, i -> () -> {
				String qr = postForLocation("/QuestionnaireResponse", phq9(pick(patientIds, i), i));
				post("/" + qr + "/$extract", "{\"resourceType\":\"Parameters\"}");
			}));
			String summaryPatient = createPatient();
			for (int year = 0; year < 5; year++) {
				post("", weeklyEpisodes(summaryPatient, year));
			}
			results.put("$nssi-summary, 260 weekly episodes (serial)", repeat(requests, 1, i -> () -> get("/" + summaryPatient + "/$nssi-summary")));
			results.put("$nssi-summary, 260 weekly episodes (8 clients)", repeat(requests, 8, i -> () -> get("/" + summaryPatient + "/$nssi-summary")));
			// treatment: PlanDefinition/$apply (CQL applicability via the clinical-reasoning library), proposal and stored
			String treated = createPatient();
			post("/Condition", nssiCondition(treated));
			String applyBody = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"subject\",\"valueString\":\"" + treated + "\"}]}";
			String persistBody = applyBody.replace("]}", ",{\"name\":\"persist\",\"valueBoolean\":true}]}");
			results.put("PlanDefinition/$apply DBT, proposal (serial)", repeat(Math.max(20, requests / 10), 1, i -> () -> post("/PlanDefinition/nssi-dbt/$apply", applyBody)));
			results.put("PlanDefinition/$apply DBT, persist=true (serial)", repeat(Math.max(20, requests / 10), 1, i -> () -> post("/PlanDefinition/nssi-dbt/$apply", persistBody)));
			Map<String, Stats> reads = readWorkloads(patientIds, requests);
			results.putAll(reads);
			secured.putAll(reads);
			long rssAfterLoad = rssKb(server.pid());

			long totalObs = (long) patients * obsPerPatient;
			System.out.println();
			System.out.printf(Locale.ROOT, "## NSSI FHIR Server benchmark (%d patients, %d observations loaded)%n%n", patients, totalObs);
			System.out.println("| measure | value |");
			System.out.println("| --- | --- |");
			System.out.printf(Locale.ROOT, "| startup to readiness | %.1f s |%n", startupSeconds);
			System.out.printf(Locale.ROOT, "| RSS after startup | %d MiB |%n", rssAfterStartup / 1024);
			System.out.printf(Locale.ROOT, "| RSS after load | %d MiB |%n", rssAfterLoad / 1024);
			System.out.printf(Locale.ROOT, "| first request after readiness (create nssi-episode) | %.1f ms |%n", firstRequest.percentileMillis(50));
			System.out.printf(Locale.ROOT, "| cohort load (transactions of 1 patient + its obs, 4 clients) | %.0f resources/s |%n", load.perSecond());
			System.out.println();
			System.out.println("| workload | requests | throughput (req/s) | p50 ms | p95 ms | p99 ms |");
			System.out.println("| --- | --- | --- | --- | --- | --- |");
			for (Map.Entry<String, Stats> e : results.entrySet()) {
				Stats s = e.getValue();
				System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.1f |%n", e.getKey(), s.count(), s.perSecond(),
						s.percentileMillis(50), s.percentileMillis(95), s.percentileMillis(99));
			}
			System.out.println();
			ratio(results, "create nssi-episode, validated + labelled (serial)", "create Observation, unprofiled (serial)");
			ratio(results, "create nssi-episode, validated + labelled (8 clients)", "create Observation, unprofiled (8 clients)");
		} finally {
			server.destroy();
			server.waitFor();
		}
		if (!args.containsKey("compare-security")) {
			return;
		}
		// the same data, the same workloads, with SMART authorization and audit switched off
		Process open = startServer(jar, port, "--nssi.security.enabled=false");
		try {
			awaitReady(port, Duration.ofMinutes(5));
			Map<String, Stats> unsecured = readWorkloads(patientIds, requests);
			System.out.println();
			System.out.println("| workload (same run, same data) | security on req/s | security off req/s | throughput ratio on/off | p95 on ms | p95 off ms |");
			System.out.println("| --- | --- | --- | --- | --- | --- |");
			for (String name : secured.keySet()) {
				Stats on = secured.get(name);
				Stats off = unsecured.get(name);
				System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.2fx | %.1f | %.1f |%n", name, on.perSecond(), off.perSecond(),
						on.perSecond() / off.perSecond(), on.percentileMillis(95), off.percentileMillis(95));
			}
		} finally {
			open.destroy();
			open.waitFor();
		}
	}

	/** Patient read and patient-scoped search: the workloads whose cost authorization and audit add to. */
	private Map<String, Stats> readWorkloads(List<String> patientIds, int requests) throws Exception {
		Map<String, Stats> out = new LinkedHashMap<>();
		out.put("read a Patient (serial)", repeat(requests, 1, i -> () -> get("/" + pick(patientIds, i))));
		out.put("search a patient's Observations (serial)", repeat(requests, 1, i -> () -> get("/Observation?subject=" + pick(patientIds, i) + "&_sort=-date&_count=50")));
		out.put("search a patient's Observations (8 clients)", repeat(requests, 8, i -> () -> get("/Observation?subject=" + pick(patientIds, i) + "&_sort=-date&_count=50")));
		return out;
	}

	private static void ratio(Map<String, Stats> results, String ours, String baseline) {
		System.out.printf(Locale.ROOT, "ratio %s / %s: throughput %.2fx, p95 %.2fx%n", ours, baseline,
				results.get(ours).perSecond() / results.get(baseline).perSecond(),
				results.get(ours).percentileMillis(95) / results.get(baseline).percentileMillis(95));
	}

	/**
	 * A system/*.cruds token from the server's own authorization server: the dev client on the embedded database
	 * (secret next to its data directory), or {@code --client-id}/{@code --client-secret} of a configured client.
	 */
	private String token(int port) throws Exception {
		String clientId = args.getOrDefault("client-id", "nssi-dev");
		String secret = args.get("client-secret");
		if (secret == null) {
			Path dataDir = Path.of(args.getOrDefault("data-dir", "data/postgres")).toAbsolutePath();
			secret = Files.readString(dataDir.resolveSibling("dev-client-secret")).trim();
		}
		HttpResponse<String> r = http.send(
				HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/oauth2/token"))
						.header("Content-Type", "application/x-www-form-urlencoded")
						.header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
						.POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&scope=system/*.cruds"))
						.build(),
				HttpResponse.BodyHandlers.ofString());
		if (r.statusCode() != 200) {
			throw new IllegalStateException("Token request failed: " + r.statusCode());
		}
		return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("access_token").asText();
	}

	// ---- server process ------------------------------------------------------------------------------------------

	private Process startServer(Path jar, int port, String... extraArgs) throws IOException {
		if (!Files.exists(jar)) {
			throw new IllegalStateException("No server jar at " + jar + "; run src/bench/run.sh, which builds it");
		}
		List<String> command = new ArrayList<>(List.of(
				Path.of(System.getProperty("java.home"), "bin", "java").toString(),
				"-Xmx" + args.getOrDefault("server-heap", "2g"),
				"-jar", jar.toString(),
				"--server.port=" + port));
		String dataDir = args.get("data-dir");
		if (dataDir != null) {
			command.add("--nssi.db.embedded-data-dir=" + dataDir);
		}
		command.addAll(List.of(extraArgs));
		ProcessBuilder builder = new ProcessBuilder(command);
		builder.redirectErrorStream(true);
		builder.redirectOutput(Path.of(args.getOrDefault("server-log", "target/bench/server.log")).toFile());
		return builder.start();
	}

	private void awaitReady(int port, Duration timeout) throws Exception {
		long deadline = System.nanoTime() + timeout.toNanos();
		URI readiness = URI.create("http://localhost:" + port + "/actuator/health/readiness");
		while (System.nanoTime() < deadline) {
			try {
				HttpResponse<String> r = http.send(HttpRequest.newBuilder(readiness).build(), HttpResponse.BodyHandlers.ofString());
				if (r.statusCode() == 200) {
					return;
				}
			} catch (IOException notYet) {
				// not listening yet
			}
			Thread.sleep(100);
		}
		throw new IllegalStateException("Server not ready within " + timeout);
	}

	private static long rssKb(long pid) throws IOException {
		for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
			if (line.startsWith("VmRSS:")) {
				return Long.parseLong(line.replaceAll("\\D", ""));
			}
		}
		return -1;
	}

	// ---- workloads -----------------------------------------------------------------------------------------------

	private Stats loadCohort(int patients, int obsPerPatient, List<String> patientIds) throws Exception {
		Stats stats = new Stats();
		List<String> ids = java.util.Collections.synchronizedList(patientIds);
		ExecutorService pool = Executors.newFixedThreadPool(4);
		AtomicInteger resources = new AtomicInteger();
		long start = System.nanoTime();
		List<Future<?>> futures = new ArrayList<>();
		for (int p = 0; p < patients; p++) {
			futures.add(pool.submit(() -> {
				long t0 = System.nanoTime();
				String response = post("", transaction(obsPerPatient));
				stats.add(System.nanoTime() - t0);
				ids.add(firstPatientLocation(response));
				resources.addAndGet(obsPerPatient + 1);
				return null;
			}));
		}
		for (Future<?> f : futures) {
			f.get();
		}
		stats.finish(System.nanoTime() - start, resources.get());
		pool.shutdown();
		return stats;
	}

	private Stats repeat(int count, int clients, IntFunction<ThrowingRunnable> work) throws Exception {
		Stats stats = new Stats();
		ExecutorService pool = Executors.newFixedThreadPool(clients);
		long start = System.nanoTime();
		List<Future<?>> futures = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			ThrowingRunnable task = work.apply(i);
			futures.add(pool.submit(() -> {
				timed(stats, task);
				return null;
			}));
		}
		for (Future<?> f : futures) {
			f.get();
		}
		stats.finish(System.nanoTime() - start, count);
		pool.shutdown();
		return stats;
	}

	@FunctionalInterface
	interface ThrowingRunnable {
		void run() throws Exception;
	}

	private static void timed(Stats stats, ThrowingRunnable task) throws Exception {
		long t0 = System.nanoTime();
		task.run();
		stats.add(System.nanoTime() - t0);
	}

	private static String pick(List<String> ids, int i) {
		return ids.get(Math.floorMod(i * 7919, ids.size()));
	}

	// ---- HTTP ------------------------------------------------------------------------------------------------------

	private String post(String path, String body) throws Exception {
		return send(path, body).body();
	}

	private HttpResponse<String> send(String path, String body) throws Exception {
		HttpResponse<String> r = http.send(
				HttpRequest.newBuilder(URI.create(base + path))
						.header("Content-Type", JSON)
						.header("Authorization", authorization)
						.header("Prefer", "return=minimal")
						.POST(HttpRequest.BodyPublishers.ofString(body))
						.build(),
				HttpResponse.BodyHandlers.ofString());
		if (r.statusCode() >= 300) {
			throw new IllegalStateException("POST " + (path.isEmpty() ? "/" : path) + " -> " + r.statusCode() + ": " + r.body());
		}
		return r;
	}

	private String get(String path) throws Exception {
		HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Accept", JSON).header("Authorization", authorization).build(),
				HttpResponse.BodyHandlers.ofString());
		if (r.statusCode() != 200) {
			throw new IllegalStateException("GET -> " + r.statusCode());
		}
		return r.body();
	}

	private String postForLocation(String path, String body) throws Exception {
		HttpResponse<String> r = send(path, body);
		String location = r.headers().firstValue("Location").orElseThrow();
		String type = path.substring(1);
		return location.substring(location.indexOf(type + "/")).replaceAll("/_history/.*", "");
	}

	private String createPatient() throws Exception {
		HttpResponse<String> r = http.send(
				HttpRequest.newBuilder(URI.create(base + "/Patient"))
						.header("Content-Type", JSON)
						.header("Authorization", authorization)
						.POST(HttpRequest.BodyPublishers.ofString(patient()))
						.build(),
				HttpResponse.BodyHandlers.ofString());
		String location = r.headers().firstValue("Location").orElseThrow();
		return location.substring(location.indexOf("Patient/")).replaceAll("/_history/.*", "");
	}

	private static String firstPatientLocation(String transactionResponse) {
		int at = transactionResponse.indexOf("\"location\":\"Patient/");
		String rest = transactionResponse.substring(at + "\"location\":\"".length());
		return rest.substring(0, rest.indexOf('"')).replaceAll("/_history/.*", "");
	}

	// ---- synthetic resources ---------------------------------------------------------------------------------------

	private static final String TEST_TAG =
			"\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"HTEST\"}]}";

	private static String patient() {
		return "{\"resourceType\":\"Patient\"," + TEST_TAG + ",\"name\":[{\"family\":\"Synthetic\",\"given\":[\"Bench\"]}],\"gender\":\"unknown\",\"birthDate\":\"2008-01-01\"}";
	}

	private static String observation(String subject, int i) {
		Random random = new Random(i);
		String day = String.format(Locale.ROOT, "2025-%02d-%02d", 1 + random.nextInt(12), 1 + random.nextInt(28));
		return "{\"resourceType\":\"Observation\"," + TEST_TAG + ",\"status\":\"final\","
				+ "\"code\":{\"coding\":[{\"system\":\"https://nssi-fhir.org/fhir/CodeSystem/nssi-bench\",\"code\":\"bench-" + (i % 5) + "\"}]},"
				+ "\"subject\":{\"reference\":\"" + subject + "\"},\"effectiveDateTime\":\"" + day + "\","
				+ "\"valueInteger\":" + random.nextInt(11) + "}";
	}

	private static final String[] METHODS = {"248073004", "284744004", "284757007", "248071002", "284760000"};

	/** A valid nssi-episode (recognised by its code, so the server validates and labels it). */
	private static String episode(String subject, int i) {
		Random random = new Random(i);
		String cs = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
		String day = String.format(Locale.ROOT, "2025-%02d-%02dT%02d:00:00Z", 1 + random.nextInt(12), 1 + random.nextInt(28), random.nextInt(24));
		return "{\"resourceType\":\"Observation\"," + TEST_TAG + ",\"status\":\"final\","
				+ "\"category\":[{\"coding\":[{\"system\":\"" + cs + "\",\"code\":\"nssi\"}]}],"
				+ "\"code\":{\"coding\":[{\"system\":\"" + cs + "\",\"code\":\"nssi-episode\"}]},"
				+ "\"subject\":{\"reference\":\"" + subject + "\"},\"effectiveDateTime\":\"" + day + "\",\"component\":["
				+ "{\"code\":{\"coding\":[{\"system\":\"" + cs + "\",\"code\":\"method\"}]},\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"" + METHODS[random.nextInt(METHODS.length)] + "\"}]}},"
				+ "{\"code\":{\"coding\":[{\"system\":\"" + cs + "\",\"code\":\"suicidal-intent\"}]},\"valueCodeableConcept\":{\"coding\":[{\"system\":\"" + cs + "\",\"code\":\"intent-none\"}]}},"
				+ "{\"code\":{\"coding\":[{\"system\":\"" + cs + "\",\"code\":\"care-level\"}]},\"valueCodeableConcept\":{\"coding\":[{\"system\":\"" + cs + "\",\"code\":\"care-self\"}]}},"
				+ "{\"code\":{\"coding\":[{\"system\":\"" + cs + "\",\"code\":\"urge-intensity\"}]},\"valueInteger\":" + random.nextInt(11) + "}]}";
	}

	/** A completed PHQ-9 response; item 9 is 0, so no escalation (that path is measured by the ITs, not here). */
	private static String phq9(String subject, int i) {
		Random random = new Random(i);
		StringBuilder items = new StringBuilder();
		for (int item = 1; item <= 9; item++) {
			int score = item == 9 ? 0 : random.nextInt(4);
			items.append(item == 1 ? "" : ",").append("{\"linkId\":\"phq9-item-").append(item).append("\",\"answer\":[{\"valueInteger\":").append(score).append("}]}");
		}
		return "{\"resourceType\":\"QuestionnaireResponse\"," + TEST_TAG + ",\"questionnaire\":\"https://nssi-fhir.org/fhir/Questionnaire/nssi-phq9\","
				+ "\"status\":\"completed\",\"subject\":{\"reference\":\"" + subject + "\"},\"authored\":\"2025-06-01T10:00:00Z\","
				+ "\"author\":{\"reference\":\"" + subject + "\"},\"item\":[" + items + "]}";
	}

	/** One year (52 weeks) of weekly episodes, the {@code year}-th year back from now, as a transaction. */
	private static String weeklyEpisodes(String subject, int year) {
		StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
		for (int week = year * 52; week < (year + 1) * 52; week++) {
			String when = java.time.Instant.now().minus(java.time.Duration.ofDays(1 + 7L * week)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
			String episode = episode(subject, week).replaceFirst("\"effectiveDateTime\":\"[^\"]*\"", "\"effectiveDateTime\":\"" + when + "\"");
			sb.append(week == year * 52 ? "" : ",").append("{\"resource\":").append(episode).append(",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}");
		}
		return sb.append("]}").toString();
	}

	private static String nssiCondition(String subject) {
		return """
				{"resourceType":"Condition",%s,
				 "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
				 "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},
				 "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],
				 "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R45.88"}]},
				 "subject":{"reference":"%s"},"recordedDate":"2026-01-01"}""".formatted(TEST_TAG, subject);
	}

	private static String transaction(int observations) {
		String patientUrn = "urn:uuid:" + UUID.randomUUID();
		StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
		sb.append("{\"fullUrl\":\"").append(patientUrn).append("\",\"resource\":").append(patient())
				.append(",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}");
		for (int i = 0; i < observations; i++) {
			sb.append(",{\"resource\":").append(observation(patientUrn, i)).append(",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}");
		}
		return sb.append("]}").toString();
	}
}
