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
 * imports {@code --import-people} (default 100) people of the synthetic cohort generator through Bulk Data
 * {@code $import} (NDJSON written by {@code CohortNdjson}, served by this harness on loopback), loads a few more
 * through REST transaction bundles (the rate the import is compared with), then runs each workload and prints a
 * table, and a table of the issue's targets (ours, baseline, ratio, met or not). The baseline imports
 * {@code --baseline-import-people} people of another seed (default a fifth, at least 20) with our layers off. Everything is measured in this one run, so figures can be compared as ratios.
 *
 * <p>Arguments: {@code --reuse-data true} (the data of the previous run, kept by run.sh: no load), {@code --patients N} (default 50), {@code --obs-per-patient M} (default 20; every tenth is a
 * validated nssi-episode), {@code --scale-to-observations N} (then copies the loaded data inside PostgreSQL until
 * there are N Observations: {@link BenchScale}), {@code --no-export true}, {@code --requests R} (default 400, per
 * timed workload), {@code --jar path},
 * {@code --server-jvm-options "..."} (e.g. class-data sharing flags), {@code --no-baseline true}. After our server's
 * run the server is restarted on the same data as the baseline (security off and {@link BenchmarkBaseline}: no
 * validation, labelling, authorization, consent, audit or strict input checks) and the same workloads run again;
 * the table gives each as a ratio to its baseline. Data is synthetic and tagged HTEST.
 */
public final class BenchmarkMain {

	private static final String JSON = "application/fhir+json";

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
	private static final String BENCH_SECRET = "bench-" + UUID.randomUUID();
	private long serverStarted;
	private com.nimbusds.jose.jwk.RSAKey signingKey;
	private final Map<String, String> patientTokens = new java.util.concurrent.ConcurrentHashMap<>();
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

	/** How long a server start may take ({@code --ready-timeout-minutes}, default 15: a shared machine can be slow). */
	private Duration readyTimeout() {
		return Duration.ofMinutes(intArg("ready-timeout-minutes", 15));
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
		base = "http://127.0.0.1:" + port + "/fhir";
		List<String> patientIds = new ArrayList<>();
		if (args.containsKey("startup-runs")) {
			compareStartup(jar, port, intArg("startup-runs", 2));
			return;
		}
		if (args.containsKey("cds-jar")) {
			// the whole benchmark on the extracted jar with the AppCDS archive
			jar = Path.of(args.get("cds-jar"));
			args.put("server-jvm-options", (args.getOrDefault("server-jvm-options", "") + " " + args.getOrDefault("cds-options", "")).trim());
		}

		// 1. our server: validation, labelling, SMART authorization, consent and audit all on
		Run ours = new Run("ours");
		Process server = startServer(jar, port);
		String summaryPatient;
		Path oursJar = jar;
		try {
			ours.startupSeconds = awaitReady(port, readyTimeout());
			ours.rssAfterStartup = rssKb(server.pid());
			authorization = "Bearer " + token(port);
			// the first request after readiness is a validated NSSI episode: it shows whether warm-up did its job
			String firstPatient = createPatient();
			timed(ours.firstRequest, () -> post("/Observation", episode(firstPatient, 0)));
			Path loaded = Path.of("target/bench/loaded-patients.txt");
			if (args.containsKey("reuse-data")) {
				// the database of an earlier run (run.sh --reuse-data keeps it): its patients, first the summary patient
				List<String> lines = Files.readAllLines(loaded);
				summaryPatient = lines.get(0);
				patientIds.addAll(lines.subList(1, lines.size()));
				System.out.printf(Locale.ROOT, "reusing the loaded data: %d patients%n", patientIds.size());
			} else {
				// the bulk of the data: the cohort generator's people as NDJSON through $import (the same labelling,
				// validation and escalation as a REST write); the REST loads below are the rate it is compared with
				int importPeople = intArg("import-people", 100);
				if (importPeople > 0) {
					ours.imported = importCohort(IMPORT_SEED, importPeople);
					for (int n = 1; n <= importPeople; n++) {
						patientIds.add("Patient/" + org.nssifhir.server.cohort.CohortNdjson.patientId(IMPORT_SEED, n));
					}
				}
				loadChunk = intArg("load-chunk", loadChunk);
				ours.load = loadCohort(patients, obsPerPatient, patientIds);
				if (args.containsKey("load-only")) {
					System.out.printf(Locale.ROOT, "| cohort load (transactions of up to %d entries, 8 clients) | %.0f resources/s | p50 %.0f ms, p95 %.0f ms per transaction |%n",
							loadChunk, ours.load.perSecond(), ours.load.percentileMillis(50), ours.load.percentileMillis(95));
					return;
				}
				// realistic histories from the synthetic cohort generator (assessments extracted, years of episodes)
				try {
					ours.generated = loadGeneratedCohort(intArg("cohort-people", 20), patientIds);
				} catch (java.util.concurrent.ExecutionException e) {
					// reported, not fatal (as for bulk export): the workloads' figures still print
					ours.generatedFailure = String.valueOf(e.getCause().getMessage());
					System.out.println("generated cohort load failed: " + ours.generatedFailure);
				}
				summaryPatient = createPatient();
				for (int year = 0; year < 5; year++) {
					post("", weeklyEpisodes(summaryPatient, year));
				}
				if (args.containsKey("scale-to-observations")) {
					// the API load is the seed; copies inside PostgreSQL bring it to the issue's size (BenchScale)
					server.destroy();
					server.waitFor();
					BenchScale.Result scaled = BenchScale.scale(System.getenv("NSSI_DB_URL"), System.getenv("NSSI_DB_USERNAME"),
							System.getenv("NSSI_DB_PASSWORD"), Long.parseLong(args.get("scale-to-observations")));
					ours.scaled = scaled;
					List<String> all = scaled.withCopies(patientIds);
					patientIds.clear();
					patientIds.addAll(all);
					server = startServer(oursJar, port);
					ours.startupSeconds = awaitReady(port, readyTimeout());
					ours.startupAfterScale = true;
					ours.rssAfterStartup = rssKb(server.pid());
					authorization = "Bearer " + token(port);
					verifyCopies(patientIds, scaled);
				}
				List<String> lines = new ArrayList<>(List.of(summaryPatient));
				lines.addAll(patientIds);
				Files.write(loaded, lines);
			}
			ours.observationsInDatabase = total(get("/Observation?_summary=count"));
			// the load's own audit records (a backlog when the load outran the drain) are not a workload's
			long backlog = auditOutboxWaiting();
			if (backlog > 0) {
				double drained = awaitAuditOutboxEmpty(Duration.ofMinutes(30));
				System.out.printf(Locale.ROOT, "audit records waiting from the load: %d, %s%n", backlog,
						Double.isNaN(drained) ? "not drained" : String.format(Locale.ROOT, "drained in %.1f s", drained));
			}
			ours.results = workloads(patientIds, summaryPatient, requests, true);
			ours.rssAfterLoad = rssKb(server.pid());
			if (args.containsKey("no-export")) {
				System.out.println("bulk $export skipped (--no-export)");
			} else {
				try {
					ours.export = bulkExport();
				} catch (IllegalStateException e) {
					// reported, not fatal: the other workloads' figures still print
					System.out.println("bulk $export failed: " + e.getMessage());
				}
			}
		} finally {
			server.destroy();
			server.waitFor();
		}

		// 2. the baseline, same data, same run: security off (no authorization, consent, audit) and BenchmarkBaseline
		//    (no profile validation, labelling or strict input checks)
		Run baseline = null;
		if (!args.containsKey("no-baseline")) {
			baseline = new Run("baseline");
			Process open = startBaseline(jar, port);
			try {
				baseline.startupSeconds = awaitReady(port, readyTimeout());
				baseline.rssAfterStartup = rssKb(open.pid());
				authorization = null;
				int baselinePeople = intArg("baseline-import-people", Math.max(20, intArg("import-people", 100) / 5));
				if (baselinePeople > 0 && !args.containsKey("reuse-data")) {
					// HAPI's own import with our layers off: people of another seed (new ids), so it stores as ours did
					baseline.imported = importCohort(IMPORT_SEED + 1, baselinePeople);
				}
				baseline.results = workloads(patientIds, summaryPatient, requests, false);
				baseline.rssAfterLoad = rssKb(open.pid());
			} finally {
				open.destroy();
				open.waitFor();
			}
		}
		report(ours, baseline);
		if (files != null) {
			// its dispatcher and pool threads are not daemons: the harness would not exit
			files.stop(0);
			((ExecutorService) files.getExecutor()).shutdown();
		}
	}

