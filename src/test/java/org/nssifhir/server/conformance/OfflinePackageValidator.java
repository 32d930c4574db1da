package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Questionnaire;
import org.hl7.fhir.utilities.npm.NpmPackage;

/**
 * A plain HAPI validator that knows only FHIR R4 core and one FHIR package (given as .tgz bytes): no server,
 * no database, no network. This is what another server gets when it loads our package.
 */
public final class OfflinePackageValidator {

	private final FhirContext context;
	private final FhirValidator validator;

	public OfflinePackageValidator(FhirContext context, byte[] packageTgz) {
		this.context = context;
		// what NpmPackageValidationSupport does for a classpath package, for a package given as bytes
		PrePopulatedValidationSupport npm = new PrePopulatedValidationSupport(context);
		Map<String, IBaseResource> questionnaires = new HashMap<>();
		try {
			NpmPackage pkg = NpmPackage.fromPackage(new ByteArrayInputStream(packageTgz));
			for (String file : pkg.list("package")) {
				if (file.endsWith(".json") && !file.equals("package.json") && !file.startsWith(".")) {
					try (var in = pkg.load("package", file)) {
						IBaseResource resource = context.newJsonParser().parseResource(in);
						npm.addResource(resource);
						if (resource instanceof Questionnaire q) {
							questionnaires.put(q.getUrl(), q);
						}
					}
				}
			}
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
		// PrePopulatedValidationSupport keeps only StructureDefinitions, CodeSystems, ValueSets and SearchParameters;
		// the Questionnaires let the validator check each QuestionnaireResponse against its form.
		IValidationSupport questionnaireSupport = new IValidationSupport() {
			@Override
			public FhirContext getFhirContext() {
				return context;
			}

			@Override
			@SuppressWarnings("unchecked")
			public <T extends IBaseResource> T fetchResource(Class<T> type, String uri) {
				if (type != null && !type.isAssignableFrom(Questionnaire.class)) {
					return null;
				}
				String url = uri == null ? null : uri.replaceFirst("\\|.*$", "");
				return (T) questionnaires.get(url);
			}
		};
		ValidationSupportChain chain = new ValidationSupportChain(
				npm,
				questionnaireSupport,
				new DefaultProfileValidationSupport(context),
				new CommonCodeSystemsTerminologyService(context),
				new InMemoryTerminologyServerValidationSupport(context),
				new SnapshotGeneratingValidationSupport(context));
		FhirInstanceValidator module = new FhirInstanceValidator(chain);
		// No terminology server here: codes from SNOMED CT/LOINC/ICD-10-CM are checked against our enumerated
		// ValueSets only; an unknown external code system is a warning, not an error.
		module.setNoTerminologyChecks(false);
		validator = context.newValidator().registerValidatorModule(module);
	}

	/**
	 * The one known divergence from R4 core. Our PlanDefinitions name their CQL conditions with the expression
	 * language {@code text/cql-identifier}, as the CPG IG (which $apply follows) and the clinical-reasoning library
	 * do; R5 added that code to the expression-language CodeSystem, R4's lacks it (its binding is extensible).
	 */
	static final String CQL_IDENTIFIER_NOT_IN_R4 = "Unknown code 'http://hl7.org/fhir/expression-language#text/cql-identifier'";

	public List<SingleValidationMessage> errors(String resourceJson) {
		ValidationResult result = validator.validateWithResult(resourceJson);
		return result.getMessages().stream()
				.filter(m -> m.getSeverity().ordinal() >= ResultSeverityEnum.ERROR.ordinal())
				.filter(m -> !m.getMessage().startsWith(CQL_IDENTIFIER_NOT_IN_R4))
				.toList();
	}

	FhirContext context() {
		return context;
	}
}
