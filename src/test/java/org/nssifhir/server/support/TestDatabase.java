package org.nssifhir.server.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Chooses the real PostgreSQL the integration tests run against, in this order:
 * <ol>
 *   <li>{@code NSSI_TEST_DB_URL} (with {@code NSSI_TEST_DB_USERNAME}/{@code NSSI_TEST_DB_PASSWORD}) when set;</li>
 *   <li>a Testcontainers PostgreSQL when a Docker engine answers (image: {@link #containerImage()});</li>
 *   <li>otherwise the server's own embedded PostgreSQL (a real PostgreSQL 14 binary), in a fresh directory.</li>
 * </ol>
 * All three are real PostgreSQL, never H2. The choice is printed so a test run says what it ran on.
 */
public final class TestDatabase {

	private static PostgreSQLContainer<?> container;

	private TestDatabase() {}

	public static synchronized void register(DynamicPropertyRegistry registry) {
		Path index = freshDirectory("nssi-it-lucene");
		registry.add("nssi.search-index-dir", index::toString);
		// a backend-services client limited to reading Observations, for the token endpoint tests
		registry.add("nssi.security.clients[0].client-id", () -> "test-backend");
		registry.add("nssi.security.clients[0].client-secret", () -> "test-backend-secret");
		registry.add("nssi.security.clients[0].scopes[0]", () -> "system/Observation.rs");
		SmartTestApps.register(registry);
		String url = System.getenv("NSSI_TEST_DB_URL");
		if (url != null && !url.isBlank()) {
			System.out.println("[TestDatabase] using NSSI_TEST_DB_URL");
			registry.add("nssi.db.url", () -> url);
			registry.add("nssi.db.username", () -> envOr("NSSI_TEST_DB_USERNAME", "nssi"));
			registry.add("nssi.db.password", () -> envOr("NSSI_TEST_DB_PASSWORD", ""));
		} else if (dockerAvailable()) {
			if (container == null) {
				container = new PostgreSQLContainer<>(containerImage());
				container.start();
			}
			System.out.println("[TestDatabase] using a Testcontainers PostgreSQL");
			registry.add("nssi.db.url", container::getJdbcUrl);
			registry.add("nssi.db.username", container::getUsername);
			registry.add("nssi.db.password", container::getPassword);
		} else {
			System.out.println("[TestDatabase] no Docker engine: using the embedded PostgreSQL");
			registry.add("nssi.db.url", () -> "");
			Path dir = freshDirectory("nssi-it-pg");
			registry.add("nssi.db.embedded-data-dir", dir::toString);
		}
	}

	/** A new empty directory under target/, so test data never mixes with ./data of a developer's server. */
	public static Path freshDirectory(String prefix) {
		try {
			Path parent = Path.of("target", "test-db");
			Files.createDirectories(parent);
			return Files.createTempDirectory(parent, prefix).toAbsolutePath();
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	/**
	 * The PostgreSQL image for Testcontainers: {@code NSSI_TEST_PG_IMAGE} (e.g. the image docker/base-images.sh builds
	 * from Debian packages, which follows the official image's contract), else the official {@code postgres:16-alpine}.
	 */
	public static DockerImageName containerImage() {
		String image = envOr("NSSI_TEST_PG_IMAGE", "");
		return image.isBlank() ? DockerImageName.parse("postgres:16-alpine")
				: DockerImageName.parse(image).asCompatibleSubstituteFor("postgres");
	}

	/**
	 * Whether a Docker API answers (a Docker engine, or podman's compatible socket through {@code DOCKER_HOST}). With
	 * {@code NSSI_TEST_REQUIRE_DOCKER=true} (CI's container step) its absence is an error, not a silent fallback.
	 */
	public static boolean dockerAvailable() {
		boolean available = probeDocker();
		if (!available && "true".equals(System.getenv("NSSI_TEST_REQUIRE_DOCKER"))) {
			throw new IllegalStateException("NSSI_TEST_REQUIRE_DOCKER=true but no Docker API answers (DOCKER_HOST="
					+ System.getenv("DOCKER_HOST") + ")");
		}
		return available;
	}

	private static boolean probeDocker() {
		try {
			return DockerClientFactory.instance().isDockerAvailable();
		} catch (RuntimeException | NoClassDefFoundError e) {
			return false;
		}
	}

	private static String envOr(String name, String fallback) {
		String value = System.getenv(name);
		return value == null ? fallback : value;
	}
}
