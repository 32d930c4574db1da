package org.nssifhir.server.bulk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.BACKEND_BULK;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BackendTokens;
import org.nssifhir.server.support.BaseIT;

/**
 * Bulk Data Access 2.0 over real HTTP: kick-off with a SMART Backend Services token (private_key_jwt), polling,
 * NDJSON download, {@code _type}/{@code _since}/{@code _typeFilter}, Group and Patient exports, cancellation, and
 * the refusals: no token, a patient token, types outside the token's scopes, another client polling or
 * downloading the files.
 */
class BulkExportIT extends BaseIT {

	private final ObjectMapper json = new ObjectMapper();
	private IIdType p1;
	private IIdType p2;
	private IIdType p3;
	private IIdType group;
	private String token;

	private static Date daysAgo(int days) {
		return Date.from(Instant.now().minus(days, ChronoUnit.DAYS));
	}

	@BeforeEach
	void data() throws Exception {
		p1 = AssessmentFixtures.patient(client());
		p2 = AssessmentFixtures.patient(client());
		p3 = AssessmentFixtures.patient(client());
		client().create().resource(AssessmentFixtures.episode(p1, daysAgo(2), "intent-none", null)).execute();
		client().create().resource(AssessmentFixtures.episode(p1, daysAgo(400), "intent-none", null)).execute();
		client().create().resource(AssessmentFixtures.episode(p2, daysAgo(3), "intent-none", null)).execute();
		client().create().resource(AssessmentFixtures.episode(p3, daysAgo(4), "intent-none", null)).execute();
		Group g = new Group();
		g.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		g.setActual(true).setType(Group.GroupType.PERSON);
		g.addMember().setEntity(new Reference(p1));
		g.addMember().setEntity(new Reference(p2));
		group = client().create().resource(g).execute().getId().toUnqualifiedVersionless();
		token = BackendTokens.token(http, baseUrl(), BACKEND_BULK, "system/*.read");
	}

