package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Goal;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.UriType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.ErrorCode;

/**
 * What an integrator meets first (issue 18, "Integrator ergonomics"), over HTTP: {@code $validate} reports what a
 * write would refuse and takes the profile from the URL or the Parameters body; a refused transaction names its
 * entry and stores nothing; parse and search-value errors name the element, the parameter and the value; no 500
 * for {@code _summary=text}, foreign paging links, conditional creates matching a restricted record, malformed batch
 * GET entries; Medplum-style typed page links and compartment searches work under the same privacy rules as the
 * searches they stand for; {@code Prefer: handling=lenient|strict}; EHR codes in our episode's extensible bindings.
 */
class IntegratorErgonomicsIT extends BaseIT {

	private static final String HTEST = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
	private static final String CONCEPTS = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
	private static final String EPISODE = "https://nssi-fhir.org/fhir/StructureDefinition/nssi-episode";

	private String victim;
	private String treating;
	private String unrelated;
	private String secret;
	private String episode;

	private static <T extends Resource> T tagged(T r) {
		r.getMeta().addSecurity(HTEST, "HTEST", null);
		return r;
	}

	@BeforeEach
	void adolescentWithARestrictedEpisode() throws Exception {
		Patient v = tagged(new Patient());
		v.setBirthDateElement(new DateType("2011-05-01"));
		victim = client().create().resource(v).execute().getId().getIdPart();
		treating = client().create().resource(tagged(new Practitioner())).execute().getId().getIdPart();
		unrelated = client().create().resource(tagged(new Practitioner())).execute().getId().getIdPart();
		CareTeam team = tagged(new CareTeam());
		team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
		team.setSubject(new Reference("Patient/" + victim));
		team.addParticipant().setMember(new Reference("Practitioner/" + treating));
		client().create().resource(team).execute();
		secret = unique("secret");
		episode = client().create().resource(episodeOf(victim, secret)).execute().getId().getIdPart();
	}

	// ---------------------------------------------------------------- 1. $validate

	@Test
	void validate_reportsWhatAWriteRefuses_withTheProfileFromTheUrlOrTheBody() throws Exception {
		Observation invalid = episodeOf(victim, unique("v"));
		invalid.getComponent().removeIf(c -> c.getCode().getCodingFirstRep().getCode().equals("suicidal-intent"));
		String body = json(invalid);
		HttpResponse<String> write = send("POST", "/Observation", full(), body, Map.of());
		assertThat(write.statusCode()).as(write.body()).isEqualTo(422);

		// no profile: classified as the write classifies it
		OperationOutcome plain = outcome(send("POST", "/Observation/$validate", full(), body, Map.of()));
		assertThat(errors(plain)).anyMatch(d -> d.startsWith(ErrorCode.PROFILE_VALIDATION_FAILED.code()))
				.anyMatch(d -> d.contains("suicidalIntent"));
		// the profile in the URL
		OperationOutcome url = outcome(send("POST", "/Observation/$validate?profile=" + enc(EPISODE), full(), body, Map.of()));
		assertThat(errors(url)).anyMatch(d -> d.contains("suicidalIntent")).noneMatch(d -> d.contains("Invalid profile"));
		// the profile in the Parameters body: the same answer, no false "Invalid profile"
		Parameters parameters = new Parameters();
		parameters.addParameter().setName("resource").setResource(invalid);
		parameters.addParameter().setName("profile").setValue(new UriType(EPISODE));
		OperationOutcome inBody = outcome(send("POST", "/Observation/$validate", full(), json(parameters), Map.of()));
		assertThat(errors(inBody)).anyMatch(d -> d.contains("suicidalIntent")).noneMatch(d -> d.contains("Invalid profile"));

		// a valid episode passes, whichever way its profile is named
		Parameters valid = new Parameters();
		valid.addParameter().setName("resource").setResource(episodeOf(victim, unique("ok")));
		valid.addParameter().setName("profile").setValue(new UriType(EPISODE));
		assertThat(errors(outcome(send("POST", "/Observation/$validate", full(), json(valid), Map.of())))).isEmpty();
		assertThat(errors(outcome(send("POST", "/Observation/$validate", full(), json(episodeOf(victim, unique("ok"))), Map.of())))).isEmpty();
	}

