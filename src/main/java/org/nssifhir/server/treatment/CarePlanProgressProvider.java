package org.nssifhir.server.treatment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Parameters;
import org.nssifhir.server.security.consent.SensitiveDataConsentService;
import org.nssifhir.server.support.ErrorCode;

/**
 * {@code CarePlan/[id]/$nssi-progress} (OperationDefinition {@code nssi-progress}): how a DBT or CBT plan is going,
 * from the record (see {@link TreatmentProgress}). Asked about today, it also brings the plan's Goals' achievement
 * status up to date, so a Goal read afterwards says the same.
 */
public class CarePlanProgressProvider {

	private final DaoRegistry daoRegistry;
	private final TreatmentProgress progress;
	private final SensitiveDataConsentService consent;

	public CarePlanProgressProvider(DaoRegistry daoRegistry, TreatmentProgress progress, SensitiveDataConsentService consent) {
		this.daoRegistry = daoRegistry;
		this.progress = progress;
		this.consent = consent;
	}

	@Operation(name = "$nssi-progress", type = CarePlan.class, idempotent = true)
	public Parameters progress(@IdParam IdType id, @OperationParam(name = "date", max = 1) DateType asOf, RequestDetails request) {
		// read through the caller's request: 404 if unknown, 403 if the token may not see it
		CarePlan plan = (CarePlan) daoRegistry.getResourceDao("CarePlan").read(id.toUnqualifiedVersionless(), request);
		if (!isTreatmentPlan(plan)) {
			throw new InvalidRequestException(ErrorCode.NOT_A_TREATMENT_PLAN.message(
					"$nssi-progress is for DBT and CBT care plans (category dbt-plan or cbt-plan)"));
		}
		consent.requireRestrictedAccess(request, new IdType(plan.getSubject().getReference()).getIdPart());
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		LocalDate date = asOf != null && asOf.getValue() != null ? LocalDate.parse(asOf.getValueAsString().substring(0, 10)) : today;
		TreatmentProgress.Progress p = progress.compute(plan, date);
		if (date.equals(today) && plan.getStatus() == CarePlan.CarePlanStatus.ACTIVE) {
			progress.refreshGoals(p);
		}
		Parameters.ParametersParameterComponent holder = new Parameters.ParametersParameterComponent();
		TreatmentProgress.write(p, holder);
		Parameters out = new Parameters();
		out.addParameter().setName("date").setValue(new DateType(java.sql.Date.valueOf(date)));
		out.getParameter().addAll(holder.getPart());
		return out;
	}

	public static boolean isTreatmentPlan(CarePlan plan) {
		return plan.getCategory().stream().flatMap(c -> c.getCoding().stream())
				.anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && ("dbt-plan".equals(c.getCode()) || "cbt-plan".equals(c.getCode())));
	}
}
