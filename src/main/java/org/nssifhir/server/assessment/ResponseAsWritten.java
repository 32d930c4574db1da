package org.nssifhir.server.assessment;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Questionnaire;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.nssifhir.server.conformance.ConformancePackage;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.conformance.NssiProfileValidator;
import org.nssifhir.server.conformance.NssiResourceClassifier;
import org.nssifhir.server.support.ErrorCode;

/**
 * Responses to our Questionnaires are stored, and {@code $validate}d, as a write stores them (issue 19 review, item 6).
 *
 * <p><b>Item text.</b> A response item's {@code text} is only a copy of the question it answers; the linkId is what
 * identifies the question. When we reword a question (same meaning, clearer words, same linkId) a client that still
 * sends the old wording was refused with 422 (the validator requires the text to match the Questionnaire). Choice:
 * the server stores the Questionnaire's <em>current</em> text in place of a different one, before validation. Why
 * not keep the client's old text: a reader of the record (the clinician app shows each item's text beside the
 * answer) would then see two wordings for one question, and the validator, every later {@code $validate} of the
 * record and other servers loading our package would keep flagging it; the answer's meaning comes from the linkId,
 * which is unchanged, and the Questionnaire's history (package versions, SOURCES) records what an older form said.
 *
 * <p><b>{@code $validate} says what the write would do.</b> A PHQ-9 item 1-9 answered with an integer 0-3 is stored
 * as its LOINC answer ({@link Phq9TotalRule}), and a reworded item's old text as the current one, so {@code $validate}
 * validates the response as it would be stored and tells the client, per item, what it should send instead (a
 * warning, since the write accepts it): HAPI's own answer to the integers was a 422 naming no item and no fix, for a response
 * the write accepts.
 */
@Interceptor
public class ResponseAsWritten {

	/** After HAPI's validation and the hooks that add to it (NssiWriteInterceptor, Phq9TotalRule): this one replaces it. */
	static final int AFTER_OTHER_VALIDATION_HOOKS = 1000;

	private final FhirContext fhirContext;
	private final NssiProfileValidator validator;
	/** Questionnaire canonical (no version) → linkId → current item text, for our Questionnaires. */
	private final Map<String, Map<String, String>> texts;

	public ResponseAsWritten(FhirContext fhirContext, NssiProfileValidator validator, ConformancePackage conformancePackage) {
		this.fhirContext = fhirContext;
		this.validator = validator;
		this.texts = itemTexts(fhirContext, conformancePackage);
	}

	private static Map<String, Map<String, String>> itemTexts(FhirContext fhirContext, ConformancePackage pkg) {
		Map<String, Map<String, String>> out = new HashMap<>();
		pkg.conformanceFiles().forEach((path, json) -> {
			if (path.contains("Questionnaire-") && !path.contains("QuestionnaireResponse-")) {
				Questionnaire q = fhirContext.newJsonParser().parseResource(Questionnaire.class, json);
				Map<String, String> byLinkId = new HashMap<>();
				collect(q.getItem(), byLinkId);
				out.put(q.getUrl(), byLinkId);
			}
		});
		return out;
	}

	private static void collect(List<Questionnaire.QuestionnaireItemComponent> items, Map<String, String> out) {
		for (Questionnaire.QuestionnaireItemComponent item : items) {
			if (item.hasText()) {
				out.put(item.getLinkId(), item.getText());
			}
			collect(item.getItem(), out);
		}
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED, order = Phq9TotalRule.BEFORE_VALIDATION)
	public void created(IBaseResource resource) {
		currentTexts(resource, new ArrayList<>());
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED, order = Phq9TotalRule.BEFORE_VALIDATION)
	public void updated(IBaseResource previous, IBaseResource resource) {
		currentTexts(resource, new ArrayList<>());
	}

	/** Puts the Questionnaire's current text on every item whose text differs; notes each one changed. */
	void currentTexts(IBaseResource resource, List<SingleValidationMessage> notes) {
		if (!(resource instanceof QuestionnaireResponse qr) || qr.getQuestionnaire() == null) {
			return;
		}
		Map<String, String> current = texts.get(versionless(qr.getQuestionnaire()));
		if (current != null) {
			currentTexts(qr.getItem(), "QuestionnaireResponse", current, notes);
		}
	}

