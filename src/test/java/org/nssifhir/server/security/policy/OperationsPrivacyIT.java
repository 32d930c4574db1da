package org.nssifhir.server.security.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.server.ResourceBinding;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.method.BaseMethodBinding;
import ca.uhn.fhir.rest.server.method.OperationMethodBinding;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.security.DeclaredOperations;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.support.BaseIT;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Proof by enumeration for named operations, as {@link PrivacyMatrixIT} is for interactions: every operation any
 * feature declares ({@link FeatureOperations}: an operation without a probe here fails the test) × every actor who
 * may not see an adolescent's restricted record (another patient, the parent without consent, a clinician without a
 * relationship, an app whose user is unknown), each aimed at that record. Each answer must be a refusal (4xx, never a
 * 5xx) or, for terminology and whole-record reads, carry nothing of the record (its unique identifier and its id are
 * searched for in every body); and nothing about the person may have been written. The treating clinician calls the
 * same probes and must get past the access rules, so a rule that blocks everyone fails too.
 */
class OperationsPrivacyIT extends BaseIT {

	private static final String HTEST = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

	/** What the probe of an operation may answer someone who may not see the record. */
	enum Expect {
		/** refused: 4xx */
		REFUSED,
		/** answered, but without a byte of the hidden record (terminology, a filtered whole-record read) */
		NOTHING_HIDDEN
	}

	record Probe(String method, String path, String body, Expect others, boolean treatingMaySucceed) {}

	private String victim;
	private String episode;
	private String secret;
	private String response;
	private String plan;
	private String parent;

	@Test
	void everyDeclaredOperationByEveryoneWhoMayNotSeeTheRecord() throws Exception {
		fixture();
		Map<String, Probe> probes = probes();
		Set<String> declared = new TreeSet<>();
		for (FeatureOperations feature : DeclaredOperations.all()) {
			feature.operations().forEach(op -> declared.add(op.name()));
		}
		assertThat(probes.keySet()).as("a probe for every operation a feature declares").containsAll(declared);

		String other = client().create().resource(tagged(new Patient().setBirthDateElement(new DateType("1990-01-01")))).execute().getId().getIdPart();
		String unrelated = client().create().resource(tagged(new Practitioner())).execute().getId().getIdPart();
		Map<String, String> actors = new LinkedHashMap<>();
		actors.put("another patient", tokens().token().scopes("patient/*.cruds").claim("patient", other)
				.claim("fhirUser", fhirBase() + "/Patient/" + other).sign());
		actors.put("the parent without consent", tokens().token().scopes("patient/*.cruds").claim("patient", victim)
				.claim("fhirUser", fhirBase() + "/RelatedPerson/" + parent).sign());
		actors.put("a clinician without a relationship", tokens().token().scopes("user/*.cruds")
				.claim("fhirUser", fhirBase() + "/Practitioner/" + unrelated).sign());
		actors.put("an app whose user is unknown", tokens().token().scopes("patient/*.cruds").claim("patient", victim).sign());

		Map<String, Integer> before = footprint();
		List<String> failures = new ArrayList<>();
		for (Map.Entry<String, String> actor : actors.entrySet()) {
			for (Map.Entry<String, Probe> entry : probes.entrySet()) {
				Probe probe = entry.getValue();
				HttpResponse<String> r = send(probe, actor.getValue());
				String cell = actor.getKey() + " × " + entry.getKey() + " (" + probe.method() + " " + probe.path() + ") → " + r.statusCode();
				if (r.statusCode() >= 500) {
					failures.add(cell + ": a server error");
				} else if (probe.others() == Expect.REFUSED && r.statusCode() < 400) {
					failures.add(cell + ": not refused");
				}
				if (r.body().contains(secret) || r.body().contains("Observation/" + episode + "\"")
						|| r.body().contains("Observation/" + episode + "/")) {
					failures.add(cell + ": the hidden record is in the answer");
				}
			}
		}
		assertThat(failures).as(failures.size() + " cells failed").isEmpty();
		assertThat(footprint()).as("nothing about the person was written by anyone who may not see the record").isEqualTo(before);

		// the same probes by the clinician who treats the person: the rule must not block everyone
		String treating = tokens().token().scopes("user/*.cruds").claim("fhirUser", fhirBase() + "/Practitioner/" + treatingId).sign();
		for (Map.Entry<String, Probe> entry : probes.entrySet()) {
			if (entry.getValue().treatingMaySucceed()) {
				int audited = auditedFor(treatingId);
				HttpResponse<String> r = send(entry.getValue(), treating);
				// past the access rules: answered, or refused for a clinical reason ($apply: a plan is already active)
				assertThat(r.statusCode()).as("the treating clinician: " + entry.getKey() + " " + r.body()).isNotIn(401, 403, 404).isLessThan(500);
				// and every access to the person's record is in the audit trail, whatever the path
				if (touchesTheRecord(entry.getValue())) {
					assertThat(auditedFor(treatingId)).as("an audit record of " + entry.getKey()).isGreaterThan(audited);
				}
			}
		}
	}

