package org.nssifhir.server.bulk;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.UriType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;

/**
 * Bulk Data {@code $import} of a small NDJSON cohort served on loopback (the tests' allow-listed source): the
 * resources are stored, labelled by content and raise the same alerts as a REST write; sources off the list, user
 * tokens and tokens that may not write the types are refused before anything is fetched.
 */
class BulkImportIT extends BaseIT {

	private static final String HTEST = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
	private static final String ICD = "http://hl7.org/fhir/sid/icd-10-cm";

	private HttpServer files;
	private final Map<String, String> served = new java.util.concurrent.ConcurrentHashMap<>();

	@BeforeEach
	void serveFiles() throws Exception {
		files = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		files.createContext("/", exchange -> {
			String body = served.get(exchange.getRequestURI().getPath());
			byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().add("Content-Type", "application/fhir+ndjson");
			exchange.sendResponseHeaders(body == null ? 404 : 200, bytes.length == 0 ? -1 : bytes.length);
			if (bytes.length > 0) {
				exchange.getResponseBody().write(bytes);
			}
			exchange.close();
		});
		files.start();
	}

	@AfterEach
	void stopFiles() {
		files.stop(0);
	}

	private String fileUrl(String path) {
		return "http://127.0.0.1:" + files.getAddress().getPort() + path;
	}

	private Parameters manifest(Map<String, String> typeToUrl) {
		Parameters p = new Parameters();
		p.addParameter().setName("inputFormat").setValue(new StringType("application/fhir+ndjson"));
		p.addParameter().setName("inputSource").setValue(new UriType(fileUrl("/")));
		Parameters.ParametersParameterComponent storage = p.addParameter().setName("storageDetail");
		storage.addPart().setName("type").setValue(new StringType("https"));
		typeToUrl.forEach((type, url) -> {
			Parameters.ParametersParameterComponent input = p.addParameter().setName("input");
			input.addPart().setName("type").setValue(new StringType(type));
			input.addPart().setName("url").setValue(new UriType(url));
		});
		return p;
	}

