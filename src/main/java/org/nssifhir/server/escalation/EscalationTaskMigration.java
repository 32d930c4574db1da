package org.nssifhir.server.escalation;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.TokenOrListParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.time.Duration;
import java.util.Date;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.support.WholeHistory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.annotation.Order;
import org.springframework.dao.DataAccessException;

/**
 * Gives the open escalation Tasks stored before package 0.6.0 what the {@code nssi-escalation-task} profile requires,
 * so the profile can be implied from content (a Task coded {@code suicide-risk} or {@code nssi-escalation}) and every
 * later write is held to it: a due time ({@code restriction.period.end}), and a priority and authoredOn where missing.
 *
 * <p>Choice and reason: a startup migration rather than the relabel job, because it must have run before the first
 * client update of an old Task is validated against the profile, whatever the rules fingerprint says (it is an
 * ApplicationRunner after the package install, ConformanceStartup, so readiness waits for it); it is
 * idempotent (a migrated Task has a due time and is skipped), cheap when nothing is left (one indexed search) and
 * safe on several nodes (each update is conditional on the version read). The due time is the one the alert would
 * have had when raised: authoredOn plus 24 h for a suicide-risk Task, 72 h otherwise (and the old, inverted priorities
 * are put right: suicide risk asap, NSSI escalation urgent). An old alert past that time is
 * therefore overdue at once and the next overdue check re-escalates it, as it does for any alert no one started.
 * Closed Tasks are left as stored: they are records, and no rule needs their due time.
 *
 * <p>It also gives every open escalation Task without an owner (alert, safeguarding review, support request; raised
 * when the person had no care team, general practitioner or managing organisation on record) the owner the server
 * would choose now, the clinical triage queue at worst ({@link TriageQueue}; issue 19 review, item 6): an ownerless
 * Task is in no one's work list, and the profile requires an owner since package 0.7.0.
 */
@Order(10)
public class EscalationTaskMigration implements ApplicationRunner {

	private static final Logger log = LoggerFactory.getLogger(EscalationTaskMigration.class);
	static final String NOTE_AUTHOR = "NSSI server (package 0.6.0 migration)";

	static final String OWNER_NOTE_AUTHOR = "NSSI server (package 0.7.0 migration)";

	private final DaoRegistry daoRegistry;
	private final EscalationService escalation;

	public EscalationTaskMigration(DaoRegistry daoRegistry, EscalationService escalation) {
		this.daoRegistry = daoRegistry;
		this.escalation = escalation;
	}

	@Override
	public void run(ApplicationArguments args) {
		try {
			int migrated = migrate();
			if (migrated > 0) {
				log.info("Escalation Tasks given a due time or an owner (package 0.6.0 and 0.7.0 migrations): {}", migrated);
			}
		} catch (RuntimeException e) {
			// by type only; the next start tries again, and until then an old Task's update is refused with a 422
			log.warn("Escalation Task migration failed: {}", e.getClass().getSimpleName());
		}
	}

