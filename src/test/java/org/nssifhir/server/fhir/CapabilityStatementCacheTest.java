package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.hl7.fhir.instance.model.api.IBaseConformance;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.mock.env.MockEnvironment;

/**
 * {@link CapabilityStatementCache}: its header rules (weak comparison of entity tags, gzip negotiation), and
 * {@code GET /metadata} through it on an in-memory FHIR server, behind our statement interceptor as in production
 * (ETag, 304, the same bytes from the cache, invalidation and expiry).
 */
class CapabilityStatementCacheTest {

	private static final String TAG = "W/\"0123abcd\"";

	/** A clock the test moves. */
	private static final class TestClock extends Clock {
		private Instant now = Instant.parse("2026-01-01T00:00:00Z");

		@Override
		public ZoneId getZone() {
			return ZoneOffset.UTC;
		}

		@Override
		public Clock withZone(ZoneId zone) {
			return this;
		}

		@Override
		public Instant instant() {
			return now;
		}
	}

	/** Stands in for a stored change that shapes the statement (a new SearchParameter, say): the publisher. */
	@Interceptor
	public static final class Shaping {
		private volatile String publisher = "NSSI FHIR Server project";

		@Hook(value = Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED, order = 100)
		public void shape(IBaseConformance statement) {
			((CapabilityStatement) statement).setPublisher(publisher);
		}
	}

	private final TestClock clock = new TestClock();
	private final Shaping shaping = new Shaping();
	private final InMemoryFhirServer server;
	private final CapabilityStatementCache cache;
	private int built;

	CapabilityStatementCacheTest() {
		NssiProperties properties = new Binder(new MapConfigurationPropertySource(Map.of("nssi.security.enabled", "false")))
				.bindOrCreate("nssi", NssiProperties.class);
		server = new InMemoryFhirServer(
				new CapabilityStatementInterceptor(properties, new ServerAddress(properties, new MockEnvironment()),
						new ca.uhn.fhir.jpa.api.config.JpaStorageSettings(),
						new StaticListableBeanFactory().getBeanProvider(OfferedOperations.class),
						new StaticListableBeanFactory().getBeanProvider(PublishedOperations.class)),
				shaping, new CountingHook(() -> built++));
		// registered last, as CapabilityStatementConfig does: every other request hook has run when it answers
		cache = new CapabilityStatementCache(server.restfulServer(), clock);
		server.restfulServer().registerInterceptor(cache);
	}

	/** Counts the statement's builds. */
	@Interceptor
	public record CountingHook(Runnable onBuild) {
		@Hook(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED)
		public void generated() {
			onBuild.run();
		}
	}

	private InMemoryFhirServer.Response metadata(Map<String, String> headers) {
		return server.send("GET", "/metadata", null, headers);
	}

	private static String etag(InMemoryFhirServer.Response response) {
		return response.raw().getHeader("ETag");
	}

	@Test
	void testMetadata_ETagAnd304AndSameBytes() {
		InMemoryFhirServer.Response first = metadata(Map.of());
		assertThat(first.status()).isEqualTo(200);
		assertThat(etag(first)).matches("W/\"[0-9a-f]{32}\"");
		assertThat(first.raw().getHeader("Cache-Control")).isEqualTo(CapabilityStatementCache.CACHE_CONTROL);
		assertThat(first.raw().getContentType()).startsWith("application/fhir+json");
		CapabilityStatement cs = (CapabilityStatement) first.resource();
		assertThat(cs.getIdElement().getIdPart()).isEqualTo(CapabilityStatementInterceptor.STATEMENT_ID);
		assertThat(cs.getPublisher()).isEqualTo("NSSI FHIR Server project");

		InMemoryFhirServer.Response second = metadata(Map.of());
		assertThat(etag(second)).isEqualTo(etag(first));
		assertThat(second.body()).as("the same bytes from the cache").isEqualTo(first.body());
		assertThat(built).as("built once, served twice").isEqualTo(1);

		InMemoryFhirServer.Response notModified = metadata(Map.of("If-None-Match", etag(first)));
		assertThat(notModified.status()).isEqualTo(304);
		assertThat(notModified.body()).isEmpty();
		assertThat(etag(notModified)).isEqualTo(etag(first));
		assertThat(metadata(Map.of("If-None-Match", "W/\"0000\"")).status()).isEqualTo(200);

		InMemoryFhirServer.Response xml = metadata(Map.of("Accept", "application/fhir+xml"));
		assertThat(xml.raw().getContentType()).startsWith("application/fhir+xml");
		assertThat(etag(xml)).as("one ETag for every representation of the same content").isEqualTo(etag(first));
	}

