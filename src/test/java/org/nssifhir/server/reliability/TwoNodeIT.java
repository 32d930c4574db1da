package org.nssifhir.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariDataSource;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Subscription;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.NssiServerApplication;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.escalation.EscalationService;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.TestDatabase;
import org.nssifhir.server.support.TestTokens;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two server nodes on one database under concurrent load: the shared test server (node 1) and a second server
 * started here against the same PostgreSQL and signing key (node 2, its own Lucene directory as each node has).
 * One extra context rather than two new ones: node 1 is already running, so this costs one server start.
 *
 * <ul>
 *   <li>Risky episodes created through both nodes, and the same risky episode updated concurrently through both:
 *       one suicide-risk Flag per event, never two (deterministic event identifiers + conditional create, made
 *       race-proof by HAPI's unique search-URL index);</li>
 *   <li>every write acknowledged by either node is readable through the other;</li>
 *   <li>a rest-hook Subscription (active before node 2 starts, so both nodes have it) notifies each new Flag exactly
 *       once, whichever node wrote it.</li>
 * </ul>
 */
class TwoNodeIT extends BaseIT {

	@Autowired
	HikariDataSource dataSource;

	@Autowired
	NssiProperties properties;

	@Test
	void twoNodesRaiseEachAlertOnceLoseNoWriteAndNotifyOnce() throws Exception {
		Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();
		HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		receiver.createContext("/ehr", exchange -> {
			exchange.getRequestBody().readAllBytes();
			deliveries.computeIfAbsent(exchange.getRequestURI().getPath(), p -> new AtomicInteger()).incrementAndGet();
			exchange.sendResponseHeaders(200, -1);
			exchange.close();
		});
		receiver.start();
		IIdType subscription = subscribe(receiver.getAddress().getPort());
		ConfigurableApplicationContext node2 = startSecondNode();
		ExecutorService pool = Executors.newFixedThreadPool(8);
		try {
			String node2Base = "http://127.0.0.1:" + ((WebServerApplicationContext) node2).getWebServer().getPort() + "/fhir";
			IGenericClient[] nodes = {client(), nodeClient(node2Base)};
			IIdType patient = AssessmentFixtures.patient(nodes[0]);

			// 1. new risky episodes through both nodes at once
			Map<String, Integer> created = new ConcurrentHashMap<>(); // Observation id -> node
			List<Future<?>> work = new ArrayList<>();
			for (int i = 0; i < 16; i++) {
				int node = i % 2;
				Date when = Date.from(Instant.now().minus(i + 1, ChronoUnit.HOURS));
				work.add(pool.submit(() -> {
					IIdType id = nodes[node].create().resource(AssessmentFixtures.episode(patient, when, "intent-present", null))
							.execute().getId().toUnqualifiedVersionless();
					created.put(id.getIdPart(), node);
					return null;
				}));
			}
			for (Future<?> f : work) {
				f.get(5, TimeUnit.MINUTES);
			}
			assertThat(created).hasSize(16);

			// 2. one risky episode updated concurrently through both nodes: still one alert for its event
			String contested = created.keySet().iterator().next();
			Map<Integer, AtomicInteger> updateStatuses = new ConcurrentHashMap<>();
			work.clear();
			for (int i = 0; i < 12; i++) {
				int node = i % 2;
				int round = i;
				work.add(pool.submit(() -> {
					Observation obs = nodes[node].read().resource(Observation.class).withId(contested).execute();
					obs.getNoteFirstRep().setText("review " + round);
					String base = node == 0 ? fhirBase() : node2Base;
					String token = node == 0 ? tokens().system("system/*.cruds") : new TestTokens(serverKeys, node2Base).system("system/*.cruds");
					HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/Observation/" + contested))
							.header("Authorization", "Bearer " + token)
							.header("Content-Type", "application/fhir+json")
							.PUT(HttpRequest.BodyPublishers.ofString(fhirContext.newJsonParser().encodeResourceToString(obs.setId(contested))))
							.build(), HttpResponse.BodyHandlers.ofString());
					updateStatuses.computeIfAbsent(r.statusCode(), s -> new AtomicInteger()).incrementAndGet();
					return null;
				}));
			}
			for (Future<?> f : work) {
				f.get(5, TimeUnit.MINUTES);
			}
			System.out.printf("[TwoNodeIT] concurrent updates of one episode through two nodes: %s%n", updateStatuses);
			// a loser of a race may be told to retry (409), never a 5xx
			assertThat(updateStatuses.keySet()).isSubsetOf(200, 409).contains(200);

			// one suicide-risk Flag per episode, none duplicated
			Bundle flags = nodes[1].search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).count(200)
					.returnBundle(Bundle.class).execute();
			Map<String, Long> perEvent = flags.getEntry().stream().map(e -> (Flag) e.getResource())
					.filter(f -> "suicide-risk".equals(f.getCode().getCodingFirstRep().getCode()))
					.collect(Collectors.groupingBy(f -> f.getIdentifier().stream().filter(i -> EscalationService.EVENT_SYSTEM.equals(i.getSystem()))
							.findFirst().orElseThrow().getValue(), Collectors.counting()));
			assertThat(perEvent.values()).as("Flags per escalation event").allMatch(n -> n == 1);
			assertThat(perEvent).hasSize(16);

			// 3. every acknowledged write is visible through the other node
			for (Map.Entry<String, Integer> e : created.entrySet()) {
				IGenericClient other = nodes[1 - e.getValue()];
				assertThat(other.read().resource(Observation.class).withId(e.getKey()).execute().getSubject().getReference())
						.isEqualTo(patient.getValue());
			}

			// 4. each Flag notified exactly once
			List<String> flagPaths = flags.getEntry().stream().filter(e -> perEvent.containsKey(((Flag) e.getResource()).getIdentifierFirstRep().getValue()))
					.map(e -> "/ehr/Flag/" + e.getResource().getIdElement().getIdPart()).toList();
			long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
			while (!flagPaths.stream().allMatch(deliveries::containsKey) && System.nanoTime() < deadline) {
				Thread.sleep(250);
			}
			Thread.sleep(5_000); // time for a duplicate delivery to arrive, if one were coming
			assertThat(flagPaths).allSatisfy(p -> assertThat(deliveries.get(p)).as("deliveries of %s", p).isNotNull().hasValue(1));
		} finally {
			pool.shutdownNow();
			node2.close();
			client().delete().resourceById(subscription).execute();
			receiver.stop(0);
		}
	}

	private IIdType subscribe(int port) throws InterruptedException {
		Subscription subscription = new Subscription();
		subscription.setStatus(Subscription.SubscriptionStatus.REQUESTED);
		subscription.setReason("two-node test");
		subscription.setCriteria("Flag?nssi-code=" + NssiCanonicals.CONCEPTS_SYSTEM + "|suicide-risk");
		subscription.getChannel().setType(Subscription.SubscriptionChannelType.RESTHOOK)
				.setEndpoint("http://127.0.0.1:" + port + "/ehr").setPayload("application/fhir+json");
		IIdType id = client().create().resource(subscription).execute().getId().toUnqualifiedVersionless();
		long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
		while (client().read().resource(Subscription.class).withId(id).execute().getStatus() != Subscription.SubscriptionStatus.ACTIVE) {
			assertThat(System.nanoTime()).as("subscription active").isLessThan(deadline);
			Thread.sleep(200);
		}
		return id;
	}

	/** Node 2: same database and signing key as node 1, its own port and Lucene directory. */
	private ConfigurableApplicationContext startSecondNode() {
		HikariDataSource shared = dataSource;
		// where node 1 keeps its signing key (see AuthorizationServerConfig): node 2 signs and verifies with the same
		String configured = properties.security().signingKeyFile();
		org.junit.jupiter.api.Assumptions.assumeTrue(configured != null && !configured.isBlank() || properties.db().embedded(),
				"node 1 has an in-memory signing key (external test database without nssi.security.signing-key-file)");
		Path signingKey = configured != null && !configured.isBlank() ? Path.of(configured)
				: Path.of(properties.db().embeddedDataDir()).toAbsolutePath().normalize().resolveSibling("signing-key.jwk.json");
		return new SpringApplicationBuilder(NssiServerApplication.class).run(
				"--server.port=0",
				"--nssi.db.url=" + shared.getJdbcUrl(),
				"--nssi.db.username=" + shared.getUsername(),
				"--nssi.db.password=" + (shared.getPassword() == null ? "" : shared.getPassword()),
				"--nssi.db.max-pool-size=6",
				// the same subscription policy as the first node (BaseIT): each node checks deliveries against its own settings
				"--nssi.policy.subscription-clients=test-client",
				"--nssi.policy.subscription-endpoints=http://127.0.0.1:",
				"--nssi.security.signing-key-file=" + signingKey,
				"--nssi.search-index-dir=" + TestDatabase.freshDirectory("nssi-node2-lucene"));
	}

	private IGenericClient nodeClient(String base) {
		IGenericClient client = fhirContext.newRestfulGenericClient(base);
		client.registerInterceptor(new ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor(
				new TestTokens(serverKeys, base).system("system/*.cruds")));
		return client;
	}
}
