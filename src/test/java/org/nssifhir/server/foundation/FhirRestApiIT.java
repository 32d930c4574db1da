package org.nssifhir.server.foundation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.SummaryEnum;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import java.util.List;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Meta;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;

/** The FHIR REST API the foundation promises, exercised over HTTP against PostgreSQL. */
class FhirRestApiIT extends BaseIT {

	private static final String IDENTIFIER_SYSTEM = "urn:nssi-fhir:test:mrn";

	private Patient newPatient(String identifier) {
		Patient patient = new Patient();
		patient.addIdentifier().setSystem(IDENTIFIER_SYSTEM).setValue(identifier);
		patient.addName().setFamily("Synthetic").addGiven("Test");
		patient.setGender(Enumerations.AdministrativeGender.UNKNOWN);
		patient.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", "test health data");
		return patient;
	}

	private Observation newObservation(IIdType patient, String code) {
		Observation obs = new Observation();
		obs.setStatus(Observation.ObservationStatus.FINAL);
		obs.getCode().addCoding().setSystem("urn:nssi-fhir:test:code").setCode(code);
		obs.setSubject(new Reference(patient.toUnqualifiedVersionless()));
		obs.setValue(new StringType("value-" + code));
		return obs;
	}

	@Test
	void metadataDescribesAnR4JsonServerWithTheOperationsWeUse() {
		CapabilityStatement cs = client().capabilities().ofType(CapabilityStatement.class).execute();
		assertThat(cs.getFhirVersion().toCode()).isEqualTo("4.0.1");
		assertThat(cs.getSoftware().getName()).isEqualTo("NSSI FHIR Server");
		CapabilityStatement.CapabilityStatementRestResourceComponent patient = cs.getRestFirstRep().getResource().stream()
				.filter(r -> r.getType().equals("Patient"))
				.findFirst()
				.orElseThrow();
		assertThat(patient.getOperation()).extracting(o -> o.getName()).contains("everything", "validate", "meta");
		assertThat(patient.getConditionalCreate()).isTrue();
		assertThat(cs.getRestFirstRep().getInteraction())
				.extracting(i -> i.getCode().toCode())
				.contains("transaction", "batch", "history-system");
	}

	@Test
	void createReadVreadUpdateDelete() {
		IGenericClient client = client();
		MethodOutcome created = client.create().resource(newPatient(unique("crud"))).execute();
		assertThat(created.getCreated()).isTrue();
		IIdType id = created.getId();
		assertThat(id.getVersionIdPart()).isEqualTo("1");

		Patient read = client.read().resource(Patient.class).withId(id.toUnqualifiedVersionless()).execute();
		read.getNameFirstRep().setFamily("Updated");
		MethodOutcome updated = client.update().resource(read).execute();
		assertThat(updated.getId().getVersionIdPart()).isEqualTo("2");

		Patient v1 = client.read().resource(Patient.class).withId(id.withVersion("1")).execute();
		assertThat(v1.getNameFirstRep().getFamily()).isEqualTo("Synthetic");

		client.delete().resourceById(id.toUnqualifiedVersionless()).execute();
		assertThatThrownBy(() -> client.read().resource(Patient.class).withId(id.toUnqualifiedVersionless()).execute())
				.isInstanceOf(ResourceGoneException.class);
	}

	@Test
	void updateWithStaleIfMatchIsRefusedWith412AndChangesNothing() {
		IGenericClient client = client();
		IIdType id = client.create().resource(newPatient(unique("etag"))).execute().getId();
		Patient current = client.read().resource(Patient.class).withId(id.toUnqualifiedVersionless()).execute();
		current.getNameFirstRep().setFamily("First writer");
		client.update().resource(current).execute(); // version 2; `current` still says version 1

		Patient stale = current.copy();
		stale.setId(id.toUnqualifiedVersionless().withVersion("1"));
		stale.getNameFirstRep().setFamily("Lost update");
		assertThatThrownBy(() -> client.update().resource(stale).withId(stale.getIdElement()).execute())
				.isInstanceOf(PreconditionFailedException.class)
				.satisfies(e -> assertThat(((BaseServerResponseException) e).getStatusCode()).isEqualTo(412));

		Patient after = client.read().resource(Patient.class).withId(id.toUnqualifiedVersionless()).execute();
		assertThat(after.getMeta().getVersionId()).isEqualTo("2");
		assertThat(after.getNameFirstRep().getFamily()).isEqualTo("First writer");
	}

