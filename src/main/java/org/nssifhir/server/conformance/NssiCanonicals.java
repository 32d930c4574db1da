package org.nssifhir.server.conformance;

/** Every canonical URL this project owns starts here; one constant so nothing drifts. */
public final class NssiCanonicals {

	public static final String BASE = "https://nssi-fhir.org/fhir";
	public static final String PACKAGE_ID = "org.nssi-fhir.ig";
	public static final String CONCEPTS_SYSTEM = BASE + "/CodeSystem/nssi-concepts-cs";
	public static final String STRUCTURE_DEFINITION = BASE + "/StructureDefinition/";
	public static final String QUESTIONNAIRE = BASE + "/Questionnaire/";

	/** Test-data tag every synthetic example carries. */
	public static final String ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

	/**
	 * Tag of resources the server made for itself and keeps (the built-in clinical triage queue): no client may
	 * create, change or delete a resource carrying it.
	 */
	public static final String SYSTEM_MADE_TAG_SYSTEM = "urn:nssi-fhir:system-made";

	/** Identifier system of the built-in clinical triage queue, which the server finds by it. */
	public static final String TRIAGE_QUEUE_IDENTIFIER_SYSTEM = BASE + "/triage-queue";

	public static final String SNOMED = "http://snomed.info/sct";
	public static final String LOINC = "http://loinc.org";
	public static final String ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm";

	private NssiCanonicals() {}

	public static String profile(String id) {
		return STRUCTURE_DEFINITION + id;
	}

	public static boolean isOurs(String canonical) {
		return canonical != null && canonical.startsWith(BASE + "/");
	}
}