	/**
	 * Startup only: alternately starts the packaged jar as is and the extracted jar ({@code --cds-jar}) with
	 * {@code --cds-options} (the AppCDS archive),
	 * on a database that already has the package installed, and reports time to readiness and RSS for each start.
	 * Alternating keeps both variants under the same machine load.
	 */
	private void compareStartup(Path jar, int port, int runs) throws Exception {
		String cdsOptions = args.getOrDefault("cds-options", "");
		String plainOptions = args.getOrDefault("server-jvm-options", "");
		List<double[]> plain = new ArrayList<>();
		List<double[]> cds = new ArrayList<>();
		// one start first so the package is installed and the terminology index built: not part of the comparison
		Process warm = startServer(jar, port);
		try {
			System.out.printf(Locale.ROOT, "first start (installs the package if needed): %.1f s%n", awaitReady(port, Duration.ofMinutes(10)));
		} finally {
			warm.destroy();
			warm.waitFor();
		}
		for (int i = 0; i < runs; i++) {
			for (boolean withCds : new boolean[] {false, true}) {
				args.put("server-jvm-options", withCds ? cdsOptions : plainOptions);
				// without: the packaged jar as deployed (java -jar); with: the extracted jar and its archive
				Process p = startServer(withCds ? Path.of(args.getOrDefault("cds-jar", jar.toString())) : jar, port);
				try {
					double seconds = awaitReady(port, Duration.ofMinutes(10));
					double rss = rssKb(p.pid()) / 1024.0;
					(withCds ? cds : plain).add(new double[] {seconds, rss});
					System.out.printf(Locale.ROOT, "start %d %s: %.1f s to readiness, RSS %.0f MiB%n", i + 1, withCds ? "with CDS" : "without CDS", seconds, rss);
				} finally {
					p.destroy();
					p.waitFor();
				}
			}
		}
		System.out.println();
		System.out.println("| startup (package installed) | median s to readiness | median RSS MiB |");
		System.out.println("| --- | --- | --- |");
		System.out.printf(Locale.ROOT, "| without CDS | %.1f | %.0f |%n", median(plain, 0), median(plain, 1));
		System.out.printf(Locale.ROOT, "| with AppCDS (%s) | %.1f | %.0f |%n", cdsOptions, median(cds, 0), median(cds, 1));
		System.out.printf(Locale.ROOT, "ratio with/without CDS: startup %.2fx%n", median(cds, 0) / median(plain, 0));
	}

	private static double median(List<double[]> samples, int column) {
		double[] values = samples.stream().mapToDouble(v -> v[column]).sorted().toArray();
		return values.length % 2 == 1 ? values[values.length / 2] : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
	}

	/** What one server run measured. */
	private static final class Run {
		final String name;
		Stats generated;
		String generatedFailure;
		double[] export;
		double startupSeconds;
		long rssAfterStartup;
		long rssAfterLoad;
		final Stats firstRequest = new Stats();
		Stats load;
		Imported imported;
		BenchScale.Result scaled;
		boolean startupAfterScale;
		long observationsInDatabase;
		Map<String, Stats> results = new LinkedHashMap<>();

		Run(String name) {
			this.name = name;
		}
	}

