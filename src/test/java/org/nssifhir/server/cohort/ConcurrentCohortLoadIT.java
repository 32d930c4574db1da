package org.nssifhir.server.cohort;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;

/**
 * Whole patient histories written by several clients at once, as an EHR migration or the benchmark's loader does:
 * each person's history in one transaction, then {@code $extract} of their questionnaire responses. Every request
 * must succeed (the benchmark once met a 500 here: a HAPI tag definition shared between concurrent sessions), and
 * every person must be stored exactly once with all of their resources.
 */
class ConcurrentCohortLoadIT extends BaseIT {

	private static final int CLIENTS = 4;

	@Test
	void historiesWrittenByFourClientsAtOnceAllSucceedAndAreStoredWhole() throws Exception {
		long seed = System.nanoTime(); // named in every failure message, to replay it
		List<CohortGenerator.PatientHistory> people = new CohortGenerator(LocalDate.now(ZoneOffset.UTC), 1).generate(12, seed);
		CountDownLatch start = new CountDownLatch(1);
		ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
		List<Future<List<String>>> results = new ArrayList<>();
		for (CohortGenerator.PatientHistory person : people) {
			results.add(pool.submit(() -> {
				start.await();
				List<String> failures = new ArrayList<>();
				HttpResponse<String> stored = post("", fhirContext.newJsonParser().encodeResourceToString(person.transaction()));
				if (stored.statusCode() != 200) {
					failures.add("transaction " + stored.statusCode() + ": " + stored.body());
					return failures;
				}
				List<String> locations = CohortLoader.locations(fhirContext.newJsonParser().parseResource(Bundle.class, stored.body()));
				for (int index : person.responsesToExtract()) {
					HttpResponse<String> extracted = post("/" + locations.get(index) + "/$extract", "{\"resourceType\":\"Parameters\"}");
					if (extracted.statusCode() != 200) {
						failures.add("$extract " + extracted.statusCode() + ": " + extracted.body());
					}
				}
				return failures;
			}));
		}
		start.countDown();
		List<String> failures = new ArrayList<>();
		for (Future<List<String>> result : results) {
			failures.addAll(result.get());
		}
		pool.shutdown();
		assertThat(failures).as("cohort seed %d", seed).isEmpty();

		for (CohortGenerator.PatientHistory person : people) {
			Bundle found = client().search().byUrl("Patient?identifier=" + CohortGenerator.MRN_SYSTEM + "|" + person.mrn())
					.returnBundle(Bundle.class).execute();
			assertThat(found.getEntry()).as("person %s stored once (seed %d)", person.mrn(), seed).hasSize(1);
			String patient = found.getEntryFirstRep().getResource().getIdElement().toUnqualifiedVersionless().getValue();
			long inTransaction = person.transaction().getEntry().stream()
					.filter(e -> e.getResource() instanceof org.hl7.fhir.r4.model.Observation).count();
			Bundle observations = client().search().byUrl("Observation?subject=" + patient + "&_summary=count")
					.returnBundle(Bundle.class).execute();
			assertThat(observations.getTotal()).as("observations of %s: those sent plus those extracted (seed %d)", person.mrn(), seed)
					.isGreaterThanOrEqualTo((int) inTransaction);
		}
	}

	private HttpResponse<String> post(String path, String body) throws Exception {
		return http.send(fhirRequest(path).timeout(Duration.ofMinutes(5))
				.header("Content-Type", "application/fhir+json").header("Accept", "application/fhir+json")
				.POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
	}
}
