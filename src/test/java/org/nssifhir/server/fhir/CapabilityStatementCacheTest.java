package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The header rules of {@link CapabilityStatementCache}: weak comparison of entity tags, gzip negotiation. */
class CapabilityStatementCacheTest {

	private static final String TAG = "W/\"0123abcd\"";

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
