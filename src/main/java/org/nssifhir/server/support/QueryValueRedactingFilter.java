package org.nssifhir.server.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.regex.Pattern;
import org.slf4j.Marker;
import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.MessageFormatter;

/**
 * The last line of defence against query values in the log, whoever logs them (HAPI, Spring, Tomcat, our code): a
 * search string or a conditional match URL can say what was looked for, or identify a patient. Every log event that
 * passes its logger's level is checked; one whose message (or exception message) contains a query string
 * ({@code ?name=value...}) or a match URL in brackets ({@code match URL [identifier=...]}, HAPI's form) is dropped and
 * logged again, by the same logger at the same level, with those values replaced by {@code [redacted]}. The known
 * offenders are also silenced by level in application.yaml; this catches the ones nobody has found yet.
 */
public final class QueryValueRedactingFilter extends TurboFilter {

	static final String REDACTED = "[redacted]";

	/** A query string: '?' then at least one name=value, up to whitespace, a quote or a bracket. */
	private static final Pattern QUERY = Pattern.compile("\\?[^\\s\"'<>\\[\\]()]*=[^\\s\"'<>\\[\\]()]*");
	/**
	 * Bracketed URLs and values: HAPI's "match URL [...]", "URL[...]", "criteria [...]", Tomcat's "request target [...]"
	 * and "Parameter [...] with value [...]".
	 */
	private static final Pattern BRACKETED_URL = Pattern.compile("(?i)((?:url|criteria|target|value)\\s*\\[)[^\\]]*(\\])");

	private static final ThreadLocal<Boolean> RELOGGING = ThreadLocal.withInitial(() -> false);

	@Override
	public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
		if (format == null || RELOGGING.get() || !level.isGreaterOrEqual(logger.getEffectiveLevel())) {
			return FilterReply.NEUTRAL;
		}
		FormattingTuple formatted = MessageFormatter.arrayFormat(format, params);
		Throwable throwable = t != null ? t : formatted.getThrowable();
		String message = formatted.getMessage();
		boolean messageQuotes = quotes(message);
		boolean throwableQuotes = throwableQuotes(throwable);
		if (!messageQuotes && !throwableQuotes) {
			return FilterReply.NEUTRAL;
		}
		RELOGGING.set(true);
		try {
			logger.log(marker, Logger.class.getName(), Level.toLocationAwareLoggerInteger(level), redact(message), null,
					throwableQuotes ? RedactedThrowable.of(throwable, 0) : throwable);
		} finally {
			RELOGGING.set(false);
		}
		return FilterReply.DENY;
	}

	static boolean quotes(String text) {
		return text != null && (QUERY.matcher(text).find() || BRACKETED_URL.matcher(text).find());
	}

	static String redact(String text) {
		if (text == null) {
			return null;
		}
		String out = BRACKETED_URL.matcher(text).replaceAll("$1" + REDACTED + "$2");
		return QUERY.matcher(out).replaceAll("?" + REDACTED);
	}

	private static boolean throwableQuotes(Throwable throwable) {
		for (Throwable c = throwable; c != null; c = c.getCause() == c ? null : c.getCause()) {
			if (quotes(c.getMessage())) {
				return true;
			}
		}
		return false;
	}

	/** Stands in for an exception whose message quotes query values: its class, redacted message and stack trace. */
	static final class RedactedThrowable extends RuntimeException {

		private RedactedThrowable(String message, StackTraceElement[] stack, Throwable cause) {
			super(message, cause, false, true);
			setStackTrace(stack);
		}

		static Throwable of(Throwable t, int depth) {
			if (t == null || depth > 20) {
				return null;
			}
			Throwable cause = t.getCause() == t ? null : of(t.getCause(), depth + 1);
			return new RedactedThrowable(t.getClass().getName() + ": " + redact(t.getMessage()), t.getStackTrace(), cause);
		}
	}
}