	@Test
	void testGzip_SameContentSameETag() throws IOException {
		InMemoryFhirServer.Response plain = metadata(Map.of());
		InMemoryFhirServer.Response gzip = metadata(Map.of("Accept-Encoding", "gzip"));
		assertThat(gzip.raw().getHeader("Content-Encoding")).isEqualTo("gzip");
		assertThat(etag(gzip)).isEqualTo(etag(plain));
		try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip.raw().getContentAsByteArray()))) {
			assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(plain.body());
		}
	}

	@Test
	void testInvalidate_RebuiltAndETagFollowsContent() {
		String before = etag(metadata(Map.of()));
		cache.invalidate();
		InMemoryFhirServer.Response rebuilt = metadata(Map.of("If-None-Match", before));
		assertThat(built).isEqualTo(2);
		assertThat(rebuilt.status()).as("a rebuild of the same content keeps its ETag").isEqualTo(304);

		shaping.publisher = "Changed publisher";
		assertThat(metadata(Map.of("If-None-Match", before)).status()).as("not rebuilt until invalidated").isEqualTo(304);
		cache.invalidate();
		InMemoryFhirServer.Response changed = metadata(Map.of("If-None-Match", before));
		assertThat(changed.status()).as("the old ETag no longer matches").isEqualTo(200);
		assertThat(etag(changed)).isNotEqualTo(before);
		assertThat(((CapabilityStatement) changed.resource()).getPublisher()).isEqualTo("Changed publisher");
	}

	@Test
	void testMaxAge_RebuiltAfterExpiry() {
		metadata(Map.of());
		clock.now = clock.now.plus(CapabilityStatementCache.MAX_AGE).minusSeconds(1);
		metadata(Map.of());
		assertThat(built).isEqualTo(1);
		clock.now = clock.now.plusSeconds(2);
		metadata(Map.of());
		assertThat(built).isEqualTo(2);
	}

	@Test
	void testOtherParameters_HapiPathWithoutETag() {
		InMemoryFhirServer.Response summary = server.get("/metadata?_summary=true");
		assertThat(summary.status()).isEqualTo(200);
		assertThat(etag(summary)).isNull();
		assertThat(server.get("/metadata?_format=json").raw().getHeader("ETag")).as("_format is cached").isNotNull();
	}

	@Test
	void testIfNoneMatch_WeakComparison() {
		assertThat(CapabilityStatementCache.matches(TAG, TAG)).isTrue();
		assertThat(CapabilityStatementCache.matches("\"0123abcd\"", TAG)).as("strong form of the same tag").isTrue();
		assertThat(CapabilityStatementCache.matches("W/\"other\", W/\"0123abcd\"", TAG)).isTrue();
		assertThat(CapabilityStatementCache.matches("*", TAG)).isTrue();
		assertThat(CapabilityStatementCache.matches("W/\"other\"", TAG)).isFalse();
		assertThat(CapabilityStatementCache.matches("", TAG)).isFalse();
		assertThat(CapabilityStatementCache.matches(null, TAG)).isFalse();
	}

	@Test
	void testAcceptEncoding_GzipUnlessRefused() {
		assertThat(CapabilityStatementCache.acceptsGzip("gzip, deflate, br")).isTrue();
		assertThat(CapabilityStatementCache.acceptsGzip("br;q=1.0, GZIP;q=0.5")).isTrue();
		assertThat(CapabilityStatementCache.acceptsGzip("gzip;q=0")).isFalse();
		assertThat(CapabilityStatementCache.acceptsGzip("gzip; q=0.0")).isFalse();
		assertThat(CapabilityStatementCache.acceptsGzip("identity")).isFalse();
		assertThat(CapabilityStatementCache.acceptsGzip(null)).isFalse();
	}
}