	@Autowired
	private RestfulServer restfulServer;

	/**
	 * The other half of the enumeration: every operation HAPI has bound (its providers register more than any list
	 * in this project names: $diff, $expunge, $reindex, $binary-access-*, ...) is either declared by a feature, and so
	 * probed above, or refused to every caller, the EHR's backend client with full access included.
	 */
	@Test
	void everyOperationHapiBindsIsDeclaredOrRefusedToEveryone() throws Exception {
		Set<String> declared = new TreeSet<>();
		for (FeatureOperations feature : DeclaredOperations.all()) {
			feature.operations().forEach(op -> declared.add(op.name()));
		}
		Map<String, String> undeclared = new TreeMap<>(); // name -> a path that reaches it
		List<BaseMethodBinding> server = new ArrayList<>(restfulServer.getServerBindings());
		for (BaseMethodBinding binding : server) {
			if (binding instanceof OperationMethodBinding op && !declared.contains(op.getName())) {
				undeclared.putIfAbsent(op.getName(), "/" + op.getName());
			}
		}
		for (ResourceBinding resource : restfulServer.getResourceBindings()) {
			for (BaseMethodBinding binding : resource.getMethodBindings()) {
				if (binding instanceof OperationMethodBinding op && !declared.contains(op.getName())) {
					String type = resource.getResourceName();
					String path = op.isCanOperateAtTypeLevel() ? "/" + type + "/" + op.getName()
							: op.isCanOperateAtInstanceLevel() ? "/" + type + "/1/" + op.getName() : "/" + op.getName();
					undeclared.putIfAbsent(op.getName() + " on " + type, path);
				}
			}
		}
		assertThat(undeclared).as("HAPI binds operations this server does not offer (if none, this test proves nothing)").isNotEmpty();
		List<String> failures = new ArrayList<>();
		String backend = tokens().system(FULL_ACCESS);
		for (Map.Entry<String, String> op : undeclared.entrySet()) {
			for (String method : List.of("GET", "POST")) {
				HttpResponse<String> r = send(new Probe(method, op.getValue(), method.equals("POST") ? "{\"resourceType\":\"Parameters\"}" : null,
						Expect.REFUSED, false), backend);
				if (r.statusCode() < 400 || r.statusCode() >= 500) {
					failures.add(method + " " + op.getValue() + " (" + op.getKey() + ") → " + r.statusCode());
				}
			}
		}
		assertThat(failures).as("operations not declared by any feature must be refused to everyone").isEmpty();
	}

	private String treatingId;
	private String started;

