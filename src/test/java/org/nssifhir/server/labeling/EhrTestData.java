package org.nssifhir.server.labeling;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.gclient.ReferenceClientParam;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.TestTokens;

/** What the EHR-style labelling tests share: code systems as EHRs send them, HTEST tagging, transaction entries. */
final class EhrTestData {

	static final String ICD = "http://hl7.org/fhir/sid/icd-10-cm";
	static final String ICD_OID = "urn:oid:2.16.840.1.113883.6.90";
	static final String SNOMED = "http://snomed.info/sct";
	static final String LOINC = "http://loinc.org";
	static final String LOINC_OID = "urn:oid:2.16.840.1.113883.6.1";
	static final String HTEST = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
	static final String MRN = "urn:example:ehr-mrn";

	private EhrTestData() {}

	/** Synthetic data is tagged as test data (HTEST), as everything the tests store. */
	static <T extends Resource> T tagged(T r) {
		r.getMeta().addSecurity(HTEST, "HTEST", null);
		return r;
	}

	static String uuid() {
		return "urn:uuid:" + UUID.randomUUID();
	}

	static Bundle.BundleEntryComponent post(Bundle bundle, String fullUrl, Resource resource) {
		Bundle.BundleEntryComponent entry = bundle.addEntry().setFullUrl(fullUrl).setResource(resource);
		entry.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl(resource.fhirType());
		return entry;
	}

	/**
	 * The alerts' own Tasks: for a minor, an alert also opens (or adds a note to) a safeguarding review Task (issue 19,
	 * item 8), which is counted apart.
	 */
	static List<Task> alertTasks(List<Task> tasks) {
		return tasks.stream().filter(t -> t.getCode().getCoding().stream()
				.noneMatch(c -> NssiCanonicals.CONCEPTS_SYSTEM.equals(c.getSystem()) && "safeguarding-review".equals(c.getCode())))
				.toList();
	}

	/** A resource's security labels as system|code. */
	static List<String> security(Resource r) {
		return r.getMeta().getSecurity().stream().map(c -> c.getSystem() + "|" + c.getCode()).toList();
	}

	/** A clinician with a valid user token who has no care relationship with anyone: every restricted read must fail. */
	static String unrelatedClinicianToken(IGenericClient admin, TestTokens tokens, String fhirBase) {
		Practitioner p = tagged(new Practitioner());
		p.addName().setFamily("Unrelated");
		String id = admin.create().resource(p).execute().getId().getIdPart();
		return tokens.token().scopes("user/*.rs").claim("fhirUser", fhirBase + "/Practitioner/" + id).sign();
	}

	/** Every resource of a type for one patient (first page; the tests store a handful). */
	static <T extends Resource> List<T> forPatient(IGenericClient client, Class<T> type, String patientId) {
		return client.search().forResource(type).where(new ReferenceClientParam("patient").hasId(patientId))
				.returnBundle(Bundle.class).execute().getEntry().stream().map(e -> type.cast(e.getResource())).toList();
	}
}
