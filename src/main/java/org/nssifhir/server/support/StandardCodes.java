package org.nssifhir.server.support;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Codes as EHRs send them: one spelling for each code system whatever URI the sender used (canonical or OID form)
 * and one spelling for each ICD-10-CM code (with or without the dot, any case). Labelling, escalation and the
 * classifier compare codes only through this class, so a code recognised by one is recognised by all.
 */
public final class StandardCodes {

	public static final String SNOMED = "http://snomed.info/sct";
	public static final String LOINC = "http://loinc.org";
	public static final String ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm";

	/** OID forms of the three systems (HL7 OID registry), as CDA-derived and older interfaces send them. */
	private static final Map<String, String> ALIASES = Map.of(
			"urn:oid:2.16.840.1.113883.6.90", ICD10CM,
			"urn:oid:2.16.840.1.113883.6.96", SNOMED,
			"urn:oid:2.16.840.1.113883.6.1", LOINC,
			"http://hl7.org/fhir/sid/icd-10-cm/", ICD10CM,
			"http://snomed.info/sct/", SNOMED,
			"http://loinc.org/", LOINC);

	/** ICD-10-CM: suicide attempt (T14.91 and its 7th-character descendants) and suicidal ideation. */
	private static final Set<String> ICD_SUICIDALITY_PREFIXES = Set.of("T1491", "R45851");
	/** SNOMED CT suicide attempt and suicidal thoughts (verified: clinical-content.md §1.2). */
	private static final Set<String> SNOMED_SUICIDALITY = Set.of("82313006", "6471006");
	/** ICD-10-CM codes that record the intent of self-harm as non-suicidal: NSSI and its history. */
	private static final Set<String> ICD_NON_SUICIDAL = Set.of("R4588", "Z9152");
	/**
	 * SNOMED CT self-harm concepts whose terms say nothing of intent (clinical-content.md §1.2: Self-injurious
	 * behavior, Self inflicted injury, Intentionally harming self). Alone they record self-harm of unknown intent,
	 * not NSSI: an NSSI diagnosis needs R45.88 / Z91.52 (or our local code) beside them (informaticist review s8, H3).
	 */
	private static final Set<String> SNOMED_INTENT_NEUTRAL_SELF_HARM = Set.of("248062006", "276853009", "418420002");

	private StandardCodes() {}

	/** The canonical URI of the code system, or the system unchanged when it is not one we know an alias of. */
	public static String system(String system) {
		if (system == null) {
			return null;
		}
		String trimmed = system.trim();
		return ALIASES.getOrDefault(trimmed.toLowerCase(Locale.ROOT), trimmed);
	}

	/** Every URI a system is sent as: the canonical one and its known aliases (to match stored index rows). */
	public static List<String> forms(String canonical) {
		List<String> out = new ArrayList<>(List.of(canonical));
		ALIASES.forEach((alias, target) -> {
			if (target.equals(canonical)) {
				out.add(alias);
			}
		});
		return out;
	}

	/** The code in the form we compare: ICD-10-CM without the dot, upper case; others trimmed. */
	public static String code(String system, String code) {
		if (code == null) {
			return null;
		}
		String trimmed = code.trim();
		return ICD10CM.equals(system(system)) ? trimmed.replace(".", "").toUpperCase(Locale.ROOT) : trimmed;
	}

	public static boolean is(String system, String code, String expectedSystem, String expectedCode) {
		return expectedSystem.equals(system(system)) && code(expectedSystem, expectedCode).equals(code(system, code));
	}

	/** ICD-10-CM intentional self-harm, X71–X83 and all their descendants: the intent (suicidal or not) is not recorded. */
	public static boolean isIntentionalSelfHarmExternalCause(String system, String code) {
		if (!ICD10CM.equals(system(system)) || code == null) {
			return false;
		}
		String c = code(system, code);
		if (c.length() < 3 || c.charAt(0) != 'X' || !Character.isDigit(c.charAt(1)) || !Character.isDigit(c.charAt(2))) {
			return false;
		}
		int block = Integer.parseInt(c.substring(1, 3));
		return block >= 71 && block <= 83;
	}

	/** Suicidal ideation or a suicide attempt: ICD-10-CM R45.851, T14.91X-; SNOMED CT 6471006, 82313006. */
	public static boolean isSuicidality(String system, String code) {
		String s = system(system);
		if (code == null) {
			return false;
		}
		if (ICD10CM.equals(s)) {
			String c = code(s, code);
			return ICD_SUICIDALITY_PREFIXES.stream().anyMatch(c::startsWith);
		}
		return SNOMED.equals(s) && SNOMED_SUICIDALITY.contains(code.trim());
	}

	/** A SNOMED CT self-harm concept that records no intent: 248062006, 276853009, 418420002. */
	public static boolean isIntentNeutralSelfHarm(String system, String code) {
		return SNOMED.equals(system(system)) && code != null && SNOMED_INTENT_NEUTRAL_SELF_HARM.contains(code.trim());
	}

	/** A code that records self-harm as non-suicidal (ICD-10-CM R45.88, Z91.52). */
	public static boolean isNonSuicidalSelfHarm(String system, String code) {
		return ICD10CM.equals(system(system)) && code != null && ICD_NON_SUICIDAL.contains(code(system, code));
	}
}
