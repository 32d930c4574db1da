package org.nssifhir.server.cohort;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.nssifhir.server.conformance.NssiCanonicals;

/**
 * Loads generated people into a server through its FHIR API, as any client would: one transaction per person,
 * then {@code $extract} of each questionnaire response (which stores the scores and the risk and protective
 * factors). People already present (same synthetic MRN) are skipped, so loading again changes nothing.
 */
public interface CohortLoader {

	/** Whether the person with this synthetic MRN is already stored. */
	boolean exists(String mrn);

	/** Stores the transaction; returns the ids (Type/id) of its entries, in order. */
	List<String> transaction(Bundle transaction);

	void extract(String questionnaireResponseId);

	/** Starts a plan ({@code PlanDefinition/[id]/$apply}, persist=true) and returns the stored CarePlan; empty if this loader cannot. */
	default Optional<CarePlan> startPlan(String planDefinition, String patient) {
		return Optional.empty();
	}

	/** Updates (revises) a resource. */
	default void update(Resource resource) {}

	/** Creates a resource. */
	default void create(Resource resource) {}

	/**
	 * Loads every person not yet present, and starts their treatment plan if they have one; returns the number of
	 * resources stored by the transactions (the history itself).
	 */
	default int load(List<CohortGenerator.PatientHistory> people) {
		int stored = 0;
		for (CohortGenerator.PatientHistory person : people) {
			if (exists(person.mrn())) {
				continue;
			}
			List<String> ids = transaction(person.transaction());
			for (int index : person.responsesToExtract()) {
				extract(ids.get(index));
			}
			stored += ids.size();
			if (person.treatment() != null) {
				treat(ids.get(0), person.treatment());
			}
		}
		return stored;
	}

	/**
	 * Starts the person's plan, moves its start back to when treatment began (a revision: the first version stays in
	 * the history), and records the weekly sessions delivered since (Procedures basedOn the plan's first ordered
	 * component) and the last 14 days of diary cards. Returns the number of sessions and diary cards stored.
	 */
	default int treat(String patient, CohortGenerator.Treatment treatment) {
		Optional<CarePlan> started = startPlan(treatment.planDefinition(), patient);
		if (started.isEmpty()) {
			return 0;
		}
		CarePlan plan = started.get();
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		LocalDate start = today.minusWeeks(treatment.weeksAgo());
		plan.getPeriod().setStartElement(new DateTimeType(start.toString()));
		update(plan);
		int stored = 0;
		// sessions are delivered against the plan's weekly session order (DBT individual therapy; the weekly CBT session, in
		// which the CBT components are worked on), not against whichever order comes first (DBT now opens with commitment)
		boolean dbt = treatment.planDefinition().equals("nssi-dbt");
		String component = dbt ? "dbt-individual-therapy" : "cbt-session";
		String weekly = dbt ? "DBT individual therapy" : "Weekly CBT session";
		CarePlan.CarePlanActivityComponent first = plan.getActivity().stream().filter(CarePlan.CarePlanActivityComponent::hasReference)
				.filter(a -> weekly.equals(a.getReference().getDisplay())).findFirst()
				.orElseGet(() -> plan.getActivity().stream().filter(CarePlan.CarePlanActivityComponent::hasReference).findFirst().orElseThrow());
		String display = first.getReference().getDisplay();
		for (int w = 0; w < treatment.sessions(); w++) {
			Procedure session = new Procedure();
			session.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
			session.addBasedOn(new Reference(first.getReference().getReference()));
			session.setStatus(Procedure.ProcedureStatus.COMPLETED);
			session.getCode().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, component, display));
			session.setSubject(new Reference(patient));
			session.setPerformed(new DateTimeType(start.plusWeeks(w).plusDays(1).toString()));
			create(session);
			stored++;
		}
		for (int d = 0; d < treatment.urges().length; d++) {
			Observation card = new Observation();
			card.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
			card.setStatus(Observation.ObservationStatus.FINAL);
			card.addCategory().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "nssi", null));
			card.getCode().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "diary-card", "Diary card entry"));
			card.setSubject(new Reference(patient));
			card.setEffective(new DateTimeType(today.minusDays(treatment.urges().length - 1L - d).toString()));
			card.addComponent().setValue(new IntegerType(treatment.urges()[d])).getCode().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "urge-intensity", null));
			card.addComponent().setValue(new IntegerType(treatment.skills()[d])).getCode().addCoding(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, "skills-used", null));
			create(card);
			stored++;
		}
		return stored;
	}

	/** Over HTTP with a HAPI client (which carries the token). */
	static CohortLoader http(IGenericClient client) {
		return new CohortLoader() {
			@Override
			public boolean exists(String mrn) {
				return !client.search().forResource(Patient.class)
						.where(Patient.IDENTIFIER.exactly().systemAndIdentifier(CohortGenerator.MRN_SYSTEM, mrn))
						.returnBundle(Bundle.class).execute().getEntry().isEmpty();
			}

			@Override
			public List<String> transaction(Bundle transaction) {
				Bundle response = client.transaction().withBundle(transaction).execute();
				return locations(response);
			}

			@Override
			public void extract(String questionnaireResponseId) {
				client.operation().onInstance(new IdType(questionnaireResponseId)).named("$extract")
						.withNoParameters(Parameters.class).returnResourceType(Bundle.class).execute();
			}

			@Override
			public Optional<CarePlan> startPlan(String planDefinition, String patient) {
				Parameters in = new Parameters();
				in.addParameter("subject", new StringType(patient));
				in.addParameter("persist", new BooleanType(true));
				return Optional.of(client.operation().onInstance("PlanDefinition/" + planDefinition).named("$apply")
						.withParameters(in).returnResourceType(CarePlan.class).execute());
			}

			@Override
			public void update(Resource resource) {
				client.update().resource(resource).execute();
			}

			@Override
			public void create(Resource resource) {
				client.create().resource(resource).execute();
			}
		};
	}

	static List<String> locations(Bundle response) {
		List<String> ids = new ArrayList<>();
		for (Bundle.BundleEntryComponent entry : response.getEntry()) {
			ids.add(new IdType(entry.getResponse().getLocation()).toUnqualifiedVersionless().getValue());
		}
		return ids;
	}
}
