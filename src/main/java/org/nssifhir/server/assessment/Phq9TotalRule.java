package org.nssifhir.server.assessment;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
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

	private static void check(IBaseResource resource) {
		if (resource instanceof QuestionnaireResponse qr) {
			AssessmentExtractor.phq9TotalContradiction(qr).ifPresent(problem -> {
				throw new UnprocessableEntityException(ErrorCode.PHQ9_TOTAL_CONTRADICTS_ITEMS.message(problem));
			});
		}
	}
}
