package org.nssifhir.server.escalation;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;

/**
 * Proof by enumeration that the suicide-risk alert belongs to the data, not to a path: every way a client can store
 * a resource over REST (create, create by PUT with the client's id, update, JSON Patch, FHIRPath Patch, conditional
 * create, conditional update, transaction, batch) × a signal in our own codes (an episode with intent to die) and one
 * in an EHR's standard codes (an ICD-10-CM R45.851 Condition). Each raises exactly one suicide-risk Flag and one
 * Task for that person, and the benign version first stored by the update paths raises none. ($extract and
 * {@code $import} are covered by AssessmentWorkflowIT and BulkImportIT: they store through the same hooks.)
 */
class AlertsOnEveryWritePathIT extends BaseIT {

	@FunctionalInterface
	interface Path {
		/** Stores the signal for the person by this path (the update paths first store a benign version). */
		void store(IIdType person, Signal signal) throws Exception;
	}

	enum Signal {
		EPISODE_WITH_INTENT, EHR_SUICIDAL_IDEATION
	}

	@Test
	void everyWritePathRaisesOneSuicideRiskAlertForOurCodesAndAnEhrsCodes() throws Exception {
		Map<String, Path> paths = new LinkedHashMap<>();
		paths.put("create", (p, s) -> post("/" + type(s), json(signal(p, s, true)), Map.of()));
		paths.put("create by PUT with the client's id", (p, s) -> {
			Resource r = signal(p, s, true);
			String id = "cid-" + UUID.randomUUID().toString().substring(0, 18);
			r.setId(id);
			send("PUT", "/" + type(s) + "/" + id, json(r), Map.of());
		});
		paths.put("update", (p, s) -> {
			String id = created(p, s);
			Resource r = signal(p, s, true);
			r.setId(id);
			send("PUT", "/" + type(s) + "/" + id, json(r), Map.of());
		});
		paths.put("JSON Patch", (p, s) -> {
			String id = created(p, s);
			String patch = s == Signal.EPISODE_WITH_INTENT
					? "[{\"op\":\"replace\",\"path\":\"/component/1/valueCodeableConcept/coding/0/code\",\"value\":\"intent-present\"}]"
					: "[{\"op\":\"replace\",\"path\":\"/code/coding/0\",\"value\":{\"system\":\"" + NssiCanonicals.ICD10CM
							+ "\",\"code\":\"R45.851\",\"display\":\"Suicidal ideations\"}}]";
			send("PATCH", "/" + type(s) + "/" + id, patch, Map.of("Content-Type", "application/json-patch+json"));
		});
		paths.put("FHIRPath Patch", (p, s) -> {
			String id = created(p, s);
			String path = s == Signal.EPISODE_WITH_INTENT ? "Observation.component[1].value.coding[0].code" : "Condition.code.coding[0].code";
			String value = s == Signal.EPISODE_WITH_INTENT ? "intent-present" : "R45.851";
			String system = s == Signal.EPISODE_WITH_INTENT ? null : NssiCanonicals.ICD10CM;
			StringBuilder body = new StringBuilder("{\"resourceType\":\"Parameters\",\"parameter\":[");
			body.append(operation(path, value));
			if (system != null) {
				body.append(",").append(operation("Condition.code.coding[0].system", system));
			}
			body.append("]}");
			send("PATCH", "/" + type(s) + "/" + id, body.toString(), Map.of("Content-Type", "application/fhir+json"));
		});
		paths.put("conditional create", (p, s) -> post("/" + type(s), json(identified(signal(p, s, true), p)),
				Map.of("If-None-Exist", "identifier=urn:test:write-path|" + p.getIdPart())));
		paths.put("conditional update", (p, s) -> send("PUT", "/" + type(s) + "?identifier=urn:test:write-path%7C" + p.getIdPart()
				+ "&subject=" + p.getValue(), json(identified(signal(p, s, true), p)), Map.of()));
		paths.put("transaction", (p, s) -> post("/", bundle("transaction", signal(p, s, true), s), Map.of()));
		paths.put("batch", (p, s) -> post("/", bundle("batch", signal(p, s, true), s), Map.of()));

		List<String> failures = new ArrayList<>();
		for (Map.Entry<String, Path> path : paths.entrySet()) {
			for (Signal signal : Signal.values()) {
				IIdType person = AssessmentFixtures.patient(client());
				try {
					path.getValue().store(person, signal);
				} catch (AssertionError | Exception e) {
					failures.add(path.getKey() + " × " + signal + ": " + e.getMessage());
					continue;
				}
				List<Flag> flags = flags(person);
				long risk = flags.stream().filter(f -> f.getStatus() == Flag.FlagStatus.ACTIVE && coded(f.getCode(), "suicide-risk")).count();
				if (risk != 1 || tasks(person).size() != 1) {
					failures.add(path.getKey() + " × " + signal + ": " + risk + " suicide-risk Flags, " + tasks(person).size() + " Tasks");
				}
			}
		}
		assertThat(failures).as("write paths that did not raise exactly one alert").isEmpty();
	}

