package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.ConceptValidationOptions;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.context.support.ValidationSupportContext;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeSystem;

/**
 * Answers "is this code in the code system?" for the complete CodeSystems of our own package, first in HAPI's JPA
 * validation support chain, so that a code of ours that does not exist (a typo) is an error wherever it appears.
 *
 * <p>Why: in the JPA chain our stored ValueSets and CodeSystems are answered by HAPI's database terminology service,
 * whose "Code is not found in CodeSystem" result carries no issue type; the instance validator then reports it as
 * the binding's own problem, and under an {@code extensible} binding (episode method and function, goal
 * description, plan activity: EHRs send SNOMED CT there) that is only a warning, so the typo was stored. The same
 * resource validated offline (plain HAPI with our package, see the conformance tests) got "Unknown code", an
 * error, because the in-memory terminology service marks the issue as an invalid code. This support gives the
 * server the offline answer: an unknown code of ours is an error issue of type invalid-code; for a known code it
 * says nothing (returns null) and the rest of the chain judges value set membership as before.
 */
final class OwnCodeSystemsValidationSupport implements IValidationSupport {

	private final FhirContext fhirContext;

	/** Code system URL to all its codes (nested concepts included). */
	private final Map<String, Set<String>> codes;

	private final String valueSetBase;

	OwnCodeSystemsValidationSupport(FhirContext fhirContext, ConformancePackage conformancePackage) {
		this.fhirContext = fhirContext;
		this.valueSetBase = NssiCanonicals.BASE + "/ValueSet/";
		Map<String, Set<String>> found = new HashMap<>();
		for (String json : conformancePackage.conformanceFiles().values()) {
			if (!json.contains("\"CodeSystem\"")) {
				continue;
			}
			IBaseResource parsed = fhirContext.newJsonParser().parseResource(json);
			if (parsed instanceof CodeSystem cs && cs.getContent() == CodeSystem.CodeSystemContentMode.COMPLETE && cs.hasUrl()) {
				Set<String> all = new HashSet<>();
				collect(cs.getConcept(), all);
				found.put(cs.getUrl(), Set.copyOf(all));
			}
		}
		this.codes = Map.copyOf(found);
	}

	private static void collect(List<CodeSystem.ConceptDefinitionComponent> concepts, Set<String> into) {
		for (CodeSystem.ConceptDefinitionComponent concept : concepts) {
			into.add(concept.getCode());
			collect(concept.getConcept(), into);
		}
	}

	Set<String> systems() {
		return codes.keySet();
	}

	@Override
	public FhirContext getFhirContext() {
		return fhirContext;
	}

	@Override
	public String getName() {
		return "NSSI own CodeSystems (unknown codes)";
	}

	@Override
	public boolean isCodeSystemSupported(ValidationSupportContext context, String system) {
		return system != null && codes.containsKey(system);
	}

	@Override
	public boolean isValueSetSupported(ValidationSupportContext context, String valueSetUrl) {
		return valueSetUrl != null && valueSetUrl.startsWith(valueSetBase);
	}

	@Override
	public CodeValidationResult validateCode(ValidationSupportContext context, ConceptValidationOptions options, String system,
			String code, String display, String valueSetUrl) {
		return unknown(system, code, valueSetUrl);
	}

	@Override
	public CodeValidationResult validateCodeInValueSet(ValidationSupportContext context, ConceptValidationOptions options,
			String system, String code, String display, IBaseResource valueSet) {
		return unknown(system, code, valueSet == null ? null : fhirContext.newTerser().getSinglePrimitiveValueOrNull(valueSet, "url"));
	}

	/** An error result when {@code code} is not in our complete CodeSystem {@code system}; otherwise null (not ours to say). */
	CodeValidationResult unknown(String system, String code, String valueSetUrl) {
		Set<String> known = system == null ? null : codes.get(system);
		if (known == null || code == null || known.contains(code)) {
			return null;
		}
		String message = "Unknown code '" + system + "#" + code + "': it is not in our CodeSystem " + system
				+ (valueSetUrl == null ? "" : ", so not in the value set " + valueSetUrl);
		return new CodeValidationResult()
				.setSeverity(IssueSeverity.ERROR)
				.setMessage(message)
				.addIssue(new CodeValidationIssue(message, IssueSeverity.ERROR, CodeValidationIssueCode.CODE_INVALID,
						CodeValidationIssueCoding.INVALID_CODE));
	}
}
