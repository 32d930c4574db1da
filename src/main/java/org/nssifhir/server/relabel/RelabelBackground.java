package org.nssifhir.server.relabel;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;

/**
 * What runs without a request: once the server is ready, the relabelling job if the labelling rules changed
 * ({@link RelabelService#startIfRulesChanged()}); then, on each node, the sweep that queues again the work chunks of
 * a lost node ({@link RelabelService#requeueStaleChunks}), so a job resumes where it stopped after a kill.
 */
class RelabelBackground implements ApplicationListener<ApplicationReadyEvent> {

	private static final Logger log = LoggerFactory.getLogger(RelabelBackground.class);

	private final RelabelService relabel;
	private final RelabelProperties properties;
	private ScheduledExecutorService scheduler;

	RelabelBackground(RelabelService relabel, RelabelProperties properties) {
		this.relabel = relabel;
		this.properties = properties;
	}

	@Override
	public void onApplicationEvent(ApplicationReadyEvent event) {
		if (properties.onRulesChange()) {
			try {
				relabel.startIfRulesChanged();
			} catch (RuntimeException e) {
				// the server still serves (every new write is labelled); the next start tries again
				log.warn("Relabelling job not started at startup: {}", e.getClass().getSimpleName());
			}
		}
		Duration stale = properties.staleChunkAfter();
		long every = Math.max(5_000, stale.toMillis() / 2);
		scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
			Thread t = new Thread(r, "nssi-relabel-resume");
			t.setDaemon(true);
			return t;
		});
		// first sweep soon after startup: a node restarted after a kill picks its lost chunks up at once once stale
		scheduler.scheduleWithFixedDelay(this::sweep, Math.min(every, 10_000), every, TimeUnit.MILLISECONDS);
	}

	private void sweep() {
		try {
			relabel.requeueStaleChunks(properties.staleChunkAfter());
		} catch (RuntimeException e) {
			log.warn("Relabelling resume sweep failed: {}", e.getClass().getSimpleName());
		}
	}

	void stop() {
		if (scheduler != null) {
			scheduler.shutdownNow();
		}
	}
}
