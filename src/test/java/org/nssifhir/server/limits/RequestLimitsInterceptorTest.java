package org.nssifhir.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import java.util.Map;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** {@link RequestLimitsInterceptor} on an in-memory FHIR server (middle tier: no database). */
class RequestLimitsInterceptorTest {

	private static final NssiProperties PROPERTIES = new Binder(new MapConfigurationPropertySource(Map.of(
			"nssi.fhir.max-page-size", "50", "nssi.limits.max-include-parameters", "2", "nssi.limits.max-bundle-entries", "3")))
			.bindOrCreate("nssi", NssiProperties.class);

	/** Batches and transactions answered empty: the limit is checked before any entry is handled. */
	public static class Batches {
		@Transaction
		public Bundle transaction(@TransactionParam Bundle bundle) {
			return new Bundle().setType(Bundle.BundleType.BATCHRESPONSE);
		}
	}

	private final InMemoryFhirServer server =
			new InMemoryFhirServer(new RequestLimitsInterceptor(PROPERTIES), new InMemoryFhirServer.Provider(new Batches()));

	@Test
	void testCountWithinLimit_Answered() {
		assertThat(server.get("/Patient?_count=50").status()).isEqualTo(200);
	}

	@Test
	void testCountAboveMaximum_Refused() {
		InMemoryFhirServer.Response response = server.get("/Patient?_count=51");
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.COUNT_TOO_LARGE.code() + ":");
	}

	@Test
	void testCountNotANumber_Refused() {
		InMemoryFhirServer.Response response = server.get("/Patient?_count=-1");
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.COUNT_INVALID.code() + ":");
	}

	@Test
	void testTooManyIncludes_Refused() {
		InMemoryFhirServer.Response response =
				server.get("/Observation?_include=Observation:subject&_include=Observation:performer&_revinclude=Provenance:target");
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.diagnostics()).startsWith(ErrorCode.TOO_MANY_INCLUDES.code() + ":");
	}

	private static Bundle batch(int entries) {
		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		for (int i = 0; i < entries; i++) {
			batch.addEntry().setResource(new Patient().setActive(true)).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
		}
		return batch;
	}

	@Test
	void testBatchAtMaximum_Answered() {
		assertThat(server.post("", batch(3)).status()).isEqualTo(200);
	}

	@Test
	void testBatchWithTooManyEntries_Refused() {
		InMemoryFhirServer.Response response = server.post("", batch(4));
		assertThat(response.status()).isEqualTo(413);
		assertThat(response.diagnostics()).startsWith(ErrorCode.BUNDLE_TOO_MANY_ENTRIES.code() + ":");
	}
}
