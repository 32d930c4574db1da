package org.nssifhir.server.audit;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.nssifhir.server.settings.NssiProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Runs {@link AuditOutboxDrain} in the background: {@code nssi.audit.drain-threads} threads (each claims its own rows),
 * every {@link #INTERVAL} and without pause while there is a backlog; started before the web server takes requests,
 * stopped after it has finished them, with a last drain at shutdown.
 */
@Component
public class AuditDrainThreads implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(AuditDrainThreads.class);
	private static final Duration INTERVAL = Duration.ofMillis(200);

	private final AuditOutboxDrain drain;
	private final int drainThreads;
	private ScheduledExecutorService drainer;
	private final AtomicBoolean failing = new AtomicBoolean();
	private volatile boolean stopping;
	private volatile boolean ready;

	public AuditDrainThreads(AuditOutboxDrain drain, NssiProperties properties) {
		this.drainThreads = properties.audit().drainThreads();
		if (drainThreads * 2 > properties.db().maxPoolSize()) {
			// each drain thread holds a connection of the main pool for a whole batch: requests need the rest
			throw new IllegalStateException("nssi.audit.drain-threads (" + drainThreads + ") may use at most half of nssi.db.max-pool-size ("
					+ properties.db().maxPoolSize() + ")");
		}
		this.drain = drain;
	}

	@Override
	public synchronized void start() {
		stopping(false);
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
			while (drain.drainOnce() == AuditOutboxDrain.BATCH && !stopping) {
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

	private void stopping(boolean value) {
		stopping = value;
		drain.stopping(value);
	}

	@Override
	public synchronized void stop() {
		if (drainer == null) {
			return;
		}
		stopping(true);
		drainer.shutdown();
		try {
			if (!drainer.awaitTermination(10, TimeUnit.SECONDS)) {
				drainer.shutdownNow();
			}
			stopping(false);
			// what is left is safe in the table; storing it now only makes it searchable sooner
			drain.awaitDrained(Duration.ofSeconds(5));
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		} catch (RuntimeException e) {
			log.warn("Audit outbox not drained at shutdown ({}); the rows are kept for the next start", e.getClass().getSimpleName());
		}
		drainer = null;
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