	@Test
	void conditionalCreateIsIdempotent() {
		IGenericClient client = client();
		String mrn = unique("cond");
		String condition = "Patient?identifier=" + IDENTIFIER_SYSTEM + "|" + mrn;
		MethodOutcome first = client.create().resource(newPatient(mrn)).conditionalByUrl(condition).execute();
		MethodOutcome second = client.create().resource(newPatient(mrn)).conditionalByUrl(condition).execute();
		assertThat(first.getCreated()).isTrue();
		assertThat(second.getCreated()).isNotEqualTo(Boolean.TRUE);
		assertThat(second.getId().getIdPart()).isEqualTo(first.getId().getIdPart());
		Bundle found = client.search().byUrl(condition).returnBundle(Bundle.class).execute();
		assertThat(found.getEntry()).hasSize(1);
	}

	@Test
	void conditionalUpdateAndConditionalDelete() {
		IGenericClient client = client();
		String mrn = unique("condupd");
		String condition = "Patient?identifier=" + IDENTIFIER_SYSTEM + "|" + mrn;
		MethodOutcome created = client.update().resource(newPatient(mrn)).conditionalByUrl(condition).execute();
		assertThat(created.getCreated()).isTrue();
		Patient changed = newPatient(mrn);
		changed.getNameFirstRep().setFamily("Conditional");
		MethodOutcome updated = client.update().resource(changed).conditionalByUrl(condition).execute();
		assertThat(updated.getId().getIdPart()).isEqualTo(created.getId().getIdPart());
		assertThat(updated.getId().getVersionIdPart()).isEqualTo("2");

		client.delete().resourceConditionalByUrl(condition).execute();
		assertThat(client.search().byUrl(condition).returnBundle(Bundle.class).execute().getEntry()).isEmpty();
	}

	@Test
	void jsonPatchAndFhirPathPatch() {
		IGenericClient client = client();
		IIdType id = client.create().resource(newPatient(unique("patch"))).execute().getId().toUnqualifiedVersionless();
		client.patch()
				.withBody("[{\"op\":\"replace\",\"path\":\"/gender\",\"value\":\"female\"}]")
				.withId(id)
				.execute();
		Parameters fhirPath = new Parameters();
		Parameters.ParametersParameterComponent op = fhirPath.addParameter().setName("operation");
		op.addPart().setName("type").setValue(new org.hl7.fhir.r4.model.CodeType("add"));
		op.addPart().setName("path").setValue(new StringType("Patient"));
		op.addPart().setName("name").setValue(new StringType("birthDate"));
		op.addPart().setName("value").setValue(new org.hl7.fhir.r4.model.DateType("2009-04-01"));
		client.patch().withFhirPatch(fhirPath).withId(id).execute();

		Patient patched = client.read().resource(Patient.class).withId(id).execute();
		assertThat(patched.getGender()).isEqualTo(Enumerations.AdministrativeGender.FEMALE);
		assertThat(patched.getBirthDateElement().getValueAsString()).isEqualTo("2009-04-01");
		assertThat(patched.getMeta().getVersionId()).isEqualTo("3");
	}

	@Test
	void instanceTypeAndSystemHistory() {
		IGenericClient client = client();
		Patient patient = newPatient(unique("hist"));
		IIdType id = client.create().resource(patient).execute().getId().toUnqualifiedVersionless();
		patient.setId(id);
		patient.setActive(true);
		client.update().resource(patient).execute();

		Bundle instance = client.history().onInstance(id).returnBundle(Bundle.class).execute();
		assertThat(instance.getEntry()).hasSize(2);
		Bundle type = client.history().onType(Patient.class).returnBundle(Bundle.class).count(5).execute();
		assertThat(type.getType()).isEqualTo(Bundle.BundleType.HISTORY);
		assertThat(type.getEntry()).isNotEmpty();
		Bundle system = client.history().onServer().returnBundle(Bundle.class).count(5).execute();
		assertThat(system.getEntry()).isNotEmpty();
	}

