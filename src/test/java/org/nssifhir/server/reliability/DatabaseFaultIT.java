package org.nssifhir.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.NssiServerApplication;
import org.nssifhir.server.support.TestDatabase;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * PostgreSQL stopped and started again under write load. The test owns a real PostgreSQL and starts its own server
 * against it, outside the shared test context (a database the shared context depends on cannot be stopped). The
 * database is a Testcontainers container when a Docker API answers (in CI: podman's, with the PostgreSQL image built
 * by docker/base-images.sh, see {@link TestDatabase#containerImage()}), stopped and started again with a fixed host
 * port; otherwise zonky's embedded binaries with a fixed port and data directory.
 * While the database is down the server must report not-ready; afterwards it must recover by itself (no restart),
 * and every write it acknowledged with a 2xx, before, during or after the outage, must be there.
 *
 * <p>Security is switched off in this one context: what is tested is the database path, and a token would add
 * nothing but a dependency on the authorization server's tables, which are in the same database.
 */
class DatabaseFaultIT {

	private static final int WRITERS = 4;
	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	@Test
	void serverIsNotReadyWhileTheDatabaseIsDownRecoversAndLosesNoAcknowledgedWrite() throws Exception {
		FaultDatabase postgres = TestDatabase.dockerAvailable() ? new ContainerDatabase() : new EmbeddedDatabase();
		System.out.println("[DatabaseFaultIT] PostgreSQL: " + postgres);
		postgres.start();
		ConfigurableApplicationContext server = null;
		ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
		try {
			server = new SpringApplicationBuilder(NssiServerApplication.class).run(
					"--server.port=0",
					"--nssi.db.url=" + postgres.url(),
					"--nssi.db.username=" + postgres.username(),
					"--nssi.db.password=" + postgres.password(),
					"--nssi.db.max-pool-size=8",
					"--nssi.security.enabled=false",
					"--nssi.search-index-dir=" + TestDatabase.freshDirectory("nssi-fault-lucene"));
			String base = "http://127.0.0.1:" + ((WebServerApplicationContext) server).getWebServer().getPort();
			assertThat(readiness(base)).isEqualTo(200);

			Map<String, String> acknowledged = new ConcurrentHashMap<>(); // id -> family name
			AtomicBoolean running = new AtomicBoolean(true);
			AtomicInteger failures = new AtomicInteger();
			List<Future<?>> writers = new ArrayList<>();
			for (int w = 0; w < WRITERS; w++) {
				int writer = w;
				writers.add(pool.submit(() -> {
					for (int i = 0; running.get(); i++) {
						String family = "Fault" + writer + "x" + i + "x" + System.nanoTime();
						try {
							HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/fhir/Patient"))
									.timeout(Duration.ofSeconds(60))
									.header("Content-Type", "application/fhir+json")
									.POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"meta\":{\"security\":[{\"system\":"
											+ "\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"HTEST\"}]},\"name\":[{\"family\":\"" + family + "\"}]}"))
									.build(), HttpResponse.BodyHandlers.ofString());
							if (r.statusCode() / 100 == 2) {
								String location = r.headers().firstValue("Location").orElseThrow();
								acknowledged.put(location.replaceAll(".*/Patient/([^/]+)/_history/.*", "$1"), family);
							} else {
								failures.incrementAndGet();
							}
						} catch (java.io.IOException e) {
							failures.incrementAndGet();
						}
					}
					return null;
				}));
			}
			waitUntil(() -> acknowledged.size() >= 20, Duration.ofSeconds(120), "writes before the outage");
			int beforeOutage = acknowledged.size();

			postgres.stop();
			long down = System.nanoTime();
			waitFor(base, s -> s == 503, Duration.ofSeconds(90), "readiness DOWN while the database is stopped");
			System.out.printf("[DatabaseFaultIT] not ready %d ms after the database stopped%n", (System.nanoTime() - down) / 1_000_000);
			Thread.sleep(3_000); // writes keep arriving while the database is down
			assertThat(readiness(base)).as("still not ready while the database is down").isEqualTo(503);

			postgres.start();
			long up = System.nanoTime();
			waitFor(base, s -> s == 200, Duration.ofSeconds(120), "readiness UP after the database is back");
			int afterRecovery = acknowledged.size();
			waitUntil(() -> acknowledged.size() >= afterRecovery + 20, Duration.ofSeconds(120), "writes after the outage");
			System.out.printf("[DatabaseFaultIT] ready again %d ms after the database started; %d writes acknowledged "
					+ "(%d before the outage), %d refused or failed%n",
					(System.nanoTime() - up) / 1_000_000, acknowledged.size(), beforeOutage, failures.get());
			running.set(false);
			for (Future<?> f : writers) {
				f.get(2, TimeUnit.MINUTES);
			}

			// every acknowledged write is stored, with what was sent
			List<String> ids = new ArrayList<>(acknowledged.keySet());
			for (int from = 0; from < ids.size(); from += 100) {
				List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 100));
				HttpResponse<String> r = http.send(HttpRequest.newBuilder(
								URI.create(base + "/fhir/Patient?_count=100&_id=" + String.join(",", chunk))).build(),
						HttpResponse.BodyHandlers.ofString());
				assertThat(r.statusCode()).isEqualTo(200);
				Bundle bundle = server.getBean(ca.uhn.fhir.context.FhirContext.class).newJsonParser().parseResource(Bundle.class, r.body());
				Map<String, String> found = new ConcurrentHashMap<>();
				bundle.getEntry().forEach(e -> found.put(e.getResource().getIdElement().getIdPart(),
						((org.hl7.fhir.r4.model.Patient) e.getResource()).getNameFirstRep().getFamily()));
				for (String id : chunk) {
					assertThat(found.get(id)).as("acknowledged Patient/%s", id).isEqualTo(acknowledged.get(id));
				}
			}
		} finally {
			pool.shutdownNow();
			if (server != null) {
				server.close();
			}
			postgres.close();
		}
	}

	/** A PostgreSQL that can be stopped and started again at the same address, keeping its data. */
	private interface FaultDatabase extends AutoCloseable {
		void start() throws Exception;

		void stop() throws Exception;

		String url();

		String username();

		String password();

		@Override
		void close();
	}

	/** zonky's embedded PostgreSQL: fixed port and data directory. */
	private static final class EmbeddedDatabase implements FaultDatabase {
		private final Path dataDir = TestDatabase.freshDirectory("nssi-fault-pg");
		private final int port;
		private EmbeddedPostgres postgres;

		EmbeddedDatabase() throws java.io.IOException {
			port = freePort();
		}

		@Override
		public void start() throws java.io.IOException {
			postgres = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false).setPort(port).start();
		}

		@Override
		public void stop() throws java.io.IOException {
			postgres.close();
		}

		@Override
		public String url() {
			return "jdbc:postgresql://localhost:" + port + "/postgres";
		}

		@Override
		public String username() {
			return "postgres";
		}

		@Override
		public String password() {
			return "";
		}

		@Override
		public void close() {
			if (postgres == null) {
				return;
			}
			try {
				postgres.close();
			} catch (java.io.IOException e) {
				throw new java.io.UncheckedIOException(e);
			}
		}

		@Override
		public String toString() {
			return "embedded (zonky) on port " + port;
		}
	}

	/**
	 * A Testcontainers PostgreSQL whose host port is fixed (a random mapping would change when the container is
	 * started again); stopped ({@code docker stop}: SIGINT, fast shutdown) and started again through the Docker API.
	 */
	private static final class ContainerDatabase implements FaultDatabase {
		private final int port;
		private final PostgreSQLContainer<?> container;

		ContainerDatabase() throws java.io.IOException {
			port = freePort();
			container = new PostgreSQLContainer<>(TestDatabase.containerImage())
					.withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPortBindings(
							new PortBinding(Ports.Binding.bindPort(port), new ExposedPort(PostgreSQLContainer.POSTGRESQL_PORT))));
		}

		@Override
		public void start() {
			if (container.getContainerId() == null) {
				container.start();
			} else {
				DockerClientFactory.instance().client().startContainerCmd(container.getContainerId()).exec();
			}
		}

		@Override
		public void stop() {
			DockerClientFactory.instance().client().stopContainerCmd(container.getContainerId()).withTimeout(20).exec();
		}

		@Override
		public String url() {
			return "jdbc:postgresql://localhost:" + port + "/" + container.getDatabaseName();
		}

		@Override
		public String username() {
			return container.getUsername();
		}

		@Override
		public String password() {
			return container.getPassword();
		}

		@Override
		public void close() {
			container.stop();
		}

		@Override
		public String toString() {
			return "Testcontainers " + container.getDockerImageName() + " on port " + port;
		}
	}

	private int readiness(String base) {
		try {
			return http.send(HttpRequest.newBuilder(URI.create(base + "/actuator/health/readiness")).timeout(Duration.ofSeconds(20)).build(),
					HttpResponse.BodyHandlers.discarding()).statusCode();
		} catch (Exception e) {
			return -1;
		}
	}

	private void waitFor(String base, IntPredicate status, Duration limit, String what) throws InterruptedException {
		waitUntil(() -> status.test(readiness(base)), limit, what);
	}

	private static void waitUntil(java.util.function.BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
		long deadline = System.nanoTime() + limit.toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				throw new AssertionError("timed out waiting for " + what);
			}
			Thread.sleep(250);
		}
	}

	private static int freePort() throws java.io.IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}
}
