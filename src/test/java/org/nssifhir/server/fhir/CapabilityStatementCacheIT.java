package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.SearchParameter;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;

/**
 * {@code GET /fhir/metadata} from the cache ({@link CapabilityStatementCache}): ETag, 304, invalidation by a content
 * change, what the trimmed statement still says, and its cost next to an authenticated read.
 */
class CapabilityStatementCacheIT extends BaseIT {

	private HttpResponse<byte[]> metadata(String... headers) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(fhirBase() + "/metadata"));
		if (headers.length > 0) {
			request.headers(headers);
		}
		return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
	}

	private static String etag(HttpResponse<?> response) {
		return response.headers().firstValue("ETag").orElseThrow();
	}

	@Test
	void testMetadata_ETagAnd304AndIdenticalBodies() throws Exception {
		HttpResponse<byte[]> first = metadata();
		assertThat(first.statusCode()).isEqualTo(200);
		assertThat(etag(first)).matches("W/\"[0-9a-f]{32}\"");
		assertThat(first.headers().firstValue("Cache-Control")).contains("public, max-age=60");
		assertThat(first.headers().firstValue("Content-Type").orElse("")).startsWith("application/fhir+json");

		HttpResponse<byte[]> second = metadata();
		assertThat(etag(second)).isEqualTo(etag(first));
		assertThat(second.body()).as("the same bytes from the cache").isEqualTo(first.body());

		HttpResponse<byte[]> notModified = metadata("If-None-Match", etag(first));
		assertThat(notModified.statusCode()).isEqualTo(304);
		assertThat(notModified.body()).isEmpty();
		assertThat(etag(notModified)).isEqualTo(etag(first));
		// a strong form of the same tag, or a list containing it, matches too (weak comparison); another tag does not
		assertThat(metadata("If-None-Match", "\"x\", " + etag(first).substring(2)).statusCode()).isEqualTo(304);
		assertThat(metadata("If-None-Match", "W/\"0000\"").statusCode()).isEqualTo(200);

		HttpResponse<byte[]> gzip = metadata("Accept-Encoding", "gzip");
		assertThat(gzip.headers().firstValue("Content-Encoding")).contains("gzip");
		assertThat(etag(gzip)).isEqualTo(etag(first));
		try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gzip.body()))) {
			assertThat(in.readAllBytes()).isEqualTo(first.body());
		}

		HttpResponse<byte[]> xml = metadata("Accept", "application/fhir+xml");
		assertThat(xml.headers().firstValue("Content-Type").orElse("")).startsWith("application/fhir+xml");
		assertThat(etag(xml)).as("one ETag for every representation of the same content").isEqualTo(etag(first));
	}

	@Test
	void testMetadata_KeepsWhatClientsNeed_DropsTheRest() throws Exception {
		HttpResponse<byte[]> response = metadata();
		CapabilityStatement cs = fhirContext.newJsonParser().parseResource(CapabilityStatement.class, new String(response.body(), java.nio.charset.StandardCharsets.UTF_8));
		CapabilityStatement.CapabilityStatementRestComponent rest = cs.getRestFirstRep();
		assertThat(rest.getSecurity().getExtensionByUrl("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris")).isNotNull();
		CapabilityStatement.CapabilityStatementRestResourceComponent observation = rest.getResource().stream()
				.filter(r -> r.getType().equals("Observation")).findFirst().orElseThrow();
		assertThat(observation.getSupportedProfile()).extracting(p -> p.getValue())
				.contains("https://nssi-fhir.org/fhir/StructureDefinition/nssi-episode");
		assertThat(observation.getSearchParam()).extracting(p -> p.getName()).contains("code", "subject", "nssi-method");
		assertThat(observation.getSearchParam()).allSatisfy(p -> assertThat(p.hasDocumentation()).isFalse());
		assertThat(observation.getSearchRevInclude()).isEmpty();
		CapabilityStatement.CapabilityStatementRestResourceComponent patient = rest.getResource().stream()
				.filter(r -> r.getType().equals("Patient")).findFirst().orElseThrow();
		assertThat(patient.getOperation()).extracting(o -> o.getName()).contains("everything", "nssi-summary", "validate", "meta")
				.doesNotContain("meta-add", "meta-delete", "expunge", "hapi.fhir.merge");
		assertThat(rest.getOperation()).extracting(o -> o.getName()).contains("export").doesNotContain("expunge", "get-resource-counts");
		assertThat(patient.getConditionalDelete()).isEqualTo(CapabilityStatement.ConditionalDeleteStatus.SINGLE);
		assertThat(cs.getIdElement().getIdPart()).isEqualTo(CapabilityStatementInterceptor.STATEMENT_ID);
		// HAPI's own statement was about 1.5 MB; what is left is about a quarter of it
		assertThat(response.body().length).isLessThan(600_000);
	}

	@Test
	void testMetadata_ETagChangesWhenASearchParameterIsAddedAndRemoved() throws Exception {
		String before = etag(metadata());
		String code = "nssi-test-" + Long.toHexString(System.nanoTime());
		SearchParameter sp = new SearchParameter();
		sp.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", "test health data");
		sp.setUrl("https://nssi-fhir.org/fhir/test/SearchParameter/" + code);
		sp.setName(code.replace("-", ""));
		sp.setStatus(Enumerations.PublicationStatus.ACTIVE);
		sp.setDescription("Test parameter for the CapabilityStatement cache");
		sp.setCode(code);
		// a type this server holds (almost) nothing of, so the reindex HAPI starts for the new parameter is empty
		sp.addBase("EnrollmentRequest");
		sp.setType(Enumerations.SearchParamType.TOKEN);
		sp.setExpression("EnrollmentRequest.status");
		IIdType id = client().create().resource(sp).execute().getId().toUnqualifiedVersionless();

		HttpResponse<byte[]> after = metadata("If-None-Match", before);
		assertThat(after.statusCode()).as("the old ETag no longer matches").isEqualTo(200);
		assertThat(etag(after)).isNotEqualTo(before);
		assertThat(new String(after.body(), java.nio.charset.StandardCharsets.UTF_8)).contains("\"" + code + "\"");

		client().delete().resourceById(id).execute();
		HttpResponse<byte[]> removed = metadata();
		assertThat(new String(removed.body(), java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("\"" + code + "\"");
		assertThat(etag(removed)).as("the same content has the same ETag").isEqualTo(before);
	}

	@Test
	void testMetadata_MedianAgainstAnAuthenticatedPatientRead() throws Exception {
		Patient patient = new Patient();
		patient.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", "test health data");
		patient.addName().setFamily("Synthetic").addGiven("Metadata");
		IIdType id = client().create().resource(patient).execute().getId().toUnqualifiedVersionless();
		HttpRequest read = fhirRequest("/Patient/" + id.getIdPart()).build();
		HttpRequest meta = HttpRequest.newBuilder(URI.create(fhirBase() + "/metadata")).build();
		int n = 40;
		for (int i = 0; i < 5; i++) { // warm both paths
			http.send(read, HttpResponse.BodyHandlers.ofByteArray());
			http.send(meta, HttpResponse.BodyHandlers.ofByteArray());
		}
		List<Long> reads = new ArrayList<>();
		List<Long> metas = new ArrayList<>();
		for (int i = 0; i < n; i++) { // interleaved, so both see the same machine load
			long start = System.nanoTime();
			assertThat(http.send(read, HttpResponse.BodyHandlers.ofByteArray()).statusCode()).isEqualTo(200);
			reads.add(System.nanoTime() - start);
			start = System.nanoTime();
			assertThat(http.send(meta, HttpResponse.BodyHandlers.ofByteArray()).statusCode()).isEqualTo(200);
			metas.add(System.nanoTime() - start);
		}
		double readMs = median(reads) / 1e6;
		double metaMs = median(metas) / 1e6;
		System.out.printf("METADATA-BENCH n=%d median /metadata (full body, no gzip) %.2f ms, authenticated Patient read %.2f ms, ratio %.2f%n",
				n, metaMs, readMs, metaMs / readMs);
	}

	private static double median(List<Long> values) {
		List<Long> sorted = values.stream().sorted().toList();
		return sorted.get(sorted.size() / 2);
	}
}