	private void report(Run ours, Run baseline) {
		System.out.println();
		System.out.printf(Locale.ROOT, "## NSSI FHIR Server benchmark (%d Observations in the database when the workloads ran; %d CPU cores)%n%n",
				ours.observationsInDatabase, Runtime.getRuntime().availableProcessors());
		System.out.println("| measure | ours | baseline |");
		System.out.println("| --- | --- | --- |");
		String na = "n/a";
		// ours starts on the fresh database and installs the package; the baseline starts on the same database after
		// it (package installed). For startup alone, with the package installed in both, use --startup-runs.
		System.out.printf(Locale.ROOT, "| startup to readiness (ours: %s; baseline: package installed) | %.1f s | %s |%n",
				args.containsKey("reuse-data") ? "package installed"
						: ours.startupAfterScale ? "package installed, scaled database" : "fresh database, installs the package", ours.startupSeconds,
				baseline == null ? na : String.format(Locale.ROOT, "%.1f s", baseline.startupSeconds));
		System.out.printf(Locale.ROOT, "| RSS after startup | %d MiB | %s |%n", ours.rssAfterStartup / 1024, baseline == null ? na : baseline.rssAfterStartup / 1024 + " MiB");
		System.out.printf(Locale.ROOT, "| RSS after load | %d MiB | %s |%n", ours.rssAfterLoad / 1024, baseline == null ? na : baseline.rssAfterLoad / 1024 + " MiB");
		System.out.printf(Locale.ROOT, "| first request after readiness (create nssi-episode) | %.1f ms | |%n", ours.firstRequest.percentileMillis(50));
		if (ours.load != null) {
			System.out.printf(Locale.ROOT, "| cohort load (transactions of up to %d entries, 8 clients) | %.0f resources/s | |%n", loadChunk, ours.load.perSecond());
			if (ours.generated != null) {
				System.out.printf(Locale.ROOT, "| generated cohort load (one transaction per person + $extract, 4 clients) | %.0f resources/s | |%n", ours.generated.perSecond());
			} else {
				System.out.printf(Locale.ROOT, "| generated cohort load | failed: %s | |%n", ours.generatedFailure.length() > 300 ? ours.generatedFailure.substring(0, 300) : ours.generatedFailure);
			}
		} else {
			System.out.println("| data | reused from an earlier run (--reuse-data) | |");
		}
		if (ours.imported != null) {
			Imported b = baseline == null ? null : baseline.imported;
			System.out.printf(Locale.ROOT, "| bulk $import, cohort generator NDJSON (ours: %d people, %d resources in %.0f s; baseline: %s) | %.0f resources/s | %s |%n",
					ours.imported.people(), ours.imported.resources(), ours.imported.seconds(),
					b == null ? na : String.format(Locale.ROOT, "%d people, %d resources in %.0f s", b.people(), b.resources(), b.seconds()),
					ours.imported.perSecond(), b == null ? na : String.format(Locale.ROOT, "%.0f resources/s", b.perSecond()));
		}
		if (ours.scaled != null) {
			System.out.printf(Locale.ROOT, "| scaled in PostgreSQL (BenchScale): %d copies of the %d-Observation seed, %.0f s | %d Observations | |%n",
					ours.scaled.copies(), ours.scaled.seedObservations(), ours.scaled.seconds(), ours.scaled.observationsAfter());
		}
		if (ours.export != null) {
			System.out.printf(Locale.ROOT, "| bulk $export (system): %.0f resources, kick-off to complete %.1f s | %.0f resources/s | |%n",
					ours.export[0], ours.export[1], ours.export[0] / ours.export[1]);
			System.out.printf(Locale.ROOT, "| bulk $export including the NDJSON downloads (%.1f s) | %.0f resources/s | |%n", ours.export[2], ours.export[0] / ours.export[2]);
		} else if (!args.containsKey("no-export")) {
			System.out.println("| bulk $export | failed (see above) | |");
		}
		System.out.println();
		System.out.println("| workload | clients | requests | req/s | p50 ms | p95 ms | p99 ms | baseline req/s | baseline p95 ms | throughput ours/baseline | p95 ours/baseline | audit drained after s |");
		System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
		for (Map.Entry<String, Stats> e : ours.results.entrySet()) {
			Stats s = e.getValue();
			Stats b = baseline == null ? null : baseline.results.get(e.getKey());
			String[] nameAndClients = e.getKey().split(" @", 2);
			System.out.printf(Locale.ROOT, "| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %s | %s | %s | %s | %s |%n", nameAndClients[0], nameAndClients[1], s.count(),
					s.perSecond(), s.percentileMillis(50), s.percentileMillis(95), s.percentileMillis(99),
					b == null ? na : String.format(Locale.ROOT, "%.1f", b.perSecond()),
					b == null ? na : String.format(Locale.ROOT, "%.1f", b.percentileMillis(95)),
					b == null ? na : String.format(Locale.ROOT, "%.2f", s.perSecond() / b.perSecond()),
					b == null ? na : String.format(Locale.ROOT, "%.2f", s.percentileMillis(95) / b.percentileMillis(95)),
					Double.isNaN(s.auditDrainSeconds) ? na : String.format(Locale.ROOT, "%.2f", s.auditDrainSeconds));
		}
		targets(ours, baseline);
	}

	/** The issue's targets, each with ours, the baseline (same run) and the ratio, and whether it is met. */
	private void targets(Run ours, Run baseline) {
		System.out.println();
		System.out.println("| target (issue 21) | ours | baseline | ratio ours/baseline | target | met |");
		System.out.println("| --- | --- | --- | --- | --- | --- |");
		Map<String, Stats> o = ours.results;
		Map<String, Stats> b = baseline == null ? Map.of() : baseline.results;
		Stats metadata = o.get("GET /metadata @1");
		Stats read = o.get("read Patient (system token) @1");
		if (metadata != null && read != null) {
			double m = metadata.percentileMillis(50);
			row("/metadata median", m, b.get("GET /metadata @1") == null ? Double.NaN : b.get("GET /metadata @1").percentileMillis(50), "ms",
					"<= 20 ms and <= 2x a Patient read (" + fmt(read.percentileMillis(50)) + " ms here: " + fmt(m / read.percentileMillis(50)) + "x)",
					m <= 20 && m <= 2 * read.percentileMillis(50));
		}
		for (String clients : new String[] {"@1", "@8"}) {
			throughput(o, b, "SMART patient token: read own Patient " + clients, "patient-token read throughput " + clients + " (" + ours.observationsInDatabase + " Observations)",
					clients.equals("@8") ? 0.7 : Double.NaN);
		}
		p95(o, b, "episode timeline search (patient, code, _sort=-date) @1", "timeline search p95 serial", 60);
		p95(o, b, "$nssi-summary, 260 weekly episodes @1", "$nssi-summary p95 serial", 50);
		for (String clients : new String[] {"@1", "@8"}) {
			throughput(o, b, "create nssi-episode (validated + labelled) " + clients, "validated NSSI create throughput " + clients, 0.8);
			throughput(o, b, "submit PHQ-9 response + $extract " + clients, "PHQ-9 + $extract throughput " + clients, 0.8);
		}
		double lag = 0;
		for (String w : List.of("create nssi-episode (validated + labelled) @8", "submit PHQ-9 response + $extract @8", "transaction ingest, 1 patient + 10 obs @8")) {
			if (o.get(w) != null && !Double.isNaN(o.get(w).auditDrainSeconds)) {
				lag = Math.max(lag, o.get(w).auditDrainSeconds);
			}
		}
		row("audit lag after the 8-client write workloads", lag, Double.NaN, "s", "<= 5 s", lag <= 5);
		row("startup to readiness", ours.startupSeconds, baseline == null ? Double.NaN : baseline.startupSeconds, "s", "<= 35 s on an existing database", ours.startupSeconds <= 35);
		row("RSS after the workloads", ours.rssAfterLoad / 1024.0, baseline == null ? Double.NaN : baseline.rssAfterLoad / 1024.0, "MiB", "<= 1.2 GiB (1229 MiB)", ours.rssAfterLoad / 1024.0 <= 1229);
		if (ours.imported != null) {
			double rest = ours.load == null ? Double.NaN : ours.load.perSecond();
			double restCohort = ours.generated == null ? Double.NaN : ours.generated.perSecond();
			Imported bi = baseline == null ? null : baseline.imported;
			double ratio = bi == null ? Double.NaN : ours.imported.perSecond() / bi.perSecond();
			row("bulk $import rate vs the baseline's (HAPI's import, our layers off)", ours.imported.perSecond(), bi == null ? Double.NaN : bi.perSecond(), "resources/s",
					">= 0.5x baseline", ratio >= 0.5);
			System.out.printf(Locale.ROOT, "| bulk $import rate vs REST load in this run (ours) | %.0f resources/s | REST: %.0f resources/s (transactions of %d, 8 clients), %.0f resources/s (cohort people, transaction + $extract, 4 clients) | %.1fx REST, %.1fx REST cohort | >= 10x REST | %s |%n",
					ours.imported.perSecond(), rest, loadChunk, restCohort, ours.imported.perSecond() / rest, ours.imported.perSecond() / restCohort,
					ours.imported.perSecond() >= 10 * rest ? "yes" : "no");
		}
	}

