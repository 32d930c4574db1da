package org.nssifhir.server.escalation;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import java.util.Date;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Annotation;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.security.SmartAccess;

/**
 * Records who closed an escalation Task and when. When a Task raised by this server (identifier system
 * {@link EscalationService#EVENT_SYSTEM}) moves to a final status, the server sets {@code lastModified} to now
 * and adds a note whose author is the user of the token ({@code fhirUser}, else the SMART client), and makes
 * that user the owner when none is set. This is taken from the token, not from the request body, so it cannot
 * be forged by the client.
 */
@Interceptor
public class TaskClosureInterceptor {

	private static final Set<Task.TaskStatus> CLOSED =
			Set.of(Task.TaskStatus.COMPLETED, Task.TaskStatus.CANCELLED, Task.TaskStatus.REJECTED, Task.TaskStatus.FAILED);

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
	public void beforeUpdate(IBaseResource previous, IBaseResource resource) {
		if (!(previous instanceof Task before) || !(resource instanceof Task after) || !isEscalationTask(before)) {
			return;
		}
		if (CLOSED.contains(before.getStatus()) || !CLOSED.contains(after.getStatus())) {
			return;
		}
		Date now = new Date();
		after.setLastModifiedElement(new org.hl7.fhir.r4.model.DateTimeType(now, ca.uhn.fhir.model.api.TemporalPrecisionEnum.MILLI));
		Optional<SmartAccess> access = SmartAccess.current();
		Optional<String> user = access.flatMap(SmartAccess::fhirUser);
		Annotation note = after.addNote().setTime(now).setText("Closed as " + after.getStatus().toCode());
		if (user.isPresent()) {
			note.setAuthor(new Reference(user.get()));
			if (!after.hasOwner()) {
				after.setOwner(new Reference(user.get()));
			}
		} else {
			note.setAuthor(new org.hl7.fhir.r4.model.StringType(access.map(a -> "client " + a.clientId()).orElse("system")));
		}
	}

	private static boolean isEscalationTask(Task task) {
		return task.getIdentifier().stream().anyMatch(i -> EscalationService.EVENT_SYSTEM.equals(i.getSystem()));
	}
}
