package org.nssifhir.server.escalation;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.TokenOrListParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.WholeHistory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.ConcurrencyFailureException;
import org.springframework.dao.DataIntegrityViolationException;

/**
 * Re-escalation of alerts nobody picked up: an escalation Task still {@code requested} or {@code received} after its
 * due time ({@code Task.restriction.period.end}) gets a higher priority (urgent → asap → stat), a note saying it was
 * overdue, a new due time (half the previous period, at least an hour), and an owner if one can be found now. The
 * update goes through the DAO like the alert itself, so the owner's team is told again the way it was told of the
 * new alert: HAPI matches the updated Task against the Subscriptions (see {@code notification/}).
 *
 * <p>Runs every {@code nssi.escalation.overdue-check} on each node. Safe on two nodes: each Task is updated at the
 * version it was read at (HAPI refuses a stale version), so when both nodes find the same Task one update wins and
 * the other is dropped. Idempotent per due period: the re-escalated Task has a new due time, so it is overdue again
 * only when that one passes too.
 */
public class OverdueEscalation {

	static final String NOTE_AUTHOR = "NSSI FHIR Server (re-escalation)";
	private static final Duration MIN_PERIOD = Duration.ofHours(1);
	private static final Logger log = LoggerFactory.getLogger(OverdueEscalation.class);

	private final DaoRegistry daoRegistry;
	private final EscalationService escalation;
	private final Duration interval;
	private ScheduledExecutorService scheduler;

	public OverdueEscalation(DaoRegistry daoRegistry, EscalationService escalation, Duration interval) {
		this.daoRegistry = daoRegistry;
		this.escalation = escalation;
		this.interval = interval;
	}

	/** Starts the periodic check (a zero interval switches it off: a node that only serves reads, say). */
	public void start() {
		if (interval.isZero() || interval.isNegative()) {
			return;
		}
		scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
			Thread t = new Thread(r, "nssi-overdue-escalation");
			t.setDaemon(true);
			return t;
		});
		scheduler.scheduleWithFixedDelay(this::runSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
	}

	public void stop() {
		if (scheduler != null) {
			scheduler.shutdownNow();
		}
	}

	private void runSafely() {
		try {
			reescalateOverdue();
		} catch (RuntimeException e) {
			// by type only: messages may quote ids or values; the next run tries again
			log.warn("Overdue escalation check failed: {}", e.getClass().getSimpleName());
		}
	}

	/** Re-escalates every overdue escalation Task that has not started; returns how many this call changed. */
	public int reescalateOverdue() {
		SystemRequestDetails system = new SystemRequestDetails();
		SearchParameterMap alerts = WholeHistory.search()
				.add(Task.SP_IDENTIFIER, new TokenParam(EscalationService.EVENT_SYSTEM, null))
				.add(Task.SP_STATUS, new TokenOrListParam().add(new TokenParam("requested")).add(new TokenParam("received")));
		// a person's request for support is chased like an alert (it is the client's Task, without the server's identifier)
		SearchParameterMap supportRequests = WholeHistory.search()
				.add(Task.SP_CODE, new TokenParam(NssiCanonicals.CONCEPTS_SYSTEM, EscalationService.SUPPORT_REQUEST))
				.add(Task.SP_STATUS, new TokenOrListParam().add(new TokenParam("requested")).add(new TokenParam("received")));
		Map<String, IBaseResource> open = new LinkedHashMap<>();
		for (SearchParameterMap map : List.of(alerts, supportRequests)) {
			WholeHistory.all(daoRegistry.getResourceDao("Task").search(map, system))
					.forEach(r -> open.putIfAbsent(r.getIdElement().toUnqualifiedVersionless().getValue(), r));
		}
		Instant now = Instant.now();
		int changed = 0;
		for (IBaseResource r : open.values()) {
			IdType id = (IdType) r.getIdElement().toUnqualifiedVersionless();
			try {
				// read again: the current version, which the update below is conditional on
				Task task = (Task) daoRegistry.getResourceDao("Task").read(id, system);
				if (overdue(task, now) && reescalate(task, now)) {
					changed++;
				}
			} catch (ResourceVersionConflictException | ConcurrencyFailureException | DataIntegrityViolationException e) {
				// another node re-escalated it at the same moment: once is enough
			} catch (ResourceNotFoundException | ResourceGoneException e) {
				// deleted meanwhile
			}
		}
		return changed;
	}

	static boolean overdue(Task task, Instant now) {
		if (task.getStatus() != Task.TaskStatus.REQUESTED && task.getStatus() != Task.TaskStatus.RECEIVED) {
			return false;
		}
		Date due = task.getRestriction().getPeriod().getEnd();
		return due != null && due.toInstant().isBefore(now);
	}

	private boolean reescalate(Task task, Instant now) {
		Task.TaskPriority before = task.hasPriority() ? task.getPriority() : Task.TaskPriority.ROUTINE;
		Task.TaskPriority after = raised(before);
		Date due = task.getRestriction().getPeriod().getEnd();
		Date start = task.getRestriction().getPeriod().getStart();
		Duration period = start == null ? EscalationService.PROMPT_DUE : Duration.between(start.toInstant(), due.toInstant());
		Duration next = period.dividedBy(2).compareTo(MIN_PERIOD) < 0 ? MIN_PERIOD : period.dividedBy(2);
		task.setPriority(after);
		task.getRestriction().getPeriod().setStart(Date.from(now)).setEnd(Date.from(now.plus(next)));
		task.addNote().setTime(Date.from(now)).setAuthor(new StringType(NOTE_AUTHOR))
				.setText("Re-escalated: not started by its due time (" + new DateTimeType(due).getValueAsString() + "); priority "
						+ before.toCode() + (before == after ? " (already the highest)" : " → " + after.toCode())
						+ "; now due by " + new DateTimeType(Date.from(now.plus(next))).getValueAsString() + ".");
		task.setLastModifiedElement(new DateTimeType(Date.from(now), TemporalPrecisionEnum.MILLI));
		if (!task.hasOwner() && task.getFor().getReferenceElement().hasIdPart()) {
			task.setOwner(escalation.responsible(new IdType("Patient", task.getFor().getReferenceElement().getIdPart())));
		}
		// the id carries the version read: HAPI refuses the update if another node changed the Task since
		daoRegistry.getResourceDao(Task.class).update(task, new SystemRequestDetails());
		log.info("Escalation Task/{} re-escalated: overdue, priority {} -> {}", task.getIdElement().getIdPart(), before.toCode(), after.toCode());
		return true;
	}

	static Task.TaskPriority raised(Task.TaskPriority priority) {
		return switch (priority) {
			case ROUTINE, NULL -> Task.TaskPriority.URGENT;
			case URGENT -> Task.TaskPriority.ASAP;
			case ASAP, STAT -> Task.TaskPriority.STAT;
		};
	}
}
