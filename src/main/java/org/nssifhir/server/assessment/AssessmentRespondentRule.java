package org.nssifhir.server.assessment;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.ErrorCode;

/**
 * Sets or checks the NSSI assessment's {@code respondent} answer from who wrote the response, on every write path.
 *
 * <p>The clinician sections (context review, risk and protective factors) are enabled when {@code respondent} is
 * unanswered (for responses written before 0.6.0) or is the clinician. A person's app that does not answer it would
 * therefore accept clinician items in a self-completed response (issue 19 review). The author says who filled in the
 * form: a Patient or RelatedPerson is the person, a Practitioner or PractitionerRole the clinician. Without an author
 * the source is read the same way for a missing answer, but a source Patient with {@code respondent-clinician} is
 * accepted: a clinician filling in the form with the person records the person as the source of the answers (the
 * clinician app does). A missing answer is set before labelling and validation, so the Questionnaire's enableWhen
 * then refuses clinician items in a person's own response; a contradiction is refused (422 {@code NSSI-0405}).
 * With nothing to tell (no author nor source, or another kind of reference) the response is left as written.
 */
@Interceptor
public class AssessmentRespondentRule {

	static final String RESPONDENT = "respondent";
	static final String SELF = "respondent-self";
	static final String CLINICIAN = "respondent-clinician";

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED, order = Phq9TotalRule.BEFORE_VALIDATION)
	public void created(IBaseResource resource) {
		apply(resource);
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED, order = Phq9TotalRule.BEFORE_VALIDATION)
	public void updated(IBaseResource previous, IBaseResource resource) {
		apply(resource);
	}

	static void apply(IBaseResource resource) {
		if (!(resource instanceof QuestionnaireResponse qr) || !AssessmentExtractor.isAssessment(qr)
				|| qr.getStatus() == QuestionnaireResponse.QuestionnaireResponseStatus.ENTEREDINERROR) {
			return;
		}
		Optional<String> byAuthor = role(qr.getAuthor());
		Optional<String> bySource = role(qr.getSource());
		Optional<QuestionnaireResponse.QuestionnaireResponseItemComponent> item =
				qr.getItem().stream().filter(i -> RESPONDENT.equals(i.getLinkId())).findFirst();
		Optional<String> answered = item.flatMap(i -> i.getAnswer().stream().findFirst())
				.filter(a -> a.getValue() instanceof Coding).map(a -> ((Coding) a.getValue()).getCode());
		if (answered.isPresent()) {
			String given = answered.get();
			String who = byAuthor.isPresent() ? "author" : "source";
			// a source Patient with respondent-clinician is a clinician filling in with the person: not a contradiction
			Optional<String> expected = byAuthor.isPresent() ? byAuthor : bySource.filter(CLINICIAN::equals);
			if (expected.isPresent() && (given.equals(SELF) || given.equals(CLINICIAN)) && !given.equals(expected.get())) {
				throw new UnprocessableEntityException(ErrorCode.ASSESSMENT_RESPONDENT_CONTRADICTS_AUTHOR.message(
						"QuestionnaireResponse.item 'respondent' is '" + given + "' but the " + who + " is "
								+ (expected.get().equals(SELF) ? "the person (Patient or RelatedPerson)" : "a clinician (Practitioner or PractitionerRole)")
								+ ": answer 'respondent' as '" + expected.get() + "' or correct the " + who));
			}
			return;
		}
		Optional<String> derived = byAuthor.or(() -> bySource);
		if (derived.isEmpty()) {
			return;
		}
		QuestionnaireResponse.QuestionnaireResponseItemComponent respondent = item.orElseGet(() -> {
			QuestionnaireResponse.QuestionnaireResponseItemComponent added =
					new QuestionnaireResponse.QuestionnaireResponseItemComponent().setLinkId(RESPONDENT);
			qr.getItem().add(0, added); // the first answerable item of the Questionnaire
			return added;
		});
		respondent.getAnswer().clear();
		respondent.addAnswer().setValue(new Coding(NssiCanonicals.CONCEPTS_SYSTEM, derived.get(),
				derived.get().equals(SELF) ? "I am, about myself" : "A clinician, together with the person"));
	}

	/** The respondent a reference's resource type stands for, if it tells. */
	private static Optional<String> role(Reference reference) {
		if (reference == null || reference.getReferenceElement().isEmpty()) {
			return Optional.empty();
		}
		String type = reference.getReferenceElement().getResourceType();
		if ("Patient".equals(type) || "RelatedPerson".equals(type)) {
			return Optional.of(SELF);
		}
		if ("Practitioner".equals(type) || "PractitionerRole".equals(type)) {
			return Optional.of(CLINICIAN);
		}
		return Optional.empty();
	}
}