	// ---------------------------------------------------------------- 2. refused transaction

	@Test
	void refusedTransaction_namesTheEntry_andStoresNothing() throws Exception {
		String mrn = unique("mrn");
		Observation invalid = episodeOf("placeholder", unique("tx"));
		invalid.setSubject(new Reference("urn:uuid:a0000000-0000-0000-0000-000000000001"));
		invalid.getComponent().removeIf(c -> c.getCode().getCodingFirstRep().getCode().equals("suicidal-intent"));
		Patient patient = tagged(new Patient());
		patient.addIdentifier().setSystem("urn:test:mrn").setValue(mrn);
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		tx.addEntry().setFullUrl("urn:uuid:a0000000-0000-0000-0000-000000000001").setResource(patient)
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
		tx.addEntry().setFullUrl("urn:uuid:a0000000-0000-0000-0000-000000000002").setResource(invalid)
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		HttpResponse<String> r = send("POST", "", full(), json(tx), Map.of());
		assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
		OperationOutcome outcome = outcome(r);
		assertThat(outcome.getIssueFirstRep().getDiagnostics()).startsWith(ErrorCode.PROFILE_VALIDATION_FAILED.code())
				.contains("Bundle.entry[1]").contains("urn:uuid:a0000000-0000-0000-0000-000000000002");
		assertThat(outcome.getIssue()).allSatisfy(i -> assertThat(i.getExpression()).extracting(Object::toString).contains("Bundle.entry[1]"));
		assertThat(count("/Patient?identifier=urn:test:mrn%7C" + mrn)).isZero();

		// a reference to a record that does not exist: HAPI's refusal, also named
		Bundle dangling = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		Observation vital = tagged(new Observation());
		vital.setStatus(Observation.ObservationStatus.FINAL);
		vital.getCode().setText("heart rate");
		vital.setSubject(new Reference("Patient/" + victim));
		dangling.addEntry().setFullUrl("urn:uuid:b0000000-0000-0000-0000-000000000001").setResource(vital.copy())
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		vital.setSubject(new Reference("Patient/does-not-exist-" + System.nanoTime()));
		dangling.addEntry().setFullUrl("urn:uuid:b0000000-0000-0000-0000-000000000002").setResource(vital)
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		HttpResponse<String> missing = send("POST", "", full(), json(dangling), Map.of());
		assertThat(missing.statusCode()).as(missing.body()).isBetween(400, 499);
		assertThat(outcome(missing).getIssueFirstRep().getDiagnostics()).contains("Bundle.entry[1]");

		// a conditional create matching two records fails while HAPI prepares the entry: no entry is named (the one
		// written before it would be wrong), HAPI's message quotes the match URL
		String twice = unique("twice");
		for (int i = 0; i < 2; i++) {
			Patient p = tagged(new Patient());
			p.addIdentifier().setSystem("urn:test:mrn").setValue(twice);
			client().create().resource(p).execute();
		}
		Bundle ambiguous = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		Observation first = tagged(new Observation());
		first.setStatus(Observation.ObservationStatus.FINAL);
		first.getCode().setText("heart rate");
		first.setSubject(new Reference("Patient/" + victim));
		ambiguous.addEntry().setFullUrl("urn:uuid:c0000000-0000-0000-0000-000000000001").setResource(first)
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		Patient again = tagged(new Patient());
		again.addIdentifier().setSystem("urn:test:mrn").setValue(twice);
		ambiguous.addEntry().setFullUrl("urn:uuid:c0000000-0000-0000-0000-000000000002").setResource(again)
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient").setIfNoneExist("identifier=urn:test:mrn|" + twice);
		HttpResponse<String> conflict = send("POST", "", full(), json(ambiguous), Map.of());
		assertThat(conflict.statusCode()).as(conflict.body()).isEqualTo(412);
		assertThat(conflict.body()).doesNotContain("Bundle.entry[0]");
	}