	// ---------------------------------------------------------------- the two signals

	private static String type(Signal s) {
		return s == Signal.EPISODE_WITH_INTENT ? "Observation" : "Condition";
	}

	/** The signal, or its benign first version (intent none; a Condition coded only in text) for the update paths. */
	private static Resource signal(IIdType person, Signal s, boolean risky) {
		if (s == Signal.EPISODE_WITH_INTENT) {
			return AssessmentFixtures.episode(person, new Date(System.currentTimeMillis() - 3_600_000L), risky ? "intent-present" : "intent-none", null);
		}
		Condition c = new Condition();
		c.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		c.setClinicalStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", null)));
		c.setVerificationStatus(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", null)));
		c.getCode().addCoding(risky ? new Coding(NssiCanonicals.ICD10CM, "R45.851", "Suicidal ideations")
				: new Coding("urn:test:ehr-local", "headache", "Headache"));
		c.setSubject(new Reference(person));
		return c;
	}

	private static Resource identified(Resource r, IIdType person) {
		if (r instanceof Condition c) {
			c.addIdentifier().setSystem("urn:test:write-path").setValue(person.getIdPart());
		} else if (r instanceof org.hl7.fhir.r4.model.Observation o) {
			o.addIdentifier().setSystem("urn:test:write-path").setValue(person.getIdPart());
		}
		return r;
	}

	/** Stores the benign version and checks it raised nothing; its id. */
	private String created(IIdType person, Signal s) throws Exception {
		HttpResponse<String> r = post("/" + type(s), json(signal(person, s, false)), Map.of());
		assertThat(flags(person)).as("the benign first version raises nothing").isEmpty();
		String location = r.headers().firstValue("Location").orElseThrow();
		return location.replaceAll(".*/" + type(s) + "/([^/]+)/_history/.*", "$1");
	}

	private String bundle(String kind, Resource resource, Signal s) {
		return "{\"resourceType\":\"Bundle\",\"type\":\"" + kind + "\",\"entry\":[{\"fullUrl\":\"urn:uuid:" + UUID.randomUUID()
				+ "\",\"resource\":" + json(resource) + ",\"request\":{\"method\":\"POST\",\"url\":\"" + type(s) + "\"}}]}";
	}

	private static String operation(String path, String value) {
		return "{\"name\":\"operation\",\"part\":[{\"name\":\"type\",\"valueCode\":\"replace\"},{\"name\":\"path\",\"valueString\":\"" + path
				+ "\"},{\"name\":\"value\",\"value" + (path.endsWith("system") ? "Uri" : "Code") + "\":\"" + value + "\"}]}";
	}

	// ---------------------------------------------------------------- HTTP

	private HttpResponse<String> post(String path, String body, Map<String, String> headers) throws Exception {
		return send("POST", path, body, headers);
	}

	private HttpResponse<String> send(String method, String path, String body, Map<String, String> headers) throws Exception {
		HttpRequest.Builder b = fhirRequest(path);
		if (!headers.containsKey("Content-Type")) {
			b.header("Content-Type", "application/fhir+json");
		}
		headers.forEach(b::header);
		b.method(method, HttpRequest.BodyPublishers.ofString(body));
		HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 299);
		if (path.equals("/")) {
			assertThat(r.body()).as("every entry stored").doesNotContain("\"status\":\"4").doesNotContain("\"status\":\"5");
		}
		return r;
	}

	private String json(Resource r) {
		return fhirContext.newJsonParser().encodeResourceToString(r);
	}

	private List<Flag> flags(IIdType person) {
		return client().search().forResource(Flag.class).where(Flag.PATIENT.hasId(person)).returnBundle(Bundle.class).execute().getEntry().stream()
				.map(e -> (Flag) e.getResource()).toList();
	}

	private List<Task> tasks(IIdType person) {
		return client().search().forResource(Task.class).where(Task.PATIENT.hasId(person)).returnBundle(Bundle.class).execute().getEntry().stream()
				.map(e -> (Task) e.getResource()).toList();
	}

	private static boolean coded(CodeableConcept code, String value) {
		return code.getCoding().stream().anyMatch(c -> NssiCanonicals.CONCEPTS_SYSTEM.equals(c.getSystem()) && value.equals(c.getCode()));
	}
}
