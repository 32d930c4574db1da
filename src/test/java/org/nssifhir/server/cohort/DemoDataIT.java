package org.nssifhir.server.cohort;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.rest.server.RestfulServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.ExtractOperationProvider;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.treatment.PlanApplyProvider;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Demo mode in the shared test context (no second Spring context): the startup step that {@code
 * --nssi.demo.enabled=true} registers, run here with a small cohort of its own seed, leaves data that the FHIR
 * API serves (patients, episodes, the summary), and running it again (a restart) adds nothing.
 */
class DemoDataIT extends BaseIT {

	@Autowired
	NssiProperties properties;

	@Autowired
	IFhirSystemDao<Bundle, ?> systemDao;

	@Autowired
	DaoRegistry daoRegistry;

	@Autowired
	ExtractOperationProvider extract;

	@Autowired
	PlanApplyProvider planApply;

	@Autowired
	RestfulServer restfulServer;

	@Test
	void demoModeLoadsASmallCohortThatTheApiServes_andRestartsAddNothing() throws Exception {
		assertThat(properties.db().embedded()).as("the tests run on the embedded default, as demo mode does").isTrue();
		// a seed whose two people include one in treatment (the generator decides who is, deterministically)
		// from the clock, so runs cover different cohorts (CohortResponsesValidTest checks 200 seeds offline); printed,
		// so a failing run can be repeated with its seed
		long seed = System.nanoTime();
		System.out.println("DemoDataIT cohort seed: " + seed);
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		while (new CohortGenerator(today).generate(2, seed).stream().noneMatch(p -> p.treatment() != null)) {
			seed++;
		}
		CohortGenerator.PatientHistory treated = new CohortGenerator(today).generate(2, seed).stream()
				.filter(p -> p.treatment() != null).findFirst().orElseThrow();
		NssiProperties demo = new NssiProperties(properties.db(), properties.fhir(), properties.limits(), properties.cors(),
				properties.security(), properties.policy(), properties.escalation(), properties.integration(), new NssiProperties.Demo(true, 2, seed),
				properties.audit(), properties.searchIndexDir(), properties.app(), properties.shutdownDrainDelay());
		DemoData step = new DemoData(demo, systemDao, daoRegistry, extract, planApply, restfulServer);

		step.run(null);
		String prefix = "SYN-" + seed + "-";
		Bundle patients = patients(prefix);
		assertThat(patients.getEntry()).hasSize(2);
		String patient = patients.getEntryFirstRep().getResource().getIdElement().toUnqualifiedVersionless().getValue();
		HttpResponse<String> summary = http.send(fhirRequest("/" + patient + "/$nssi-summary").GET().build(), HttpResponse.BodyHandlers.ofString());
		assertThat(summary.statusCode()).isEqualTo(200);
		assertThat(summary.body()).contains("episodeCount");
		int total = client().search().byUrl("Observation?subject=" + patient + "&_summary=count").returnBundle(Bundle.class).execute().getTotal();
		assertThat(total).isGreaterThan(0);

		// the person in treatment has their plan, started when the history says, with the sessions delivered since
		String inTreatment = client().search().forResource(Patient.class)
				.where(Patient.IDENTIFIER.exactly().systemAndIdentifier(CohortGenerator.MRN_SYSTEM, treated.mrn()))
				.returnBundle(Bundle.class).execute().getEntryFirstRep().getResource().getIdElement().toUnqualifiedVersionless().getValue();
		Bundle plans = client().search().byUrl("CarePlan?patient=" + inTreatment + "&status=active&category="
				+ NssiCanonicals.CONCEPTS_SYSTEM + "|" + (treated.treatment().planDefinition().equals("nssi-dbt") ? "dbt-plan" : "cbt-plan"))
				.returnBundle(Bundle.class).execute();
		assertThat(plans.getEntry()).hasSize(1);
		CarePlan plan = (CarePlan) plans.getEntryFirstRep().getResource();
		assertThat(plan.getPeriod().getStartElement().getValueAsString())
				.isEqualTo(today.minusWeeks(treated.treatment().weeksAgo()).toString());
		assertThat(client().search().byUrl("Procedure?subject=" + inTreatment + "&status=completed&_summary=count")
				.returnBundle(Bundle.class).execute().getTotal()).isEqualTo(treated.treatment().sessions());
		HttpResponse<String> treatedSummary = http.send(fhirRequest("/" + inTreatment + "/$nssi-summary").GET().build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(treatedSummary.body()).contains("activeCarePlan").contains(plan.getIdElement().getIdPart());

		// the development clinician treats the first person (a CareTeam stored as the system) and not the second: the
		// app shows one of them in full and the other as "not on this person's care team"
		String unrelated = patients.getEntry().get(1).getResource().getIdElement().toUnqualifiedVersionless().getValue();
		assertThat(careTeams(patient)).isEqualTo(1);
		assertThat(careTeams(unrelated)).isZero();
		assertThat(client().read().resource(org.hl7.fhir.r4.model.Practitioner.class).withId("dev-clinician").execute().getNameFirstRep().getFamily())
				.isEqualTo("Development");
		String devClinician = tokens().token().scopes("user/*.rs").claim("fhirUser", fhirBase() + "/Practitioner/dev-clinician").sign();
		HttpResponse<String> own = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + patient + "/$nssi-summary"))
				.header("Authorization", "Bearer " + devClinician).GET().build(), HttpResponse.BodyHandlers.ofString());
		assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
		HttpResponse<String> other = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + unrelated + "/$nssi-summary"))
				.header("Authorization", "Bearer " + devClinician).GET().build(), HttpResponse.BodyHandlers.ofString());
		assertThat(other.statusCode()).isEqualTo(403);
		assertThat(other.body()).contains("NSSI-0304");
		HttpResponse<String> glass = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + unrelated + "/$nssi-summary"))
				.header("Authorization", "Bearer " + devClinician).header("X-Purpose-Of-Use", "BTG").GET().build(), HttpResponse.BodyHandlers.ofString());
		assertThat(glass.statusCode()).as(glass.body()).isEqualTo(200);

		step.run(null); // a restart with the same settings
		assertThat(patients(prefix).getEntry()).hasSize(2);
		assertThat(careTeams(patient)).isEqualTo(1);
		assertThat(careTeams(unrelated)).isZero();
		assertThat(client().search().byUrl("Observation?subject=" + patient + "&_summary=count").returnBundle(Bundle.class).execute().getTotal())
				.isEqualTo(total);
	}

	private int careTeams(String patient) {
		return client().search().byUrl("CareTeam?patient=" + patient + "&participant=Practitioner/dev-clinician&status=active")
				.returnBundle(Bundle.class).execute().getEntry().size();
	}

	private Bundle patients(String mrnPrefix) {
		Bundle all = client().search().forResource(Patient.class)
				.where(Patient.IDENTIFIER.exactly().systemAndIdentifier(CohortGenerator.MRN_SYSTEM, mrnPrefix + "00001"))
				.returnBundle(Bundle.class).execute();
		Bundle second = client().search().forResource(Patient.class)
				.where(Patient.IDENTIFIER.exactly().systemAndIdentifier(CohortGenerator.MRN_SYSTEM, mrnPrefix + "00002"))
				.returnBundle(Bundle.class).execute();
		all.getEntry().addAll(second.getEntry());
		return all;
	}
}
