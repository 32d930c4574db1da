package org.nssifhir.server.audit;

import org.springframework.stereotype.Component;

/**
 * How far the audit trail lags behind: how many records wait in the outbox, how old the oldest is, how many were
 * refused for good. Asked on the outbox's own pool ({@link AuditOutboxPool}), so it answers while the main pool is
 * busy; {@link AuditOutboxHealth} reports it to operators.
 */
@Component
public class AuditOutboxBacklog {

	private final AuditOutboxPool pool;

	public AuditOutboxBacklog(AuditOutboxPool pool) {
		this.pool = pool;
	}

	/** How many records wait, how old the oldest is, how many were refused for good. */
	record Backlog(long waiting, double oldestSeconds, long refused) {}

	Backlog backlog() {
		int max = AuditOutboxDrain.MAX_ATTEMPTS;
		return pool.jdbc().queryForObject("""
				SELECT count(*) FILTER (WHERE attempts < ?),
				       coalesce(extract(epoch FROM now() - min(recorded_at) FILTER (WHERE attempts < ?)), 0),
				       count(*) FILTER (WHERE attempts >= ?)
				FROM nssi_audit_outbox""",
				(row, n) -> new Backlog(row.getLong(1), row.getDouble(2), row.getLong(3)), max, max, max);
	}

	/** Rows whose content was refused {@link AuditOutboxDrain#MAX_ATTEMPTS} times: records not in the searchable trail. */
	public long stuck() {
		return backlog().refused();
	}
}
