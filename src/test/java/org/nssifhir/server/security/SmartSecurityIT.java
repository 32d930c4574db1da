package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;

/** SMART on FHIR over real HTTP: discovery, tokens, 401/403, scope letters, and the patient compartment on every path. */
class SmartSecurityIT extends BaseIT {

	private static final String SURVEY = "http://terminology.hl7.org/CodeSystem/observation-category|survey";
	private final ObjectMapper json = new ObjectMapper();

	private IIdType patientA;
	private IIdType patientB;
	private IIdType obsA;
	private IIdType obsB;
	private IIdType surveyA;

	@BeforeEach
	void twoPatientsWithObservations() {
		IGenericClient admin = client();
		patientA = admin.create().resource(patient("A")).execute().getId().toUnqualifiedVersionless();
		patientB = admin.create().resource(patient("B")).execute().getId().toUnqualifiedVersionless();
		obsA = admin.create().resource(observation(patientA, null)).execute().getId().toUnqualifiedVersionless();
		// A's observation names B as performer: an _include of it must not leak B
		Observation leaky = observation(patientA, null);
		leaky.addPerformer(new Reference(patientB));
		admin.create().resource(leaky).execute();
		obsB = admin.create().resource(observation(patientB, null)).execute().getId().toUnqualifiedVersionless();
		surveyA = admin.create().resource(observation(patientA, "survey")).execute().getId().toUnqualifiedVersionless();
	}

	private static Patient patient(String name) {
		Patient p = new Patient();
		p.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
		p.addName().setFamily("Synthetic" + name);
		return p;
	}

	private static Observation observation(IIdType subject, String category) {
		Observation o = new Observation();
		o.setStatus(Observation.ObservationStatus.FINAL);
		o.getCode().addCoding().setSystem("urn:example:test").setCode("x");
		if (category != null) {
			o.addCategory().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/observation-category").setCode(category);
		}
		o.setSubject(new Reference(subject));
		o.setValue(new StringType("v"));
		return o;
	}

	private IGenericClient asPatientA(String scopes) {
		// the patient's own app (fhirUser = the patient): compartment rules apply, sensitivity filtering does not
		return client(tokens().token().scopes(scopes).claim("patient", patientA.getIdPart())
				.claim("fhirUser", fhirBase() + "/Patient/" + patientA.getIdPart()).sign());
	}

