package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package content the informaticist's review of session 8 asked for, read from the built package as a server
 * installs it (the behaviour is tested over HTTP in the ITs named on each check).
 */
class ClinicalContentReviewTest {

	private static final ObjectMapper JSON = new ObjectMapper();
	private static final String CORE = "http://hl7.org/fhir/SearchParameter/";
	private static ConformancePackage pkg;

	@BeforeAll
	static void load() {
		pkg = ConformancePackage.fromClasspath();
	}

	private static JsonNode resource(Map<String, String> files, String type, String id) {
		return files.values().stream().map(ClinicalContentReviewTest::parse)
				.filter(n -> type.equals(n.path("resourceType").asText()) && id.equals(n.path("id").asText()))
				.findFirst().orElseThrow(() -> new AssertionError(type + "/" + id + " is not in the package"));
	}

	private static JsonNode conformance(String type, String id) {
		return resource(pkg.conformanceFiles(), type, id);
	}

	private static JsonNode parse(String json) {
		try {
			return JSON.readTree(json);
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	private static JsonNode element(JsonNode sd, String path) {
		return StreamSupport.stream(sd.path("differential").path("element").spliterator(), false)
				.filter(e -> path.equals(e.path("path").asText())).findFirst()
				.orElseThrow(() -> new AssertionError(path + " not constrained in " + sd.path("id").asText()));
	}

	private static List<String> texts(JsonNode array, String field) {
		List<String> out = new ArrayList<>();
		array.forEach(n -> out.add(field == null ? n.asText() : n.path(field).asText()));
		return out;
	}

	/** W1: an owner by name alone passes neither Task profile; the owner is one of those who can act (EscalationIT, SafetySignalsIT). */
	@Test
	void bothTaskProfilesRequireAnOwnerReference_toWhoCanAct() {
		Map<String, String> keys = Map.of("nssi-escalation-task", "nssi-task-2", "nssi-safeguarding-task", "nssi-sgt-2");
		keys.forEach((profile, key) -> {
			JsonNode sd = conformance("StructureDefinition", profile);
			JsonNode invariant = StreamSupport.stream(element(sd, "Task").path("constraint").spliterator(), false)
					.filter(c -> key.equals(c.path("key").asText())).findFirst().orElseThrow(() -> new AssertionError(key));
			assertThat(invariant.path("severity").asText()).isEqualTo("error");
			// a relative reference to one of the four types: not a name, an identifier, a contained look-alike, the patient
			// or their family (attacker review s8, F2)
			assertThat(invariant.path("expression").asText())
					.isEqualTo("owner.reference.matches('^(Practitioner|PractitionerRole|CareTeam|Organization)/[A-Za-z0-9\\\\-\\\\.]{1,64}$')");
			JsonNode owner = element(sd, "Task.owner");
			assertThat(owner.path("min").asInt()).isEqualTo(1);
			assertThat(texts(owner.path("type").get(0).path("targetProfile"), null)).containsExactlyInAnyOrder(
					"http://hl7.org/fhir/StructureDefinition/Practitioner", "http://hl7.org/fhir/StructureDefinition/PractitionerRole",
					"http://hl7.org/fhir/StructureDefinition/CareTeam", "http://hl7.org/fhir/StructureDefinition/Organization");
		});
		// the examples name a real owner, and the package ships it
		for (String task : List.of("nssi-example-escalation-task-adolescent", "nssi-example-safeguarding-task-adolescent")) {
			String owner = resource(pkg.exampleFiles(), "Task", task).path("owner").path("reference").asText();
			assertThat(owner).as(task).isEqualTo("CareTeam/nssi-example-careteam-adolescent");
		}
		assertThat(resource(pkg.exampleFiles(), "CareTeam", "nssi-example-careteam-adolescent").path("status").asText()).isEqualTo("active");
	}

	/** W4: one skills group per person, by exclusive applicability; commitment before individual therapy (TreatmentPlanIT). */
	@Test
	void dbtOrdersOneSkillsGroupPerPerson_andCommitmentBeforeIndividualTherapy() {
		JsonNode dbt = conformance("PlanDefinition", "nssi-dbt");
		Map<String, JsonNode> actions = new java.util.HashMap<>();
		dbt.path("action").forEach(a -> actions.put(a.path("id").asText(), a));
		assertThat(actions.get("dbt-skills-group").path("condition").get(0).path("expression").path("expression").asText())
				.isEqualTo("Use Standard Skills Group");
		assertThat(actions.get("dbt-multifamily-group").path("condition").get(0).path("expression").path("expression").asText())
				.isEqualTo("Use Multi-Family Skills Group");
		assertThat(texts(actions.get("dbt-multifamily-group").path("action"), "definitionCanonical"))
				.containsExactlyElementsOf(texts(actions.get("dbt-skills-group").path("action"), "definitionCanonical"));
		JsonNode related = actions.get("dbt-individual-therapy").path("relatedAction");
		assertThat(related).hasSize(1);
		assertThat(related.get(0).path("actionId").asText()).isEqualTo("dbt-commitment");
		assertThat(related.get(0).path("relationship").asText()).isEqualTo("after-end");
		// the two conditions are each other's negation in the library
		String cql = new String(java.util.Base64.getDecoder().decode(
				conformance("Library", "NSSITreatmentLogic").path("content").get(0).path("data").asText()), java.nio.charset.StandardCharsets.UTF_8);
		assertThat(cql).contains("define \"Use Standard Skills Group\":\n  not (\"Use Multi-Family Skills Group\" is true)");
	}

	/** W5: where warning signs are recorded (a relapse-prevention step's reasonCode), the warning-sign ValueSet is bound, extensibly. */
	@Test
	void relapsePreventionPlanBindsTheWarningSignsExtensibly() {
		JsonNode binding = element(conformance("StructureDefinition", "nssi-relapse-prevention-plan"), "CarePlan.activity.detail.reasonCode")
				.path("binding");
		assertThat(binding.path("strength").asText()).isEqualTo("extensible");
		String url = binding.path("valueSet").asText();
		JsonNode vs = conformance("ValueSet", url.substring(url.lastIndexOf('/') + 1));
		List<String> included = new ArrayList<>();
		vs.path("compose").path("include").forEach(i -> included.addAll(texts(i.path("valueSet"), null)));
		assertThat(included).containsExactlyInAnyOrder(
				NssiCanonicals.BASE + "/ValueSet/nssi-trigger-vs|" + pkg.version(), NssiCanonicals.BASE + "/ValueSet/nssi-warning-sign-vs|" + pkg.version());
	}

	/**
	 * W6: the requirements statement names each core search parameter by the canonical R4 gives that parameter of that
	 * type (a PlanDefinition's url is PlanDefinition-url, not Questionnaire-url), and Task can be searched by priority.
	 */
	@Test
	void theRequirementsStatementNamesCoreSearchParametersByTheirRealCanonicals() {
		ca.uhn.fhir.context.FhirContext r4 = ca.uhn.fhir.context.FhirContext.forR4Cached();
		JsonNode cs = conformance("CapabilityStatement", "nssi-server");
		List<String> checked = new ArrayList<>();
		cs.path("rest").get(0).path("resource").forEach(resource -> {
			String type = resource.path("type").asText();
			resource.path("searchParam").forEach(param -> {
				String definition = param.path("definition").asText();
				if (definition.startsWith(NssiCanonicals.BASE)) {
					return; // ours: resolved on the server by MetadataIT
				}
				ca.uhn.fhir.context.RuntimeSearchParam core = r4.getResourceDefinition(type).getSearchParam(param.path("name").asText());
				assertThat(core).as(type + "?" + param.path("name").asText() + " is a core search parameter").isNotNull();
				// HAPI gives each type its own URI (Observation-patient); R4 publishes the parameters shared by many types
				// as one SearchParameter (clinical-patient, conformance-url, Resource-id): either is the real canonical
				String name = param.path("name").asText();
				List<String> real = List.of(core.getUri(), CORE + "clinical-" + name, CORE + "conformance-" + name, CORE + "individual-" + name,
						CORE + "Resource-" + name.replaceFirst("^_", ""), CORE + "medications-" + name);
				assertThat(real).as(type + "?" + name + ": " + definition).contains(definition);
				assertThat(param.path("type").asText()).as(type + "?" + param.path("name").asText())
						.isEqualTo(core.getParamType().getCode());
				checked.add(type + "?" + param.path("name").asText());
			});
		});
		assertThat(checked).contains("PlanDefinition?url", "Library?version", "Task?priority", "RelatedPerson?patient");
	}

	/**
	 * W7: the "fewer episodes" goal's measure says it counts NSSI episodes only (intent-none), though its code means any
	 * self-harm episode; no example pairs the episode code with a SNOMED CT concept that is not its equivalent; the
	 * extracted summary example carries every component the server extracts from its response (the suicide screen and
	 * the current injury included).
	 */
	@Test
	void goalMeasureSaysWhatItCounts_episodeCodesPairOnlyEquivalents_andTheSummaryExampleIsWhatExtractionGives() {
		List<JsonNode> measures = new ArrayList<>();
		for (String id : List.of("nssi-dbt", "nssi-cbt")) {
			conformance("PlanDefinition", id).path("goal").forEach(g -> g.path("target").forEach(t -> measures.add(t.path("measure"))));
		}
		for (String id : List.of("nssi-example-goal-fewer-episodes-adolescent", "nssi-example-goal-fewer-episodes-adult")) {
			resource(pkg.exampleFiles(), "Goal", id).path("target").forEach(t -> measures.add(t.path("measure")));
		}
		List<JsonNode> episodeMeasures = measures.stream()
				.filter(m -> texts(m.path("coding"), "code").contains("nssi-episode")).toList();
		assertThat(episodeMeasures).hasSize(4).allSatisfy(m -> assertThat(m.path("text").asText())
				.startsWith("NSSI episodes per month").contains("intent-none").contains("not counted"));

		for (String json : pkg.exampleFiles().values()) {
			JsonNode node = parse(json);
			if (texts(node.path("code").path("coding"), "code").contains("nssi-episode")) {
				assertThat(texts(node.path("code").path("coding"), "system")).as(node.path("id").asText())
						.containsOnly(NssiCanonicals.CONCEPTS_SYSTEM);
			}
		}

		ca.uhn.fhir.parser.IParser parser = ca.uhn.fhir.context.FhirContext.forR4Cached().newJsonParser();
		org.hl7.fhir.r4.model.QuestionnaireResponse qr = (org.hl7.fhir.r4.model.QuestionnaireResponse) parser.parseResource(
				pkg.exampleFiles().values().stream().filter(j -> parse(j).path("id").asText().equals("nssi-example-assessment-adolescent")).findFirst().orElseThrow());
		org.hl7.fhir.r4.model.Observation extracted = org.nssifhir.server.assessment.AssessmentExtractor.extract(qr).stream()
				.map(org.nssifhir.server.assessment.AssessmentExtractor.Extracted::observation)
				.filter(o -> o.getCode().getCoding().stream().anyMatch(c -> "nssi-assessment-summary".equals(c.getCode()))).findFirst().orElseThrow();
		org.hl7.fhir.r4.model.Observation example = (org.hl7.fhir.r4.model.Observation) parser.parseResource(pkg.exampleFiles().values().stream()
				.filter(j -> parse(j).path("id").asText().equals("nssi-example-screening-summary-adolescent")).findFirst().orElseThrow());
		java.util.function.Function<org.hl7.fhir.r4.model.Observation, List<String>> components = o -> o.getComponent().stream()
				.map(c -> c.getCode().getCodingFirstRep().getCode() + "=" + (c.getValue() instanceof org.hl7.fhir.r4.model.CodeableConcept cc
						? cc.getCodingFirstRep().getCode() : c.getValue().primitiveValue()))
				.toList();
		assertThat(components.apply(example)).containsExactlyInAnyOrderElementsOf(components.apply(extracted));
		assertThat(components.apply(example)).contains("passive-death-wish=true", "access-to-means=false", "previous-suicide-attempt=false",
				"current-injury-care=care-self");
	}

	/** R: the intent and function answers have plain-language labels for the person, as the method answers do. */
	@Test
	void intentAndFunctionConceptsHavePlainLabels() {
		for (String id : List.of("nssi-intent-vs", "nssi-function-vs")) {
			JsonNode vs = conformance("ValueSet", id);
			vs.path("compose").path("include").forEach(include -> include.path("concept").forEach(concept -> assertThat(
					StreamSupport.stream(concept.path("designation").spliterator(), false)
							.filter(d -> "plain-label".equals(d.path("use").path("code").asText()) && "en".equals(d.path("language").asText()))
							.map(d -> d.path("value").asText()).toList())
					.as(id + " " + concept.path("code").asText()).singleElement().asString().isNotBlank()));
		}
	}

	/** R: the PHQ-9 carries Pfizer's notice word for word; a ValueSet with external codes pins their version or says why not. */
	@Test
	void phq9CarriesTheExactNotice_andExternalIncludesArePinnedOrSayWhyNot() {
		assertThat(conformance("Questionnaire", "nssi-phq9").path("copyright").asText()).startsWith(
				"Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc."
						+ " No permission required to reproduce, translate, display or distribute.");
		List<String> external = List.of(NssiCanonicals.SNOMED, NssiCanonicals.LOINC, NssiCanonicals.ICD10CM);
		for (String json : pkg.conformanceFiles().values()) {
			JsonNode vs = parse(json);
			if (!"ValueSet".equals(vs.path("resourceType").asText())) {
				continue;
			}
			vs.path("compose").path("include").forEach(include -> {
				if (external.contains(include.path("system").asText()) && !include.has("version")) {
					assertThat(vs.path("description").asText()).as(vs.path("id").asText()).contains("Not version-pinned");
				}
			});
		}
	}

	/** R: parts name the wholes that order them (the PlanDefinitions), each when there are several. */
	@Test
	void partOfNamesTheWholesThatOrderEachPart() {
		Map<String, List<String>> partOf = new java.util.HashMap<>();
		collectPartOf(conformance("CodeSystem", "nssi-concepts-cs").path("concept"), partOf);
		assertThat(partOf.get("dbt-mindfulness")).containsExactlyInAnyOrder("dbt-skills-group", "dbt-multifamily-group");
		assertThat(partOf.get("safety-plan")).containsExactly("suicide-risk-pathway");
		assertThat(partOf.get("lethal-means-counselling")).containsExactlyInAnyOrder("family-involvement", "suicide-risk-pathway");
		assertThat(partOf.get("increased-check-ins")).containsExactlyInAnyOrder("relapse-prevention", "suicide-risk-pathway");
		assertThat(partOf.get("skill-tipp")).containsExactly("dbt-distress-tolerance");
		// every whole named is a code of the CodeSystem
		partOf.values().stream().flatMap(List::stream).forEach(whole -> assertThat(partOf).containsKey(whole));
	}

	private static void collectPartOf(JsonNode concepts, Map<String, List<String>> partOf) {
		concepts.forEach(c -> {
			List<String> wholes = new ArrayList<>();
			c.path("property").forEach(p -> {
				if ("part-of".equals(p.path("code").asText())) {
					wholes.add(p.path("valueCode").asText());
				}
			});
			partOf.put(c.path("code").asText(), wholes);
			collectPartOf(c.path("concept"), partOf);
		});
	}
}