	// ---------------------------------------------------------------- 3. parse and search errors

	@Test
	void parseAndSearchErrors_nameTheElementTheParameterAndTheValue() throws Exception {
		HttpResponse<String> badEnum = send("POST", "/Observation", full(),
				"{\"resourceType\":\"Observation\",\"status\":\"bogus\",\"code\":{\"text\":\"x\"}}", Map.of());
		assertThat(badEnum.statusCode()).isEqualTo(400);
		assertThat(outcome(badEnum).getIssueFirstRep().getExpression()).extracting(Object::toString).containsExactly("status");
		assertThat(outcome(badEnum).getIssueFirstRep().getDiagnostics()).contains("bogus");
		HttpResponse<String> wrongType = send("POST", "/Observation", full(),
				"{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"valueQuantity\":\"12\"}", Map.of());
		assertThat(wrongType.statusCode()).isEqualTo(400);
		assertThat(outcome(wrongType).getIssueFirstRep().getExpression()).extracting(Object::toString).containsExactly("valueQuantity");

		for (String[] search : List.of(new String[] {"/Observation?date=notadate", "date", "notadate"},
				new String[] {"/Observation?date=ge2024-13-45", "date", "ge2024-13-45"},
				new String[] {"/Observation?value-quantity=lots", "value-quantity", "lots"},
				new String[] {"/Observation?subject=Patient/", "subject", "Patient/"},
				new String[] {"/Observation?_count=abc", "_count", "abc"})) {
			HttpResponse<String> r = send("GET", search[0], full(), null, Map.of());
			assertThat(r.statusCode()).as(search[0]).isEqualTo(400);
			assertThat(outcome(r).getIssueFirstRep().getDiagnostics()).as(search[0]).contains(search[1]).contains("\"" + search[2] + "\"");
		}
	}

	// ---------------------------------------------------------------- 4. no 500

