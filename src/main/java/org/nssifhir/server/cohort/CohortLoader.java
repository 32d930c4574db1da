package org.nssifhir.server.cohort;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;

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

	/** Loads every person not yet present; returns the number of resources stored by the transactions. */
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