	private Map<String, Probe> probes() {
		String parameters = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"subject\",\"valueReference\":{\"reference\":\"Patient/"
				+ victim + "\"}}]}";
		String applyParameters = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"subject\",\"valueString\":\"Patient/" + victim
				+ "\"},{\"name\":\"persist\",\"valueBoolean\":true}]}";
		String export = "/Patient/" + victim + "/$export";
		Map<String, Probe> p = new LinkedHashMap<>();
		p.put("$nssi-summary", new Probe("GET", "/Patient/" + victim + "/$nssi-summary", null, Expect.REFUSED, true));
		p.put("$populate", new Probe("POST", "/Questionnaire/nssi-assessment/$populate", parameters, Expect.REFUSED, true));
		p.put("$extract", new Probe("POST", "/QuestionnaireResponse/" + response + "/$extract", null, Expect.REFUSED, true));
		p.put("$nssi-progress", new Probe("GET", "/CarePlan/" + plan + "/$nssi-progress", null, Expect.REFUSED, true));
		p.put("$apply", new Probe("POST", "/PlanDefinition/nssi-dbt/$apply", applyParameters, Expect.REFUSED, true));
		p.put("$everything", new Probe("GET", "/Patient/" + victim + "/$everything", null, Expect.NOTHING_HIDDEN, true));
		p.put("$validate", new Probe("GET", "/Observation/" + episode + "/$validate", null, Expect.REFUSED, false));
		p.put("$expand", new Probe("GET", "/ValueSet/$expand?url=https://nssi-fhir.org/fhir/ValueSet/nssi-intent-vs", null, Expect.NOTHING_HIDDEN, true));
		p.put("$validate-code", new Probe("GET", "/CodeSystem/$validate-code?url=https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs&code=intent-present",
				null, Expect.NOTHING_HIDDEN, true));
		p.put("$lookup", new Probe("GET", "/CodeSystem/$lookup?system=https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs&code=intent-present",
				null, Expect.NOTHING_HIDDEN, true));
		p.put("$subsumes", new Probe("GET", "/CodeSystem/$subsumes?system=https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs&codeA=intent-present&codeB=intent-present",
				null, Expect.NOTHING_HIDDEN, false));
		p.put("$translate", new Probe("GET", "/ConceptMap/$translate?system=https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs&code=intent-present",
				null, Expect.NOTHING_HIDDEN, false));
		p.put("$meta", new Probe("GET", "/Observation/" + episode + "/$meta", null, Expect.REFUSED, true));
		String meta = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"meta\",\"valueMeta\":{\"tag\":[{\"system\":\"urn:x\",\"code\":\"y\"}]}}]}";
		p.put("$meta-add", new Probe("POST", "/Observation/" + episode + "/$meta-add", meta, Expect.REFUSED, false));
		p.put("$meta-delete", new Probe("POST", "/Observation/" + episode + "/$meta-delete", meta, Expect.REFUSED, false));
		p.put("$export", new Probe("GET", export, null, Expect.REFUSED, false));
		p.put("$export-poll-status", new Probe("GET", "/$export-poll-status?_jobId=" + unique("job"), null, Expect.REFUSED, false));
		String importBody = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"inputFormat\",\"valueCode\":\"application/fhir+ndjson\"}]}";
		p.put("$import", new Probe("POST", "/$import", importBody, Expect.REFUSED, false));
		p.put("$import-poll-status", new Probe("GET", "/$import-poll-status?_jobId=" + unique("job"), null, Expect.REFUSED, false));
		p.put("$nssi-relabel", new Probe("POST", "/$nssi-relabel?url=" + "Observation%3Fsubject%3DPatient%2F" + victim, null, Expect.REFUSED, false));
		p.put("$nssi-relabel-status", new Probe("GET", "/$nssi-relabel-status?jobId=" + unique("job"), null, Expect.REFUSED, false));
		p.put("$nssi-invite", new Probe("POST", "/Patient/" + victim + "/$nssi-invite", null, Expect.REFUSED, true));
		p.put("$nssi-revoke-invitation", new Probe("POST", "/Patient/" + victim + "/$nssi-revoke-invitation", null, Expect.REFUSED, true));
		p.put("$nssi-disable-account", new Probe("POST", "/Patient/" + victim + "/$nssi-disable-account", null, Expect.REFUSED, false));
		return p;
	}

	// ---------------------------------------------------------------- fixture

