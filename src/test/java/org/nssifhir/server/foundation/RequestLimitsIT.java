package org.nssifhir.server.foundation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.BaseIT;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Every limit gives a 4xx with an OperationOutcome that names it, and nothing is stored. The limits are read
 * from the running configuration, so the tests follow the defaults if they change.
 */
class RequestLimitsIT extends BaseIT {

	@Autowired
	NssiProperties properties;

	private HttpResponse<String> send(HttpRequest request) throws Exception {
		return http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	private OperationOutcome outcome(HttpResponse<String> response) {
		assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).contains("fhir+json"));
		return fhirContext.newJsonParser().parseResource(OperationOutcome.class, response.body());
	}

	private int patientCount(String family) throws Exception {
		HttpResponse<String> r = send(fhirRequest("/Patient?family=" + family + "&_summary=count").build());
		return fhirContext.newJsonParser().parseResource(Bundle.class, r.body()).getTotal();
	}

	@Test
	void countAboveTheMaximumIsA400() throws Exception {
		int over = properties.fhir().maxPageSize() + 1;
		HttpResponse<String> r = send(fhirRequest("/Observation?_count=" + over).build());
		assertThat(r.statusCode()).isEqualTo(400);
		assertThat(outcome(r).getIssueFirstRep().getDiagnostics()).startsWith("NSSI-0103").contains("_count=" + over);
	}

	@Test
	void countAtTheMaximumIsAccepted() throws Exception {
		int max = properties.fhir().maxPageSize();
		HttpResponse<String> r = send(fhirRequest("/Observation?_count=" + max).build());
		assertThat(r.statusCode()).isEqualTo(200);
	}

	@Test
	void tooManyIncludesIsA400() throws Exception {
		StringBuilder url = new StringBuilder("/Observation?_id=x");
		for (int i = 0; i <= properties.limits().maxIncludeParameters(); i++) {
			url.append(i % 2 == 0 ? "&_include=Observation:subject" : "&_revinclude=Provenance:target");
		}
		HttpResponse<String> r = send(fhirRequest(url.toString()).build());
		assertThat(r.statusCode()).isEqualTo(400);
		assertThat(outcome(r).getIssueFirstRep().getDiagnostics()).startsWith("NSSI-0104");
	}

	@Test
	void transactionWithTooManyEntriesIsA413AndStoresNothing() throws Exception {
		String family = unique("bundlelimit").replace("-", "");
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		for (int i = 0; i <= properties.limits().maxBundleEntries(); i++) {
			Patient p = new Patient();
			p.addName().setFamily(family);
			tx.addEntry().setResource(p).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
		}
		String body = fhirContext.newJsonParser().encodeResourceToString(tx);
		HttpResponse<String> r = send(fhirRequest("")
				.header("Content-Type", "application/fhir+json")
				.POST(HttpRequest.BodyPublishers.ofString(body))
				.build());
		assertThat(r.statusCode()).isEqualTo(413);
		assertThat(outcome(r).getIssueFirstRep().getDiagnostics()).startsWith("NSSI-0102");
		assertThat(patientCount(family)).isZero();
	}

	@Test
	void batchWithTooManyEntriesIsA413() throws Exception {
		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		for (int i = 0; i <= properties.limits().maxBundleEntries(); i++) {
			batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Patient?_count=1");
		}
		HttpResponse<String> r = send(fhirRequest("")
				.header("Content-Type", "application/fhir+json")
				.POST(HttpRequest.BodyPublishers.ofString(fhirContext.newJsonParser().encodeResourceToString(batch)))
				.build());
		assertThat(r.statusCode()).isEqualTo(413);
	}

	@Test
	void oversizedBodyIsA413WithContentLength() throws Exception {
		String family = unique("big").replace("-", "");
		String body = hugePatient(family);
		HttpResponse<String> r = send(fhirRequest("/Patient")
				.header("Content-Type", "application/fhir+json")
				.POST(HttpRequest.BodyPublishers.ofString(body))
				.build());
		assertThat(r.statusCode()).isEqualTo(413);
		assertThat(outcome(r).getIssueFirstRep().getDiagnostics()).startsWith("NSSI-0101");
		assertThat(patientCount(family)).isZero();
	}

	@Test
	void oversizedChunkedBodyIsA413() throws Exception {
		String family = unique("bigchunk").replace("-", "");
		byte[] body = hugePatient(family).getBytes(StandardCharsets.UTF_8);
		// ofInputStream has no known length, so the client sends it chunked, without Content-Length
		HttpResponse<String> r = send(fhirRequest("/Patient")
				.header("Content-Type", "application/fhir+json")
				.POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
				.build());
		assertThat(r.statusCode()).isEqualTo(413);
		assertThat(patientCount(family)).isZero();
	}

	@Test
	void smallChunkedBodyIsAccepted() throws Exception {
		Patient p = new Patient();
		p.addName().setFamily(unique("chunk").replace("-", ""));
		byte[] body = fhirContext.newJsonParser().encodeResourceToString(p).getBytes(StandardCharsets.UTF_8);
		HttpResponse<String> r = send(fhirRequest("/Patient")
				.header("Content-Type", "application/fhir+json")
				.POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
				.build());
		assertThat(r.statusCode()).isEqualTo(201);
	}

	private String hugePatient(String family) {
		long limit = properties.limits().maxRequestBody().toBytes();
		String padding = "x".repeat((int) limit);
		return "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\",\"text\":\"" + padding + "\"}]}";
	}
}
