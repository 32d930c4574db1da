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
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.settings.NssiProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The audit trail's durable outbox. A request's AuditEvent is one row in {@code nssi_audit_outbox}, committed before
 * the response: with the write it records (same transaction, so both commit or neither), or on its own connection
 * for a read. A background drain turns the rows into AuditEvent resources, a batch per transaction, and deletes
 * each row in the transaction that stores its resource, so every event is stored exactly once.
 *
 * <p>Why not store the AuditEvent resource in the request, as before: a HAPI create indexes some twenty search
 * parameters, tags and a history row, and for a read it needed a transaction of its own. With 8 clients on a million
 * Observations the benchmark measured a patient's read of their own record at 0.26x the unaudited baseline that way
 * and 0.39x with this outbox (serially: no change beyond noise). The price is that a new AuditEvent is searchable a
 * moment after the response: normally well under a second, seconds after a burst of writes.
 * (The record of a delete names what it deleted by a logical URN, {@link SmartAuditContext#DELETED_PREFIX}, so it
 * stores after the delete has committed. A record naming something deleted between the access and the drain is
 * stored with that name as an identifier instead of a reference: see {@code unlinkGone}.)
 *
 * <p>Records written outside a write's transaction go through a small pool of their own ({@code nssi.audit.pool-size}):
 * a synchronous search holds a connection of the main pool in its read-only transaction while its record is written,
 * and if that record needed a second connection from the same pool, more such searches at once than the pool holds
 * would all wait for each other until the pool's timeout. So no request waits on the main pool for its audit record,
 * and nothing holding an audit connection waits for any other connection.
 *
 * <p>Several drain threads ({@code nssi.audit.drain-threads}), and several server nodes, drain the same table safely:
 * rows are claimed with {@code FOR UPDATE SKIP LOCKED}. Rows left by a stopped node are drained by the next drain on
 * any node. A row whose content is refused stays, with its
 * attempts and the error's class (never its content), logged at ERROR by id; the others go on.
 */
@Component
public class AuditOutbox implements SmartLifecycle, DisposableBean {

	private static final Logger log = LoggerFactory.getLogger(AuditOutbox.class);
	private static final String INSERT = "INSERT INTO nssi_audit_outbox (event) VALUES (?)";
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
	private static final java.util.regex.Pattern HAPI_CODE = java.util.regex.Pattern.compile("HAPI-\\d+");
	private static final Duration INTERVAL = Duration.ofMillis(200);

	private final DataSource dataSource;
	/** Hooks for the drain's own requests only (HAPI calls them besides the server's global ones). */
	private final InterceptorService drainInterceptors = new InterceptorService("audit-drain");
	private final HikariDataSource ownConnections;
	/** For operators' questions about the backlog: on the outbox's own pool, so they answer while the main pool is busy. */
	private final JdbcTemplate ownJdbc;
	private final int drainThreads;
	private final JdbcTemplate jdbc;
	private final TransactionTemplate transaction;
	private final DaoRegistry daoRegistry;
	private final FhirContext fhirContext;
	private ScheduledExecutorService drainer;
	private final AtomicBoolean failing = new AtomicBoolean();
	private volatile boolean stopping;
	private volatile boolean ready;

	public AuditOutbox(HikariDataSource dataSource, PlatformTransactionManager transactionManager, DaoRegistry daoRegistry,
			FhirContext fhirContext, NssiProperties properties, ObjectProvider<SubscriptionRegistry> subscriptions) {
		drainInterceptors.registerInterceptor(new AuditSubscriptionFilter(subscriptions));
		this.drainThreads = properties.audit().drainThreads();
		if (drainThreads * 2 > properties.db().maxPoolSize()) {
			// each drain thread holds a connection of the main pool for a whole batch: requests need the rest
			throw new IllegalStateException("nssi.audit.drain-threads (" + drainThreads + ") may use at most half of nssi.db.max-pool-size ("
					+ properties.db().maxPoolSize() + ")");
		}
		this.dataSource = dataSource;
		// the same database and credentials as the main pool, fewer connections
		HikariConfig own = new HikariConfig();
		dataSource.copyStateTo(own);
		own.setPoolName("nssi-db-audit");
		own.setMaximumPoolSize(properties.audit().poolSize());
		own.setMinimumIdle(1);
		this.ownConnections = new HikariDataSource(own);
		this.ownJdbc = new JdbcTemplate(ownConnections);
		ownJdbc.setQueryTimeout(2);
		this.jdbc = new JdbcTemplate(dataSource);
		this.transaction = new TransactionTemplate(transactionManager);
		this.daoRegistry = daoRegistry;
		this.fhirContext = fhirContext;
	}

	/**
	 * Records the event durably before returning. Inside a read-write transaction (a write, and also HAPI's reads and
	 * paged searches, which run in one) the row joins it; otherwise (a synchronous search's read-only transaction, a
	 * sign-in, a refusal) it is committed on a connection of the outbox's own pool.
	 * Throws if the row cannot be stored: the request then fails, as no access may go unaudited.
	 */
	void enqueue(AuditEvent event) {
		boolean insideWrite = TransactionSynchronizationManager.isActualTransactionActive()
				&& !TransactionSynchronizationManager.isCurrentTransactionReadOnly();
		String json = fhirContext.newJsonParser().encodeResourceToString(event);
		if (insideWrite) {
			if (!TransactionSynchronizationManager.hasResource(dataSource)) {
				// the insert would run on a connection of its own and commit even if the write rolled back
				throw new IllegalStateException("The write's transaction does not expose its JDBC connection for the audit record");
			}
			jdbc.update(INSERT, json);
			return;
		}
		try (Connection connection = ownConnections.getConnection()) {
			boolean autoCommit = connection.getAutoCommit();
			connection.setAutoCommit(false);
			try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
				insert.setString(1, json);
				insert.executeUpdate();
				connection.commit();
			} catch (SQLException e) {
				connection.rollback();
				throw e;
			} finally {
				connection.setAutoCommit(autoCommit);
			}
		} catch (SQLException e) {
			throw new IllegalStateException("Could not record the audit event", e);
		}
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
		java.util.regex.Matcher code = HAPI_CODE.matcher(String.valueOf(e.getMessage()));
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

	/** How many records wait, how old the oldest is, how many were refused for good. */
	record Backlog(long waiting, double oldestSeconds, long refused) {}

	Backlog backlog() {
		return ownJdbc.queryForObject("""
				SELECT count(*) FILTER (WHERE attempts < ?),
				       coalesce(extract(epoch FROM now() - min(recorded_at) FILTER (WHERE attempts < ?)), 0),
				       count(*) FILTER (WHERE attempts >= ?)
				FROM nssi_audit_outbox""",
				(row, n) -> new Backlog(row.getLong(1), row.getDouble(2), row.getLong(3)), MAX_ATTEMPTS, MAX_ATTEMPTS, MAX_ATTEMPTS);
	}

	/** Rows whose content was refused {@link #MAX_ATTEMPTS} times: records not in the searchable trail. */
	public long stuck() {
		return backlog().refused();
	}

	@Override
	public synchronized void start() {
		stopping = false;
		AtomicInteger threads = new AtomicInteger();
		drainer = Executors.newScheduledThreadPool(drainThreads, r -> {
			Thread t = new Thread(r, "audit-outbox-" + threads.incrementAndGet());
			t.setDaemon(true);
			return t;
		});
		for (int i = 0; i < drainThreads; i++) {
			drainer.scheduleWithFixedDelay(this::drainBacklog, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
		}
	}

	/**
	 * The drain waits for the application to be ready: a backlog (left by a crash, or by a load that outran the drain)
	 * would otherwise compete on the CPU with the startup warm-up and delay readiness. Records written meanwhile are
	 * safe in the table.
	 */
	@EventListener(ApplicationReadyEvent.class)
	public void startDraining() {
		ready = true;
	}

	private void drainBacklog() {
		if (!ready) {
			return;
		}
		try {
			while (drainOnce() == BATCH && !stopping) {
				// a backlog: keep going without waiting for the next tick
			}
			if (failing.compareAndSet(true, false)) {
				log.info("Audit outbox drain recovered");
			}
		} catch (RuntimeException e) {
			// the database may be down: the rows stay, and the next tick tries again (logged once per outage)
			if (failing.compareAndSet(false, true)) {
				log.warn("Audit outbox drain failed ({}); retrying every {} ms", e.getClass().getSimpleName(), INTERVAL.toMillis());
			}
		}
	}

	@Override
	public synchronized void stop() {
		if (drainer == null) {
			return;
		}
		stopping = true;
		drainer.shutdown();
		try {
			if (!drainer.awaitTermination(10, TimeUnit.SECONDS)) {
				drainer.shutdownNow();
			}
			stopping = false;
			// what is left is safe in the table; storing it now only makes it searchable sooner
			awaitDrained(Duration.ofSeconds(5));
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		} catch (RuntimeException e) {
			log.warn("Audit outbox not drained at shutdown ({}); the rows are kept for the next start", e.getClass().getSimpleName());
		}
		drainer = null;
	}

	@Override
	public void destroy() {
		ownConnections.close();
	}

	@Override
	public synchronized boolean isRunning() {
		return drainer != null;
	}

	@Override
	public int getPhase() {
		// below the web server's phases (DEFAULT_PHASE - 1024 and - 2048): started before it takes requests, stopped
		// after it has finished them, so the last requests' records are drained too
		return SmartLifecycle.DEFAULT_PHASE - 4096;
	}
}
