package org.nssifhir.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;

/**
 * Optimistic locking under contention: 16 clients update one CarePlan, each reading the current version and writing
 * with {@code If-Match} on it, until each has succeeded a few times. No update may be lost (the final version is
 * 1 + the number of successful writes, and each success is in the history at the version it was given, with its
 * own content), and every refused write is a 412 Precondition Failed, never a 409 or a 5xx.
 */
class ConcurrentUpdateIT extends BaseIT {

	private static final int CLIENTS = 16;
	private static final int SUCCESSES_PER_CLIENT = 3;
	private static final int MAX_ATTEMPTS_PER_CLIENT = 200;

	@Test
	void concurrentIfMatchUpdatesLoseNothingAndConflictsAre412() throws Exception {
		CarePlan plan = new CarePlan();
		plan.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		plan.setStatus(CarePlan.CarePlanStatus.ACTIVE).setIntent(CarePlan.CarePlanIntent.PLAN)
				.setSubject(new Reference(AssessmentFixtures.patient(client()))).setDescription("initial");
		String id = client().create().resource(plan).execute().getId().getIdPart();

		Map<Integer, String> successes = new ConcurrentHashMap<>(); // version given -> description written
		Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
		CountDownLatch start = new CountDownLatch(1);
		ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
		List<Future<?>> clients = new ArrayList<>();
		for (int c = 0; c < CLIENTS; c++) {
			int client = c;
			clients.add(pool.submit(() -> {
				start.await();
				int done = 0;
				for (int attempt = 0; attempt < MAX_ATTEMPTS_PER_CLIENT && done < SUCCESSES_PER_CLIENT; attempt++) {
					CarePlan current = client().read().resource(CarePlan.class).withId(id).execute();
					String description = "client " + client + " attempt " + attempt;
					current.setDescription(description);
					HttpResponse<String> response = http.send(fhirRequest("/CarePlan/" + id)
							.timeout(Duration.ofSeconds(60))
							.header("Content-Type", "application/fhir+json")
							.header("If-Match", "W/\"" + current.getIdElement().getVersionIdPart() + "\"")
							.PUT(HttpRequest.BodyPublishers.ofString(fhirContext.newJsonParser().encodeResourceToString(current)))
							.build(), HttpResponse.BodyHandlers.ofString());
					statuses.computeIfAbsent(response.statusCode(), s -> new AtomicInteger()).incrementAndGet();
					if (response.statusCode() == 200) {
						CarePlan stored = fhirContext.newJsonParser().parseResource(CarePlan.class, response.body());
						String previous = successes.put(Integer.parseInt(stored.getIdElement().getVersionIdPart()), description);
						assertThat(previous).as("two successful writes were given the same version").isNull();
						done++;
					}
				}
				return null;
			}));
		}
		start.countDown();
		for (Future<?> f : clients) {
			f.get(10, TimeUnit.MINUTES);
		}
		pool.shutdown();

		Map<Integer, Integer> seen = new TreeMap<>();
		statuses.forEach((status, count) -> seen.put(status, count.get()));
		System.out.printf("[ConcurrentUpdateIT] %d clients: statuses %s%n", CLIENTS, seen);
		assertThat(seen.keySet()).as("every write is a success or a 412").isSubsetOf(200, 412);
		assertThat(successes).hasSize(CLIENTS * SUCCESSES_PER_CLIENT);

		CarePlan last = client().read().resource(CarePlan.class).withId(id).execute();
		assertThat(Integer.parseInt(last.getIdElement().getVersionIdPart())).isEqualTo(1 + successes.size());
		List<Integer> versions = new ArrayList<>(successes.keySet());
		Collections.sort(versions);
		assertThat(versions).first().isEqualTo(2);
		assertThat(versions).last().isEqualTo(1 + successes.size());
		for (Map.Entry<Integer, String> success : successes.entrySet()) {
			CarePlan version = client().read().resource(CarePlan.class).withIdAndVersion(id, String.valueOf(success.getKey())).execute();
			assertThat(version.getDescription()).as("version %d", success.getKey()).isEqualTo(success.getValue());
		}
	}
}