	@Test
	void searchWithIncludeRevincludeChainHasSortAndElements() {
		IGenericClient client = client();
		String mrn = unique("search");
		IIdType patient = client.create().resource(newPatient(mrn)).execute().getId().toUnqualifiedVersionless();
		client.create().resource(newObservation(patient, "b")).execute();
		client.create().resource(newObservation(patient, "a")).execute();

		Bundle withInclude = client.search()
				.byUrl("Observation?subject=" + patient.getValue() + "&_include=Observation:subject&_sort=code")
				.returnBundle(Bundle.class)
				.execute();
		List<Bundle.BundleEntryComponent> matches = withInclude.getEntry().stream()
				.filter(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.MATCH)
				.toList();
		assertThat(matches).hasSize(2);
		assertThat(((Observation) matches.get(0).getResource()).getCode().getCodingFirstRep().getCode()).isEqualTo("a");
		assertThat(withInclude.getEntry())
				.anySatisfy(e -> assertThat(e.getSearch().getMode()).isEqualTo(Bundle.SearchEntryMode.INCLUDE));

		Bundle revinclude = client.search()
				.byUrl("Patient?identifier=" + IDENTIFIER_SYSTEM + "|" + mrn + "&_revinclude=Observation:subject")
				.returnBundle(Bundle.class)
				.execute();
		assertThat(revinclude.getEntry()).hasSize(3);

		Bundle chained = client.search()
				.byUrl("Observation?subject:Patient.identifier=" + IDENTIFIER_SYSTEM + "|" + mrn)
				.returnBundle(Bundle.class)
				.execute();
		assertThat(chained.getEntry()).hasSize(2);

		Bundle has = client.search()
				.byUrl("Patient?_has:Observation:subject:code=urn:nssi-fhir:test:code|a&identifier=" + IDENTIFIER_SYSTEM
						+ "|" + mrn)
				.returnBundle(Bundle.class)
				.execute();
		assertThat(has.getEntry()).hasSize(1);

		Bundle elements = client.search()
				.byUrl("Patient?identifier=" + IDENTIFIER_SYSTEM + "|" + mrn + "&_elements=identifier")
				.returnBundle(Bundle.class)
				.execute();
		Patient trimmed = (Patient) elements.getEntryFirstRep().getResource();
		assertThat(trimmed.hasName()).isFalse();
		assertThat(trimmed.hasIdentifier()).isTrue();

		Bundle countOnly = client.search()
				.byUrl("Observation?subject=" + patient.getValue())
				.summaryMode(SummaryEnum.COUNT)
				.returnBundle(Bundle.class)
				.execute();
		assertThat(countOnly.getTotal()).isEqualTo(2);
		assertThat(countOnly.getEntry()).isEmpty();
	}

	@Test
	void searchModifiersAndPrefixes() {
		IGenericClient client = client();
		String family = "Mod" + unique("x").replace("-", "").substring(0, 12);
		Patient female = newPatient(unique("mod"));
		female.getNameFirstRep().setFamily(family);
		female.setGender(Enumerations.AdministrativeGender.FEMALE);
		client.create().resource(female).execute();
		Patient male = newPatient(unique("mod"));
		male.getNameFirstRep().setFamily(family + "son");
		male.setGender(Enumerations.AdministrativeGender.MALE);
		client.create().resource(male).execute();

		assertThat(total(client, "Patient?family=" + family)).as("default string search is starts-with").isEqualTo(2);
		assertThat(total(client, "Patient?family:exact=" + family)).isEqualTo(1);
		assertThat(total(client, "Patient?family:exact=" + family.toLowerCase())).as(":exact is case-sensitive").isZero();
		assertThat(total(client, "Patient?family=" + family + "&gender:not=female")).isEqualTo(1);
		assertThat(total(client, "Patient?family=" + family + "&_lastUpdated=ge2020-01-01")).isEqualTo(2);
		assertThat(total(client, "Patient?family=" + family + "&_lastUpdated=lt2020-01-01")).isZero();
	}

	private static int total(IGenericClient client, String url) {
		return client.search().byUrl(url + "&_summary=count").returnBundle(Bundle.class).execute().getTotal();
	}