	@Test
	void noServerErrorForTheRequestsOfTheIssue() throws Exception {
		List<String> fiveHundreds = new ArrayList<>();
		Map<String, String> tokens = new HashMap<>();
		tokens.put("backend", full());
		tokens.put("treating", clinician(treating, "user/*.cruds"));
		tokens.put("unrelated", clinician(unrelated, "user/*.cruds"));
		tokens.put("patient", tokens().token().scopes("patient/*.cruds").claim("patient", victim)
				.claim("fhirUser", fhirBase() + "/Patient/" + victim).sign());
		// a stored search (one across patients: a search about one patient pages by offset, PatientSearchPaging)
		HttpResponse<String> first = send("GET", "/Observation?_count=1", full(), null, Map.of());
		String next = fhirContext.newJsonParser().parseResource(Bundle.class, first.body()).getLink("next") == null ? null
				: fhirContext.newJsonParser().parseResource(Bundle.class, first.body()).getLink("next").getUrl();
		assertThat(next).contains("_getpages");
		String searchId = next.replaceAll(".*_getpages=([^&]*).*", "$1");
		for (Map.Entry<String, String> who : tokens.entrySet()) {
			String t = who.getValue();
			List<HttpResponse<String>> answers = new ArrayList<>();
			answers.add(send("GET", "/Observation/" + episode + "?_summary=text", t, null, Map.of()));
			answers.add(send("GET", "/Patient/" + victim + "?_summary=text", t, null, Map.of()));
			for (String offset : List.of("-1", "abc", "99999999999", "1000", "0")) {
				answers.add(send("GET", "?_getpages=" + searchId + "&_getpagesoffset=" + offset + "&_count=1", t, null, Map.of()));
				answers.add(send("GET", "/Observation?_getpages=" + searchId + "&_getpagesoffset=" + offset + "&_count=1", t, null, Map.of()));
				answers.add(send("GET", "?_getpages=not-a-search&_getpagesoffset=" + offset, t, null, Map.of()));
			}
			// a conditional create matching the restricted episode
			answers.add(send("POST", "/Observation", t, json(episodeOf(victim, secret)), Map.of("If-None-Exist", "identifier=urn:test:id|" + secret)));
			answers.add(send("POST", "/Observation", t, json(episodeOf(victim, secret)),
					Map.of("If-None-Exist", "identifier=urn:test:id|" + secret + "&patient=Patient/" + victim)));
			// malformed values inside batch GET entries
			String batch = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
					+ "{\"request\":{\"method\":\"GET\",\"url\":\"Observation?date=notadate\"}},"
					+ "{\"request\":{\"method\":\"GET\",\"url\":\"Observation?_count=abc\"}},"
					+ "{\"request\":{\"method\":\"GET\",\"url\":\"Observation?value-quantity=1e999999\"}},"
					+ "{\"request\":{\"method\":\"GET\",\"url\":\"Observation?subject=Patient/\"}},"
					+ "{\"request\":{\"method\":\"GET\",\"url\":\"Observation/" + episode + "?_summary=text\"}},"
					+ "{\"request\":{\"method\":\"GET\",\"url\":\"Observation?_getpages=" + searchId + "&_getpagesoffset=-1\"}}]}";
			HttpResponse<String> b = send("POST", "", t, batch, Map.of());
			answers.add(b);
			if (b.statusCode() == 200) {
				Bundle.BundleEntryComponent badDate = fhirContext.newJsonParser().parseResource(Bundle.class, b.body()).getEntryFirstRep();
				assertThat(badDate.getResponse().getStatus()).as(who.getKey()).startsWith("400");
				assertThat(((OperationOutcome) badDate.getResponse().getOutcome()).getIssueFirstRep().getDiagnostics())
						.startsWith(ErrorCode.SEARCH_VALUE_INVALID.code()).contains("notadate");
				for (Bundle.BundleEntryComponent e : fhirContext.newJsonParser().parseResource(Bundle.class, b.body()).getEntry()) {
					if (e.getResponse().getStatus().startsWith("5")) {
						fiveHundreds.add(who.getKey() + " batch entry: " + e.getResponse().getStatus() + " "
								+ (e.getResponse().getOutcome() instanceof OperationOutcome oo ? oo.getIssueFirstRep().getDiagnostics() : ""));
					}
				}
			}
			for (HttpResponse<String> a : answers) {
				if (a.statusCode() >= 500) {
					fiveHundreds.add(who.getKey() + " " + a.request().method() + " " + a.request().uri() + ": " + a.statusCode() + " " + a.body());
				}
				if (!who.getKey().equals("backend") && !who.getKey().equals("treating") && !who.getKey().equals("patient")) {
					assertThat(a.body()).as(a.request().uri().toString()).doesNotContain(secret);
				}
			}
		}
		assertThat(fiveHundreds).isEmpty();
	}

	@Test
	void conditionalCreateMatchingARestrictedRecord_neitherRevealsNorDuplicatesIt() throws Exception {
		int before = count("/Observation?identifier=urn:test:id%7C" + secret);
		HttpResponse<String> r = send("POST", "/Observation", clinician(unrelated, "user/*.cruds"), json(episodeOf(victim, secret)),
				Map.of("If-None-Exist", "identifier=urn:test:id|" + secret + "&patient=Patient/" + victim));
		assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
		assertThat(r.body()).doesNotContain(episode).doesNotContain(secret);
		assertThat(count("/Observation?identifier=urn:test:id%7C" + secret)).isEqualTo(before);
	}

	// ---------------------------------------------------------------- 5. clients: page links, compartments