	private static void currentTexts(List<QuestionnaireResponse.QuestionnaireResponseItemComponent> items, String path,
			Map<String, String> current, List<SingleValidationMessage> notes) {
		for (int i = 0; i < items.size(); i++) {
			QuestionnaireResponse.QuestionnaireResponseItemComponent item = items.get(i);
			String at = path + ".item[" + i + "]";
			String text = current.get(item.getLinkId());
			if (item.hasText() && text != null && !text.equals(item.getText())) {
				item.setText(text);
				notes.add(message(ResultSeverityEnum.INFORMATION, at + ".text", "Item " + item.getLinkId()
						+ ": the text differs from the Questionnaire's current wording; the linkId identifies the question, and a write stores the current wording"));
			}
			currentTexts(item.getItem(), at, current, notes);
			for (int a = 0; a < item.getAnswer().size(); a++) {
				currentTexts(item.getAnswer().get(a).getItem(), at + ".answer[" + a + "]", current, notes);
			}
		}
	}

	private static final String NOTES = ResponseAsWritten.class.getName() + ".notes";

	/**
	 * {@code $validate} of a response to our Questionnaires (as the body, or the {@code resource} parameter of a
	 * Parameters body): the body is replaced, before HAPI reads it, by the response as a write would store it, and the
	 * notes saying what changed are added to the answer ({@link #annotate}). Converting first is needed: HAPI's
	 * validator does not report integer answers to our coded PHQ-9 items, it fails outright ("Expected answer and
	 * actual answer have incompatible types", a 422 naming neither the item nor the fix).
	 */
	public boolean convertValidateBody(RequestDetails request) {
		// HAPI types $validate as an extended operation here (VALIDATE only in some versions): the name decides
		boolean validate = request.getRestOperationType() == RestOperationTypeEnum.VALIDATE || "$validate".equals(request.getOperation());
		if (!validate || !"QuestionnaireResponse".equals(request.getResourceName())) {
			return true;
		}
		byte[] body = request.loadRequestContents();
		if (body == null || body.length == 0) {
			return true;
		}
		String raw = new String(body, StandardCharsets.UTF_8);
		IParser parser;
		IBaseResource parsed;
		try {
			EncodingEnum encoding = EncodingEnum.detectEncodingNoDefault(raw);
			if (encoding == null) {
				return true;
			}
			parser = encoding.newParser(fhirContext);
			parsed = parser.parseResource(raw);
		} catch (RuntimeException e) {
			return true; // HAPI answers a body it cannot parse
		}
		QuestionnaireResponse qr = parsed instanceof QuestionnaireResponse r ? r
				: parsed instanceof Parameters p && p.getParameter("resource") != null && p.getParameter("resource").getResource() instanceof QuestionnaireResponse inner ? inner
				: null;
		if (qr == null || !AssessmentExtractor.supports(qr)) {
			return true;
		}
		List<SingleValidationMessage> notes = asWritten(qr);
		if (!notes.isEmpty()) {
			// both the body (the raw resource HAPI's validator reads) and the parsed resource (HAPI takes one already
			// parsed rather than parsing the body again)
			request.setRequestContents(parser.encodeResourceToString(parsed).getBytes(StandardCharsets.UTF_8));
			request.setResource(parsed);
			request.getUserData().put(NOTES, notes);
		}
		return true;
	}

	/** The notes of {@link #convertValidateBody}, added to the OperationOutcome {@code $validate} answers with. */
	public boolean annotate(RequestDetails request, ResponseDetails response) {
		if (request.getUserData().get(NOTES) instanceof List<?> notes && response.getResponseResource() instanceof OperationOutcome outcome) {
			// HAPI's "all OK" information issue says nothing once there are notes
			outcome.getIssue().removeIf(i -> i.getSeverity() == OperationOutcome.IssueSeverity.INFORMATION && "All OK".equals(i.getDiagnostics()));
			List<OperationOutcome.OperationOutcomeIssueComponent> added = new ArrayList<>();
			for (Object o : notes) {
				SingleValidationMessage note = (SingleValidationMessage) o;
				OperationOutcome.OperationOutcomeIssueComponent issue = new OperationOutcome.OperationOutcomeIssueComponent()
						.setSeverity(note.getSeverity() == ResultSeverityEnum.WARNING ? OperationOutcome.IssueSeverity.WARNING : OperationOutcome.IssueSeverity.INFORMATION)
						.setCode(OperationOutcome.IssueType.INFORMATIONAL)
						.setDiagnostics(note.getMessage());
				issue.addExpression(note.getLocationString());
				added.add(issue);
			}
			outcome.getIssue().addAll(0, added);
		}
		return true;
	}

