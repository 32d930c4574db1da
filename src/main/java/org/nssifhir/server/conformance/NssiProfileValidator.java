package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.IInstanceValidatorModule;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.ValidationOptions;
import ca.uhn.fhir.validation.ValidationResult;
import java.util.Collection;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Service;

/**
 * Validates resources against our installed profiles with HAPI's instance validator (the same module that serves
 * {@code $validate}, backed by the database's StructureDefinitions, ValueSets and CodeSystems).
 */
@Service
public class NssiProfileValidator {

	private static final Logger log = LoggerFactory.getLogger(NssiProfileValidator.class);

	private final FhirContext fhirContext;
	private final FhirValidator validator;

	public NssiProfileValidator(FhirContext fhirContext, @Qualifier("myInstanceValidator") IInstanceValidatorModule instanceValidator) {
		this.fhirContext = fhirContext;
		this.validator = fhirContext.newValidator().registerValidatorModule(instanceValidator);
	}

	public ValidationResult validate(IBaseResource resource) {
		return validator.validateWithResult(resource);
	}

	/** Validates against the given profiles (canonical URLs) as well as any the resource declares. */
	public ValidationResult validate(IBaseResource resource, Collection<String> profileUrls) {
		ValidationOptions options = new ValidationOptions();
		profileUrls.forEach(options::addProfile);
		return validator.validateWithResult(resource, options);
	}

	/**
	 * What a {@code VALIDATION_COMPLETED} hook validated: the parsed resource HAPI gives, else its raw body parsed;
	 * empty when the body does not parse (the validator has already said why).
	 */
	public static Optional<IBaseResource> validatedResource(FhirContext fhirContext, IBaseResource resource, String rawResource) {
		if (resource != null || rawResource == null) {
			return Optional.ofNullable(resource);
		}
		try {
			return Optional.of(EncodingEnum.detectEncodingNoDefault(rawResource).newParser(fhirContext).parseResource(rawResource));
		} catch (RuntimeException e) {
			return Optional.empty();
		}
	}

	public static boolean hasErrors(ValidationResult result) {
		return result.getMessages().stream().anyMatch(m -> m.getSeverity().ordinal() >= ResultSeverityEnum.ERROR.ordinal());
	}

	/**
	 * Validates each example once so the validator has built its snapshots, expansions and caches before the first
	 * real request. An example with errors is logged (by file count only) and does not stop startup: the fast
	 * conformance tests are where examples are held to zero errors.
	 */
	void warmUp(Collection<String> examples) {
		long start = System.nanoTime();
		int failing = 0;
		for (String json : examples) {
			if (hasErrors(validate(fhirContext.newJsonParser().parseResource(json)))) {
				failing++;
			}
		}
		log.info("Validator warmed up on {} examples in {} ms ({} with errors)", examples.size(), (System.nanoTime() - start) / 1_000_000, failing);
	}
}