	@Test
	void medplumStylePaging_followsTypedLinks_underTheSamePrivacyRules() throws Exception {
		for (int i = 0; i < 3; i++) {
			client().create().resource(episodeOf(victim, unique("page"))).execute();
		}
		for (String who : List.of("treating", "unrelated")) {
			String token = clinician(who.equals("treating") ? treating : unrelated, "user/*.rs");
			// what searchResourcePages does: the next link's query, sent again to [base]/[type]
			List<Bundle> pages = new ArrayList<>();
			String query = "?subject=Patient/" + victim + "&_count=1";
			while (query != null && pages.size() < 10) {
				HttpResponse<String> r = send("GET", "/Observation" + query, token, null, Map.of());
				assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
				Bundle page = fhirContext.newJsonParser().parseResource(Bundle.class, r.body());
				pages.add(page);
				query = page.getLink("next") == null ? null : "?" + URI.create(page.getLink("next").getUrl()).getRawQuery();
			}
			long shown = pages.stream().mapToLong(p -> p.getEntry().size()).sum();
			if (who.equals("treating")) {
				assertThat(shown).isGreaterThanOrEqualTo(4);
				assertThat(pages).hasSizeGreaterThanOrEqualTo(4);
			} else {
				assertThat(shown).isZero();
			}
		}
	}

	@Test
	void compartmentSearch_answersAsTheSearchByPatient_underTheSamePrivacyRules() throws Exception {
		Condition condition = tagged(new Condition());
		condition.setSubject(new Reference("Patient/" + victim));
		condition.getCode().addCoding(new Coding("http://hl7.org/fhir/sid/icd-10-cm", "R45.851", "Suicidal ideations"));
		client().create().resource(condition).execute();
		String path = "/Patient/" + victim + "/Condition";
		HttpResponse<String> treatingAnswer = send("GET", path, clinician(treating, "user/*.rs"), null, Map.of());
		assertThat(treatingAnswer.statusCode()).as(treatingAnswer.body()).isEqualTo(200);
		assertThat(fhirContext.newJsonParser().parseResource(Bundle.class, treatingAnswer.body()).getEntry()).isNotEmpty();
		HttpResponse<String> unrelatedAnswer = send("GET", path, clinician(unrelated, "user/*.rs"), null, Map.of());
		assertThat(unrelatedAnswer.statusCode()).as(unrelatedAnswer.body()).isEqualTo(200);
		assertThat(fhirContext.newJsonParser().parseResource(Bundle.class, unrelatedAnswer.body()).getEntry()).isEmpty();
		assertThat(unrelatedAnswer.body()).doesNotContain("R45.851");
		// another patient's token: the compartment of someone else is not its own
		String other = client().create().resource(tagged(new Patient())).execute().getId().getIdPart();
		HttpResponse<String> otherPatient = send("GET", path, tokens().token().scopes("patient/*.rs").claim("patient", other)
				.claim("fhirUser", fhirBase() + "/Patient/" + other).sign(), null, Map.of());
		assertThat(otherPatient.body()).doesNotContain("R45.851");
		// the Observation compartment means the primary patient (subject), as the access policy does
		HttpResponse<String> observations = send("GET", "/Patient/" + victim + "/Observation?_count=50", full(), null, Map.of());
		assertThat(observations.statusCode()).isEqualTo(200);
		assertThat(observations.body()).contains(secret);
	}

	// ---------------------------------------------------------------- 6. Prefer: handling

	@Test
	void preferHandling_lenientIgnoresWithAWarning_strictAndDefaultRefuse() throws Exception {
		String search = "/Observation?subject=Patient/" + victim + "&not-a-parameter=x";
		HttpResponse<String> lenient = send("GET", search, full(), null, Map.of("Prefer", "handling=lenient"));
		assertThat(lenient.statusCode()).as(lenient.body()).isEqualTo(200);
		Bundle bundle = fhirContext.newJsonParser().parseResource(Bundle.class, lenient.body());
		assertThat(bundle.getEntry()).anyMatch(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.OUTCOME
				&& ((OperationOutcome) e.getResource()).getIssueFirstRep().getDiagnostics().contains("not-a-parameter"));
		assertThat(bundle.getEntry()).anyMatch(e -> e.getResource() instanceof Observation);
		assertThat(send("GET", search, full(), null, Map.of("Prefer", "handling=strict")).statusCode()).isEqualTo(400);
		assertThat(send("GET", search, full(), null, Map.of()).statusCode()).isEqualTo(400);
	}

