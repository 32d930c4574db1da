package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.validation.SingleValidationMessage;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.MetadataResource;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.UriType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.SecurityLabels;
import org.springframework.beans.factory.annotation.Autowired;

/** The NSSI package inside the running server: install, enforcement on write, labels, terminology, download. */
class ConformanceIT extends BaseIT {

	private static final String CS = NssiCanonicals.CONCEPTS_SYSTEM;
	private static final String SCT = NssiCanonicals.SNOMED;
	private static final String EPISODE = NssiCanonicals.profile("nssi-episode");

	@Autowired
	ConformancePackage pkg;

	@Autowired
	ConformancePackageInstaller installer;

	private IIdType newPatient(IGenericClient client) {
		Patient patient = new Patient();
		patient.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		patient.addName().setFamily("Synthetic");
		return client.create().resource(patient).execute().getId().toUnqualifiedVersionless();
	}

	private static Observation.ObservationComponentComponent component(String code, org.hl7.fhir.r4.model.Type value) {
		Observation.ObservationComponentComponent c = new Observation.ObservationComponentComponent();
		c.getCode().addCoding().setSystem(CS).setCode(code);
		c.setValue(value);
		return c;
	}

	private static org.hl7.fhir.r4.model.CodeableConcept concept(String system, String code) {
		return new org.hl7.fhir.r4.model.CodeableConcept().addCoding(new Coding(system, code, null));
	}

	/** A valid episode that does not declare the profile: it is recognised by its code. */
	private static Observation episode(IIdType patient, String identifier) {
		Observation obs = new Observation();
		obs.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		obs.addIdentifier().setSystem("urn:nssi-fhir:test:episode").setValue(identifier);
		obs.setStatus(Observation.ObservationStatus.FINAL);
		obs.addCategory(concept(CS, "nssi"));
		obs.getCode().addCoding(new Coding(CS, "nssi-episode", null));
		obs.setSubject(new Reference(patient));
		obs.setEffective(new org.hl7.fhir.r4.model.DateTimeType("2026-03-01T10:00:00Z"));
		obs.addComponent(component("method", concept(SCT, "248073004")));
		obs.addComponent(component("suicidal-intent", concept(CS, "intent-none")));
		obs.addComponent(component("urge-intensity", new org.hl7.fhir.r4.model.IntegerType(6)));
		return obs;
	}

	private int countByIdentifier(IGenericClient client, String identifier) {
		return client.search()
				.byUrl("Observation?identifier=urn:nssi-fhir:test:episode|" + identifier + "&_summary=count")
				.returnBundle(Bundle.class)
				.execute()
				.getTotal();
	}

	private static OperationOutcome outcomeOf(Throwable e) {
		return (OperationOutcome) ((UnprocessableEntityException) e).getOperationOutcome();
	}

	// ---- install ---------------------------------------------------------------------------------------------------

	@Test
	void everyConformanceResourceOfThePackageIsInstalledWithItsIdUrlAndVersion() {
		IGenericClient client = client();
		for (Map.Entry<String, String> file : pkg.conformanceFiles().entrySet()) {
			MetadataResource expected = (MetadataResource) fhirContext.newJsonParser().parseResource(file.getValue());
			IBaseResource stored = client.read().resource(expected.fhirType()).withId(expected.getIdElement().getIdPart()).execute();
			assertThat(((MetadataResource) stored).getUrl()).as(file.getKey()).isEqualTo(expected.getUrl());
			assertThat(((MetadataResource) stored).getVersion()).as(file.getKey()).isEqualTo(pkg.version());
		}
	}

	@Test
	void installingTheSameVersionAgainChangesNothing() {
		IGenericClient client = client();
		String before = client.read().resource(org.hl7.fhir.r4.model.StructureDefinition.class).withId("nssi-episode").execute().getMeta().getVersionId();
		ConformancePackageInstaller.Result result = installer.install(pkg);
		assertThat(result.installed()).isFalse();
		String after = client.read().resource(org.hl7.fhir.r4.model.StructureDefinition.class).withId("nssi-episode").execute().getMeta().getVersionId();
		assertThat(after).isEqualTo(before);
	}

