package org.nssifhir.server.audit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.function.ToDoubleFunction;
import javax.sql.DataSource;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * How far the audit trail lags behind the accesses it records, for operators: Prometheus gauges
 * ({@code nssi_audit_outbox_waiting}, {@code nssi_audit_outbox_oldest_seconds}, {@code nssi_audit_outbox_refused})
 * and a health component {@code auditOutbox} (the bean name without its suffix). The component is DOWN when a record
 * was refused for good (it is not in the searchable trail until someone looks at it) or the oldest waiting record is
 * older than {@link #LAG_LIMIT} (the drain is failing or cannot keep up). Readiness does not include it: every access
 * is still recorded durably, so taking the node out of service would not help.
 */
@Component("auditOutboxHealthIndicator")
public class AuditOutboxHealth extends AbstractHealthIndicator implements MeterBinder {

	static final Duration LAG_LIMIT = Duration.ofMinutes(5);
	/** Scrapes and health checks within this time share one query. */
	private static final long CACHE_NANOS = Duration.ofSeconds(2).toNanos();

	/** One look at the outbox table. */
	record Backlog(long waiting, double oldestSeconds, long refused) {}

	private final JdbcTemplate jdbc;
	private volatile Backlog last;
	private volatile long lastAt;

	public AuditOutboxHealth(DataSource dataSource) {
		super("Audit outbox check failed");
		this.jdbc = new JdbcTemplate(dataSource);
	}

	Backlog backlog() {
		Backlog cached = last;
		if (cached != null && System.nanoTime() - lastAt < CACHE_NANOS) {
			return cached;
		}
		Backlog now = jdbc.queryForObject("""
				SELECT count(*) FILTER (WHERE attempts < ?),
				       coalesce(extract(epoch FROM now() - min(recorded_at) FILTER (WHERE attempts < ?)), 0),
				       count(*) FILTER (WHERE attempts >= ?)
				FROM nssi_audit_outbox""",
				(row, n) -> new Backlog(row.getLong(1), row.getDouble(2), row.getLong(3)),
				AuditOutbox.MAX_ATTEMPTS, AuditOutbox.MAX_ATTEMPTS, AuditOutbox.MAX_ATTEMPTS);
		last = now;
		lastAt = System.nanoTime();
		return now;
	}

	@Override
	protected void doHealthCheck(Health.Builder health) {
		Backlog backlog = backlog();
		boolean down = backlog.refused() > 0 || backlog.oldestSeconds() > LAG_LIMIT.toSeconds();
		(down ? health.down() : health.up())
				.withDetail("waiting", backlog.waiting())
				.withDetail("oldestWaitingSeconds", Math.round(backlog.oldestSeconds()))
				.withDetail("refused", backlog.refused());
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		gauge(registry, "nssi.audit.outbox.waiting", "Audit records not yet stored as AuditEvents", b -> b.waiting());
		gauge(registry, "nssi.audit.outbox.oldest.seconds", "Age of the oldest audit record not yet stored", Backlog::oldestSeconds);
		gauge(registry, "nssi.audit.outbox.refused", "Audit records whose content was refused for good", b -> b.refused());
	}

	private void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<Backlog> value) {
		// NaN while the database cannot be asked: a gap in the series, not a false zero
		Gauge.builder(name, this, health -> {
			try {
				return value.applyAsDouble(health.backlog());
			} catch (RuntimeException e) {
				return Double.NaN;
			}
		}).description(description).register(registry);
	}
}
