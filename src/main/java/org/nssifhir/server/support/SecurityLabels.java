package org.nssifhir.server.support;

import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseCoding;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Meta;

/**
 * The security-label vocabulary of the server: which labels exist (HL7 v3 Confidentiality and ActCode), which of
 * them restrict who may see a resource, and how they are added. Labelling, consent, escalation and the adolescent
 * labeler all speak through this class so that one word means one thing everywhere.
 */
public final class SecurityLabels {

	public static final String CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
	public static final String ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
	public static final String RESTRICTED = "R";
	public static final String VERY_RESTRICTED = "V";
	public static final String BEHAVIORAL_HEALTH = "BH";
	public static final String ADOLESCENT = "ADOL";

	private SecurityLabels() {}

	/**
	 * Confidentiality R ("restricted", which covers mental health) unless the client chose a confidentiality,
	 * and the behavioural-health sensitivity BH unless present (clinical-content.md §5).
	 */
	public static void labelRestricted(Meta meta) {
		boolean hasConfidentiality = meta.getSecurity().stream().anyMatch(c -> CONFIDENTIALITY_SYSTEM.equals(c.getSystem()));
		if (!hasConfidentiality) {
			meta.addSecurity(new Coding(CONFIDENTIALITY_SYSTEM, RESTRICTED, "restricted"));
		}
		if (!has(meta, ACT_CODE_SYSTEM, BEHAVIORAL_HEALTH)) {
			meta.addSecurity(new Coding(ACT_CODE_SYSTEM, BEHAVIORAL_HEALTH, "behavioral health information sensitivity"));
		}
	}

	public static void labelAdolescent(Meta meta) {
		if (!has(meta, ACT_CODE_SYSTEM, ADOLESCENT)) {
			meta.addSecurity(new Coding(ACT_CODE_SYSTEM, ADOLESCENT, "adolescent information sensitivity"));
		}
	}

	public static boolean has(Meta meta, String system, String code) {
		return meta.getSecurity().stream().anyMatch(c -> system.equals(c.getSystem()) && code.equals(c.getCode()));
	}

	/** The labels that restrict who may see a resource: confidentiality R or V, and ADOL. */
	public static Set<String> gating(IBaseResource resource) {
		Set<String> gating = new TreeSet<>();
		for (IBaseCoding label : resource.getMeta().getSecurity()) {
			if (CONFIDENTIALITY_SYSTEM.equals(label.getSystem())
					&& (RESTRICTED.equals(label.getCode()) || VERY_RESTRICTED.equals(label.getCode()))) {
				gating.add(label.getCode());
			} else if (ACT_CODE_SYSTEM.equals(label.getSystem()) && ADOLESCENT.equals(label.getCode())) {
				gating.add(ADOLESCENT);
			}
		}
		return gating;
	}
}
