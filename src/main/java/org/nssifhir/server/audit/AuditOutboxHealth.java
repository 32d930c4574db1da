package org.nssifhir.server.audit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.function.ToDoubleFunction;
import org.nssifhir.server.audit.AuditOutboxBacklog.Backlog;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.stereotype.Component;

/**
 * How far the audit trail lags behind the accesses it records, for operators: Prometheus gauges
 * ({@code nssi_audit_outbox_waiting}, {@code nssi_audit_outbox_oldest_seconds}, {@code nssi_audit_outbox_refused})
 * and a health component {@code auditOutbox} (the bean name without its suffix). The component is DOWN when a record
 * was refused for good (it is not in the searchable trail until someone looks at it), the oldest waiting record is
 * older than {@link #LAG_LIMIT} (the drain is failing or cannot keep up), or the outbox cannot be asked. Readiness
 * does not include it: every access is still recorded durably, so taking the node out of service would not help.
 */
@Component("auditOutboxHealthIndicator")
public class AuditOutboxHealth extends AbstractHealthIndicator implements MeterBinder {

	static final Duration LAG_LIMIT = Duration.ofMinutes(5);
	/** Scrapes and health checks within this time share one query. */
	private static final long CACHE_NANOS = Duration.ofSeconds(2).toNanos();

	private final AuditOutboxBacklog outbox;
	/** The last answer, or the failure to get one (cached too, so a scrape during an outage asks once). */
	private volatile Object last;
	private volatile long lastAt;

	public AuditOutboxHealth(AuditOutboxBacklog outbox) {
		super("Audit outbox check failed");
		this.outbox = outbox;
	}

	Backlog backlog() {
		Object cached = last;
		if (cached == null || System.nanoTime() - lastAt >= CACHE_NANOS) {
			try {
				cached = outbox.backlog();
			} catch (RuntimeException e) {
				cached = e;
			}
			last = cached;
			lastAt = System.nanoTime();
		}
		if (cached instanceof RuntimeException e) {
			throw e;
		}
		return (Backlog) cached;
	}

	@Override
	protected void doHealthCheck(Health.Builder health) {
		Backlog backlog;
		try {
			backlog = backlog();
		} catch (RuntimeException e) {
			// the class only: this endpoint needs no login, and a database message can name hosts and users
			health.down().withDetail("error", e.getClass().getSimpleName());
			return;
		}
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