	private void fixture() throws Exception {
		started = java.time.Instant.now().minusSeconds(5).toString();
		Patient adolescent = tagged(new Patient());
		adolescent.setBirthDateElement(new DateType("2011-05-01"));
		IIdType victimId = client().create().resource(adolescent).execute().getId().toUnqualifiedVersionless();
		victim = victimId.getIdPart();
		treatingId = client().create().resource(tagged(new Practitioner())).execute().getId().getIdPart();
		CareTeam team = tagged(new CareTeam());
		team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
		team.setSubject(new Reference("Patient/" + victim));
		team.addParticipant().setMember(new Reference("Practitioner/" + treatingId));
		client().create().resource(team).execute();
		RelatedPerson rp = tagged(new RelatedPerson());
		rp.setPatient(new Reference("Patient/" + victim));
		parent = client().create().resource(rp).execute().getId().getIdPart();

		secret = unique("secret");
		Observation example = (Observation) fhirContext.newJsonParser()
				.parseResource(Files.readString(Path.of("profiles/examples/Observation-nssi-example-episode-adolescent-1.json")));
		example.setId((String) null);
		example.getMeta().getSecurity().removeIf(c -> !HTEST.equals(c.getSystem()));
		example.setSubject(new Reference("Patient/" + victim));
		example.getIdentifier().clear();
		example.addIdentifier().setSystem("urn:test:id").setValue(secret);
		episode = client().create().resource(example).execute().getId().getIdPart();
		assertThat(client().read().resource(Observation.class).withId(episode).execute().getMeta().getSecurity())
				.extracting(Coding::getCode).contains("R", "ADOL");

		QuestionnaireResponse phq9 = AssessmentFixtures.phq9(victimId, 1, 1, 1, 1, 1, 1, 1, 1, 0);
		response = client().create().resource(phq9).execute().getId().getIdPart();
		Condition diagnosis = tagged(new Condition());
		diagnosis.setClinicalStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", null)));
		diagnosis.setVerificationStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", null)));
		diagnosis.addCategory(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", null)));
		diagnosis.getCode().addCoding(new Coding(NssiCanonicals.ICD10CM, "R45.88", "Nonsuicidal self-harm"));
		diagnosis.setSubject(new Reference("Patient/" + victim));
		client().create().resource(diagnosis).execute();
		Parameters in = new Parameters();
		in.addParameter("subject", new StringType("Patient/" + victim));
		in.addParameter("persist", new BooleanType(true));
		plan = client().operation().onInstance(new IdType("PlanDefinition", "nssi-dbt")).named("$apply").withParameters(in)
				.returnResourceType(CarePlan.class).execute().getIdElement().getIdPart();
		assertThat(client().read().resource(CarePlan.class).withId(plan).execute().getSubject().getReference()).isEqualTo("Patient/" + victim);
	}

	/** Whether the probe names one of the person's records (terminology probes name none). */
	private boolean touchesTheRecord(Probe probe) {
		String request = probe.path() + (probe.body() == null ? "" : probe.body());
		return List.of(victim, episode, response, plan).stream().anyMatch(id -> request.contains("/" + id));
	}

	/** How many audit records name this practitioner as the one who acted (the agent's identifier is the fhirUser). */
	private int auditedFor(String practitioner) {
		awaitAuditTrail();
		int count = 0;
		Bundle page = client().search().byUrl("AuditEvent?_lastUpdated=ge" + started + "&_count=200").returnBundle(Bundle.class).execute();
		while (true) {
			for (Bundle.BundleEntryComponent e : page.getEntry()) {
				if (((AuditEvent) e.getResource()).getAgent().stream()
						.anyMatch(a -> ("Practitioner/" + practitioner).equals(a.getWho().getIdentifier().getValue()))) {
					count++;
				}
			}
			if (page.getLink(Bundle.LINK_NEXT) == null) {
				return count;
			}
			page = client().loadPage().next(page).execute();
		}
	}

	/** How many records of each kind the person has, as the EHR's backend sees them. */
	private Map<String, Integer> footprint() {
		Map<String, Integer> counts = new LinkedHashMap<>();
		for (String search : List.of("Observation?subject=Patient/", "QuestionnaireResponse?subject=Patient/", "CarePlan?subject=Patient/",
				"Task?patient=Patient/", "Flag?patient=Patient/", "RequestGroup?subject=Patient/", "Goal?subject=Patient/",
				"RelatedPerson?patient=Patient/", "Consent?patient=Patient/", "Condition?subject=Patient/")) {
			Bundle b = client().search().byUrl(search + victim + "&_summary=count").returnBundle(Bundle.class).execute();
			counts.put(search, b.getTotal());
		}
		return counts;
	}

	private HttpResponse<String> send(Probe probe, String token) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fhirBase() + probe.path())).header("Authorization", "Bearer " + token)
				.header("Accept", "application/fhir+json");
		if (probe.path().contains("$export")) {
			b.header("Prefer", "respond-async");
		}
		if (probe.body() != null) {
			b.header("Content-Type", "application/fhir+json");
		}
		b.method(probe.method(), probe.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(probe.body()));
		return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static <T extends Resource> T tagged(T resource) {
		resource.getMeta().addSecurity(HTEST, "HTEST", null);
		return resource;
	}
}