	@Test
	void searchResultsArePaged() {
		IGenericClient client = client();
		IIdType patient = client.create().resource(newPatient(unique("paging"))).execute().getId().toUnqualifiedVersionless();
		// more results than the largest page (200): paging must reach every one of them, not stop at one page's worth
		Bundle batch = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		for (int i = 0; i < 250; i++) {
			batch.addEntry().setResource(newObservation(patient, "p" + i)).getRequest()
					.setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		}
		client.transaction().withBundle(batch).execute();
		Bundle page = client.search()
				.byUrl("Observation?subject=" + patient.getValue() + "&_count=100")
				.returnBundle(Bundle.class)
				.execute();
		int seen = page.getEntry().size();
		int pages = 1;
		while (page.getLink(Bundle.LINK_NEXT) != null) {
			page = client.loadPage().next(page).execute();
			seen += page.getEntry().size();
			pages++;
		}
		assertThat(seen).isEqualTo(250);
		assertThat(pages).isEqualTo(3);
	}

	@Test
	void transactionWithAFailingEntryStoresNothing() {
		IGenericClient client = client();
		String mrn = unique("tx");
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		tx.addEntry()
				.setFullUrl("urn:uuid:" + java.util.UUID.randomUUID())
				.setResource(newPatient(mrn))
				.getRequest()
				.setMethod(Bundle.HTTPVerb.POST)
				.setUrl("Patient");
		Observation dangling = newObservation(new IdType("Patient/does-not-exist-" + mrn), "x");
		tx.addEntry().setResource(dangling).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");

		assertThatThrownBy(() -> client.transaction().withBundle(tx).execute())
				.isInstanceOf(BaseServerResponseException.class)
				.satisfies(e -> {
					int status = ((BaseServerResponseException) e).getStatusCode();
					assertThat(status).isBetween(400, 499);
				});
		Bundle found = client.search()
				.byUrl("Patient?identifier=" + IDENTIFIER_SYSTEM + "|" + mrn)
				.returnBundle(Bundle.class)
				.execute();
		assertThat(found.getEntry()).isEmpty();
	}

	@Test
	void transactionResolvesPlaceholderReferencesAndBatchReportsPerEntry() {
		IGenericClient client = client();
		String mrn = unique("txok");
		String patientUrn = "urn:uuid:" + java.util.UUID.randomUUID();
		Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		tx.addEntry().setFullUrl(patientUrn).setResource(newPatient(mrn)).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
		Observation obs = newObservation(new IdType(patientUrn), "tx");
		obs.setSubject(new Reference(patientUrn));
		tx.addEntry().setResource(obs).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");
		Bundle response = client.transaction().withBundle(tx).execute();
		assertThat(response.getEntry()).hasSize(2);
		assertThat(response.getEntry()).allSatisfy(e -> assertThat(e.getResponse().getStatus()).startsWith("201"));

		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Patient?identifier=" + IDENTIFIER_SYSTEM + "|" + mrn);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Patient/no-such-patient-" + mrn);
		Bundle batchResponse = client.transaction().withBundle(batch).execute();
		assertThat(batchResponse.getEntry().get(0).getResponse().getStatus()).startsWith("200");
		assertThat(batchResponse.getEntry().get(1).getResponse().getStatus()).startsWith("404");
	}

	@Test
	void everythingMetaAndValidate() {
		IGenericClient client = client();
		IIdType patient = client.create().resource(newPatient(unique("ev"))).execute().getId().toUnqualifiedVersionless();
		client.create().resource(newObservation(patient, "ev")).execute();

		Bundle bundle = client.operation()
				.onInstance(patient)
				.named("$everything")
				.withNoParameters(Parameters.class)
				.returnResourceType(Bundle.class)
				.execute();
		assertThat(bundle.getEntry()).extracting(e -> e.getResource().fhirType()).contains("Patient", "Observation");

		Meta meta = client.meta().get(Meta.class).fromResource(patient).execute();
		assertThat(meta.getSecurity()).anySatisfy(c -> assertThat(c.getCode()).isEqualTo("HTEST"));

		Patient invalid = new Patient();
		invalid.addName().setFamily("X");
		invalid.addTelecom().setValue("555"); // telecom with a value needs a system (cpt-2)
		// $validate succeeds as an operation and reports the problems in its OperationOutcome
		OperationOutcome oo = (OperationOutcome) client.validate().resource(invalid).execute().getOperationOutcome();
		assertThat(oo.getIssue()).anySatisfy(i -> {
			assertThat(i.getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
			assertThat(i.getDiagnostics()).contains("cpt-2");
		});
	}
}
