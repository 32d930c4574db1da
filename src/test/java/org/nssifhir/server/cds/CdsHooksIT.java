package org.nssifhir.server.cds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.support.SmartTestApps.BACKEND_RSA_KEY;
import static org.nssifhir.server.support.SmartTestApps.CDS_CLIENT_ISSUER;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;

/**
 * CDS Hooks over real HTTP: discovery, the patient-view cards for three synthetic patients (with the EHR's
 * prefetch and without it), and the CDS Client's JWT (signed RS384 by a key published on a real JWKS server;
 * forged, replayed, wrong-audience, wrong-issuer and expired tokens refused with 401).
 */
class CdsHooksIT extends BaseIT {

	private final ObjectMapper json = new ObjectMapper();
	private IIdType safety;
	private IIdType recentAndRising;
	private IIdType noPlan;

	private static Date daysAgo(int days) {
		return Date.from(Instant.now().minus(days, ChronoUnit.DAYS));
	}

	@BeforeEach
	void patients() {
		// 1: an episode two months ago with intent to die unsure: escalation opened a suicide-risk Flag and an urgent Task
		safety = AssessmentFixtures.patient(client());
		client().create().resource(AssessmentFixtures.episode(safety, daysAgo(60), "intent-unsure", "care-self")).execute();
		// 2: one episode in the quarter before, three in the last 4 weeks, one of them needing medical care
		recentAndRising = AssessmentFixtures.patient(client());
		client().create().resource(AssessmentFixtures.episode(recentAndRising, daysAgo(70), "intent-none", "care-self")).execute();
		client().create().resource(AssessmentFixtures.episode(recentAndRising, daysAgo(20), "intent-none", "care-self")).execute();
		client().create().resource(AssessmentFixtures.episode(recentAndRising, daysAgo(9), "intent-none", "care-medical")).execute();
		client().create().resource(AssessmentFixtures.episode(recentAndRising, daysAgo(2), "intent-none", "care-first-aid")).execute();
		// 3: an active NSSI diagnosis and no care plan
		noPlan = AssessmentFixtures.patient(client());
		client().create().resource(nssiCondition(noPlan)).execute();
	}

	@Test
	void discoveryDescribesThePatientViewServiceWithPrefetch() throws Exception {
		HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/cds-services")).GET().build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		JsonNode service = json.readTree(response.body()).path("services").get(0);
		assertThat(service.path("hook").asText()).isEqualTo("patient-view");
		assertThat(service.path("id").asText()).isEqualTo("nssi-patient-view");
		assertThat(service.path("prefetch").path("patient").asText()).isEqualTo("Patient/{{context.patientId}}");
		assertThat(service.path("prefetch").fieldNames()).toIterable()
				.containsExactly("patient", "flags", "tasks", "episodes", "conditions", "carePlans");
	}

	@Test
	void eachPatientGetsExactlyTheRightCards_withoutPrefetch() throws Exception {
		assertThat(cardIds(call(safety, null))).containsExactly("safety-alert");
		assertThat(cardIds(call(recentAndRising, null))).containsExactlyInAnyOrder("recent-medical-care", "rising-frequency");
		assertThat(cardIds(call(noPlan, null))).containsExactly("no-care-plan");
	}

	@Test
	void eachPatientGetsExactlyTheRightCards_withPrefetchFromTheEhr() throws Exception {
		assertThat(cardIds(call(safety, prefetch(safety)))).containsExactly("safety-alert");
		assertThat(cardIds(call(recentAndRising, prefetch(recentAndRising)))).containsExactlyInAnyOrder("recent-medical-care", "rising-frequency");
		assertThat(cardIds(call(noPlan, prefetch(noPlan)))).containsExactly("no-care-plan");

		// the prefetch is what counts when it is sent: an EHR that knows of no alerts gets no alert card
		ObjectNode empty = prefetch(safety);
		empty.set("flags", json.readTree("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}"));
		empty.set("tasks", json.readTree("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}"));
		assertThat(cardIds(call(safety, empty))).isEmpty();
	}

	@Test
	void cardsFollowTheSpec_withASmartLinkToTheClinicianApp() throws Exception {
		JsonNode card = json.readTree(call(safety, null).body()).path("cards").get(0);
		assertThat(card.path("indicator").asText()).isEqualTo("critical");
		assertThat(card.path("summary").asText().length()).isLessThan(140);
		assertThat(card.path("source").path("label").asText()).isNotBlank();
		assertThat(card.path("uuid").asText()).isNotBlank();
		JsonNode link = card.path("links").get(0);
		assertThat(link.path("type").asText()).isEqualTo("smart");
		assertThat(link.path("url").asText()).isEqualTo(baseUrl() + "/app/");
		JsonNode rising = json.readTree(call(recentAndRising, null).body()).path("cards");
		assertThat(rising).allSatisfy(c -> assertThat(c.path("indicator").asText()).isEqualTo("warning"));
		assertThat(json.readTree(call(noPlan, null).body()).path("cards").get(0).path("indicator").asText()).isEqualTo("info");
	}

