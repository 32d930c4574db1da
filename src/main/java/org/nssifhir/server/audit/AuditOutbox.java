package org.nssifhir.server.audit;

import ca.uhn.fhir.context.FhirContext;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.hl7.fhir.r4.model.AuditEvent;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The audit trail's durable outbox: records a request's AuditEvent as one row in {@code nssi_audit_outbox},
 * committed before the response: with the write it records (same transaction, so both commit or neither), or on a
 * connection of {@link AuditOutboxPool} for a read. {@link AuditOutboxDrain} turns the rows into AuditEvent
 * resources a moment later, {@link AuditDrainThreads} runs it in the background, {@link AuditOutboxBacklog} says how
 * far behind it is.
 *
 * <p>Why not store the AuditEvent resource in the request, as before: a HAPI create indexes some twenty search
 * parameters, tags and a history row, and for a read it needed a transaction of its own. With 8 clients on a million
 * Observations the benchmark measured a patient's read of their own record at 0.26x the unaudited baseline that way
 * and 0.39x with this outbox (serially: no change beyond noise). The price is that a new AuditEvent is searchable a
 * moment after the response: normally well under a second, seconds after a burst of writes.
 * (The record of a delete names what it deleted by a logical URN, {@link SmartAuditContext#DELETED_PREFIX}, so it
 * stores after the delete has committed.)
 */
@Component
public class AuditOutbox {

	private static final String INSERT = "INSERT INTO nssi_audit_outbox (event) VALUES (?)";

	private final HikariDataSource dataSource;
	private final JdbcTemplate jdbc;
	private final AuditOutboxPool pool;
	private final FhirContext fhirContext;

	public AuditOutbox(HikariDataSource dataSource, AuditOutboxPool pool, FhirContext fhirContext) {
		this.dataSource = dataSource;
		this.jdbc = new JdbcTemplate(dataSource);
		this.pool = pool;
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
		try (Connection connection = pool.connection()) {
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
}
