package org.nssifhir.server.assessment;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.nssifhir.server.support.ErrorCode;

/**
 * Refuses a stored PHQ-9 response whose total contradicts its items, on every write path (REST, batch, transaction,
 * the server's own): a clinician reading the response would see one score and the extracted Observation another.
 */
@Interceptor
public class Phq9TotalRule {

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
	public void created(IBaseResource resource) {
		check(resource);
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
	public void updated(IBaseResource previous, IBaseResource resource) {
		check(resource);
	}

	/** {@code $validate} reports it too, so an integrator's pre-flight matches the write (see NssiWriteInterceptor). */
	@Hook(Pointcut.VALIDATION_COMPLETED)
	public void validated(IBaseResource resource, String rawResource, ValidationResult result) {
		IBaseResource subject = resource;
		if (subject == null && rawResource != null) {
			try {
				subject = EncodingEnum.detectEncodingNoDefault(rawResource).newParser(FhirContext.forR4Cached()).parseResource(rawResource);
			} catch (RuntimeException e) {
				return; // the validator has already reported why it does not parse
			}
		}
		if (subject instanceof QuestionnaireResponse qr) {
			AssessmentExtractor.phq9TotalContradiction(qr).ifPresent(problem -> {
				List<SingleValidationMessage> messages = new ArrayList<>(result.getMessages());
				SingleValidationMessage message = new SingleValidationMessage();
				message.setSeverity(ResultSeverityEnum.ERROR);
				message.setMessage(ErrorCode.PHQ9_TOTAL_CONTRADICTS_ITEMS.message(problem));
				messages.add(message);
				result.setMessages(messages);
			});
		}
	}

	private static void check(IBaseResource resource) {
		if (resource instanceof QuestionnaireResponse qr) {
			AssessmentExtractor.phq9TotalContradiction(qr).ifPresent(problem -> {
				throw new UnprocessableEntityException(ErrorCode.PHQ9_TOTAL_CONTRADICTS_ITEMS.message(problem));
			});
		}
	}
}
