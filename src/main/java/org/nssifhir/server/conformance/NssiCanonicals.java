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