	// ---------------------------------------------------------------- 7. EHR codes

	@Test
	void ehrCodes_usCoreHealthConcernWithoutClinicalStatus_andSnomedMethodOnAnEpisode_accepted() throws Exception {
		Condition concern = tagged(new Condition());
		concern.setSubject(new Reference("Patient/" + victim));
		concern.addCategory().addCoding(new Coding("http://hl7.org/fhir/us/core/CodeSystem/condition-category", "health-concern", "Health Concern"));
		concern.getCode().addCoding(new Coding("http://hl7.org/fhir/sid/icd-10-cm", "R45.88", "Nonsuicidal self-harm"));
		HttpResponse<String> r = send("POST", "/Condition", full(), json(concern), Map.of());
		assertThat(r.statusCode()).as(r.body()).isEqualTo(201);

		// an episode whose method and function an EHR coded in its own code system: the bindings are extensible
		Observation episode = episodeOf(victim, unique("ehr"));
		for (Observation.ObservationComponentComponent c : episode.getComponent()) {
			String kind = c.getCode().getCodingFirstRep().getCode();
			if (kind.equals("method") || kind.equals("function")) {
				c.setValue(new org.hl7.fhir.r4.model.CodeableConcept(new Coding("urn:example:ehr-local-codes", kind + "-as-the-ehr-codes-it", "EHR code")));
			}
		}
		HttpResponse<String> stored = send("POST", "/Observation", full(), json(episode), Map.of());
		assertThat(stored.statusCode()).as(stored.body()).isEqualTo(201);
	}

	// ---------------------------------------------------------------- 8. unknown codes of our own CodeSystems

	@Test
	void unknownCodeOfOurOwnCodeSystem_inAnExtensibleBinding_refusedOnWriteAndByValidate() throws Exception {
		// a typo of our own function code: the binding is extensible (EHRs send SNOMED CT there), the code system is ours
		String typo = "function-relief-distresss";
		Observation episode = episodeOf(victim, unique("typo"));
		for (Observation.ObservationComponentComponent c : episode.getComponent()) {
			if (c.getCode().getCodingFirstRep().getCode().equals("function")) {
				c.setValue(new org.hl7.fhir.r4.model.CodeableConcept(new Coding(CONCEPTS, typo, null)));
			}
		}
		String identifier = episode.getIdentifierFirstRep().getValue();
		HttpResponse<String> write = send("POST", "/Observation", full(), json(episode), Map.of());
		assertThat(write.statusCode()).as(write.body()).isEqualTo(422);
		assertThat(outcome(write).getIssue()).anySatisfy(i -> {
			assertThat(i.getDiagnostics()).contains(typo).contains(CONCEPTS);
			assertThat(i.getExpression()).extracting(Object::toString).anyMatch(e -> e.startsWith("Observation.component["));
		});
		assertThat(count("/Observation?identifier=urn:test:id%7C" + identifier)).isZero();
		assertThat(errors(outcome(send("POST", "/Observation/$validate", full(), json(episode), Map.of())))).anyMatch(e -> e.contains(typo));

		// a Goal that does not claim our profile but is classified to it, in a transaction: refused, the entry named
		Goal goal = (Goal) fhirContext.newJsonParser()
				.parseResource(Files.readString(Path.of("profiles/examples/Goal-nssi-example-goal-fewer-episodes-adolescent.json")));
		goal.setId((String) null);
		goal.getMeta().getProfile().clear();
		goal.getMeta().getSecurity().removeIf(c -> !HTEST.equals(c.getSystem()));
		goal.setSubject(new Reference("Patient/" + victim));
		goal.setExpressedBy(new Reference("Patient/" + victim));
		goal.getAddresses().clear();
		goal.getDescription().getCodingFirstRep().setCode("goal-fewer-episodess");
		String mrn = unique("mrn");
		Patient patient = tagged(new Patient());
		patient.addIdentifier().setSystem("urn:test:mrn").setValue(mrn);
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		tx.addEntry().setFullUrl("urn:uuid:d0000000-0000-0000-0000-000000000001").setResource(patient)
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
		tx.addEntry().setFullUrl("urn:uuid:d0000000-0000-0000-0000-000000000002").setResource(goal)
				.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Goal");
		HttpResponse<String> r = send("POST", "", full(), json(tx), Map.of());
		assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
		assertThat(r.body()).contains("goal-fewer-episodess").contains("Bundle.entry[1]");
		assertThat(count("/Patient?identifier=urn:test:mrn%7C" + mrn)).isZero();

		// the code spelt right is stored, and an EHR's SNOMED CT code there still is (extensible)
		goal.getDescription().getCodingFirstRep().setCode("goal-fewer-episodes");
		HttpResponse<String> right = send("POST", "/Goal", full(), json(goal), Map.of());
		assertThat(right.statusCode()).as(right.body()).isEqualTo(201);
		goal.getDescription().getCoding().clear();
		goal.getDescription().addCoding(new Coding("urn:example:ehr-goal-codes", "fewer-self-harm", "EHR goal"));
		HttpResponse<String> ehr = send("POST", "/Goal", full(), json(goal), Map.of());
		assertThat(ehr.statusCode()).as(ehr.body()).isEqualTo(201);
	}

