package org.nssifhir.server.treatment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import java.util.Objects;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Goal;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.SmartUsers;
import org.nssifhir.server.support.ErrorCode;

/**
 * A patient (or their proxy) edits their own relapse-prevention plan from a patient-facing app, and nothing else of
 * their treatment: the treatment plan, its Goals and its orders are the clinician's. For a patient or proxy user a
 * CarePlan create, update or delete must be, before and after, a relapse-prevention plan and nothing more (no DBT/CBT
 * category, no goals, no ordered activities, no basedOn), keeping its subject and the plan it is part of; Goals and
 * ServiceRequests cannot be written at all. The SMART rules already keep every write inside the patient's own
 * compartment; this rule stops a patient from turning their own plan into a "treatment plan" that points at
 * records the server would then read and update with system rights.
 */
@Interceptor
public class RelapsePlanEditRule {

	/** A refusal on who may write comes before (and instead of) validating what was written. */
	static final int BEFORE_VALIDATION = -100;

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED, order = BEFORE_VALIDATION)
	public void created(IBaseResource resource, RequestDetails request) {
		if (patientUser(request)) {
			check(null, resource);
		}
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED, order = BEFORE_VALIDATION)
	public void updated(IBaseResource previous, IBaseResource resource, RequestDetails request) {
		if (patientUser(request)) {
			check(previous, resource);
		}
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_DELETED, order = BEFORE_VALIDATION)
	public void deleted(IBaseResource resource, RequestDetails request) {
		if (patientUser(request) && (resource instanceof Goal || resource instanceof ServiceRequest
				|| (resource instanceof CarePlan plan && !onlyRelapsePlan(plan)))) {
			throw refused();
		}
	}

	private static void check(IBaseResource previous, IBaseResource resource) {
		if (resource instanceof Goal || resource instanceof ServiceRequest) {
			throw refused();
		}
		if (!(resource instanceof CarePlan plan)) {
			return;
		}
		if (!onlyRelapsePlan(plan)) {
			throw refused();
		}
		if (previous instanceof CarePlan before && (!onlyRelapsePlan(before)
				|| !Objects.equals(before.getSubject().getReference(), plan.getSubject().getReference())
				|| !before.getPartOf().stream().map(Reference::getReference).toList()
						.equals(plan.getPartOf().stream().map(Reference::getReference).toList()))) {
			throw refused();
		}
	}

	/**
	 * Whose resource the user is: a patient or proxy (by fhirUser), or a patient-context token with no known user.
	 * The server's own writes on the way (a Goal's status brought up to date while a patient reads their progress)
	 * are made as the system and are not the patient's.
	 */
	private static boolean patientUser(RequestDetails request) {
		if (request instanceof SystemRequestDetails) {
			return false;
		}
		return SmartAccess.current().map(a -> a.fhirUser()
				.map(u -> SmartUsers.kind(u) == SmartUsers.Kind.PATIENT || SmartUsers.kind(u) == SmartUsers.Kind.PROXY)
				.orElse(a.isPatientLevelOnly())).orElse(false);
	}

	static boolean isRelapsePlan(CarePlan plan) {
		return hasCategory(plan, "relapse-prevention-plan-category");
	}

	/** A relapse-prevention plan and nothing more: what a patient may write. */
	static boolean onlyRelapsePlan(CarePlan plan) {
		return isRelapsePlan(plan) && !hasCategory(plan, "dbt-plan") && !hasCategory(plan, "cbt-plan")
				&& !plan.hasGoal() && !plan.hasBasedOn() && plan.getActivity().stream().noneMatch(CarePlan.CarePlanActivityComponent::hasReference);
	}

	static boolean hasCategory(CarePlan plan, String code) {
		return plan.getCategory().stream().flatMap(c -> c.getCoding().stream())
				.anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && code.equals(c.getCode()));
	}

	private static ForbiddenOperationException refused() {
		return new ForbiddenOperationException(ErrorCode.PATIENT_MAY_EDIT_ONLY_RELAPSE_PLAN.message(
				"A patient may change only their relapse-prevention plan (keeping its subject and the plan it is part of); "
						+ "treatment plans, their goals and orders are written by the care team"));
	}
}
