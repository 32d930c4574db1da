package org.nssifhir.server.escalation;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.model.DaoMethodOutcome;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.util.UrlUtil;
import java.util.concurrent.atomic.AtomicReference;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.annotation.Order;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The owner of last resort of every escalation Task (issue 19 review, item 6): an alert with no treating care team,
 * general practitioner or managing organisation on record must still land in someone's work queue, because an
 * ownerless Task is shown to no one and a suicide-risk alert nobody sees is a silent miss.
 *
 * <p>{@code nssi.escalation.fallback-owner} names the deployment's real clinical triage queue (an Organization,
 * PractitionerRole or CareTeam). When none is configured (or the configured one does not exist), the server uses its
 * own Organization "Clinical triage queue", created once by a conditional create on a fixed identifier, so every
 * node and every restart find the same one. It is made at startup, before readiness (an ApplicationRunner after the
 * package install, before the Task migration and the demo data, both of which may need an owner), and again on
 * demand if someone deleted it. It is tagged as made by the server; the README tells operators to point the setting
 * at a staffed queue instead.
 */
@Order(5)
public class TriageQueue implements ApplicationRunner {

	/** The built-in queue's identifier (a conditional create on it makes it once). */
	public static final String IDENTIFIER_SYSTEM = NssiCanonicals.TRIAGE_QUEUE_IDENTIFIER_SYSTEM;

	public static final String IDENTIFIER_VALUE = "clinical-triage-queue";

	/** Tag of resources the server made for itself, not recorded by anyone (kept by the server: AccessPolicy). */
	public static final String SYSTEM_MADE_TAG_SYSTEM = NssiCanonicals.SYSTEM_MADE_TAG_SYSTEM;

	public static final String NAME = "Clinical triage queue";

	private static final Logger log = LoggerFactory.getLogger(TriageQueue.class);

	private final DaoRegistry daoRegistry;
	private final String configured;
	/** The built-in queue's id once made outside any other write's transaction (a rolled-back id must not stick). */
	private final AtomicReference<String> builtIn = new AtomicReference<>();

	public TriageQueue(DaoRegistry daoRegistry, String configured) {
		this.daoRegistry = daoRegistry;
		this.configured = configured == null || configured.isBlank() ? null : configured.trim();
	}

	@Override
	public void run(ApplicationArguments args) {
		if (configured != null) {
			if (exists(configured)) {
				return;
			}
			// the deployment's queue is missing (not yet recorded, or deleted): alerts still get an owner meanwhile
			log.warn("nssi.escalation.fallback-owner {} does not exist: escalation Tasks with no other owner go to the built-in clinical triage queue until it does",
					configured);
		}
		try {
			log.info("Escalation fallback owner: {} (built-in; set nssi.escalation.fallback-owner to the deployment's staffed triage queue)", builtInQueue());
		} catch (RuntimeException e) {
			// another node starting at the same moment made it first (the conditional create's unique row): found
			// by the next alert that needs it; never a reason to fail startup
			log.warn("Built-in clinical triage queue not made at startup ({}): made or found when first needed", e.getClass().getSimpleName());
		}
	}

	/** Who owns an escalation Task no one else can be found for: the configured queue if it exists, else the built-in one. */
	public Reference owner() {
		if (configured != null && exists(configured)) {
			return new Reference(configured);
		}
		return new Reference(builtInQueue());
	}

	/** {@code Organization/<id>} of the built-in queue, made if missing. */
	String builtInQueue() {
		String known = builtIn.get();
		if (known != null && exists(known)) {
			return known;
		}
		Organization queue = new Organization();
		queue.addIdentifier().setSystem(IDENTIFIER_SYSTEM).setValue(IDENTIFIER_VALUE);
		queue.setActive(true);
		queue.setName(NAME);
		queue.getMeta().addTag(SYSTEM_MADE_TAG_SYSTEM, "triage-queue",
				"Made by the server: owner of escalation Tasks for people with no care team, GP or organisation recorded");
		DaoMethodOutcome outcome = daoRegistry.getResourceDao(Organization.class).create(queue,
				"identifier=" + UrlUtil.escapeUrlParam(IDENTIFIER_SYSTEM) + "|" + IDENTIFIER_VALUE, new SystemRequestDetails());
		String id = "Organization/" + outcome.getId().getIdPart();
		if (Boolean.TRUE.equals(outcome.getCreated())) {
			log.info("Made the built-in clinical triage queue {}", id);
		}
		if (!TransactionSynchronizationManager.isActualTransactionActive()) {
			builtIn.set(id);
		}
		return id;
	}

	private boolean exists(String reference) {
		IdType id = new IdType(reference);
		try {
			daoRegistry.getResourceDao(id.getResourceType()).read(id, new SystemRequestDetails());
			return true;
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			return false;
		}
	}
}