	/**
	 * The REST-server half: registered with the FHIR endpoint (server pointcuts reach only interceptors registered
	 * there; the storage and validation hooks above are on HAPI's global interceptor service).
	 */
	@Interceptor
	public static final class ValidateBody {
		private final ResponseAsWritten rule;

		public ValidateBody(ResponseAsWritten rule) {
			this.rule = rule;
		}

		@Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
		public boolean convert(RequestDetails request) {
			return rule.convertValidateBody(request);
		}

		@Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
		public boolean annotate(RequestDetails request, ResponseDetails response) {
			return rule.annotate(request, response);
		}
	}

	/** Changes the response as a write would (PHQ-9 integers to LOINC answers, current item texts); a note per change. */
	List<SingleValidationMessage> asWritten(QuestionnaireResponse qr) {
		List<SingleValidationMessage> notes = new ArrayList<>();
		if (AssessmentExtractor.isPhq9(qr)) {
			integerAnswers(qr.getItem(), "QuestionnaireResponse", notes);
			Phq9TotalRule.codeIntegerAnswers(qr);
		}
		currentTexts(qr, notes);
		return notes;
	}

	/**
	 * {@code $validate} of a response to our Questionnaires the body conversion did not reach (validated by id): when
	 * the write would change it, the result is that of the response as it would be stored, with a note per change.
	 */
	@Hook(value = Pointcut.VALIDATION_COMPLETED, order = AFTER_OTHER_VALIDATION_HOOKS)
	public void validated(IBaseResource resource, String rawResource, ValidationResult result) {
		IBaseResource subject = NssiProfileValidator.validatedResource(fhirContext, resource, rawResource).orElse(null);
		if (!(subject instanceof QuestionnaireResponse original) || !AssessmentExtractor.supports(original)) {
			return;
		}
		QuestionnaireResponse asWritten = original.copy();
		List<SingleValidationMessage> notes = asWritten(asWritten);
		if (notes.isEmpty()) {
			return; // stored as sent: HAPI's result stands
		}
		Set<String> profiles = NssiResourceClassifier.profilesToEnforce(asWritten);
		ValidationResult stored = validator.validate(asWritten, profiles.stream().map(NssiCanonicals::profile).toList());
		List<SingleValidationMessage> messages = new ArrayList<>(notes);
		messages.addAll(stored.getMessages());
		AssessmentExtractor.phq9TotalContradiction(asWritten).ifPresent(problem ->
				messages.add(message(ResultSeverityEnum.ERROR, "QuestionnaireResponse", ErrorCode.PHQ9_TOTAL_CONTRADICTS_ITEMS.message(problem))));
		result.setMessages(messages);
	}

	private static void integerAnswers(List<QuestionnaireResponse.QuestionnaireResponseItemComponent> items, String path,
			List<SingleValidationMessage> notes) {
		for (int i = 0; i < items.size(); i++) {
			QuestionnaireResponse.QuestionnaireResponseItemComponent item = items.get(i);
			String at = path + ".item[" + i + "]";
			if (item.getLinkId() != null && item.getLinkId().matches("phq9-item-[1-9]")) {
				for (int a = 0; a < item.getAnswer().size(); a++) {
					if (item.getAnswer().get(a).getValue() instanceof IntegerType n && n.getValue() != null && n.getValue() >= 0 && n.getValue() <= 3) {
						Coding loinc = Phq9TotalRule.answerCoding(n.getValue());
						notes.add(message(ResultSeverityEnum.WARNING, at + ".answer[" + a + "]", "PHQ-9 item " + item.getLinkId()
								+ " is answered with the integer " + n.getValue() + ": send the LOINC answer code " + loinc.getCode() + " ("
								+ loinc.getDisplay() + ", answer list LL358-3) as valueCoding; a write stores the integer as that answer, with the same score"));
					}
				}
			}
			integerAnswers(item.getItem(), at, notes);
			for (int a = 0; a < item.getAnswer().size(); a++) {
				integerAnswers(item.getAnswer().get(a).getItem(), at + ".answer[" + a + "]", notes);
			}
		}
	}

	private static SingleValidationMessage message(ResultSeverityEnum severity, String location, String text) {
		SingleValidationMessage m = new SingleValidationMessage();
		m.setSeverity(severity);
		m.setLocationString(location);
		m.setMessage(text);
		return m;
	}

	private static String versionless(String canonical) {
		int bar = canonical.indexOf('|');
		return bar < 0 ? canonical : canonical.substring(0, bar);
	}
}
