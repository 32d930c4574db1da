package org.nssifhir.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;

/**
 * Clinical reads carry clinical data: a patient whose record was read many times (each read an AuditEvent naming
 * the patient) gets no AuditEvent from {@code $everything}, compartment searches or history, even for a caller
 * whose scopes include the audit trail; privacy officers still find every AuditEvent with an audit scope.
 */
class ClinicalReadsIT extends BaseIT {

	private static final String HTEST_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

	/** A patient with 4 Observations and a Condition, read 12 times (12 AuditEvents naming the patient). */
	private record Chart(IIdType patient, List<IIdType> observations, IIdType condition) {}

	private Chart auditedChart() {
		Patient patient = new Patient();
		patient.getMeta().addSecurity(HTEST_SYSTEM, "HTEST", "test health data");
		patient.addName().setFamily("Synthetic").addGiven("Audited");
		IIdType patientId = client().create().resource(patient).execute().getId().toUnqualifiedVersionless();
		List<IIdType> observations = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			observations.add(observation(patientId, "clinical-" + i));
		}
		Condition condition = new Condition();
		condition.getMeta().addSecurity(HTEST_SYSTEM, "HTEST", "test health data");
		condition.setSubject(new Reference(patientId));
		condition.setCode(new CodeableConcept().setText("synthetic condition"));
		IIdType conditionId = client().create().resource(condition).execute().getId().toUnqualifiedVersionless();
		for (int i = 0; i < 12; i++) {
			client().read().resource(Patient.class).withId(patientId).execute();
		}
		awaitAuditTrail();
		return new Chart(patientId, observations, conditionId);
	}

	private IIdType observation(IIdType patient, String code) {
		return observation(patient, code, null);
	}

	private IIdType observation(IIdType patient, String code, String effective) {
		Observation o = new Observation();
		if (effective != null) {
			o.setEffective(new org.hl7.fhir.r4.model.DateTimeType(effective));
		}
		o.getMeta().addSecurity(HTEST_SYSTEM, "HTEST", "test health data");
		o.setStatus(Observation.ObservationStatus.FINAL);
		o.getCode().addCoding().setSystem("urn:nssi-fhir:test:code").setCode(code);
		o.setSubject(new Reference(patient));
		o.setValue(new StringType(code));
		return client().create().resource(o).execute().getId().toUnqualifiedVersionless();
	}

	/** Every page of a search, following {@code next} links; each page is checked by the caller. */
	private List<Bundle> pages(String first) {
		List<Bundle> pages = new ArrayList<>();
		Bundle page = client().search().byUrl(fhirBase() + "/" + first).returnBundle(Bundle.class).execute();
		pages.add(page);
		while (page.getLink(Bundle.LINK_NEXT) != null && pages.size() < 50) {
			page = client().loadPage().next(page).execute();
			pages.add(page);
		}
		return pages;
	}

	/** History entries of deleted versions carry no resource (other tests delete records): kept out here. */
	private static List<Resource> resources(List<Bundle> pages) {
		return pages.stream().flatMap(p -> p.getEntry().stream()).map(Bundle.BundleEntryComponent::getResource)
				.filter(java.util.Objects::nonNull).toList();
	}

	/** The type of a history entry, a deleted version's included (its request URL names it). */
	private static String typeOf(Bundle.BundleEntryComponent entry) {
		return entry.getResource() != null ? entry.getResource().fhirType() : entry.getRequest().getUrl().split("/")[0];
	}

	private static Set<String> ids(List<Resource> resources, String type) {
		Set<String> ids = new HashSet<>();
		resources.stream().filter(r -> r.fhirType().equals(type)).forEach(r -> ids.add(type + "/" + r.getIdElement().getIdPart()));
		return ids;
	}

	private static Set<String> values(List<IIdType> ids) {
		Set<String> values = new HashSet<>();
		ids.forEach(id -> values.add(id.getValue()));
		return values;
	}

	@Test
	void testEverything_NoAuditEvents_PagedWithCount() {
		Chart chart = auditedChart();
		List<Bundle> pages = pages(chart.patient().getValue() + "/$everything?_count=2");
		List<Resource> all = resources(pages);
		assertThat(all).extracting(Resource::fhirType).doesNotContain("AuditEvent");
		assertThat(ids(all, "Observation")).isEqualTo(values(chart.observations()));
		assertThat(ids(all, "Condition")).containsExactly(chart.condition().getValue());
		assertThat(ids(all, "Patient")).contains(chart.patient().getValue());
		assertThat(pages.size()).as("pages of two: the patient, 4 Observations and a Condition").isGreaterThanOrEqualTo(3);
		// no page is thinned out by AuditEvents removed after the query: every page but the last is full
		for (Bundle page : pages.subList(0, pages.size() - 1)) {
			assertThat(page.getEntry().stream().filter(e -> e.getSearch().getMode() != Bundle.SearchEntryMode.INCLUDE).count())
					.isEqualTo(2);
		}
	}

	@Test
	void testEverything_TypeAndSince() throws Exception {
		Chart chart = auditedChart();
		List<Resource> observationsOnly = resources(pages(chart.patient().getValue() + "/$everything?_type=Observation"));
		assertThat(ids(observationsOnly, "Observation")).isEqualTo(values(chart.observations()));
		assertThat(observationsOnly).extracting(Resource::fhirType).doesNotContain("Condition", "AuditEvent");

		Thread.sleep(1100);
		IIdType late = observation(chart.patient(), "late");
		String since = client().read().resource(Observation.class).withId(late).execute().getMeta().getLastUpdatedElement().getValueAsString();
		List<Resource> recent = resources(pages(chart.patient().getValue() + "/$everything?_since=" + java.net.URLEncoder.encode(since, java.nio.charset.StandardCharsets.UTF_8)));
		assertThat(ids(recent, "Observation")).containsExactly(late.getValue());
		assertThat(ids(recent, "Condition")).isEmpty();

		// start/end: care dates (effective, onset, period...); a resource without one is kept
		IIdType in2001 = observation(chart.patient(), "in-2001", "2001-05-05");
		IIdType in2020 = observation(chart.patient(), "in-2020", "2020-02-02T10:00:00Z");
		List<Bundle> careRange = pages(chart.patient().getValue() + "/$everything?start=2001-01-01&end=2001-12-31&_count=3");
		assertThat(ids(resources(careRange), "Observation")).contains(in2001.getValue()).doesNotContain(in2020.getValue());
		assertThat(resources(careRange)).extracting(Resource::fhirType).doesNotContain("AuditEvent");
		assertThat(ids(resources(pages(chart.patient().getValue() + "/$everything?start=2020-01-01&_count=3")), "Observation"))
				.contains(in2020.getValue()).doesNotContain(in2001.getValue());

		HttpResponse<String> auditType = http.send(fhirRequest("/" + chart.patient().getValue() + "/$everything?_type=AuditEvent").build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(auditType.statusCode()).isEqualTo(400);
		assertThat(auditType.body()).contains("NSSI-0906");
	}

	@Test
	void testCompartmentSearchAndRevInclude_NoAuditEvents() {
		Chart chart = auditedChart();
		List<Resource> observations = resources(pages("Observation?patient=" + chart.patient().getValue()));
		assertThat(ids(observations, "Observation")).isEqualTo(values(chart.observations()));
		List<Resource> withRevIncludes = resources(pages("Patient?_id=" + chart.patient().getIdPart()
				+ "&_revinclude=Observation:subject&_revinclude=AuditEvent:patient"));
		assertThat(withRevIncludes).extracting(Resource::fhirType).doesNotContain("AuditEvent");
		assertThat(ids(withRevIncludes, "Observation")).isEqualTo(values(chart.observations()));
		List<Resource> wildcard = resources(pages("Patient?_id=" + chart.patient().getIdPart() + "&_revinclude=*"));
		assertThat(wildcard).extracting(Resource::fhirType).doesNotContain("AuditEvent");
		assertThat(ids(wildcard, "Condition")).containsExactly(chart.condition().getValue());
	}

	@Test
	void testHistory_NoAuditEvents_TypeHonoured() throws Exception {
		// since the test began: other tests' export files (Binaries of another client, refused as a whole) are older
		java.util.Date began = new java.util.Date(System.currentTimeMillis() - 1000);
		Chart chart = auditedChart();
		Bundle system = client().history().onServer().returnBundle(Bundle.class).since(began).count(100).execute();
		assertThat(system.getEntry()).isNotEmpty();
		assertThat(system.getEntry()).extracting(ClinicalReadsIT::typeOf)
				.doesNotContain("AuditEvent");
		assertThat(system.getEntry()).extracting(e -> e.getFullUrl()).anyMatch(url -> url.contains(chart.condition().getValue()));

		Bundle type = client().history().onType(Observation.class).returnBundle(Bundle.class).count(50).execute();
		assertThat(type.getEntry()).allSatisfy(e -> assertThat(typeOf(e)).isEqualTo("Observation"));

		// _type on system history, paged: every page keeps the filter
		List<Bundle> typed = pages("_history?_type=Condition,Patient&_count=1&_since="
				+ new org.hl7.fhir.r4.model.InstantType(began).getValueAsString().replace("+", "%2B"));
		List<Resource> typedResources = resources(typed);
		assertThat(typed.size()).isGreaterThan(1);
		assertThat(typedResources).extracting(Resource::fhirType).containsOnly("Condition", "Patient");
		assertThat(ids(typedResources, "Condition")).contains(chart.condition().getValue());
		assertThat(resources(pages("_history?_type=Observation&_count=5"))).extracting(Resource::fhirType).containsOnly("Observation");

		for (String bad : new String[] {"AuditEvent", "Observation,AuditEvent", "NoSuchType"}) {
			HttpResponse<String> refused = http.send(fhirRequest("/_history?_type=" + bad).build(), HttpResponse.BodyHandlers.ofString());
			assertThat(refused.statusCode()).as(bad).isEqualTo(400);
			assertThat(refused.body()).as(bad).contains("NSSI-0906");
		}
	}

	@Test
	void testAuditScope_StillFindsTheAuditTrail() {
		Chart chart = auditedChart();
		var officer = client(tokens().system("system/AuditEvent.rs"));
		Bundle audits = officer.search().byUrl("AuditEvent?patient=" + chart.patient().getValue() + "&_count=100")
				.returnBundle(Bundle.class).execute();
		assertThat(audits.getEntry()).hasSizeGreaterThanOrEqualTo(12);
		assertThat(audits.getEntry()).allSatisfy(e -> assertThat(e.getResource().fhirType()).isEqualTo("AuditEvent"));
		Bundle auditHistory = officer.history().onType("AuditEvent").returnBundle(Bundle.class).count(20).execute();
		assertThat(auditHistory.getEntry()).isNotEmpty()
				.allSatisfy(e -> assertThat(e.getResource().fhirType()).isEqualTo("AuditEvent"));
	}
}
