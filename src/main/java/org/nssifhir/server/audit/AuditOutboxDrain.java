package org.nssifhir.server.audit;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.executor.InterceptorService;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.subscription.match.registry.SubscriptionRegistry;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Turns the rows of the audit outbox ({@link AuditOutbox}) into AuditEvent resources, a batch per transaction, and
 * deletes each row in the transaction that stores its resource, so every event is stored exactly once.
 * {@link AuditDrainThreads} calls it in the background; tests and shutdown call {@link #awaitDrained}.
 *
 * <p>Several drain threads, and several server nodes, drain the same table safely: rows are claimed with
 * {@code FOR UPDATE SKIP LOCKED}. Rows left by a stopped node are drained by the next drain on any node. A row whose
 * content is refused stays, with its attempts and the error's class (never its content), logged at ERROR by id; the
 * others go on. A record naming something deleted between the access and the drain is stored with that name as an
 * identifier instead of a reference: see {@code unlinkGone}.
 */
@Component
public class AuditOutboxDrain {

	private static final Logger log = LoggerFactory.getLogger(AuditOutboxDrain.class);
	/**
	 * Records stored per transaction. Small on purpose: every query HAPI runs while storing one AuditEvent makes
	 * Hibernate dirty-check everything the transaction has stored so far, so the cost per record grows with the
	 * batch. Measured at a million Observations with one drain thread: batches of 200 drained 27 records/s, most of
	 * the time in that checking; batches of 20, 54 records/s.
	 */
	static final int BATCH = 20;
	/** Identifier system of a reference kept as text because its target was gone when the record was stored. */
	static final String UNLINKED_SYSTEM = "urn:nssi-fhir:audit-reference";
	/**
	 * After this many refusals of its content (never counted for database or connection failures) a row is left in
	 * the table, logged at ERROR, instead of being retried on every drain.
	 */
	static final int MAX_ATTEMPTS = 5;
	private static final Pattern HAPI_CODE = Pattern.compile("HAPI-\\d+");

	/** Hooks for the drain's own requests only (HAPI calls them besides the server's global ones). */
	private final InterceptorService drainInterceptors = new InterceptorService("audit-drain");
	private final JdbcTemplate jdbc;
	private final TransactionTemplate transaction;
	private final DaoRegistry daoRegistry;
	private final FhirContext fhirContext;
	/** Set while the drain threads stop: the one-by-one retry gives up early. */
	private volatile boolean stopping;

	public AuditOutboxDrain(DataSource dataSource, PlatformTransactionManager transactionManager, DaoRegistry daoRegistry,
			FhirContext fhirContext, ObjectProvider<SubscriptionRegistry> subscriptions) {
		drainInterceptors.registerInterceptor(new AuditSubscriptionFilter(subscriptions));
		this.jdbc = new JdbcTemplate(dataSource);
		this.transaction = new TransactionTemplate(transactionManager);
		this.daoRegistry = daoRegistry;
		this.fhirContext = fhirContext;
	}

	/**
	 * Stores one batch of waiting events as AuditEvent resources; returns how many were stored. A batch that fails is
	 * retried one event per transaction, so one bad row does not hold up the rest.
	 */
	int drainOnce() {
		try {
			Integer stored = transaction.execute(status -> {
				List<Long> ids = new ArrayList<>();
				List<String> events = new ArrayList<>();
				jdbc.query("SELECT id, event FROM nssi_audit_outbox WHERE attempts < ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
						row -> {
							ids.add(row.getLong(1));
							events.add(row.getString(2));
						}, MAX_ATTEMPTS, BATCH);
				events.forEach(event -> store(parse(event)));
				delete(ids);
				return ids.size();
			});
			return stored == null ? 0 : stored;
		} catch (RuntimeException batchFailed) {
			return drainOneByOne();
		}
	}

	private int drainOneByOne() {
		List<Long> ids = jdbc.queryForList("SELECT id FROM nssi_audit_outbox WHERE attempts < ? ORDER BY id LIMIT ?", Long.class, MAX_ATTEMPTS, BATCH);
		int stored = 0;
		for (long id : ids) {
			if (stopping) {
				break;
			}
			try {
				stored += storeRow(id, false) ? 1 : 0;
			} catch (ResourceVersionConflictException concurrent) {
				// a conflict with a concurrent write (another drain thread or node): not the row's fault, retried
				throw concurrent;
			} catch (InvalidRequestException | UnprocessableEntityException | ResourceNotFoundException refused) {
				// what the event names was deleted between the access and now, and referential integrity is on:
				// keep the record, with those references as identifiers
				try {
					stored += storeRow(id, true) ? 1 : 0;
				} catch (ResourceVersionConflictException concurrent) {
					throw concurrent;
				} catch (BaseServerResponseException | DataFormatException e) {
					recordFailure(id, e);
				}
			} catch (BaseServerResponseException | DataFormatException e) {
				recordFailure(id, e);
			}
			// anything else (the database unreachable, a lock timeout, the pool exhausted) is not the row's fault:
			// it propagates, the row is not marked, and the next tick tries again
		}
		return stored;
	}

	/** Stores one row's event and deletes the row, in one transaction; false if another drain has taken it. */
	private boolean storeRow(long id, boolean unlink) {
		return Boolean.TRUE.equals(transaction.execute(status -> {
			List<String> event = jdbc.queryForList("SELECT event FROM nssi_audit_outbox WHERE id = ? FOR UPDATE SKIP LOCKED", String.class, id);
			if (event.isEmpty()) {
				return false;
			}
			AuditEvent audit = parse(event.get(0));
			store(unlink ? unlinkGone(audit) : audit);
			delete(List.of(id));
			return true;
		}));
	}

	private void recordFailure(long id, RuntimeException e) {
		// the class and HAPI's message code only: the message could quote the event's content
		Matcher code = HAPI_CODE.matcher(String.valueOf(e.getMessage()));
		String reason = e.getClass().getSimpleName() + (e instanceof BaseServerResponseException && code.lookingAt() ? " " + code.group() : "");
		log.error("Audit outbox row {} could not be stored as an AuditEvent ({}); attempt recorded", id, reason);
		jdbc.update("UPDATE nssi_audit_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?", reason, id);
	}

	private AuditEvent parse(String json) {
		return fhirContext.newJsonParser().parseResource(AuditEvent.class, json);
	}

	private void store(AuditEvent event) {
		daoRegistry.getResourceDao(AuditEvent.class).create(event, new SystemRequestDetails(drainInterceptors));
	}

	/**
	 * The event with each entity and agent reference whose target is no longer stored (deleted, or never was)
	 * replaced by an identifier holding the same reference; references that still resolve stay searchable.
	 */
	private AuditEvent unlinkGone(AuditEvent event) {
		List<Reference> references = new ArrayList<>();
		event.getEntity().forEach(entity -> references.add(entity.getWhat()));
		event.getAgent().forEach(agent -> references.add(agent.getWho()));
		for (Reference reference : references) {
			IdType target = new IdType(reference.getReference());
			if (reference.hasReference() && target.hasResourceType() && target.hasIdPart() && !stored(target)) {
				reference.setIdentifier(new Identifier().setSystem(UNLINKED_SYSTEM).setValue(reference.getReference()));
				reference.setReference(null);
			}
		}
		return event;
	}

	/** Read from HAPI's resource table, not through a DAO read: its read hooks would audit the drain itself. */
	private boolean stored(IdType target) {
		return Boolean.TRUE.equals(jdbc.queryForObject(
				"SELECT EXISTS (SELECT 1 FROM hfj_resource WHERE res_type = ? AND fhir_id = ? AND res_deleted_at IS NULL)",
				Boolean.class, target.getResourceType(), target.getIdPart()));
	}

	private void delete(List<Long> ids) {
		if (!ids.isEmpty()) {
			jdbc.update("DELETE FROM nssi_audit_outbox WHERE id = ANY (?)", (Object) ids.toArray(Long[]::new));
		}
	}

	/**
	 * Drains until every event recorded before this call is stored (or has failed for good), or the timeout passes;
	 * returns whether it got there. For shutdown, and for tests that read the audit trail right after a request.
	 */
	public boolean awaitDrained(Duration timeout) {
		Long last = jdbc.queryForObject("SELECT max(id) FROM nssi_audit_outbox", Long.class);
		long deadline = System.nanoTime() + timeout.toNanos();
		String lastFailure = null;
		while (last != null) {
			try {
				drainOnce();
			} catch (RuntimeException e) {
				// a conflict with a concurrent drain, or a database blip: the rows stay; try again until the deadline
				lastFailure = e.getClass().getSimpleName();
			}
			Boolean waiting = jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM nssi_audit_outbox WHERE id <= ? AND attempts < ?)",
					Boolean.class, last, MAX_ATTEMPTS);
			if (!Boolean.TRUE.equals(waiting)) {
				return true;
			}
			if (System.nanoTime() > deadline) {
				log.warn("Audit outbox not drained within {}{}", timeout, lastFailure == null ? "" : " (last attempt failed: " + lastFailure + ")");
				return false;
			}
			try {
				Thread.sleep(20);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				return false;
			}
		}
		return true;
	}

	void stopping(boolean stopping) {
		this.stopping = stopping;
	}
}
