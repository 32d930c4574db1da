package org.nssifhir.server.escalation;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.util.Date;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Annotation;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.support.ErrorCode;

/**
 * Follow-through of escalation Tasks. Completing one needs a documented risk assessment: a {@code Task.output}
 * whose value references the RiskAssessment, Procedure (e.g. SNOMED CT 225337009 suicide risk assessment),
 * QuestionnaireResponse, Observation, ClinicalImpression or DocumentReference that records it; without one the
 * update is refused with 422 ({@code NSSI-0601}). Completing it resolves its Flag ({@code Task.focus}) in the
 * same transaction: the Flag becomes inactive with {@code period.end} set. Cancelling or rejecting it leaves
 * the Flag active (the risk was not reviewed).
 *
 * <p>Also records who closed an escalation Task and when. When a Task raised by this server (identifier system
 * {@link EscalationService#EVENT_SYSTEM}) moves to a final status, the server sets {@code lastModified} to now
 * and adds a note whose author is the user of the token ({@code fhirUser}, else the SMART client), and makes
 * that user the owner when none is set. This is taken from the token, not from the request body, so it cannot
 * be forged by the client.
 */
@Interceptor
public class TaskClosureInterceptor {

	private static final Set<Task.TaskStatus> CLOSED =
			Set.of(Task.TaskStatus.COMPLETED, Task.TaskStatus.CANCELLED, Task.TaskStatus.REJECTED, Task.TaskStatus.FAILED);

	/** Resource types that can document a risk assessment in {@code Task.output}. */
	static final Set<String> ASSESSMENT_TYPES = Set.of(
			"RiskAssessment", "Procedure", "QuestionnaireResponse", "Observation", "ClinicalImpression", "DocumentReference");

	private final DaoRegistry daoRegistry;

	public TaskClosureInterceptor(DaoRegistry daoRegistry) {
		this.daoRegistry = daoRegistry;
	}

	static boolean documentsRiskAssessment(Task task) {
		return task.getOutput().stream()
				.map(Task.TaskOutputComponent::getValue)
				.filter(v -> v instanceof Reference)
				.map(v -> ((Reference) v).getReferenceElement())
				.anyMatch(r -> r.hasIdPart() && ASSESSMENT_TYPES.contains(r.getResourceType()));
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
	public void beforeUpdate(IBaseResource previous, IBaseResource resource) {
		if (!(previous instanceof Task before) || !(resource instanceof Task after) || !isEscalationTask(before)) {
			return;
		}
		if (CLOSED.contains(before.getStatus()) || !CLOSED.contains(after.getStatus())) {
			return;
		}
		if (after.getStatus() == Task.TaskStatus.COMPLETED && !documentsRiskAssessment(after)) {
			throw new UnprocessableEntityException(ErrorCode.ESCALATION_TASK_UNDOCUMENTED.message(
					"An escalation Task can be completed only with a documented risk assessment: add a Task.output whose value"
							+ " references the RiskAssessment, Procedure, QuestionnaireResponse, Observation, ClinicalImpression or"
							+ " DocumentReference that records it."));
		}
		Date now = new Date();
		after.setLastModifiedElement(new DateTimeType(now, TemporalPrecisionEnum.MILLI));
		Optional<SmartAccess> access = SmartAccess.current();
		Optional<String> user = access.flatMap(SmartAccess::fhirUser);
		Annotation note = after.addNote().setTime(now).setText("Closed as " + after.getStatus().toCode());
		if (user.isPresent()) {
			note.setAuthor(new Reference(user.get()));
			if (!after.hasOwner()) {
				after.setOwner(new Reference(user.get()));
			}
		} else {
			note.setAuthor(new StringType(access.map(a -> "client " + a.clientId()).orElse("system")));
		}
	}

	/** A completed escalation Task resolves its Flag, in the same transaction. */
	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_UPDATED)
	public void afterUpdate(IBaseResource previous, IBaseResource resource) {
		if (!(previous instanceof Task before) || !(resource instanceof Task after) || !isEscalationTask(after)
				|| before.getStatus() == Task.TaskStatus.COMPLETED || after.getStatus() != Task.TaskStatus.COMPLETED) {
			return;
		}
		String focus = after.getFocus().getReference();
		if (focus == null || !focus.startsWith("Flag/")) {
			return;
		}
		SystemRequestDetails system = new SystemRequestDetails();
		Flag flag;
		try {
			flag = (Flag) daoRegistry.getResourceDao("Flag").read(new IdType(focus).toUnqualifiedVersionless(), system);
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			return;
		}
		if (flag.getStatus() != Flag.FlagStatus.ACTIVE) {
			return;
		}
		flag.setStatus(Flag.FlagStatus.INACTIVE);
		flag.getPeriod().setEnd(new Date());
		daoRegistry.getResourceDao(Flag.class).update(flag, system);
	}

	private static boolean isEscalationTask(Task task) {
		return task.getIdentifier().stream().anyMatch(i -> EscalationService.EVENT_SYSTEM.equals(i.getSystem()));
	}
}