	/** Migrates every open escalation Task without a due time or an owner; returns how many were changed. */
	public int migrate() {
		SystemRequestDetails system = new SystemRequestDetails();
		TokenOrListParam codes = new TokenOrListParam();
		for (EscalationSignal.Kind kind : EscalationSignal.Kind.values()) {
			codes.add(new TokenParam(CONCEPTS_SYSTEM, kind.code()));
		}
		codes.add(new TokenParam(CONCEPTS_SYSTEM, EscalationService.SAFEGUARDING_CODE));
		codes.add(new TokenParam(CONCEPTS_SYSTEM, EscalationService.SUPPORT_REQUEST));
		SearchParameterMap map = WholeHistory.search()
				.add(Task.SP_CODE, codes)
				.add(Task.SP_STATUS, new TokenOrListParam().add(new TokenParam("draft")).add(new TokenParam("requested"))
						.add(new TokenParam("received")).add(new TokenParam("accepted")).add(new TokenParam("ready"))
						.add(new TokenParam("in-progress")).add(new TokenParam("on-hold")));
		int changed = 0;
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("Task").search(map, system))) {
			IdType id = (IdType) r.getIdElement().toUnqualifiedVersionless();
			try {
				Task task = (Task) daoRegistry.getResourceDao("Task").read(id, system);
				boolean recoded = recodeSevereDepression(task);
				boolean dueTime = isAlertTask(task) && migrate(task);
				if (recoded | dueTime | giveOwner(task)) {
					daoRegistry.getResourceDao(Task.class).update(task, new SystemRequestDetails());
					changed++;
				}
			} catch (BaseServerResponseException | DataAccessException e) {
				// changed or deleted meanwhile, or still not valid: counted as not migrated, tried again next start
				log.warn("Escalation Task/{} not migrated: {}", id.getIdPart(), e.getClass().getSimpleName());
			}
		}
		return changed;
	}

	/**
	 * Package 0.6.0 coded the alert for a PHQ-9 total of 20 or more with item 9 at 0 (event {@code phq9-severe:})
	 * suicide-risk; since 0.7.0 it is {@code severe-depression-score}, because it is not a sign of ideation (issue 19
	 * review, item 3). An open one is recoded with its Flag (which loses the safety category and the suicide-risk Flag
	 * profile), so the clinician's list shows it for what it is.
	 */
	private boolean recodeSevereDepression(Task task) {
		String suicide = EscalationSignal.Kind.SUICIDE_RISK.code();
		boolean severeEvent = task.getIdentifier().stream().anyMatch(i -> EscalationService.EVENT_SYSTEM.equals(i.getSystem())
				&& i.getValue() != null && i.getValue().startsWith("phq9-severe:"));
		if (!severeEvent || task.getCode().getCoding().stream().noneMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && suicide.equals(c.getCode()))) {
			return false;
		}
		EscalationSignal.Kind kind = EscalationSignal.Kind.SEVERE_DEPRESSION_SCORE;
		task.getCode().getCoding().removeIf(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && suicide.equals(c.getCode()));
		task.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, kind.code(), kind.display()));
		task.getMeta().getProfile().removeIf(p -> p.getValue() != null && !p.getValue().endsWith("/nssi-escalation-task"));
		task.addNote().setTime(new Date()).setAuthor(new StringType(OWNER_NOTE_AUTHOR))
				.setText("Recoded from suicide-risk to severe-depression-score when the server moved to package 0.7.0: a PHQ-9 total of 20 or"
						+ " more with item 9 at 0 is a risk factor to review, not a sign of suicidal ideation.");
		if (task.getFocus().getReferenceElement().hasIdPart() && "Flag".equals(task.getFocus().getReferenceElement().getResourceType())) {
			SystemRequestDetails system = new SystemRequestDetails();
			IdType flagId = new IdType("Flag", task.getFocus().getReferenceElement().getIdPart());
			Flag flag = (Flag) daoRegistry.getResourceDao("Flag").read(flagId, system);
			if (flag.getCode().getCoding().stream().anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && suicide.equals(c.getCode()))) {
				flag.getCode().getCoding().removeIf(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && suicide.equals(c.getCode()));
				flag.getCode().addCoding(new Coding(CONCEPTS_SYSTEM, kind.code(), kind.display()));
				flag.getCategory().removeIf(cc -> cc.getCoding().stream().anyMatch(c -> "safety".equals(c.getCode())));
				flag.getMeta().getProfile().removeIf(p -> p.getValue() != null && p.getValue().endsWith("/nssi-suicide-risk-flag"));
				daoRegistry.getResourceDao(Flag.class).update(flag, system);
			}
		}
		return true;
	}

	private static boolean isAlertTask(Task task) {
		return task.getCode().getCoding().stream().anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem())
				&& java.util.Arrays.stream(EscalationSignal.Kind.values()).anyMatch(k -> k.code().equals(c.getCode())));
	}

	/** Gives an ownerless Task the owner an alert would get now; false when it has one (or names no patient). */
	private boolean giveOwner(Task task) {
		if (task.hasOwner() || !"Patient".equals(task.getFor().getReferenceElement().getResourceType())) {
			return false;
		}
		task.setOwner(escalation.responsible(new IdType("Patient", task.getFor().getReferenceElement().getIdPart())));
		task.addNote().setTime(new Date()).setAuthor(new StringType(OWNER_NOTE_AUTHOR))
				.setText("Owner added when the server moved to package 0.7.0: this Task had none (no care team, general practitioner or"
						+ " managing organisation was recorded when it was raised), so it was in no one's work list.");
		return true;
	}

	/** Adds what the profile needs to an old Task; false when it has a due time already. */
	static boolean migrate(Task task) {
		if (task.getRestriction().getPeriod().hasEnd()) {
			return false;
		}
		Date now = new Date();
		if (!task.hasAuthoredOn()) {
			task.setAuthoredOn(task.getMeta().hasLastUpdated() ? task.getMeta().getLastUpdated() : now);
		}
		boolean suicideRisk = task.getCode().getCoding().stream()
				.anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && EscalationSignal.Kind.SUICIDE_RISK.code().equals(c.getCode()));
		// before 0.6.0 suicide risk was raised "urgent" and NSSI escalation "asap", the wrong way round for FHIR's
		// request priorities (routine < urgent < asap < stat): put these old alerts in the right order too
		if (!task.hasPriority() || suicideRisk && task.getPriority() == Task.TaskPriority.URGENT) {
			task.setPriority(suicideRisk ? Task.TaskPriority.ASAP : Task.TaskPriority.URGENT);
		} else if (!suicideRisk && task.getPriority() == Task.TaskPriority.ASAP) {
			task.setPriority(Task.TaskPriority.URGENT);
		}
		Duration due = suicideRisk || EscalationService.highPriority(task.getPriority())
				? EscalationService.PROMPT_DUE
				: EscalationService.STANDARD_DUE;
		Date start = task.getAuthoredOn();
		task.getRestriction().getPeriod().setStart(start).setEnd(Date.from(start.toInstant().plus(due)));
		task.addNote().setTime(now).setAuthor(new StringType(NOTE_AUTHOR))
				.setText("Due time added when the server moved to package 0.6.0: this alert was raised before alerts had one.");
		return true;
	}
}