	private static String fmt(double v) {
		return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.1f", v);
	}

	private static void row(String name, double ours, double baseline, String unit, String target, boolean met) {
		System.out.printf(Locale.ROOT, "| %s | %s %s | %s | %s | %s | %s |%n", name, fmt(ours), unit,
				Double.isNaN(baseline) ? "n/a" : fmt(baseline) + " " + unit, Double.isNaN(baseline) ? "n/a" : fmt(ours / baseline), target, met ? "yes" : "no");
	}

	private static void throughput(Map<String, Stats> o, Map<String, Stats> b, String workload, String name, double minRatio) {
		Stats s = o.get(workload);
		if (s == null) {
			return;
		}
		double base = b.get(workload) == null ? Double.NaN : b.get(workload).perSecond();
		double ratio = s.perSecond() / base;
		System.out.printf(Locale.ROOT, "| %s | %.1f req/s (p95 %.1f ms) | %s | %s | %s | %s |%n", name, s.perSecond(), s.percentileMillis(95),
				Double.isNaN(base) ? "n/a" : String.format(Locale.ROOT, "%.1f req/s (p95 %.1f ms)", base, b.get(workload).percentileMillis(95)),
				fmt(ratio), Double.isNaN(minRatio) ? "(reported)" : ">= " + minRatio + "x", Double.isNaN(minRatio) ? "" : ratio >= minRatio ? "yes" : "no");
	}

	private static void p95(Map<String, Stats> o, Map<String, Stats> b, String workload, String name, double maxMillis) {
		Stats s = o.get(workload);
		if (s == null) {
			return;
		}
		double base = b.get(workload) == null ? Double.NaN : b.get(workload).percentileMillis(95);
		row(name, s.percentileMillis(95), base, "ms", "<= " + (int) maxMillis + " ms", s.percentileMillis(95) <= maxMillis);
	}

	/** Runs a workload unless {@code --workloads REGEX} leaves it out (to profile one workload on a loaded database). */
	private void put(Map<String, Stats> out, String name, java.util.concurrent.Callable<Stats> workload) throws Exception {
		String only = args.get("workloads");
		if (only == null || java.util.regex.Pattern.compile(only).matcher(name).find()) {
			out.put(name, workload.call());
		}
	}

	/** The issue's workloads, each serially and with 8 clients. {@code smart}: patient-scoped SMART tokens for the SMART rows. */
	private Map<String, Stats> workloads(List<String> patientIds, String summaryPatient, int requests, boolean smart) throws Exception {
		Map<String, Stats> out = new LinkedHashMap<>();
		String cs = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
		int offset = smart ? 0 : 1_000_000; // different synthetic episodes in the second run
		// treatment: one active plan per patient, so each stored plan gets a patient (with an NSSI Condition) of its own
		int applies = Math.max(16, requests / 10);
		List<String> treated = new ArrayList<>();
		for (int i = 0; i < applies * 2; i++) {
			String patient = createPatient();
			post("/Condition", nssiCondition(patient));
			treated.add(patient);
		}
		IntFunction<String> applyBody = i -> "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"subject\",\"valueString\":\""
				+ treated.get(i) + "\"}]}";
		for (int clients : new int[] {1, 8}) {
			String at = " @" + clients;
			put(out, "GET /metadata" + at, () -> repeat(requests, clients, i -> () -> getAs("/metadata", null)));
			put(out, "read Patient (system token)" + at, () -> repeat(requests, clients, i -> () -> get("/" + pick(patientIds, i))));
			put(out, "create nssi-episode (validated + labelled)" + at, () ->
					repeat(requests, clients, i -> () -> post("/Observation", episode(pick(patientIds, i), offset + i))));
			put(out, "transaction ingest, 1 patient + 10 obs" + at, () -> repeat(Math.max(16, requests / 10), clients, i -> () -> post("", transaction(10))));
			put(out, "episode timeline search (patient, code, _sort=-date)" + at, () -> repeat(requests, clients,
					i -> () -> get("/Observation?subject=" + pick(patientIds, i) + "&code=" + cs + "%7Cnssi-episode&_sort=-date&_count=50")));
			put(out, "$nssi-summary, 260 weekly episodes" + at, () -> repeat(requests, clients, i -> () -> get("/" + summaryPatient + "/$nssi-summary")));
			put(out, "Patient/$everything (_count=50)" + at, () -> repeat(Math.max(16, requests / 4), clients,
					i -> () -> get("/" + pick(patientIds, i) + "/$everything?_count=50")));
			put(out, "submit PHQ-9 response + $extract" + at, () -> repeat(Math.max(16, requests / 4), clients, i -> () -> {
				String qr = postForLocation("/QuestionnaireResponse", phq9(pick(patientIds, i), offset + i));
				post("/" + qr + "/$extract", "{\"resourceType\":\"Parameters\"}");
			}));
			int firstPatient = clients == 1 ? 0 : applies;
			put(out, "PlanDefinition/$apply DBT, proposal (CQL)" + at, () -> repeat(applies, clients,
					i -> () -> post("/PlanDefinition/nssi-dbt/$apply", applyBody.apply(firstPatient + i % applies))));
			put(out, "PlanDefinition/$apply DBT, persist=true" + at, () -> repeat(applies, clients, i -> () -> post("/PlanDefinition/nssi-dbt/$apply",
					applyBody.apply(firstPatient + i % applies).replace("]}", ",{\"name\":\"persist\",\"valueBoolean\":true}]}"))));
			put(out, "SMART patient token: read own Patient" + at, () -> repeat(requests, clients,
					i -> () -> getAs("/" + pick(patientIds, i), smart ? patientToken(pick(patientIds, i)) : null)));
			put(out, "SMART patient token: search own Observations" + at, () -> repeat(requests, clients,
					i -> () -> getAs("/Observation?patient=" + pick(patientIds, i) + "&_count=50", smart ? patientToken(pick(patientIds, i)) : null)));
		}
		return out;
	}