	@Test
	void everyExampleIsAcceptedByTheServer() {
		// all examples in one transaction (PUT with their own ids), so references between them resolve
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		for (String json : pkg.exampleFiles().values()) {
			Resource resource = (Resource) fhirContext.newJsonParser().parseResource(json);
			tx.addEntry()
					.setFullUrl(resource.fhirType() + "/" + resource.getIdElement().getIdPart())
					.setResource(resource)
					.getRequest()
					.setMethod(Bundle.HTTPVerb.PUT)
					.setUrl(resource.fhirType() + "/" + resource.getIdElement().getIdPart());
		}
		Bundle response = client().transaction().withBundle(tx).execute();
		assertThat(response.getEntry()).hasSize(pkg.exampleFiles().size());
		assertThat(response.getEntry()).allSatisfy(e -> assertThat(e.getResponse().getStatus()).matches("20[01].*"));
	}

	// ---- enforcement and labels -------------------------------------------------------------------------------------

	@Test
	void validEpisodeIsStoredLabelledAndDeclaresItsProfile() {
		IGenericClient client = client();
		IIdType patient = newPatient(client);
		IIdType id = client.create().resource(episode(patient, unique("valid"))).execute().getId();
		Observation stored = client.read().resource(Observation.class).withId(id.toUnqualifiedVersionless()).execute();
		assertThat(stored.getMeta().getProfile()).extracting(p -> p.getValue()).contains(EPISODE);
		assertThat(stored.getMeta().getSecurity()).extracting(c -> c.getSystem() + "|" + c.getCode())
				.contains(
						SecurityLabels.CONFIDENTIALITY_SYSTEM + "|R",
						SecurityLabels.ACT_CODE_SYSTEM + "|BH",
						NssiCanonicals.ACT_REASON_SYSTEM + "|HTEST");
	}

	@Test
	void episodesOfAMinorAreLabelledAdolescentAndOfAnAdultNot() {
		IGenericClient client = client();
		Patient minor = new Patient();
		minor.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		minor.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("2012-06-01"));
		IIdType minorId = client.create().resource(minor).execute().getId().toUnqualifiedVersionless();
		Patient adult = new Patient();
		adult.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		adult.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1990-06-01"));
		IIdType adultId = client.create().resource(adult).execute().getId().toUnqualifiedVersionless();