	@Test
	void groupExportRoundTrip_onlyTheGroupsPatientsInNdjson_filesOnlyForTheRequestingClient_audited() throws Exception {
		String status = kickOff("/" + group.getValue() + "/$export?_type=Patient,Observation", token);
		JsonNode manifest = awaitManifest(status, token);
		assertThat(manifest.path("requiresAccessToken").asBoolean()).isTrue();
		assertThat(manifest.path("request").asText()).contains("$export");
		Map<String, List<JsonNode>> files = download(manifest, token);
		assertThat(ids(files.get("Patient"))).containsExactlyInAnyOrder(p1.getIdPart(), p2.getIdPart());
		assertThat(files.get("Observation")).hasSize(3);
		assertThat(files.get("Observation")).allSatisfy(o -> assertThat(o.path("subject").path("reference").asText())
				.isIn(p1.getValue(), p2.getValue()));

		// another client: cannot poll, cancel or download
		String other = tokens().token().scopes("system/*.read").claim("client_id", "another-backend").sign();
		assertThat(get(status, other).statusCode()).isEqualTo(404);
		assertThat(send(HttpRequest.newBuilder(URI.create(status)).DELETE(), other).statusCode()).isEqualTo(404);
		String fileUrl = manifest.path("output").get(0).path("url").asText();
		assertThat(get(fileUrl, other).statusCode()).isEqualTo(403);
		// nor can a client without any token
		assertThat(http.send(HttpRequest.newBuilder(URI.create(fileUrl)).GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode())
				.isEqualTo(401);

		// the kick-off and each download are audited, naming the client
		List<AuditEvent> kickOffs = audits("_tag=urn:nssi-fhir:audit|bulk-export-kickoff&entity=" + group.getValue());
		assertThat(kickOffs).hasSize(1);
		assertThat(kickOffs.get(0).getAgent()).anySatisfy(a -> assertThat(a.getWho().getIdentifier().getValue()).isEqualTo(BACKEND_BULK));
		String binaryId = fileUrl.substring(fileUrl.indexOf("/Binary/") + 1);
		assertThat(audits("entity=" + binaryId)).isNotEmpty();
	}

	@Test
	void sinceAndTypeFilterNarrowTheExport() throws Exception {
		Instant before = Instant.now();
		Thread.sleep(1100); // _since has second precision in practice; keep the new episode clearly after it
		client().create().resource(AssessmentFixtures.episode(p1, daysAgo(1), "intent-none", null)).execute();

		String since = URLEncoder.encode(new InstantType(Date.from(before)).getValueAsString(), StandardCharsets.UTF_8);
		Map<String, List<JsonNode>> sinceFiles = download(awaitManifest(
				kickOff("/" + group.getValue() + "/$export?_type=Patient,Observation&_since=" + since, token), token), token);
		assertThat(sinceFiles.getOrDefault("Patient", List.of())).isEmpty();
		assertThat(sinceFiles.get("Observation")).hasSize(1);

		// episodes of the last 200 days only: the 400-day-old one is left out
		String filter = URLEncoder.encode("Observation?date=ge" + new org.hl7.fhir.r4.model.DateType(daysAgo(200)).getValueAsString(), StandardCharsets.UTF_8);
		Map<String, List<JsonNode>> filtered = download(awaitManifest(
				kickOff("/" + group.getValue() + "/$export?_type=Observation&_typeFilter=" + filter, token), token), token);
		assertThat(filtered.get("Observation")).hasSize(3);
		assertThat(filtered).doesNotContainKey("Patient");
	}

	@Test
	void patientAndSystemLevelExports() throws Exception {
		Map<String, List<JsonNode>> one = download(awaitManifest(kickOff("/" + p3.getValue() + "/$export?_type=Observation", token), token), token);
		assertThat(one.get("Observation")).hasSize(1);
		assertThat(one.get("Observation").get(0).path("subject").path("reference").asText()).isEqualTo(p3.getValue());

		// system level: the Groups created since this test's data (exactly ours)
		Instant after = Instant.now();
		Group g = new Group();
		g.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		g.setActual(true).setType(Group.GroupType.PERSON).addMember().setEntity(new Reference(p3));
		IIdType mine = client().create().resource(g).execute().getId().toUnqualifiedVersionless();
		String since = URLEncoder.encode(new InstantType(Date.from(after.minusMillis(1))).getValueAsString(), StandardCharsets.UTF_8);
		Map<String, List<JsonNode>> system = download(awaitManifest(kickOff("/$export?_type=Group&_since=" + since, token), token), token);
		assertThat(ids(system.get("Group"))).containsExactly(mine.getIdPart());
	}

	@Test
	void aPatientWithMoreEpisodesThanAPageIsExportedWhole() throws Exception {
		// more than a search page (200) of one type in one export chunk: every one must reach the file
		IIdType many = AssessmentFixtures.patient(client());
		Bundle batch = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		for (int i = 0; i < 260; i++) {
			batch.addEntry().setResource(AssessmentFixtures.episode(many, daysAgo(5 + i), "intent-none", null))
					.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		}
		client().transaction().withBundle(batch).execute();
		String status = kickOff("/" + many.getValue() + "/$export?_type=Observation", token);
		Map<String, List<JsonNode>> files = download(awaitManifest(status, token), token);
		assertThat(files.get("Observation")).hasSize(260);
		assertThat(ids(files.get("Observation"))).doesNotHaveDuplicates();
	}

	@Test
	void refusals() throws Exception {
		String url = fhirBase() + "/" + group.getValue() + "/$export?_type=Patient";
		// no token
		assertThat(http.send(HttpRequest.newBuilder(URI.create(url)).header("Prefer", "respond-async").GET().build(),
				HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
		// a patient token (even one whose own record is in the group) and a clinician's user token
		String patientToken = tokens().ownPatient(p1.getIdPart(), "patient/*.rs");
		assertThat(kickOffResponse("/" + group.getValue() + "/$export?_type=Patient", patientToken).statusCode()).isEqualTo(403);
		assertThat(kickOffResponse("/" + p1.getValue() + "/$export?_type=Observation", patientToken).statusCode()).isEqualTo(403);
		String userToken = tokens().token().scopes("user/*.rs").claim("fhirUser", fhirBase() + "/Practitioner/x").sign();
		assertThat(kickOffResponse("/$export?_type=Patient", userToken).statusCode()).isEqualTo(403);
		// a backend token for Patient and Observation only: other types are refused, no _type = only what it may read
		String narrow = BackendTokens.token(http, baseUrl(), BACKEND_BULK, "system/Patient.rs system/Observation.rs");
		HttpResponse<String> refused = kickOffResponse("/" + group.getValue() + "/$export?_type=Patient,Condition", narrow);
		assertThat(refused.statusCode()).isEqualTo(403);
		assertThat(refused.body()).contains("NSSI-0801");
		Map<String, List<JsonNode>> files = download(awaitManifest(kickOff("/" + group.getValue() + "/$export", narrow), narrow), narrow);
		assertThat(files.keySet()).containsExactlyInAnyOrder("Patient", "Observation");
		// a status URL that does not exist
		assertThat(get(fhirBase() + "/$export-poll-status?_jobId=no-such-job", token).statusCode()).isEqualTo(404);
	}

	@Test
	void aKickedOffExportCanBeCancelled() throws Exception {
		String status = kickOff("/$export", token); // everything the token may read: long enough to cancel
		HttpResponse<String> cancel = send(HttpRequest.newBuilder(URI.create(status)).DELETE(), token);
		assertThat(cancel.statusCode()).isEqualTo(202);
		// HAPI's poll-status handler writes its own response, so the audit commits just after the client has it
		Instant deadline = Instant.now().plusSeconds(10);
		while (audits("_tag=urn:nssi-fhir:audit|bulk-export-cancel").isEmpty() && Instant.now().isBefore(deadline)) {
			Thread.sleep(100);
		}
		assertThat(audits("_tag=urn:nssi-fhir:audit|bulk-export-cancel")).isNotEmpty();
		deadline = Instant.now().plusSeconds(30);
		int code;
		do {
			code = get(status, token).statusCode();
		} while (code != 404 && Instant.now().isBefore(deadline));
		assertThat(code).isEqualTo(404);
	}

	// ---- helpers ----------------------------------------------------------------------------------------

	private HttpResponse<String> kickOffResponse(String path, String bearer) throws Exception {
		return send(HttpRequest.newBuilder(URI.create(fhirBase() + path))
				.header("Prefer", "respond-async").header("Accept", "application/fhir+json").GET(), bearer);
	}

	/** Kicks off; returns the status URL. */
	private String kickOff(String path, String bearer) throws Exception {
		HttpResponse<String> response = kickOffResponse(path, bearer);
		assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
		return response.headers().firstValue("Content-Location").orElseThrow();
	}

	private JsonNode awaitManifest(String statusUrl, String bearer) throws Exception {
		Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
		while (Instant.now().isBefore(deadline)) {
			HttpResponse<String> response = get(statusUrl, bearer);
			if (response.statusCode() == 200) {
				return json.readTree(response.body());
			}
			assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
			assertThat(response.headers().firstValue("X-Progress")).isPresent();
			Thread.sleep(250);
		}
		throw new AssertionError("export did not complete in time");
	}

	/** Downloads every file of the manifest; resources by type. */
	private Map<String, List<JsonNode>> download(JsonNode manifest, String bearer) throws Exception {
		Map<String, List<JsonNode>> out = new HashMap<>();
		for (JsonNode file : manifest.path("output")) {
			HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(file.path("url").asText()))
					.header("Accept", "application/fhir+ndjson").GET(), bearer);
			assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
			assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/fhir+ndjson");
			for (String line : response.body().split("\n")) {
				if (!line.isBlank()) {
					JsonNode resource = json.readTree(line);
					assertThat(resource.path("resourceType").asText()).isEqualTo(file.path("type").asText());
					out.computeIfAbsent(file.path("type").asText(), k -> new ArrayList<>()).add(resource);
				}
			}
		}
		return out;
	}

	private static List<String> ids(List<JsonNode> resources) {
		return resources == null ? List.of() : resources.stream().map(r -> r.path("id").asText()).toList();
	}

	private List<AuditEvent> audits(String query) {
		awaitAuditTrail();
		Bundle bundle = client().search().byUrl("AuditEvent?" + query).returnBundle(Bundle.class).execute();
		return bundle.getEntry().stream().map(e -> (AuditEvent) e.getResource()).toList();
	}

	private HttpResponse<String> get(String url, String bearer) throws Exception {
		return send(HttpRequest.newBuilder(URI.create(url)).GET(), bearer);
	}

	private HttpResponse<String> send(HttpRequest.Builder request, String bearer) throws Exception {
		return http.send(request.header("Authorization", "Bearer " + bearer).build(), HttpResponse.BodyHandlers.ofString());
	}
}