	/**
	 * A system/*.cruds token from the server's own authorization server: the dev client on the embedded database
	 * (secret next to its data directory), or {@code --client-id}/{@code --client-secret} of a configured client.
	 */
	private String token(int port) throws Exception {
		String clientId = args.getOrDefault("client-id", "nssi-bench");
		String secret = args.getOrDefault("client-secret", BENCH_SECRET);
		HttpResponse<String> r = http.send(
				HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth2/token"))
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

	private Process startServer(Path jar, int port) throws IOException {
		return startServer(jar, port, false);
	}

	/**
	 * The baseline: the same jar with the bench classes on its class path and {@link BenchmarkBaseline} as an extra
	 * Spring source, security off. The application itself knows nothing of the baseline.
	 */
	private Process startBaseline(Path jar, int port) throws IOException {
		return startServer(jar, port, true, "--nssi.security.enabled=false",
				"--spring.main.sources=" + BenchmarkBaseline.class.getName());
	}

	private Process startServer(Path jar, int port, boolean withBenchClasses, String... extraArgs) throws IOException {
		if (!Files.exists(jar)) {
			throw new IllegalStateException("No server jar at " + jar + "; run src/bench/run.sh, which builds it");
		}
		List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
				"-Xmx" + args.getOrDefault("server-heap", "2g")));
		String jvmOptions = args.getOrDefault("server-jvm-options", "");
		if (!jvmOptions.isBlank()) {
			command.addAll(List.of(jvmOptions.trim().split("\\s+")));
		}
		command.addAll(withBenchClasses ? launchWithBenchClasses(jar) : List.of("-jar", jar.toString()));
		command.addAll(List.of("--server.port=" + port,
				// a backend client for the bench's system token, and a signing key file the bench can read to sign
				// patient-scoped SMART tokens (as the server's authorization server would after a launch)
				"--nssi.security.clients[0].client-id=nssi-bench",
				"--nssi.security.clients[0].client-secret=" + BENCH_SECRET,
				"--nssi.security.clients[0].scopes[0]=system/*.cruds",
				"--nssi.security.signing-key-file=" + signingKeyFile().toAbsolutePath(),
				// $import fetches the cohort's NDJSON from the bench's own file server on loopback
				"--nssi.integration.import-sources=" + ndjsonBase()));
		String dataDir = args.get("data-dir");
		if (dataDir != null) {
			command.add("--nssi.db.embedded-data-dir=" + dataDir);
		}
		command.addAll(List.of(extraArgs));
		ProcessBuilder builder = new ProcessBuilder(command);
		builder.redirectErrorStream(true);
		builder.redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of(args.getOrDefault("server-log", "target/bench/server.log")).toFile()));
		serverStarted = System.nanoTime();
		return builder.start();
	}

	/**
	 * The java arguments that start {@code jar} with the directory the bench classes were loaded from on its class
	 * path: the packaged jar through Spring Boot's PropertiesLauncher ({@code loader.path}), the extracted jar of
	 * {@code --cds} (plain jar, its libraries in its manifest's Class-Path) with {@code -cp} and its Main-Class.
	 */
	private static List<String> launchWithBenchClasses(Path jar) throws IOException {
		String benchClasses;
		try {
			benchClasses = Path.of(BenchmarkBaseline.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
		} catch (java.net.URISyntaxException e) {
			throw new IllegalStateException("bench classes location", e);
		}
		java.util.jar.Attributes manifest;
		try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
			manifest = file.getManifest().getMainAttributes();
		}
		if (manifest.getValue("Start-Class") != null) {
			return List.of("-Dloader.path=" + benchClasses, "-cp", jar.toString(), "org.springframework.boot.loader.launch.PropertiesLauncher");
		}
		return List.of("-cp", jar + java.io.File.pathSeparator + benchClasses, manifest.getValue("Main-Class"));
	}

	/** Waits for readiness; returns the seconds from the server process start to readiness. */
	private double awaitReady(int port, Duration timeout) throws Exception {
		long deadline = System.nanoTime() + timeout.toNanos();
		URI readiness = URI.create("http://localhost:" + port + "/actuator/health/readiness");
		while (System.nanoTime() < deadline) {
			try {
				HttpResponse<String> r = http.send(HttpRequest.newBuilder(readiness).build(), HttpResponse.BodyHandlers.ofString());
				if (r.statusCode() == 200) {
					return (System.nanoTime() - serverStarted) / 1e9;
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

	/**
	 * Over the API, on the scaled database: the last copy of the first seed patient has exactly the seed patient's
	 * Observations, episodes and $everything size, so the copies are data the server reads as it reads what it wrote.
	 */
	private void verifyCopies(List<String> patientIds, BenchScale.Result scaled) throws Exception {
		// the first patient with a server-assigned id: imported people keep their own ids and are not copied
		String seed = patientIds.stream().filter(ref -> ref.matches("Patient/\\d+")).findFirst()
				.orElseThrow(() -> new IllegalStateException("No copied patient to verify"));
		String copy = "Patient/" + (scaled.copies() * scaled.idShift() + Long.parseLong(seed.substring("Patient/".length())));
		for (String query : List.of("/Observation?subject=%s&_summary=count",
				"/Observation?subject=%s&code=https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs%%7Cnssi-episode&_summary=count")) {
			long a = total(get(String.format(Locale.ROOT, query, seed)));
			long b = total(get(String.format(Locale.ROOT, query, copy)));
			if (a == 0 || a != b) {
				throw new IllegalStateException("Copied data differs from its seed: " + query + " gives " + a + " for " + seed + " and " + b + " for " + copy);
			}
		}
		System.out.printf(Locale.ROOT, "copies verified over the API: %s and its copy %s have the same Observations%n", seed, copy);
	}

	private static long total(String bundle) throws IOException {
		return new com.fasterxml.jackson.databind.ObjectMapper().readTree(bundle).path("total").asLong(-1);
	}

	private Stats loadCohort(int patients, int obsPerPatient, List<String> patientIds) throws Exception {
		Stats stats = new Stats();
		List<String> ids = java.util.Collections.synchronizedList(patientIds);
		ExecutorService pool = Executors.newFixedThreadPool(8);
		AtomicInteger resources = new AtomicInteger();
		AtomicInteger patientsLoaded = new AtomicInteger();
		long start = System.nanoTime();
		List<Future<?>> futures = new ArrayList<>();
		for (int p = 0; p < patients; p++) {
			futures.add(pool.submit(() -> {
				// the patient and its first observations, then the rest in transactions that stay under the
				// server's bundle-entry limit (nssi.limits.max-bundle-entries, 500)
				int first = Math.min(obsPerPatient, loadChunk - 1);
				long t0 = System.nanoTime();
				String patient = firstPatientLocation(post("", cohortTransaction(first)));
				stats.add(System.nanoTime() - t0);
				for (int done = first; done < obsPerPatient; done += loadChunk) {
					int n = Math.min(loadChunk, obsPerPatient - done);
					long t1 = System.nanoTime();
					post("", observationsTransaction(patient, done, n));
					stats.add(System.nanoTime() - t1);
				}
				ids.add(patient);
				resources.addAndGet(obsPerPatient + 1);
				int loaded = patientsLoaded.incrementAndGet();
				if (loaded % 50 == 0) {
					System.out.printf(Locale.ROOT, "loaded %d of %d patients (%d resources, %.0f s)%n", loaded, patients,
							resources.get(), (System.nanoTime() - start) / 1e9);
				}
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
		if (authorization != null) {
			// audit records are stored off the request path (AuditOutbox): how long the last ones waited shows
			// whether the drain keeps up with this load
			stats.auditDrainSeconds = awaitAuditOutboxEmpty(Duration.ofMinutes(5));
		}
		return stats;
	}

	private java.sql.Connection database;

	/**
	 * Audit records waiting to be stored (not those refused for good: attempts below AuditOutboxDrain.MAX_ATTEMPTS, 5);
	 * -1 without a database URL or outbox.
	 */
	private long auditOutboxWaiting() throws Exception {
		if (System.getenv("NSSI_DB_URL") == null) {
			return -1;
		}
		if (database == null || database.isClosed()) {
			database = java.sql.DriverManager.getConnection(System.getenv("NSSI_DB_URL"), System.getenv("NSSI_DB_USERNAME"), System.getenv("NSSI_DB_PASSWORD"));
		}
		try (java.sql.Statement s = database.createStatement();
				java.sql.ResultSet r = s.executeQuery("SELECT count(*) FROM nssi_audit_outbox WHERE attempts < 5")) {
			r.next();
			return r.getLong(1);
		} catch (java.sql.SQLException noOutbox) {
			return -1; // a server from before the outbox
		}
	}

	/** Seconds until no audit record waits in {@code nssi_audit_outbox}; NaN without a database URL or outbox. */
	private double awaitAuditOutboxEmpty(Duration timeout) throws Exception {
		long start = System.nanoTime();
		while (System.nanoTime() - start < timeout.toNanos()) {
			long waiting = auditOutboxWaiting();
			if (waiting < 0) {
				return Double.NaN;
			}
			if (waiting == 0) {
				return (System.nanoTime() - start) / 1e9;
			}
			Thread.sleep(20);
		}
		// reported, not fatal: the workloads' figures still print
		System.out.println("WARNING: the audit outbox did not drain within " + timeout);
		return Double.NaN;
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

	private HttpRequest.Builder request(String path, String token) {
		HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(2));
		return token == null ? builder : builder.header("Authorization", token);
	}

	private HttpResponse<String> send(String path, String body) throws Exception {
		HttpResponse<String> r = http.send(
				request(path, authorization)
						.header("Content-Type", JSON)
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
		return getAs(path, authorization);
	}

	private String getAs(String path, String token) throws Exception {
		HttpResponse<String> r = http.send(request(path, token).header("Accept", JSON).build(), HttpResponse.BodyHandlers.ofString());
		if (r.statusCode() != 200) {
			throw new IllegalStateException("GET -> " + r.statusCode());
		}
		return r.body();
	}

	private Path signingKeyFile() {
		return Path.of(args.getOrDefault("signing-key-file", "target/bench/signing-key.jwk.json"));
	}

	/** A patient-scoped SMART token for the patient's own app (patient context + fhirUser), signed with the server's key. */
	private String patientToken(String patientRef) {
		return patientTokens.computeIfAbsent(patientRef, ref -> {
			try {
				if (signingKey == null) {
					signingKey = com.nimbusds.jose.jwk.RSAKey.parse(Files.readString(signingKeyFile()));
				}
				String id = ref.substring(ref.indexOf('/') + 1);
				com.nimbusds.jwt.JWTClaimsSet claims = new com.nimbusds.jwt.JWTClaimsSet.Builder()
						.issuer("http://localhost").subject("bench-patient-" + id).audience(base)
						.claim("client_id", "nssi-bench-app").claim("scope", "patient/*.rs launch/patient openid fhirUser")
						.claim("patient", id).claim("fhirUser", base + "/" + ref)
						.jwtID(UUID.randomUUID().toString()).issueTime(new java.util.Date())
						.expirationTime(java.util.Date.from(java.time.Instant.now().plusSeconds(3600))).build();
				com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
						new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256).keyID(signingKey.getKeyID()).build(), claims);
				jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(signingKey));
				return "Bearer " + jwt.serialize();
			} catch (Exception e) {
				throw new IllegalStateException("Cannot sign a patient token with " + signingKeyFile(), e);
			}
		});
	}

	private String postForLocation(String path, String body) throws Exception {
		HttpResponse<String> r = send(path, body);
		String location = r.headers().firstValue("Location").orElseThrow();
		String type = path.substring(1);
		return location.substring(location.indexOf(type + "/")).replaceAll("/_history/.*", "");
	}

	private String createPatient() throws Exception {
		HttpResponse<String> r = http.send(
				request("/Patient", authorization)
						.header("Content-Type", JSON)
						.POST(HttpRequest.BodyPublishers.ofString(patient()))
						.build(),
				HttpResponse.BodyHandlers.ofString());
		String location = r.headers().firstValue("Location").orElseThrow();
		return location.substring(location.indexOf("Patient/")).replaceAll("/_history/.*", "");
	}

	/** Entries per load transaction ({@code --load-chunk}, default 250: 80 resources/s against 57 at 50; at most the server's bundle-entry limit). */
	private int loadChunk = 250;

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
			// the LOINC answers of list LL358-3, as the PHQ-9 asks since package 0.6.0
			String code = new String[] {"LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"}[score];
			items.append(item == 1 ? "" : ",").append("{\"linkId\":\"phq9-item-").append(item)
					.append("\",\"answer\":[{\"valueCoding\":{\"system\":\"http://loinc.org\",\"code\":\"").append(code).append("\"}}]}");
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

	/** One patient and its observations, every tenth a validated nssi-episode (what the timeline search finds). */
	private static String cohortTransaction(int observations) {
		String patientUrn = "urn:uuid:" + UUID.randomUUID();
		StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
		sb.append("{\"fullUrl\":\"").append(patientUrn).append("\",\"resource\":").append(patient())
				.append(",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}");
		for (int i = 0; i < observations; i++) {
			String resource = i % 10 == 0 ? episode(patientUrn, i) : observation(patientUrn, i);
			sb.append(",{\"resource\":").append(resource).append(",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}");
		}
		return sb.append("]}").toString();
	}

	/** More observations for a stored patient; every tenth a validated NSSI episode, as in the first transaction. */
	private static String observationsTransaction(String patient, int from, int count) {
		StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
		for (int i = from; i < from + count; i++) {
			String resource = i % 10 == 0 ? episode(patient, i) : observation(patient, i);
			sb.append(i == from ? "" : ",").append("{\"resource\":").append(resource)
					.append(",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}");
		}
		return sb.append("]}").toString();
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


	/**
	 * The synthetic cohort (cohort/CohortGenerator: years of varied NSSI history per person), one transaction per
	 * person from 4 clients, then $extract of each person's questionnaire responses. Resources/s counts what the
	 * transactions stored.
	 */
	private Stats loadGeneratedCohort(int patients, List<String> patientIds) throws Exception {
		Stats stats = new Stats();
		List<String> ids = java.util.Collections.synchronizedList(patientIds);
		ExecutorService pool = Executors.newFixedThreadPool(4);
		AtomicInteger resources = new AtomicInteger();
		ca.uhn.fhir.context.FhirContext fhir = ca.uhn.fhir.context.FhirContext.forR4Cached();
		List<org.nssifhir.server.cohort.CohortGenerator.PatientHistory> people =
				new org.nssifhir.server.cohort.CohortGenerator(java.time.LocalDate.now(java.time.ZoneOffset.UTC), intArg("years", 4))
						.generate(patients, Long.parseLong(args.getOrDefault("seed", "1")));
		long start = System.nanoTime();
		List<Future<?>> futures = new ArrayList<>();
		for (org.nssifhir.server.cohort.CohortGenerator.PatientHistory person : people) {
			futures.add(pool.submit(() -> {
				long t0 = System.nanoTime();
				String response = post("", fhir.newJsonParser().encodeResourceToString(person.transaction()));
				org.hl7.fhir.r4.model.Bundle stored = fhir.newJsonParser().parseResource(org.hl7.fhir.r4.model.Bundle.class, response);
				List<String> locations = org.nssifhir.server.cohort.CohortLoader.locations(stored);
				for (int index : person.responsesToExtract()) {
					post("/" + locations.get(index) + "/$extract", "{\"resourceType\":\"Parameters\"}");
				}
				stats.add(System.nanoTime() - t0);
				ids.add(locations.get(0));
				resources.addAndGet(person.resourceCount());
				return null;
			}));
		}
		for (Future<?> f : futures) {
			f.get();
		}
		stats.finish(System.nanoTime() - start, resources.get());
		loadedResources = resources.get();
		pool.shutdown();
		return stats;
	}


	/**
	 * Bulk Data $export of the cohort (system level, the clinical types): kick-off until the manifest is complete,
	 * then the NDJSON downloads. Resources/s = resources in the files / seconds from kick-off to complete.
	 */
	private double[] bulkExport() throws Exception {
		long t0 = System.nanoTime();
		HttpResponse<String> kickOff = http.send(HttpRequest.newBuilder(URI.create(base + "/$export?_type=Patient,Observation,Condition,QuestionnaireResponse,Flag,Task"))
				.header("Authorization", authorization).header("Prefer", "respond-async").header("Accept", JSON).GET().build(), HttpResponse.BodyHandlers.ofString());
		if (kickOff.statusCode() != 202) {
			throw new IllegalStateException("$export -> " + kickOff.statusCode() + ": " + kickOff.body());
		}
		String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
		HttpResponse<String> poll;
		do {
			Thread.sleep(500);
			poll = http.send(HttpRequest.newBuilder(URI.create(status)).header("Authorization", authorization).GET().build(), HttpResponse.BodyHandlers.ofString());
		} while (poll.statusCode() == 202);
		if (poll.statusCode() != 200) {
			throw new IllegalStateException("$export-poll-status -> " + poll.statusCode());
		}
		double exportSeconds = (System.nanoTime() - t0) / 1e9;
		long resources = 0;
		for (com.fasterxml.jackson.databind.JsonNode file : new com.fasterxml.jackson.databind.ObjectMapper().readTree(poll.body()).path("output")) {
			HttpResponse<java.util.stream.Stream<String>> lines = http.send(HttpRequest.newBuilder(URI.create(file.path("url").asText()))
					.header("Authorization", authorization).header("Accept", "application/fhir+ndjson").GET().build(), HttpResponse.BodyHandlers.ofLines());
			resources += lines.body().filter(l -> !l.isBlank()).count();
		}
		double totalSeconds = (System.nanoTime() - t0) / 1e9;
		return new double[] {resources, exportSeconds, totalSeconds};
	}

	private long loadedResources;

	// ---- bulk import -----------------------------------------------------------------------------------------------

	/** Seed of the cohort our server imports; the baseline imports seed + 1 (other ids, same kind of people). */
	private static final long IMPORT_SEED = 101;

	/** What one $import stored: resources, seconds from kick-off to the completed report, HAPI's report. */
	record Imported(int people, long resources, double seconds, String report) {
		double perSecond() {
			return resources / seconds;
		}
	}

	private com.sun.net.httpserver.HttpServer files;
	private final Path ndjsonRoot = Path.of("target/bench/ndjson");

	/** The bench's NDJSON file server on loopback (started once): the import source the servers are allowed to read. */
	private synchronized String ndjsonBase() {
		if (files == null) {
			try {
				files = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
			} catch (IOException e) {
				throw new java.io.UncheckedIOException(e);
			}
			files.createContext("/", exchange -> {
				Path file = ndjsonRoot.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
				if (!file.startsWith(ndjsonRoot) || !Files.isRegularFile(file)) {
					exchange.sendResponseHeaders(404, -1);
					exchange.close();
					return;
				}
				exchange.getResponseHeaders().add("Content-Type", "application/fhir+ndjson");
				exchange.sendResponseHeaders(200, Files.size(file));
				try (java.io.OutputStream out = exchange.getResponseBody()) {
					Files.copy(file, out);
				}
			});
			files.setExecutor(Executors.newFixedThreadPool(4));
			files.start();
		}
		return "http://127.0.0.1:" + files.getAddress().getPort() + "/";
	}

	/**
	 * Writes people 1..{@code people} of {@code seed} from the cohort generator as NDJSON (one file per type), then
	 * imports them with {@code $import} (system token on our server, none on the baseline) and waits for the report.
	 * The rate is resources stored / seconds from kick-off to the completed report (the fetch, every chunk's
	 * transaction and the job's step changes included).
	 */
	private Imported importCohort(long seed, int people) throws Exception {
		Path dir = ndjsonRoot.resolve("seed-" + seed + "-" + people);
		Map<String, Integer> counts;
		if (Files.isDirectory(dir) && Files.exists(dir.resolve("counts.txt"))) {
			counts = new LinkedHashMap<>();
			for (String line : Files.readAllLines(dir.resolve("counts.txt"))) {
				String[] kv = line.split("=");
				counts.put(kv[0], Integer.parseInt(kv[1]));
			}
		} else {
			long t0 = System.nanoTime();
			counts = new org.nssifhir.server.cohort.CohortNdjson(
					new org.nssifhir.server.cohort.CohortGenerator(java.time.LocalDate.now(java.time.ZoneOffset.UTC), intArg("years", 4)),
					ca.uhn.fhir.context.FhirContext.forR4Cached()).write(seed, 1, people, dir);
			List<String> lines = new ArrayList<>();
			counts.forEach((k, v) -> lines.add(k + "=" + v));
			Files.write(dir.resolve("counts.txt"), lines);
			System.out.printf(Locale.ROOT, "cohort NDJSON for %d people written in %.1f s: %s%n", people, (System.nanoTime() - t0) / 1e9, counts);
		}
		long resources = counts.values().stream().mapToLong(Integer::longValue).sum();
		StringBuilder manifest = new StringBuilder("{\"resourceType\":\"Parameters\",\"parameter\":["
				+ "{\"name\":\"inputFormat\",\"valueString\":\"application/fhir+ndjson\"},"
				+ "{\"name\":\"inputSource\",\"valueUri\":\"" + ndjsonBase() + "\"},"
				+ "{\"name\":\"storageDetail\",\"part\":[{\"name\":\"type\",\"valueString\":\"https\"}]}");
		for (String type : counts.keySet()) {
			manifest.append(",{\"name\":\"input\",\"part\":[{\"name\":\"type\",\"valueString\":\"").append(type)
					.append("\"},{\"name\":\"url\",\"valueUri\":\"").append(ndjsonBase()).append(dir.getFileName()).append('/').append(type).append(".ndjson\"}]}");
		}
		manifest.append("]}");
		long t0 = System.nanoTime();
		HttpRequest.Builder kick = request("/$import", authorization).header("Content-Type", JSON).header("Prefer", "respond-async")
				.POST(HttpRequest.BodyPublishers.ofString(manifest.toString()));
		HttpResponse<String> started = http.send(kick.build(), HttpResponse.BodyHandlers.ofString());
		if (started.statusCode() != 202) {
			throw new IllegalStateException("$import -> " + started.statusCode() + ": " + started.body());
		}
		String poll = started.headers().firstValue("Content-Location").orElseThrow();
		HttpResponse<String> status;
		long lastPrint = System.nanoTime();
		do {
			Thread.sleep(1000);
			HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(poll)).timeout(Duration.ofMinutes(2));
			if (authorization != null) {
				r.header("Authorization", authorization);
			}
			status = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
			if (System.nanoTime() - lastPrint > 60e9) {
				lastPrint = System.nanoTime();
				System.out.printf(Locale.ROOT, "import of %d resources running for %.0f s%n", resources, (lastPrint - t0) / 1e9);
			}
		} while (status.statusCode() == 202);
		double seconds = (System.nanoTime() - t0) / 1e9;
		String report = status.body();
		java.util.regex.Matcher stored = java.util.regex.Pattern.compile("Storage Actions : (\\d+)").matcher(report);
		if (status.statusCode() != 200) {
			System.out.println("WARNING: $import ended with " + status.statusCode() + ": "
					+ report.substring(0, Math.min(2000, report.length())));
		}
		long storedCount = stored.find() ? Long.parseLong(stored.group(1)) : resources;
		System.out.printf(Locale.ROOT, "$import of %d people (%d resources in the files, %d stored) in %.1f s: %.0f resources/s%n",
				people, resources, storedCount, seconds, storedCount / seconds);
		return new Imported(people, storedCount, seconds, report);
	}
}
