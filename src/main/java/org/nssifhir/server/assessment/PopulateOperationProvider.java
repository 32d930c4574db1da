package org.nssifhir.server.assessment;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Questionnaire;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.UriType;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.support.ErrorCode;

/**
 * SDC {@code Questionnaire/[id]/$populate} (and type-level with {@code canonical}): reads the parameters and hands
 * them to {@link PopulateService}, which checks access and builds the draft response.
 */
public class PopulateOperationProvider implements FhirOperationProvider {

	private final PopulateService populate;

	public PopulateOperationProvider(PopulateService populate) {
		this.populate = populate;
	}

	@Operation(name = "$populate", type = Questionnaire.class, idempotent = true)
	public Parameters populateInstance(
			@IdParam IdType id, @OperationParam(name = "subject", min = 1, max = 1) Reference subject, RequestDetails request) {
		Questionnaire questionnaire = populate.questionnaire(id, request);
		return populate.populate(questionnaire, patient(subject), request);
	}

	@Operation(name = "$populate", type = Questionnaire.class, idempotent = true)
	public Parameters populateType(
			@OperationParam(name = "canonical", min = 1, max = 1) UriType canonical,
			@OperationParam(name = "subject", min = 1, max = 1) Reference subject,
			RequestDetails request) {
		String url = canonical == null ? null : canonical.getValue();
		Questionnaire questionnaire = populate.questionnaire(url, request);
		return populate.populate(questionnaire, patient(subject), request);
	}

	private static IdType patient(Reference subject) {
		if (subject == null || !"Patient".equals(subject.getReferenceElement().getResourceType()) || !subject.getReferenceElement().hasIdPart()) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message("subject must reference a Patient (Patient/[id])"));
		}
		return new IdType("Patient", subject.getReferenceElement().getIdPart());
	}
}
