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
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.ErrorCode;

/**
 * Refuses a stored PHQ-9 response whose total contradicts its items, on every write path (REST, batch, transaction,
 * the server's own): a clinician reading the response would see one score and the extracted Observation another.
 *
 * <p>Since package 0.6.0 items 1-9 are answered with LOINC answers of list LL358-3 ({@link #answerCoding}). Older
 * clients keep working: an integer 0-3 sent to one of those items is stored as the matching LOINC answer, before the
 * write is validated against the Questionnaire (the score is unchanged). Responses stored earlier with integers are
 * left as written (records of what was answered) and are scored the same way.
 */
@Interceptor
public class Phq9TotalRule {

	private static final String[][] ANSWERS = {
		{"LA6568-5", "Not at all"}, {"LA6569-3", "Several days"}, {"LA6570-1", "More than half the days"}, {"LA6571-9", "Nearly every day"}
	};
	private static final String ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
	private static final Pattern ITEM = Pattern.compile("phq9-item-[1-9]");

	/** Before labelling and validation (SecurityLabelingInterceptor and NssiWriteInterceptor run at -100 and 0). */
	static final int BEFORE_VALIDATION = -200;

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED, order = BEFORE_VALIDATION)
	public void codeCreated(IBaseResource resource) {
		codeIntegerAnswers(resource);
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED, order = BEFORE_VALIDATION)
	public void codeUpdated(IBaseResource previous, IBaseResource resource) {
		codeIntegerAnswers(resource);
	}

	/** An integer 0-3 answering PHQ-9 item 1-9 becomes its LL358-3 LOINC answer; anything else is left to validation. */
	static void codeIntegerAnswers(IBaseResource resource) {
		if (resource instanceof QuestionnaireResponse qr && AssessmentExtractor.isPhq9(qr)) {
			codeItems(qr.getItem());
		}
	}

	private static void codeItems(List<QuestionnaireResponse.QuestionnaireResponseItemComponent> items) {
		for (QuestionnaireResponse.QuestionnaireResponseItemComponent item : items) {
			if (item.getLinkId() != null && ITEM.matcher(item.getLinkId()).matches()) {
				for (QuestionnaireResponse.QuestionnaireResponseItemAnswerComponent answer : item.getAnswer()) {
					if (answer.getValue() instanceof IntegerType i && i.getValue() != null && i.getValue() >= 0 && i.getValue() <= 3) {
						answer.setValue(answerCoding(i.getValue()));
					}
				}
			}
			codeItems(item.getItem());
			item.getAnswer().forEach(a -> codeItems(a.getItem()));
		}
	}

	/**
	 * The LL358-3 LOINC answer for a PHQ-9 item score of 0-3, as our Questionnaire offers it: with its score in the
	 * ordinalValue extension, so SDC's ordinal() sums the stored response without a terminology server.
	 */
	public static Coding answerCoding(int score) {
		Coding coding = new Coding(NssiCanonicals.LOINC, ANSWERS[score][0], ANSWERS[score][1]);
		coding.addExtension(ORDINAL_VALUE, new DecimalType(score));
		return coding;
	}

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
