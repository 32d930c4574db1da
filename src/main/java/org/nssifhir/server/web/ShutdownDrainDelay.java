package org.nssifhir.server.web;

import java.time.Duration;
import org.nssifhir.server.settings.NssiProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * On shutdown (SIGTERM), before the web server stops taking connections: readiness turns DOWN at once, and the
 * server keeps serving for {@code nssi.shutdown-drain-delay} so that a load balancer checking readiness stops sending
 * it requests first. Without the delay, a request the balancer sends in the moment Tomcat closes its connector is
 * answered by nobody (HAProxy reports a 502). Then the graceful shutdown proceeds as before: in-flight requests finish,
 * the audit outbox drain stops. Off (0) by default; the compose files set 5 s (HAProxy notices within about 3 s).
 */
@Component
public class ShutdownDrainDelay implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(ShutdownDrainDelay.class);

	private final ApplicationContext context;
	private final Duration delay;
	private volatile boolean running;

	public ShutdownDrainDelay(ApplicationContext context, NssiProperties properties) {
		this.context = context;
		this.delay = properties.shutdownDrainDelay();
	}

	@Override
	public void start() {
		running = true;
	}

	@Override
	public void stop() {
		running = false;
		if (delay.isZero() || delay.isNegative()) {
			return;
		}
		AvailabilityChangeEvent.publish(context, ReadinessState.REFUSING_TRAFFIC);
		log.info("Shutting down: readiness is DOWN; serving {} ms more while load balancers take this node out", delay.toMillis());
		try {
			Thread.sleep(delay.toMillis());
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	public boolean isRunning() {
		return running;
	}

	@Override
	public int getPhase() {
		// above the web server's graceful shutdown (DEFAULT_PHASE - 1024): stopped first
		return Integer.MAX_VALUE;
	}
}
