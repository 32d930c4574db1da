package org.nssifhir.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestLoggingFilterTest {

	@Test
	void keepsTheShapeOfFhirPathsAndDropsIds() {
		assertThat(RequestLoggingFilter.redactPath("/fhir/Patient/123")).isEqualTo("/fhir/Patient/{id}");
		assertThat(RequestLoggingFilter.redactPath("/fhir/Patient/abc/_history/2")).isEqualTo("/fhir/Patient/{id}/_history/{id}");
		assertThat(RequestLoggingFilter.redactPath("/fhir/Patient/p1/$everything")).isEqualTo("/fhir/Patient/{id}/$everything");
		assertThat(RequestLoggingFilter.redactPath("/fhir/metadata")).isEqualTo("/fhir/metadata");
		assertThat(RequestLoggingFilter.redactPath("/fhir")).isEqualTo("/fhir");
		assertThat(RequestLoggingFilter.redactPath("/fhir/.well-known/smart-configuration")).isEqualTo("/fhir/.well-known/smart-configuration");
		assertThat(RequestLoggingFilter.redactPath("/fhir/Observation/_search")).isEqualTo("/fhir/Observation/_search");
	}

	@Test
	void aLowercaseOrNumericFirstSegmentIsTreatedAsData() {
		assertThat(RequestLoggingFilter.redactPath("/fhir/jane-doe")).isEqualTo("/fhir/{id}");
		assertThat(RequestLoggingFilter.redactPath("/fhir/Patient2")).isEqualTo("/fhir/{id}");
	}

	@Test
	void pathsOutsideFhirAreUnchanged() {
		assertThat(RequestLoggingFilter.redactPath("/actuator/health")).isEqualTo("/actuator/health");
	}
}
