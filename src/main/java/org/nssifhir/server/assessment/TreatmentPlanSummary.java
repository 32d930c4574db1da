package org.nssifhir.server.assessment;

import java.time.LocalDate;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Parameters;

/**
 * What {@code $nssi-summary} shows of a patient's active treatment plan. Implemented by the treatment feature
 * ({@code treatment/TreatmentProgress}); an interface here so that assessment does not depend on treatment, which
 * reads assessment's episode index.
 */
public interface TreatmentPlanSummary {

	/** Whether the plan is a treatment plan (not the relapse-prevention plan that is part of one). */
	boolean isTreatmentPlan(CarePlan plan);

	/** Writes the treatment plan's progress as of this day into the part. */
	void writeProgress(CarePlan plan, LocalDate asOf, Parameters.ParametersParameterComponent into);
}
