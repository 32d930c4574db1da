package org.nssifhir.server.cohort;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;

/**
 * A generated cohort loaded through the real FHIR API, as {@code CohortMain --server} does: every resource passes
 * the server's profile validation on write (a single invalid one would fail its whole transaction with 422),
 * the questionnaire responses are extracted, and loading again stores nothing.
 */
class CohortIT extends BaseIT {

	@Test
	void aGeneratedCohortLoadsThroughTheApiWithoutValidationErrors_andLoadingAgainIsANoOp() {
		long seed = System.nanoTime(); // a cohort of its own: MRNs are per seed
		List<CohortGenerator.PatientHistory> people = new CohortGenerator(LocalDate.now(ZoneOffset.UTC), 1).generate(4, seed);
		// one transaction holds a person's whole history, each resource validated: more than the client's default 10 s
		fhirContext.getRestfulClientFactory().setSocketTimeout(300_000);
		CohortLoader loader = CohortLoader.http(client());

		int stored = loader.load(people);
		assertThat(stored).isEqualTo(people.stream().mapToInt(CohortGenerator.PatientHistory::resourceCount).sum());

		for (CohortGenerator.PatientHistory person : people) {
			Bundle found = client().search().forResource(Patient.class)
					.where(Patient.IDENTIFIER.exactly().systemAndIdentifier(CohortGenerator.MRN_SYSTEM, person.mrn()))
					.returnBundle(Bundle.class).execute();
			assertThat(found.getEntry()).hasSize(1);
			String patient = found.getEntryFirstRep().getResource().getIdElement().toUnqualifiedVersionless().getValue();
			// the server labelled the episodes it validated, and $extract stored risk and protective factors
			Bundle episodes = client().search().byUrl("Observation?subject=" + patient + "&code=" + NssiCanonicals.CONCEPTS_SYSTEM
					+ "|nssi-episode&_count=1").returnBundle(Bundle.class).execute();
			assertThat(((Observation) episodes.getEntryFirstRep().getResource()).getMeta().getSecurity())
					.anySatisfy(c -> assertThat(c.getCode()).isEqualTo("BH"));
			Bundle factors = client().search().byUrl("Observation?subject=" + patient + "&code=" + NssiCanonicals.CONCEPTS_SYSTEM
					+ "|risk-factor," + NssiCanonicals.CONCEPTS_SYSTEM + "|protective-factor&_summary=count").returnBundle(Bundle.class).execute();
			assertThat(factors.getTotal()).isGreaterThan(0);
			// a treated person has their plan (through $apply) with the sessions and diary cards the generator chose
			Bundle plans = client().search().byUrl("CarePlan?subject=" + patient + "&category=" + NssiCanonicals.CONCEPTS_SYSTEM
					+ "|dbt-plan," + NssiCanonicals.CONCEPTS_SYSTEM + "|cbt-plan").returnBundle(Bundle.class).execute();
			if (person.treatment() == null) {
				assertThat(plans.getEntry()).as("stable or in remission: no plan").isEmpty();
				continue;
			}
			assertThat(plans.getEntry()).hasSize(1);
			org.hl7.fhir.r4.model.CarePlan plan = (org.hl7.fhir.r4.model.CarePlan) plans.getEntryFirstRep().getResource();
			assertThat(plan.getInstantiatesCanonical().get(0).getValue()).contains("/PlanDefinition/" + person.treatment().planDefinition() + "|");
			assertThat(plan.getMeta().getVersionId()).as("revised to the real start").isEqualTo("2");
			org.hl7.fhir.r4.model.Parameters progress = client().operation().onInstance(plan.getIdElement().toUnqualifiedVersionless())
					.named("$nssi-progress").withNoParameters(org.hl7.fhir.r4.model.Parameters.class).useHttpGet().execute();
			assertThat(((org.hl7.fhir.r4.model.IntegerType) progress.getParameter("sessionsDelivered").getValue()).getValue())
					.isEqualTo(person.treatment().sessions());
			assertThat(((org.hl7.fhir.r4.model.IntegerType) progress.getParameter("daysInPlan").getValue()).getValue())
					.isEqualTo(person.treatment().weeksAgo() * 7 + 1);
		}

		assertThat(loader.load(people)).isZero();
	}
}