	// ---------------------------------------------------------------- 9. lenient handling beyond GET [type]

	@Test
	void preferLenient_onPostSearch_asOnGet_andSystemSearchRefusedExplicitly() throws Exception {
		HttpRequest.Builder post = HttpRequest.newBuilder(URI.create(fhirBase() + "/Observation/_search"))
				.header("Authorization", "Bearer " + full())
				.header("Content-Type", "application/x-www-form-urlencoded")
				.header("Prefer", "handling=lenient")
				.POST(HttpRequest.BodyPublishers.ofString("subject=Patient/" + victim + "&not-a-parameter=x"));
		HttpResponse<String> lenient = http.send(post.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(lenient.statusCode()).as(lenient.body()).isEqualTo(200);
		Bundle bundle = fhirContext.newJsonParser().parseResource(Bundle.class, lenient.body());
		assertThat(bundle.getEntry()).anyMatch(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.OUTCOME
				&& ((OperationOutcome) e.getResource()).getIssueFirstRep().getDiagnostics().contains("not-a-parameter"));
		assertThat(bundle.getEntry()).anyMatch(e -> e.getResource() instanceof Observation);
		HttpResponse<String> strict = http.send(post.setHeader("Prefer", "handling=strict").build(), HttpResponse.BodyHandlers.ofString());
		assertThat(strict.statusCode()).isEqualTo(400);

		for (HttpResponse<String> system : List.of(
				send("GET", "?_type=Observation&not-a-parameter=x", full(), null, Map.of("Prefer", "handling=lenient")),
				send("GET", "?_type=Observation", full(), null, Map.of()),
				http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/_search")).header("Authorization", "Bearer " + full())
						.header("Content-Type", "application/x-www-form-urlencoded").header("Prefer", "handling=lenient")
						.POST(HttpRequest.BodyPublishers.ofString("_type=Observation&not-a-parameter=x")).build(), HttpResponse.BodyHandlers.ofString()))) {
			assertThat(system.statusCode()).as(system.body()).isEqualTo(400);
			assertThat(outcome(system).getIssueFirstRep().getDiagnostics()).startsWith(ErrorCode.SYSTEM_SEARCH_UNSUPPORTED.code())
					.contains("system-level search");
		}
	}

