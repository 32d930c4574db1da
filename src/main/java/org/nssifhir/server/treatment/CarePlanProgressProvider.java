package org.nssifhir.server.treatment;


import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.sql.Date;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Parameters;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.security.consent.RestrictedRecordAccess;
import org.nssifhir.server.support.ErrorCode;

/**
 * {@code CarePlan/[id]/$nssi-progress} (OperationDefinition {@code nssi-progress}): how a DBT or CBT plan is going,
 * from the record (see {@link TreatmentProgress}). Asked about today, it also brings the plan's Goals' achievement
 * status up to date, so a Goal read afterwards says the same.
 */
public class CarePlanProgressProvider implements FhirOperationProvider {

	private final DaoRegistry daoRegistry;
	private final TreatmentProgress progress;
	private final RestrictedRecordAccess consent;

	public CarePlanProgressProvider(DaoRegistry daoRegistry, TreatmentProgress progress, RestrictedRecordAccess consent) {
		this.daoRegistry = daoRegistry;
		this.progress = progress;
		this.consent = consent;
	}

	@Operation(name = "$nssi-progress", type = CarePlan.class, idempotent = true)
	public Parameters progress(@IdParam IdType id, @OperationParam(name = "date", max = 1) DateType asOf, RequestDetails request) {
		// read through the caller's request: 404 if unknown, 403 if the token may not see it
		CarePlan plan = (CarePlan) daoRegistry.getResourceDao("CarePlan").read(id.toUnqualifiedVersionless(), request);
		consent.require(request, new IdType(plan.getSubject().getReference()).getIdPart());
		if (!isTreatmentPlan(plan)) {
			throw new InvalidRequestException(ErrorCode.NOT_A_TREATMENT_PLAN.message(
					"$nssi-progress is for DBT and CBT care plans (category dbt-plan or cbt-plan)"));
		}
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		LocalDate date = today;
		if (asOf != null && asOf.getValue() != null) {
			if (asOf.getPrecision() != TemporalPrecisionEnum.DAY) {
				throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message("date must be a full date (YYYY-MM-DD)"));
			}
			date = LocalDate.parse(asOf.getValueAsString());
		}
		TreatmentProgress.Progress p = progress.compute(plan, date);
		if (date.equals(today) && plan.getStatus() == CarePlan.CarePlanStatus.ACTIVE) {
			progress.refreshGoalsQuietly(p);
		}
		Parameters.ParametersParameterComponent holder = new Parameters.ParametersParameterComponent();
		TreatmentProgress.write(p, holder);
		Parameters out = new Parameters();
		out.addParameter().setName("date").setValue(new DateType(Date.valueOf(date)));
		out.getParameter().addAll(holder.getPart());
		return out;
	}

	/** A DBT or CBT plan; never a relapse-prevention plan (which a patient may write), whatever else it claims. */
	public static boolean isTreatmentPlan(CarePlan plan) {
		return (RelapsePlanEditRule.hasCategory(plan, "dbt-plan") || RelapsePlanEditRule.hasCategory(plan, "cbt-plan"))
				&& !RelapsePlanEditRule.isRelapsePlan(plan);
	}
}
