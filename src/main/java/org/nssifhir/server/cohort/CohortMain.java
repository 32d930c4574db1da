package org.nssifhir.server.cohort;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The synthetic cohort generator as a command:
 * <pre>
 * java -cp target/nssi-fhir-server.jar -Dloader.main=org.nssifhir.server.cohort.CohortMain \
 *      org.springframework.boot.loader.launch.PropertiesLauncher --patients 50 --seed 7 --out target/cohort
 * ... --patients 50 --seed 7 --server http://localhost:8080/fhir --token "$TOKEN"
 * </pre>
 * {@code --out} writes one transaction Bundle per person ({@code patient-00001.json}; POST each to the FHIR base,
 * then {@code $extract} its QuestionnaireResponses). {@code --server} loads them straight into a running server
 * with a bearer token that may write ({@code system/*.cruds}); people already there are skipped.
 * {@code --today YYYY-MM-DD} fixes the date histories end on (default: today), for byte-identical output.
 * {@code --ndjson DIR} writes the cohort as Bulk Data NDJSON instead, one file per type, for {@code $import}
 * ({@link CohortNdjson}; people are written one at a time, so it scales to a million resources).
 */
public final class CohortMain {

	private CohortMain() {}

	public static void main(String[] argv) throws Exception {
		Map<String, String> args = new HashMap<>();
		for (int i = 0; i + 1 < argv.length; i += 2) {
			args.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
		}
		if (!args.containsKey("out") && !args.containsKey("server") && !args.containsKey("ndjson")) {
			System.err.println("usage: CohortMain --patients N --seed S [--today YYYY-MM-DD] (--out DIR | --ndjson DIR | --server FHIR_BASE --token TOKEN)");
			System.exit(2);
		}
		int patients = Integer.parseInt(args.getOrDefault("patients", "10"));
		long seed = Long.parseLong(args.getOrDefault("seed", "1"));
		LocalDate today = args.containsKey("today") ? LocalDate.parse(args.get("today")) : LocalDate.now(ZoneOffset.UTC);
		if (args.containsKey("ndjson")) {
			Map<String, Integer> counts = new CohortNdjson(new CohortGenerator(today), FhirContext.forR4())
					.write(seed, 1, patients, Path.of(args.get("ndjson")));
			System.out.printf("%d people as NDJSON in %s: %s%n", patients, args.get("ndjson"), counts);
			return;
		}
		List<CohortGenerator.PatientHistory> people = new CohortGenerator(today).generate(patients, seed);
		FhirContext fhir = FhirContext.forR4();
		int resources = people.stream().mapToInt(CohortGenerator.PatientHistory::resourceCount).sum();
		if (args.containsKey("out")) {
			Path out = Files.createDirectories(Path.of(args.get("out")));
			for (int n = 0; n < people.size(); n++) {
				Files.writeString(out.resolve(String.format("patient-%05d.json", n + 1)),
						fhir.newJsonParser().setPrettyPrint(true).encodeResourceToString(people.get(n).transaction()));
			}
			System.out.printf("%d people, %d resources written to %s%n", people.size(), resources, out);
		}
		if (args.containsKey("server")) {
			fhir.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
			fhir.getRestfulClientFactory().setSocketTimeout(300_000);
			IGenericClient client = fhir.newRestfulGenericClient(args.get("server"));
			client.registerInterceptor(new BearerTokenAuthInterceptor(args.get("token")));
			long started = System.nanoTime();
			int stored = CohortLoader.http(client).load(people);
			System.out.printf("%d resources stored in %.1f s%n", stored, (System.nanoTime() - started) / 1e9);
		}
	}
}