	private HttpResponse<String> kickOff(String token, Parameters manifest) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/$import"))
				.header("Authorization", "Bearer " + token)
				.header("Content-Type", "application/fhir+json")
				.header("Prefer", "respond-async")
				.POST(HttpRequest.BodyPublishers.ofString(fhirContext.newJsonParser().encodeResourceToString(manifest)))
				.build(), HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void testImport_LabelsAndEscalatesLikeARestWrite() throws Exception {
		String suffix = UUID.randomUUID().toString().substring(0, 8);
		Patient patient = new Patient();
		patient.setId("imp-" + suffix);
		patient.getMeta().addSecurity(HTEST, "HTEST", "test health data");
		patient.addName().setFamily("Synthetic").addGiven("Imported");
		patient.setBirthDateElement(new DateType("1990-04-01"));
		Condition ideation = new Condition();
		ideation.setId("imp-ideation-" + suffix);
		ideation.getMeta().addSecurity(HTEST, "HTEST", "test health data");
		ideation.setSubject(new Reference("Patient/imp-" + suffix));
		ideation.setClinicalStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", null)));
		ideation.getCode().addCoding(new Coding(ICD, "R45.851", "Suicidal ideations"));
		Condition plain = new Condition();
		plain.setId("imp-plain-" + suffix);
		plain.getMeta().addSecurity(HTEST, "HTEST", "test health data");
		plain.setSubject(new Reference("Patient/imp-" + suffix));
		plain.getCode().setText("synthetic, nothing sensitive");
		served.put("/cohort/Patient.ndjson", fhirContext.newJsonParser().encodeResourceToString(patient) + "\n");
		served.put("/cohort/Condition.ndjson", fhirContext.newJsonParser().encodeResourceToString(ideation) + "\n"
				+ fhirContext.newJsonParser().encodeResourceToString(plain) + "\n");

		// an episode that claims our profile but lacks its method: refused by validation (422), as over REST
		org.hl7.fhir.r4.model.Observation invalid = fhirContext.newJsonParser().parseResource(org.hl7.fhir.r4.model.Observation.class,
				new String(getClass().getResourceAsStream("/conformance/invalid/Observation-episode-no-method--slice-method.json").readAllBytes(),
						StandardCharsets.UTF_8));
		invalid.setId("imp-invalid-" + suffix);
		invalid.setSubject(new Reference("Patient/imp-" + suffix));
		served.put("/cohort/Observation.ndjson", fhirContext.newJsonParser().encodeResourceToString(invalid) + "\n");

		HttpResponse<String> started = kickOff(tokens().system("system/*.cruds"), manifest(new java.util.LinkedHashMap<>(Map.of(
				"Condition", fileUrl("/cohort/Condition.ndjson"), "Patient", fileUrl("/cohort/Patient.ndjson"),
				"Observation", fileUrl("/cohort/Observation.ndjson")))));
		assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
		String poll = started.headers().firstValue("Content-Location").orElseThrow();

		Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
		HttpResponse<String> status;
		do {
			Thread.sleep(1000);
			status = http.send(HttpRequest.newBuilder(URI.create(poll))
					.header("Authorization", "Bearer " + tokens().system("system/*.cruds")).build(), HttpResponse.BodyHandlers.ofString());
		} while (status.statusCode() == 202 && Instant.now().isBefore(deadline));
		// HAPI ends a job with any refused resource as FAILED (poll answers 500) with its report: the valid resources
		// are stored, each refusal is listed with our error code
		assertThat(status.statusCode()).as(status.body()).isEqualTo(500);
		assertThat(status.body()).contains("NSSI-0201").contains("SUCCESSFUL_UPDATE_AS_CREATE: 2");

		Condition stored = client().read().resource(Condition.class).withId("imp-ideation-" + suffix).execute();
		assertThat(stored.getMeta().getSecurity()).extracting(c -> c.getSystem() + "|" + c.getCode())
				.contains("http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R", HTEST + "|HTEST");
		assertThat(stored.getMeta().getTag()).extracting(c -> c.getSystem() + "|" + c.getCode())
				.contains("urn:nssi-fhir:label-rule|self-harm-suicidality");
		Condition unlabelled = client().read().resource(Condition.class).withId("imp-plain-" + suffix).execute();
		assertThat(unlabelled.getMeta().getSecurity()).extracting(c -> c.getCode()).doesNotContain("R");

		// the status and report are the importing client's only
		HttpResponse<String> foreign = http.send(HttpRequest.newBuilder(URI.create(poll)).header("Authorization", "Bearer "
				+ tokens().token().scopes("system/*.cruds").claim("client_id", "another-importer").sign()).build(), HttpResponse.BodyHandlers.ofString());
		assertThat(foreign.statusCode()).isEqualTo(404);
		assertThat(foreign.body()).contains("NSSI-0804").doesNotContain("NSSI-0201");

		HttpResponse<String> missing = http.send(fhirRequest("/Observation/imp-invalid-" + suffix).build(), HttpResponse.BodyHandlers.ofString());
		assertThat(missing.statusCode()).as("the invalid episode was not stored").isEqualTo(404);

		Bundle flags = client().search().byUrl("Flag?patient=Patient/imp-" + suffix).returnBundle(Bundle.class).execute();
		assertThat(flags.getEntry()).as("a suicide-risk Flag raised by the imported Condition").hasSize(1);
		Bundle tasks = client().search().byUrl("Task?patient=Patient/imp-" + suffix).returnBundle(Bundle.class).execute();
		assertThat(tasks.getEntry()).hasSize(1);

		awaitAuditTrail();
		Bundle kickOffs = client().search().byUrl("AuditEvent?_tag=urn:nssi-fhir:audit|bulk-import-kickoff").returnBundle(Bundle.class).execute();
		assertThat(kickOffs.getEntry()).isNotEmpty();
	}

	@Test
	void testImport_RefusedBeforeAnythingIsFetched() throws Exception {
		served.put("/x/Patient.ndjson", "{\"resourceType\":\"Patient\",\"id\":\"never-" + UUID.randomUUID().toString().substring(0, 8) + "\"}\n");
		Parameters fromOurFiles = manifest(Map.of("Patient", fileUrl("/x/Patient.ndjson")));

		// a source off the allow-list (never contacted), or with user-info
		for (String url : List.of("https://files.example.test/Patient.ndjson", "http://user:pw@127.0.0.1:1/Patient.ndjson")) {
			HttpResponse<String> offList = kickOff(tokens().system("system/*.cruds"), manifest(Map.of("Patient", url)));
			assertThat(offList.statusCode()).as(url).isEqualTo(403);
			assertThat(offList.body()).contains("NSSI-0803");
		}
		// a token that may create but not update Patients, and one that may only read
		HttpResponse<String> createOnly = kickOff(tokens().system("system/Patient.c"), fromOurFiles);
		assertThat(createOnly.statusCode()).isEqualTo(403);
		assertThat(createOnly.body()).contains("NSSI-0803");
		assertThat(kickOff(tokens().system("system/*.rs"), fromOurFiles).statusCode()).isEqualTo(403);
		// a patient-level token
		assertThat(kickOff(tokens().patient("imp-nobody", "patient/*.cruds"), fromOurFiles).statusCode()).isEqualTo(403);
	}
}
