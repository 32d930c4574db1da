package org.nssifhir.server.treatment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import java.util.Objects;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.support.ErrorCode;

/**
 * A patient (or their proxy) edits their own relapse-prevention plan from a patient-facing app, and nothing
 * else of their care plans: the treatment plan is the clinician's. For a patient-context token a CarePlan write
 * must be, before and after, a relapse-prevention plan, and must keep its subject and the treatment plan it is
 * part of. (The SMART rules already keep the write inside the patient's own compartment.)
 */
@Interceptor
public class RelapsePlanEditRule {

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
	public void created(IBaseResource resource) {
		if (resource instanceof CarePlan plan && patientToken() && !isRelapsePlan(plan)) {
			throw refused();
		}
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
	public void updated(IBaseResource previous, IBaseResource resource) {
		if (!(resource instanceof CarePlan plan) || !patientToken()) {
			return;
		}
		CarePlan before = (CarePlan) previous;
		if (!isRelapsePlan(before) || !isRelapsePlan(plan)
				|| !Objects.equals(before.getSubject().getReference(), plan.getSubject().getReference())
				|| !before.getPartOf().stream().map(Reference::getReference).toList()
						.equals(plan.getPartOf().stream().map(Reference::getReference).toList())) {
			throw refused();
		}
	}

	private static boolean patientToken() {
		return SmartAccess.current().map(SmartAccess::isPatientLevelOnly).orElse(false);
	}

	static boolean isRelapsePlan(CarePlan plan) {
		return plan.getCategory().stream().flatMap(c -> c.getCoding().stream())
				.anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && "relapse-prevention-plan-category".equals(c.getCode()));
	}

	private static ForbiddenOperationException refused() {
		return new ForbiddenOperationException(ErrorCode.PATIENT_MAY_EDIT_ONLY_RELAPSE_PLAN.message(
				"A patient may change only their relapse-prevention plan (keeping its subject and the plan it is part of)"));
	}
}