		IIdType minorEpisode = client.create().resource(episode(minorId, unique("adol"))).execute().getId().toUnqualifiedVersionless();
		IIdType adultEpisode = client.create().resource(episode(adultId, unique("adult"))).execute().getId().toUnqualifiedVersionless();
		assertThat(securityCodes(client, minorEpisode)).contains("ADOL", "R", "BH");
		assertThat(securityCodes(client, adultEpisode)).contains("R", "BH").doesNotContain("ADOL");
	}

	private static List<String> securityCodes(IGenericClient client, IIdType id) {
		return client.read().resource(Observation.class).withId(id).execute().getMeta().getSecurity().stream().map(Coding::getCode).toList();
	}

	@Test
	void aConfidentialityChosenByTheClientIsKept() {
		IGenericClient client = client();
		Observation obs = episode(newPatient(client), unique("very-restricted"));
		obs.getMeta().addSecurity(SecurityLabels.CONFIDENTIALITY_SYSTEM, "V", "very restricted");
		IIdType id = client.create().resource(obs).execute().getId();
		Observation stored = client.read().resource(Observation.class).withId(id.toUnqualifiedVersionless()).execute();
		assertThat(stored.getMeta().getSecurity())
				.filteredOn(c -> SecurityLabels.CONFIDENTIALITY_SYSTEM.equals(c.getSystem()))
				.extracting(Coding::getCode)
				.containsExactly("V");
	}

	@Test
	void episodeWithoutMethodIsRefusedWith422NamingTheRuleAndNothingIsStored() {
		IGenericClient client = client();
		String identifier = unique("no-method");
		Observation obs = episode(newPatient(client), identifier);
		obs.getComponent().removeIf(c -> c.getCode().getCodingFirstRep().getCode().equals("method"));
		assertThatThrownBy(() -> client.create().resource(obs).execute())
				.isInstanceOf(UnprocessableEntityException.class)
				.satisfies(e -> {
					OperationOutcome oo = outcomeOf(e);
					assertThat(oo.getIssueFirstRep().getDiagnostics()).startsWith("NSSI-0201").contains(EPISODE);
					assertThat(oo.getIssue()).anySatisfy(i -> assertThat(i.getDiagnostics()).contains("Observation.component:method"));
				});
		assertThat(countByIdentifier(client, identifier)).isZero();
	}

	@Test
	void episodeThatClaimsTheProfileIsValidatedToo() {
		IGenericClient client = client();
		Observation obs = episode(newPatient(client), unique("claims"));
		obs.getMeta().addProfile(EPISODE);
		obs.getComponent().stream()
				.filter(c -> c.getCode().getCodingFirstRep().getCode().equals("urge-intensity"))
				.forEach(c -> c.setValue(new org.hl7.fhir.r4.model.IntegerType(11)));
		assertThatThrownBy(() -> client.create().resource(obs).execute())
				.isInstanceOf(UnprocessableEntityException.class)
				.satisfies(e -> assertThat(outcomeOf(e).getIssue()).anySatisfy(i -> assertThat(i.getDiagnostics()).contains("nssi-ep-2")));
	}

	@Test
	void codeOutsideTheBoundValueSetIsRefused() {
		IGenericClient client = client();
		Observation obs = episode(newPatient(client), unique("bad-intent"));
		obs.getComponent().stream()
				.filter(c -> c.getCode().getCodingFirstRep().getCode().equals("suicidal-intent"))
				.forEach(c -> c.setValue(concept(CS, "intent-maybe-later")));
		assertThatThrownBy(() -> client.create().resource(obs).execute())
				.isInstanceOf(UnprocessableEntityException.class)
				.satisfies(e -> assertThat(outcomeOf(e).getIssue()).anySatisfy(i -> assertThat(i.getDiagnostics()).contains("nssi-intent-vs")));
	}

	@Test
	void updateToAnInvalidEpisodeIsRefusedAndTheStoredVersionStays() {
		IGenericClient client = client();
		IIdType id = client.create().resource(episode(newPatient(client), unique("upd"))).execute().getId().toUnqualifiedVersionless();
		Observation current = client.read().resource(Observation.class).withId(id).execute();
		current.getComponent().removeIf(c -> c.getCode().getCodingFirstRep().getCode().equals("suicidal-intent"));
		assertThatThrownBy(() -> client.update().resource(current).execute()).isInstanceOf(UnprocessableEntityException.class);
		assertThat(client.read().resource(Observation.class).withId(id).execute().getMeta().getVersionId()).isEqualTo("1");
	}

	@Test
	void transactionWithOneInvalidEpisodeIsRejectedAsAWhole() {
		IGenericClient client = client();
		IIdType patient = newPatient(client);
		String good = unique("tx-good");
		String bad = unique("tx-bad");
		Observation invalid = episode(patient, bad);
		invalid.getComponent().clear();
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		tx.addEntry().setResource(episode(patient, good)).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		tx.addEntry().setResource(invalid).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		assertThatThrownBy(() -> client.transaction().withBundle(tx).execute()).isInstanceOf(UnprocessableEntityException.class);
		assertThat(countByIdentifier(client, good)).isZero();
		assertThat(countByIdentifier(client, bad)).isZero();
	}

	@Test
	void resourcesWithNoNssiMeaningPassThroughUnchecked() {
		IGenericClient client = client();
		Observation plain = new Observation();
		plain.setStatus(Observation.ObservationStatus.FINAL);
		plain.getCode().addCoding().setSystem("urn:example:lab").setCode("glucose");
		plain.setValue(new StringType("whatever"));
		IIdType id = client.create().resource(plain).execute().getId();
		Observation stored = client.read().resource(Observation.class).withId(id.toUnqualifiedVersionless()).execute();
		assertThat(stored.getMeta().getProfile()).isEmpty();
		assertThat(stored.getMeta().getSecurity()).isEmpty();
	}

	@Test
	void episodeSearchParametersFindByMethodAndIntent() {
		IGenericClient client = client();
		IIdType patient = newPatient(client);
		client.create().resource(episode(patient, unique("sp"))).execute();
		Observation unsure = episode(patient, unique("sp-unsure"));
		unsure.getComponent().stream()
				.filter(c -> c.getCode().getCodingFirstRep().getCode().equals("suicidal-intent"))
				.forEach(c -> c.setValue(concept(CS, "intent-unsure")));
		unsure.getComponent().stream()
				.filter(c -> c.getCode().getCodingFirstRep().getCode().equals("method"))
				.forEach(c -> c.setValue(concept(SCT, "284744004")));
		client.create().resource(unsure).execute();

		String subject = "subject=" + patient.getValue();
		assertThat(total(client, "Observation?" + subject + "&nssi-method=" + SCT + "|248073004")).isEqualTo(1);
		assertThat(total(client, "Observation?" + subject + "&nssi-method=" + SCT + "|284744004")).isEqualTo(1);
		assertThat(total(client, "Observation?" + subject + "&nssi-intent=" + CS + "|intent-unsure")).isEqualTo(1);
		assertThat(total(client, "Observation?" + subject + "&nssi-intent=" + CS + "|intent-present")).isZero();
	}

	private static int total(IGenericClient client, String url) {
		return client.search().byUrl(url + "&_summary=count").returnBundle(Bundle.class).execute().getTotal();
	}

	// ---- terminology -------------------------------------------------------------------------------------------------

	@Test
	void expandWithFilter() {
		org.hl7.fhir.r4.model.ValueSet expansion = client().operation()
				.onType("ValueSet")
				.named("$expand")
				.withParameter(Parameters.class, "url", new UriType(NssiCanonicals.BASE + "/ValueSet/nssi-function-vs"))
				.andParameter("filter", new StringType("relief"))
				.returnResourceType(org.hl7.fhir.r4.model.ValueSet.class)
				.execute();
		assertThat(expansion.getExpansion().getContains()).extracting(c -> c.getCode()).containsExactly("function-relief-distress");
	}

	@Test
	void validateCodeAgainstAValueSet() {
		assertThat(validateCode(SCT, "248073004")).isTrue();
		assertThat(validateCode(SCT, "82313006")).as("suicide attempt is not an NSSI method").isFalse();
	}

	private boolean validateCode(String system, String code) {
		Parameters out = client().operation()
				.onType("ValueSet")
				.named("$validate-code")
				.withParameter(Parameters.class, "url", new UriType(NssiCanonicals.BASE + "/ValueSet/nssi-method-vs"))
				.andParameter("system", new UriType(system))
				.andParameter("code", new CodeType(code))
				.execute();
		return ((BooleanType) out.getParameter("result").getValue()).booleanValue();
	}

	@Test
	void lookupALocalCode() {
		Parameters out = client().operation()
				.onType("CodeSystem")
				.named("$lookup")
				.withParameter(Parameters.class, "system", new UriType(CS))
				.andParameter("code", new CodeType("dbt-accepts"))
				.execute();
		assertThat(out.getParameter("display").getValue().primitiveValue()).isEqualTo("ACCEPTS distraction skill");
	}

	@Test
	void subsumesFollowsTheHierarchy() {
		assertThat(subsumes("function-intrapersonal", "function-relief-distress")).isEqualTo("subsumes");
		assertThat(subsumes("function-relief-distress", "function-intrapersonal")).isEqualTo("subsumed-by");
		assertThat(subsumes("function-interpersonal", "function-relief-distress")).isEqualTo("not-subsumed");
		// parts are not kinds (issue 19, item 9): a safety plan is part of relapse prevention, not a kind of it
		assertThat(subsumes("relapse-prevention", "safety-plan")).isEqualTo("not-subsumed");
		assertThat(subsumes("dbt-skills-group", "dbt-mindfulness")).isEqualTo("not-subsumed");
		assertThat(subsumes("dbt-distress-tolerance", "dbt-accepts")).isEqualTo("not-subsumed");
		// grouping concepts still subsume their members
		assertThat(subsumes("dbt", "dbt-accepts")).isEqualTo("subsumes");
	}

	@Test
	void methodsCarryPlainLabelsForThePerson() {
		// the labels are content of the ValueSet (compose designations); HAPI 8.8.0's $expand does not return them for
		// the enumerated SNOMED CT concepts, so apps read them from the ValueSet itself
		org.hl7.fhir.r4.model.ValueSet vs = client().read().resource(org.hl7.fhir.r4.model.ValueSet.class).withId("nssi-method-vs").execute();
		List<org.hl7.fhir.r4.model.ValueSet.ConceptReferenceComponent> concepts = vs.getCompose().getInclude().stream()
				.flatMap(i -> i.getConcept().stream()).toList();
		assertThat(concepts).extracting(c -> c.getCode()).doesNotContain("307578000");
		assertThat(concepts).allSatisfy(c -> assertThat(c.getDesignation()).anySatisfy(d -> assertThat(d.getUse().getCode()).isEqualTo("plain-label")));
		assertThat(concepts).filteredOn(c -> c.getCode().equals("284742000")).singleElement()
				.satisfies(c -> assertThat(c.getDesignationFirstRep().getValue()).startsWith("Putting objects inside your body"));
		org.hl7.fhir.r4.model.ValueSet expansion = client().operation()
				.onType("ValueSet")
				.named("$expand")
				.withParameter(Parameters.class, "url", new UriType(NssiCanonicals.BASE + "/ValueSet/nssi-method-vs"))
				.returnResourceType(org.hl7.fhir.r4.model.ValueSet.class)
				.execute();
		assertThat(expansion.getExpansion().getContains()).extracting(c -> c.getCode()).doesNotContain("307578000").contains("248073004");
	}

	private String subsumes(String a, String b) {
		Parameters out = client().operation()
				.onType("CodeSystem")
				.named("$subsumes")
				.withParameter(Parameters.class, "system", new UriType(CS))
				.andParameter("codeA", new CodeType(a))
				.andParameter("codeB", new CodeType(b))
				.execute();
		return out.getParameter("outcome").getValue().primitiveValue();
	}

	@Test
	void translateALocalRiskFactorToIcd10cm() {
		Parameters out = client().operation()
				.onType("ConceptMap")
				.named("$translate")
				.withParameter(Parameters.class, "url", new UriType(NssiCanonicals.BASE + "/ConceptMap/nssi-risk-factor-to-icd10cm"))
				.andParameter("system", new UriType(CS))
				.andParameter("code", new CodeType("risk-low-self-worth"))
				.execute();
		assertThat(((BooleanType) out.getParameter("result").getValue()).booleanValue()).isTrue();
		Coding target = (Coding) out.getParameter().stream()
				.filter(p -> p.getName().equals("match"))
				.flatMap(p -> p.getPart().stream())
				.filter(p -> p.getName().equals("concept"))
				.findFirst()
				.orElseThrow()
				.getValue();
		assertThat(target.getSystem() + "|" + target.getCode()).isEqualTo(NssiCanonicals.ICD10CM + "|R45.81");
	}

	// ---- download -----------------------------------------------------------------------------------------------------

	@Test
	void thePackageCanBeDownloadedAndValidatesTheExamplesElsewhere() throws Exception {
		HttpResponse<byte[]> latest = http.send(
				HttpRequest.newBuilder(URI.create(baseUrl() + "/ig/package.tgz")).build(), HttpResponse.BodyHandlers.ofByteArray());
		assertThat(latest.statusCode()).isEqualTo(200);
		HttpResponse<byte[]> versioned = http.send(
				HttpRequest.newBuilder(URI.create(baseUrl() + "/ig/" + pkg.fileName())).build(), HttpResponse.BodyHandlers.ofByteArray());
		assertThat(versioned.body()).isEqualTo(latest.body());
		assertThat(http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/ig/org.nssi-fhir.ig-9.9.9.tgz")).build(),
						HttpResponse.BodyHandlers.discarding()).statusCode())
				.isEqualTo(404);

		// a separate plain HAPI validator that knows nothing but R4 core and the downloaded bytes
		OfflinePackageValidator elsewhere = new OfflinePackageValidator(ca.uhn.fhir.context.FhirContext.forR4(), latest.body());
		ConformancePackage downloaded = ConformancePackage.fromBytes(latest.body());
		assertThat(downloaded.exampleFiles()).isNotEmpty();
		for (Map.Entry<String, String> example : downloaded.exampleFiles().entrySet()) {
			List<SingleValidationMessage> errors = elsewhere.errors(example.getValue());
			assertThat(errors).as(example.getKey() + " " + errors).isEmpty();
		}
		// and it still catches a broken episode
		String broken = downloaded.exampleFiles().entrySet().stream()
				.filter(e -> e.getKey().contains("Observation-nssi-example-episode"))
				.findFirst()
				.orElseThrow()
				.getValue()
				.replace("\"suicidal-intent\"", "\"not-a-component\"");
		assertThat(elsewhere.errors(broken)).anySatisfy(m -> assertThat(m.getMessage()).contains("suicidalIntent"));
	}

	@Test
	void theImplementationGuideIsReadable() {
		org.hl7.fhir.r4.model.ImplementationGuide ig = client().read()
				.resource(org.hl7.fhir.r4.model.ImplementationGuide.class)
				.withId(new IdType("ImplementationGuide", ConformancePackageInstaller.IMPLEMENTATION_GUIDE_ID))
				.execute();
		assertThat(ig.getPackageId()).isEqualTo(NssiCanonicals.PACKAGE_ID);
		assertThat(ig.getVersion()).isEqualTo(pkg.version());
	}
}
