package org.nssifhir.server.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QueryValueRedactingFilterTest {

	@Test
	void queryStringsAndBracketedUrlsAreRedacted() {
		assertThat(QueryValueRedactingFilter.redact("GET /fhir/Patient?name=Smith&birthdate=2001 failed"))
				.isEqualTo("GET /fhir/Patient?[redacted] failed");
		assertThat(QueryValueRedactingFilter.redact("Inline match URL [identifier=sys|SECRET] specified a resource"))
				.isEqualTo("Inline match URL [[redacted]] specified a resource");
		assertThat(QueryValueRedactingFilter.redact("Invalid match URL[Patient?identifier=SECRET] - URL has no search parameters"))
				.doesNotContain("SECRET");
		assertThat(QueryValueRedactingFilter.redact("Character decoding failed. Parameter [name] with value [SECRET] has been ignored"))
				.doesNotContain("SECRET");
		assertThat(QueryValueRedactingFilter.redact("Invalid character found in the request target [/fhir/Patient?name=SECRET{ ]"))
				.doesNotContain("SECRET");
	}

	@Test
	void ordinaryMessagesAreLeftAlone() {
		for (String message : new String[] {"POST /fhir/Patient 201 12ms", "Is the outbox drained? no", "PartitionId=1 took 3ms",
				"Audit outbox row 12 could not be stored"}) {
			assertThat(QueryValueRedactingFilter.quotes(message)).as(message).isFalse();
		}
	}
}