	@Test
	void callsWithoutAValidJwtAreRefused() throws Exception {
		String url = serviceUrl();
		assertThat(post(null, body(safety, null)).statusCode()).isEqualTo(401);
		RSAKey stranger = new RSAKeyGenerator(2048).keyID(BACKEND_RSA_KEY.getKeyID()).generate();
		assertThat(post(jwt(stranger, CDS_CLIENT_ISSUER, url, 120), body(safety, null)).statusCode()).isEqualTo(401);
		assertThat(post(jwt(BACKEND_RSA_KEY, "https://unknown-ehr.example", url, 120), body(safety, null)).statusCode()).isEqualTo(401);
		assertThat(post(jwt(BACKEND_RSA_KEY, CDS_CLIENT_ISSUER, baseUrl() + "/cds-services/other", 120), body(safety, null)).statusCode()).isEqualTo(401);
		assertThat(post(jwt(BACKEND_RSA_KEY, CDS_CLIENT_ISSUER, url, -60), body(safety, null)).statusCode()).isEqualTo(401);
		assertThat(post(jwt(BACKEND_RSA_KEY, CDS_CLIENT_ISSUER, url, 3600), body(safety, null)).statusCode()).isEqualTo(401);
		String once = jwt(BACKEND_RSA_KEY, CDS_CLIENT_ISSUER, url, 120);
		assertThat(post(once, body(safety, null)).statusCode()).isEqualTo(200);
		HttpResponse<String> replay = post(once, body(safety, null));
		assertThat(replay.statusCode()).isEqualTo(401);
		assertThat(replay.body()).contains("NSSI-0811");
		// authenticated but not a patient-view request
		assertThat(post(jwt(BACKEND_RSA_KEY, CDS_CLIENT_ISSUER, url, 120), "{\"hook\":\"order-sign\"}").statusCode()).isEqualTo(400);
	}

	// ---- helpers ----------------------------------------------------------------------------------------

	private static Condition nssiCondition(IIdType patient) {
		Condition c = new Condition();
		c.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		c.setClinicalStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")));
		c.setVerificationStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")));
		c.addCategory(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")));
		c.getCode().addCoding(new Coding(NssiCanonicals.ICD10CM, "R45.88", "Nonsuicidal self-harm"));
		c.getCode().addCoding(new Coding(NssiCanonicals.SNOMED, "248062006", "Self-injurious behavior"));
		c.getCode().setText("Non-suicidal self-injury");
		c.setSubject(new Reference(patient));
		c.setOnset(new DateTimeType(daysAgo(300)));
		c.setRecordedDateElement(new DateTimeType(daysAgo(200)));
		return c;
	}

	private String serviceUrl() {
		return baseUrl() + "/cds-services/nssi-patient-view";
	}

	/** What an EHR would prefetch: the service's templates, run against its FHIR server (here: this one). */
	private ObjectNode prefetch(IIdType patient) throws Exception {
		JsonNode templates = json.readTree(http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/cds-services")).GET().build(),
				HttpResponse.BodyHandlers.ofString()).body()).path("services").get(0).path("prefetch");
		ObjectNode out = json.createObjectNode();
		for (Map.Entry<String, JsonNode> t : (Iterable<Map.Entry<String, JsonNode>>) templates::fields) {
			String query = t.getValue().asText().replace("{{context.patientId}}", patient.getIdPart()).replace("|", "%7C");
			HttpResponse<String> r = http.send(fhirRequest("/" + query).GET().build(), HttpResponse.BodyHandlers.ofString());
			assertThat(r.statusCode()).as(query).isEqualTo(200);
			out.set(t.getKey(), json.readTree(r.body()));
		}
		return out;
	}

	private String body(IIdType patient, JsonNode prefetch) {
		ObjectNode body = json.createObjectNode();
		body.put("hook", "patient-view");
		body.put("hookInstance", UUID.randomUUID().toString());
		body.put("fhirServer", fhirBase());
		body.putObject("context").put("userId", "Practitioner/example").put("patientId", patient.getIdPart());
		if (prefetch != null) {
			body.set("prefetch", prefetch);
		}
		return body.toString();
	}

	private HttpResponse<String> call(IIdType patient, JsonNode prefetch) throws Exception {
		HttpResponse<String> response = post(jwt(BACKEND_RSA_KEY, CDS_CLIENT_ISSUER, serviceUrl(), 120), body(patient, prefetch));
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		return response;
	}

	private List<String> cardIds(HttpResponse<String> response) throws Exception {
		List<String> ids = new java.util.ArrayList<>();
		json.readTree(response.body()).path("cards").forEach(c -> ids.add(c.path("extension").path("nssi-card").asText()));
		return ids;
	}

	private HttpResponse<String> post(String jwt, String body) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(serviceUrl()))
				.header("Content-Type", "application/json")
				.POST(HttpRequest.BodyPublishers.ofString(body));
		if (jwt != null) {
			request.header("Authorization", "Bearer " + jwt);
		}
		return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static String jwt(RSAKey key, String issuer, String audience, int lifetimeSeconds) throws Exception {
		Instant now = Instant.now();
		JWTClaimsSet claims = new JWTClaimsSet.Builder()
				.issuer(issuer)
				.audience(audience)
				.jwtID(UUID.randomUUID().toString())
				.issueTime(Date.from(lifetimeSeconds < 0 ? now.minusSeconds(600) : now))
				.expirationTime(Date.from(now.plusSeconds(lifetimeSeconds)))
				.build();
		SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS384).keyID(key.getKeyID()).type(com.nimbusds.jose.JOSEObjectType.JWT).build(), claims);
		jwt.sign(new RSASSASigner(key));
		return jwt.serialize();
	}
}
