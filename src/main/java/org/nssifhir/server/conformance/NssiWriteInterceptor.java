package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;
import org.nssifhir.server.support.ErrorCode;

/**
 * On every write of an NSSI resource (create, update, and each entry of a transaction or batch, whatever the
 * route): declares the profile its content implies and validates it against our profiles (labelling is a job of
 * its own: {@code labeling.SecurityLabelingInterceptor}, which runs before this). An invalid resource is refused with 422 and an OperationOutcome naming each
 * element and rule; because this runs inside the storage transaction, a transaction containing it stores nothing.
 * Resources that are not NSSI resources pass through untouched, as in plain HAPI.
 *
 * <p>Registered with HAPI's global interceptor service, not only the REST server, so it also guards writes that
 * do not come over HTTP (operations, internal services).
 */
@Interceptor
public class NssiWriteInterceptor {

	private final FhirContext fhirContext;
	private final NssiProfileValidator validator;

	public NssiWriteInterceptor(FhirContext fhirContext, NssiProfileValidator validator) {
		this.fhirContext = fhirContext;
		this.validator = validator;
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
	public void beforeCreate(IBaseResource resource) {
		enforce(resource);
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
	public void beforeUpdate(IBaseResource previous, IBaseResource resource) {
		enforce(resource);
	}

	/**
	 * {@code $validate} (HAPI's, through the DAO's validator) reports what a write would refuse: the resource is
	 * classified as a write classifies it and held to the same profiles, whether or not it claims them or the client
	 * named a profile. Without this an integrator's pre-flight passed what the write then refused with 422.
	 */
	@Hook(Pointcut.VALIDATION_COMPLETED)
	public void validated(IBaseResource resource, String rawResource, ValidationResult result) {
		IBaseResource subject = NssiProfileValidator.validatedResource(fhirContext, resource, rawResource).orElse(null);
		Set<String> profiles = subject == null ? Set.of() : NssiResourceClassifier.profilesToEnforce(subject);
		if (profiles.isEmpty()) {
			return;
		}
		ValidationResult asWritten = validator.validate(subject, profiles.stream().map(NssiCanonicals::profile).toList());
		if (!NssiProfileValidator.hasErrors(asWritten)) {
			return;
		}
		List<SingleValidationMessage> messages = new ArrayList<>(result.getMessages());
		SingleValidationMessage header = new SingleValidationMessage();
		header.setSeverity(ResultSeverityEnum.ERROR);
		header.setMessage(ErrorCode.PROFILE_VALIDATION_FAILED.message("a write would refuse this " + subject.fhirType()
				+ ": by its content it must conform to " + String.join(", ", profiles.stream().map(NssiCanonicals::profile).toList())));
		messages.add(header);
		for (SingleValidationMessage message : asWritten.getMessages()) {
			boolean known = messages.stream().anyMatch(m -> Objects.equals(m.getMessage(), message.getMessage())
					&& Objects.equals(m.getLocationString(), message.getLocationString()));
			if (message.getSeverity().ordinal() >= ResultSeverityEnum.ERROR.ordinal() && !known) {
				messages.add(message);
			}
		}
		result.setMessages(messages);
	}

	void enforce(IBaseResource resource) {
		Set<String> profiles = NssiResourceClassifier.profilesToEnforce(resource);
		if (profiles.isEmpty() || !(resource instanceof Resource r)) {
			return;
		}
		for (String profile : profiles) {
			if (!r.getMeta().hasProfile(NssiCanonicals.profile(profile))) {
				r.getMeta().addProfile(NssiCanonicals.profile(profile));
			}
		}
		// profiles named explicitly: the validator does not pick up a profile added to meta during this hook. A copy is
		// validated: the instance given here was validated as first parsed or read, not as changed by earlier storage
		// hooks or by the server's own code before the write (a Task given its due time still failed as without one)
		ValidationResult result = validator.validate(r.copy(), profiles.stream().map(NssiCanonicals::profile).toList());
		if (NssiProfileValidator.hasErrors(result)) {
			throw new UnprocessableEntityException(fhirContext, outcome(r, profiles, result));
		}
	}

	private static OperationOutcome outcome(Resource resource, Set<String> profiles, ValidationResult result) {
		OperationOutcome outcome = new OperationOutcome();
		outcome.addIssue()
				.setSeverity(OperationOutcome.IssueSeverity.ERROR)
				.setCode(OperationOutcome.IssueType.PROCESSING)
				.setDiagnostics(ErrorCode.PROFILE_VALIDATION_FAILED.message(resource.fhirType() + " does not conform to "
						+ String.join(", ", profiles.stream().map(NssiCanonicals::profile).toList())));
		for (SingleValidationMessage message : result.getMessages()) {
			if (message.getSeverity().ordinal() < ResultSeverityEnum.ERROR.ordinal()) {
				continue;
			}
			OperationOutcome.OperationOutcomeIssueComponent issue = outcome.addIssue()
					.setSeverity(OperationOutcome.IssueSeverity.ERROR)
					.setCode(OperationOutcome.IssueType.INVARIANT)
					.setDiagnostics(message.getMessage());
			if (message.getLocationString() != null) {
				issue.addExpression(message.getLocationString());
			}
		}
		return outcome;
	}
}
