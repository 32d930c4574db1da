package org.nssifhir.server.assessment;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.support.ErrorCode;

/**
 * {@code Patient/[id]/$nssi-summary} (OperationDefinition {@code nssi-summary}): reads the parameters and hands
 * them to {@link NssiSummaryService}, which checks access and computes the summary.
 */
public class NssiSummaryProvider implements FhirOperationProvider {

	private final NssiSummaryService summaries;

	public NssiSummaryProvider(NssiSummaryService summaries) {
		this.summaries = summaries;
	}

	@Operation(name = "$nssi-summary", type = Patient.class, idempotent = true)
	public Parameters summary(
			@IdParam IdType id, @OperationParam(name = "date", max = 1) DateType asOf, RequestDetails request) {
		IdType patient = summaries.requireAccess(id.getIdPart(), request);
		if (asOf != null && asOf.getValue() != null && asOf.getPrecision() != TemporalPrecisionEnum.DAY) {
			// "as of" is one day: a year or a month would silently mean its first day
			throw new InvalidRequestException(
					ErrorCode.OPERATION_PARAMETER_INVALID.message("date must be a full date (YYYY-MM-DD)"));
		}
		LocalDate today = asOf != null && asOf.getValue() != null
				? LocalDate.parse(asOf.getValueAsString())
				: LocalDate.now(ZoneOffset.UTC);
		return summaries.summary(patient, today);
	}
}