	// ---------------------------------------------------------------- 10. parse error inside a transaction entry

	@Test
	void parseErrorInATransactionEntry_namesTheEntryAndTheElement() throws Exception {
		String mrn = unique("mrn");
		String body = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
				+ "{\"fullUrl\":\"urn:uuid:e0000000-0000-0000-0000-000000000001\",\"resource\":{\"resourceType\":\"Patient\","
				+ "\"meta\":{\"security\":[{\"system\":\"" + HTEST + "\",\"code\":\"HTEST\"}]},"
				+ "\"identifier\":[{\"system\":\"urn:test:mrn\",\"value\":\"" + mrn + "\"}]},"
				+ "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
				+ "{\"fullUrl\":\"urn:uuid:e0000000-0000-0000-0000-000000000002\",\"resource\":{\"resourceType\":\"Observation\","
				+ "\"status\":\"bogus\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"urn:uuid:e0000000-0000-0000-0000-000000000001\"}},"
				+ "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
		HttpResponse<String> r = send("POST", "", full(), body, Map.of());
		assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
		OperationOutcome.OperationOutcomeIssueComponent issue = outcome(r).getIssueFirstRep();
		assertThat(issue.getDiagnostics()).startsWith(ErrorCode.INVALID_RESOURCE_CONTENT.code()).contains("bogus")
				.contains("Bundle.entry[1]").contains("urn:uuid:e0000000-0000-0000-0000-000000000002");
		assertThat(issue.getExpression()).extracting(Object::toString).containsExactly("Bundle.entry[1]", "status");
		assertThat(issue.getLocation()).extracting(Object::toString).containsExactly("Bundle.entry[1]");
		assertThat(count("/Patient?identifier=urn:test:mrn%7C" + mrn)).isZero();
	}

	// ---------------------------------------------------------------- helpers

	private Observation episodeOf(String patientId, String identifier) throws Exception {
		Observation example = (Observation) fhirContext.newJsonParser()
				.parseResource(Files.readString(Path.of("profiles/examples/Observation-nssi-example-episode-adolescent-1.json")));
		example.setId((String) null);
		example.getMeta().getSecurity().removeIf(c -> !HTEST.equals(c.getSystem()));
		example.setSubject(new Reference("Patient/" + patientId));
		example.getIdentifier().clear();
		example.addIdentifier().setSystem("urn:test:id").setValue(identifier);
		return example;
	}

	private String full() {
		return tokens().system(FULL_ACCESS);
	}

	private String clinician(String practitionerId, String scopes) {
		return tokens().token().scopes(scopes).claim("fhirUser", fhirBase() + "/Practitioner/" + practitionerId).sign();
	}

	private String json(Resource r) {
		return fhirContext.newJsonParser().encodeResourceToString(r);
	}

	private static String enc(String s) {
		return URLEncoder.encode(s, StandardCharsets.UTF_8);
	}

	private int count(String search) throws Exception {
		HttpResponse<String> r = send("GET", search + (search.contains("?") ? "&" : "?") + "_summary=count", full(), null, Map.of());
		return fhirContext.newJsonParser().parseResource(Bundle.class, r.body()).getTotal();
	}

	private OperationOutcome outcome(HttpResponse<String> r) {
		return fhirContext.newJsonParser().parseResource(OperationOutcome.class, r.body());
	}

	private static List<String> errors(OperationOutcome outcome) {
		return outcome.getIssue().stream().filter(i -> i.getSeverity() == OperationOutcome.IssueSeverity.ERROR
				|| i.getSeverity() == OperationOutcome.IssueSeverity.FATAL).map(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics).toList();
	}

	private HttpResponse<String> send(String method, String path, String token, String body, Map<String, String> headers) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fhirBase() + path.replace("|", "%7C")))
				.header("Authorization", "Bearer " + token);
		headers.forEach(b::header);
		if (body != null) {
			b.header("Content-Type", "application/fhir+json");
		}
		b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
		return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
	}
}