	private HttpResponse<String> get(String path, String token) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path));
		if (token != null) {
			b.header("Authorization", "Bearer " + token);
		}
		return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
	}

	// ---- discovery and authentication ---------------------------------------------------------------------------

	@Test
	void smartConfigurationIsPublicJsonWithRequiredFields() throws Exception {
		HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/.well-known/smart-configuration"))
				.header("Accept", "text/html").build(), HttpResponse.BodyHandlers.ofString());
		assertThat(r.statusCode()).isEqualTo(200);
		assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("application/json"));
		JsonNode doc = json.readTree(r.body());
		assertThat(doc.path("token_endpoint").asText()).isEqualTo(baseUrl() + "/oauth2/token");
		assertThat(doc.path("capabilities").isArray()).isTrue();
		assertThat(doc.path("grant_types_supported").toString()).contains("client_credentials");
		assertThat(doc.path("code_challenge_methods_supported").toString()).contains("S256").doesNotContain("plain");
		assertThat(doc.path("introspection_endpoint").asText()).startsWith("http://");
	}

	@Test
	void metadataIsPublicAndPointsAtTheSameTokenEndpoint() throws Exception {
		HttpResponse<String> r = get("/fhir/metadata", null);
		assertThat(r.statusCode()).isEqualTo(200);
		CapabilityStatement cs = fhirContext.newJsonParser().parseResource(CapabilityStatement.class, r.body());
		CapabilityStatement.CapabilityStatementRestSecurityComponent security = cs.getRestFirstRep().getSecurity();
		assertThat(security.getServiceFirstRep().getCodingFirstRep().getCode()).isEqualTo("SMART-on-FHIR");
		String token = security.getExtensionByUrl("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris")
				.getExtensionByUrl("token").getValue().primitiveValue();
		assertThat(token).isEqualTo(baseUrl() + "/oauth2/token");
	}

	@Test
	void noTokenBadTokenExpiredTokenAndWrongAudienceAre401() throws Exception {
		String path = "/fhir/Observation/" + obsA.getIdPart();
		HttpResponse<String> none = get(path, null);
		assertThat(none.statusCode()).isEqualTo(401);
		assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
		assertThat(none.body()).contains("OperationOutcome").contains("NSSI-0301");
		assertThat(get(path, "not-a-jwt").statusCode()).isEqualTo(401);
		assertThat(get(path, tokens().token().scopes("system/*.cruds").expiredAt(Instant.now().minusSeconds(120)).sign()).statusCode())
				.isEqualTo(401);
		assertThat(get(path, tokens().token().scopes("system/*.cruds").audience("https://other.example/fhir").sign()).statusCode())
				.isEqualTo(401);
		// a well-formed token signed by someone else's key
		String forged = new org.nssifhir.server.support.TestTokens(
						new com.nimbusds.jose.jwk.source.ImmutableJWKSet<>(new com.nimbusds.jose.jwk.JWKSet(
								new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID(
										((com.nimbusds.jose.jwk.RSAKey) serverKeys.get(new com.nimbusds.jose.jwk.JWKSelector(new com.nimbusds.jose.jwk.JWKMatcher.Builder().build()), null).get(0)).getKeyID())
										.generate())),
						fhirBase())
				.system("system/*.cruds");
		assertThat(get(path, forged).statusCode()).isEqualTo(401);
	}

	private HttpResponse<String> requestToken(String secret, String scope) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
						.header("Content-Type", "application/x-www-form-urlencoded")
						.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("test-backend:" + secret).getBytes(StandardCharsets.UTF_8)))
						.POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&scope=" + scope))
						.build(),
				HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void clientCredentialsTokenFromTheBuiltInServerWorksWithinItsScopes() throws Exception {
		HttpResponse<String> tokenResponse = requestToken("test-backend-secret", "system/Observation.rs");
		assertThat(tokenResponse.statusCode()).isEqualTo(200);
		assertThat(tokenResponse.headers().firstValue("Cache-Control")).hasValueSatisfying(v -> assertThat(v).contains("no-store"));
		JsonNode body = json.readTree(tokenResponse.body());
		assertThat(body.path("expires_in").asInt()).isBetween(1, 3600);
		String token = body.path("access_token").asText();

		assertThat(get("/fhir/Observation/" + obsB.getIdPart(), token).statusCode()).isEqualTo(200);
		assertThat(get("/fhir/Patient/" + patientB.getIdPart(), token).statusCode()).isEqualTo(403);

		// a scope the client is not registered for is not granted; a wrong secret is refused
		assertThat(requestToken("test-backend-secret", "system/*.cruds").statusCode()).isEqualTo(400);
		assertThat(requestToken("nope", "system/Observation.rs").statusCode()).isEqualTo(401);
	}

	@Test
	void introspectionAndRevocationTakeEffectAtOnce() throws Exception {
		String token = json.readTree(requestToken("test-backend-secret", "system/Observation.rs").body()).path("access_token").asText();
		assertThat(get("/fhir/Observation/" + obsA.getIdPart(), token).statusCode()).isEqualTo(200);
		assertThat(json.readTree(tokenEndpoint("/oauth2/introspect", "token=" + token).body()).path("active").asBoolean()).isTrue();

		assertThat(tokenEndpoint("/oauth2/revoke", "token=" + token).statusCode()).isEqualTo(200);
		assertThat(json.readTree(tokenEndpoint("/oauth2/introspect", "token=" + token).body()).path("active").asBoolean()).isFalse();
		assertThat(get("/fhir/Observation/" + obsA.getIdPart(), token).statusCode()).isEqualTo(401);
	}

	private HttpResponse<String> tokenEndpoint(String path, String form) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path))
						.header("Content-Type", "application/x-www-form-urlencoded")
						.header("Authorization", "Basic " + Base64.getEncoder().encodeToString("test-backend:test-backend-secret".getBytes(StandardCharsets.UTF_8)))
						.POST(HttpRequest.BodyPublishers.ofString(form))
						.build(),
				HttpResponse.BodyHandlers.ofString());
	}

	// ---- scopes -----------------------------------------------------------------------------------------------------

	@Test
	void readAndSearchLettersAreSeparate() throws Exception {
		String readOnly = tokens().system("system/Observation.r");
		assertThat(get("/fhir/Observation/" + obsA.getIdPart(), readOnly).statusCode()).isEqualTo(200);
		assertThat(get("/fhir/Observation?subject=" + patientA.getValue(), readOnly).statusCode()).isEqualTo(403);
		String searchOnly = tokens().system("system/Observation.s");
		assertThat(get("/fhir/Observation?subject=" + patientA.getValue(), searchOnly).statusCode()).isEqualTo(200);
		assertThat(get("/fhir/Observation/" + obsA.getIdPart(), searchOnly).statusCode()).isEqualTo(403);
	}

	@Test
	void aTokenWithoutResourceScopesIsForbiddenButMayReadDefinitions() throws Exception {
		String none = tokens().system("openid");
		HttpResponse<String> r = get("/fhir/Observation/" + obsA.getIdPart(), none);
		assertThat(r.statusCode()).isEqualTo(403);
		assertThat(r.body()).contains("NSSI-0302");
		assertThat(get("/fhir/StructureDefinition/nssi-episode", none).statusCode()).isEqualTo(200);
	}

	@Test
	void aScopeQueryTheServerCannotEnforceIsRefused() throws Exception {
		HttpResponse<String> r = get("/fhir/Observation/" + obsA.getIdPart(),
				tokens().patient(patientA.getIdPart(), "patient/Observation.rs?value-string=v"));
		assertThat(r.statusCode()).isEqualTo(403);
		assertThat(r.body()).contains("NSSI-0303");
	}

	@Test
	void granularCategoryScopeLimitsWhatIsReadable() throws Exception {
		String token = tokens().patient(patientA.getIdPart(), "patient/Observation.rs?category=" + SURVEY);
		assertThat(get("/fhir/Observation/" + surveyA.getIdPart(), token).statusCode()).isEqualTo(200);
		// whether a stored record matches the scope's query depends on its content: refused as if it did not exist
		assertThat(get("/fhir/Observation/" + obsA.getIdPart(), token).statusCode()).isEqualTo(404);
		// the same limit inside a batch: the non-survey Observation is never returned (HAPI's rules refuse filtered
		// reads inside a batch altogether, so the survey entry is refused too: fail closed)
		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Observation/" + obsA.getIdPart());
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Observation/" + surveyA.getIdPart());
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Observation?subject=" + patientA.getValue());
		Bundle response = client(token).transaction().withBundle(batch).execute();
		String body = fhirContext.newJsonParser().encodeResourceToString(response);
		assertThat(body).as(body).doesNotContain("\"id\":\"" + obsA.getIdPart() + "\"");
		// refused as if missing, like the plain read above (whether it matches the query depends on its content)
		assertThat(response.getEntry().get(0).getResponse().getStatus()).as(body).startsWith("404");
	}

	@Test
	void v1ScopesWork() throws Exception {
		assertThat(get("/fhir/Observation/" + obsA.getIdPart(), tokens().patient(patientA.getIdPart(), "patient/Observation.read")).statusCode())
				.isEqualTo(200);
	}

	// ---- the patient compartment on every path ------------------------------------------------------------------------

	@Test
	void readAndVreadAndHistoryOfAnotherPatientAreForbidden() throws Exception {
		String token = tokens().patient(patientA.getIdPart(), "patient/*.rs");
		assertThat(get("/fhir/Observation/" + obsA.getIdPart(), token).statusCode()).isEqualTo(200);
		// refused exactly as a record that does not exist would be: the answer does not tell B's records exist
		assertThat(get("/fhir/Observation/" + obsB.getIdPart(), token).statusCode()).isEqualTo(404);
		assertThat(get("/fhir/Observation/" + obsB.getIdPart() + "/_history/1", token).statusCode()).isEqualTo(404);
		assertThat(get("/fhir/Observation/" + obsB.getIdPart() + "/_history", token).statusCode()).isIn(403, 404);
		// another Patient by id: refused from the URL alone (403), which tells nothing about the record either
		assertThat(get("/fhir/Patient/" + patientB.getIdPart(), token).statusCode()).isEqualTo(403);
	}

	@Test
	void searchesOnlyEverReturnThePatientsOwnData() {
		IGenericClient client = asPatientA("patient/*.rs");
		Bundle all = client.search().byUrl("Observation?code=urn:example:test|x").returnBundle(Bundle.class).execute();
		assertThat(subjects(all)).containsOnly(patientA.getValue());
		assertThat(all.getEntry()).isNotEmpty();

		assertThatThrownBy(() -> client.search().byUrl("Observation?subject=" + patientB.getValue()).returnBundle(Bundle.class).execute())
				.isInstanceOf(ForbiddenOperationException.class);

		// _has looks into other resources, so it could reveal what filtering hides: refused to every filtered user,
		// the patient included (their results are filtered like anyone's)
		assertThatThrownBy(() -> client.search().byUrl("Patient?_has:Observation:subject:code=urn:example:test|x").returnBundle(Bundle.class).execute())
				.isInstanceOf(InvalidRequestException.class).hasMessageContaining("NSSI-0308");
	}

	@Test
	void includesAndRevincludesNeverBringInAnotherPatient() {
		IGenericClient client = asPatientA("patient/*.rs");
		try {
			Bundle included = client.search()
					.byUrl("Observation?code=urn:example:test|x&_include=Observation:performer&_include=Observation:subject")
					.returnBundle(Bundle.class)
					.execute();
			assertThat(included.getEntry())
					.extracting(e -> e.getResource().getIdElement().toUnqualifiedVersionless().getValue())
					.doesNotContain(patientB.getValue());
		} catch (ForbiddenOperationException refused) {
			// refusing the whole request is also safe: nothing of B was returned
		}
		Bundle revincluded = client.search().byUrl("Patient?_revinclude=Observation:subject").returnBundle(Bundle.class).execute();
		assertThat(revincluded.getEntry()).extracting(e -> e.getResource().getIdElement().toUnqualifiedVersionless().getValue())
				.doesNotContain(patientB.getValue(), obsB.getValue());
	}

	@Test
	void everythingOnlyForTheirOwnRecord() throws Exception {
		IGenericClient client = asPatientA("patient/*.rs");
		Bundle mine = client.operation().onInstance(patientA).named("$everything").withNoParameters(Parameters.class)
				.returnResourceType(Bundle.class).execute();
		assertThat(mine.getEntry()).isNotEmpty();
		assertThat(mine.getEntry()).extracting(e -> e.getResource().getIdElement().toUnqualifiedVersionless().getValue())
				.doesNotContain(patientB.getValue(), obsB.getValue());
		assertThatThrownBy(() -> client.operation().onInstance(patientB).named("$everything").withNoParameters(Parameters.class)
						.returnResourceType(Bundle.class).execute())
				.isInstanceOf(ResourceNotFoundException.class);
	}

	@Test
	void batchReadsNeverReturnAnotherPatientsData() {
		// HAPI's search narrowing turns each GET entry of a patient-level token into a search of that patient's
		// compartment, so asking for B's resources by id yields only A's data, never B's
		IGenericClient client = asPatientA("patient/*.rs");
		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Observation/" + obsA.getIdPart());
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Observation/" + obsB.getIdPart());
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Patient/" + patientB.getIdPart());
		Bundle response = client.transaction().withBundle(batch).execute();
		String body = fhirContext.newJsonParser().encodeResourceToString(response);
		assertThat(body).contains("\"id\":\"" + obsA.getIdPart() + "\"");
		assertThat(body)
				.doesNotContain("\"id\":\"" + obsB.getIdPart() + "\"")
				.doesNotContain("\"id\":\"" + patientB.getIdPart() + "\"")
				.doesNotContain("\"fullUrl\":\"" + fhirBase() + "/Patient/" + patientB.getIdPart() + "\"");
	}

	@Test
	void aSearchForAnotherPatientInsideABatchReturnsNothingOfThem() {
		IGenericClient client = asPatientA("patient/*.rs");
		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Observation?subject=" + patientB.getValue());
		try {
			Bundle response = client.transaction().withBundle(batch).execute();
			String body = fhirContext.newJsonParser().encodeResourceToString(response);
			assertThat(body).doesNotContain("\"id\":\"" + obsB.getIdPart() + "\"");
		} catch (ForbiddenOperationException refused) {
			// refusing the whole batch is also safe: nothing of B was returned
			assertThat(refused.getStatusCode()).isEqualTo(403);
		}
	}

	@Test
	void aTypeLimitedSystemTokenCannotReadOtherTypesThroughABatch() {
		IGenericClient client = client(tokens().system("system/Observation.rs"));
		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Patient/" + patientB.getIdPart());
		Bundle response = client.transaction().withBundle(batch).execute();
		// refused (the scope rules' 403, or the answer a missing record gets), and nothing of the Patient returned
		assertThat(response.getEntry().get(0).getResponse().getStatus()).matches("40[34].*");
		assertThat(fhirContext.newJsonParser().encodeResourceToString(response)).doesNotContain("\"id\":\"" + patientB.getIdPart() + "\"");
	}

	@Test
	void writesOnlyInsideTheCompartmentAndOnlyWithWriteLetters() {
		IGenericClient reader = asPatientA("patient/*.rs");
		assertThatThrownBy(() -> reader.create().resource(observation(patientA, null)).execute()).isInstanceOf(ForbiddenOperationException.class);

		IGenericClient writer = asPatientA("patient/Observation.crus");
		assertThat(writer.create().resource(observation(patientA, null)).execute().getCreated()).isTrue();
		assertThatThrownBy(() -> writer.create().resource(observation(patientB, null)).execute()).isInstanceOf(ForbiddenOperationException.class);
		Observation bs = client().read().resource(Observation.class).withId(obsB).execute();
		bs.setValue(new StringType("tampered"));
		// another patient's record is changed by no one here, and answered as a missing one would be
		assertThatThrownBy(() -> writer.update().resource(bs).execute()).isInstanceOf(ResourceNotFoundException.class);
		assertThat(((StringType) client().read().resource(Observation.class).withId(obsB).execute().getValue()).getValue()).isEqualTo("v");
	}

	@Test
	void aPatientScopeWithoutPatientContextGrantsNothing() throws Exception {
		assertThat(get("/fhir/Observation/" + obsA.getIdPart(), tokens().system("patient/*.rs")).statusCode()).isEqualTo(403);
	}

	private static List<String> subjects(Bundle bundle) {
		return bundle.getEntry().stream()
				.map(Bundle.BundleEntryComponent::getResource)
				.filter(r -> r instanceof Observation)
				.map(r -> ((Observation) r).getSubject().getReference())
				.toList();
	}

	@SuppressWarnings("unused")
	private static String id(Resource r) {
		return r.getIdElement().toUnqualifiedVersionless().getValue();
	}
}
