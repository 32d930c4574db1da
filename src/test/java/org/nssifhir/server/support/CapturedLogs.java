package org.nssifhir.server.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Every log line written by any thread while attached to the root logger. Audit writers and HAPI's search threads log
 * while the test reads, so {@link #lines()} copies under the lock every append holds ({@link AppenderBase#doAppend}
 * is synchronized on the appender); iterating logback's {@code ListAppender.list} directly failed CI with a
 * ConcurrentModificationException.
 */
public final class CapturedLogs extends AppenderBase<ILoggingEvent> implements AutoCloseable {

	private final List<ILoggingEvent> events = new ArrayList<>();
	private final Logger root;

	private CapturedLogs() {
		root = ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
	}

	/** Starts capturing from the root logger. */
	public static CapturedLogs attach() {
		CapturedLogs logs = new CapturedLogs();
		logs.start();
		logs.root.addAppender(logs);
		return logs;
	}

	@Override
	protected void append(ILoggingEvent event) {
		event.prepareForDeferredProcessing();
		events.add(event);
	}

	/** A copy of what was captured so far, safe while other threads still log. */
	public List<ILoggingEvent> lines() {
		synchronized (this) {
			return List.copyOf(events);
		}
	}

	@Override
	public void close() {
		root.detachAppender(this);
		stop();
	}
}
