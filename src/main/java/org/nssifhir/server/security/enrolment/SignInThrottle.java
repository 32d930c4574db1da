package org.nssifhir.server.security.enrolment;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.nssifhir.server.security.policy.SecurityEventSink;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.authentication.event.AuthenticationFailureBadCredentialsEvent;
import org.springframework.security.authentication.event.AuthenticationSuccessEvent;
import org.springframework.security.web.authentication.WebAuthenticationDetails;

/**
 * Limits password guessing at the sign-in page, for every username (configured, enrolled or unknown alike, so a
 * pause tells nothing about who has an account):
 * <ul>
 *   <li>lockout: after {@code maxFailures} consecutive failures sign-in for that username is paused for
 *       {@code lockout} (in the database, so it holds across nodes and restarts); a success or a new password from
 *       an invitation clears it;
 *   <li>rate limit: more than {@code maxFailuresPerAddress} failures (sign-ins or unusable invitation links) from
 *       one client address within {@code addressWindow} refuse that address until the window has passed (per
 *       node, in memory: it slows guessing across usernames; the lockout is the hard limit).
 * </ul>
 */
public class SignInThrottle {

	private final JdbcTemplate jdbc;
	private final EnrolmentSettings settings;
	private final SecurityEventSink events;
	private final Clock clock;
	private final Map<String, Deque<Instant>> failuresByAddress = new ConcurrentHashMap<>();

	public SignInThrottle(JdbcTemplate jdbc, EnrolmentSettings settings, SecurityEventSink events, Clock clock) {
		this.jdbc = jdbc;
		this.settings = settings;
		this.events = events;
		this.clock = clock;
	}

	/** Whether sign-in for this username is paused now. */
	public boolean locked(String username) {
		if (username == null || username.isBlank()) {
			return false;
		}
		return !jdbc.queryForList("SELECT 1 FROM nssi_sign_in_failure WHERE username = ? AND locked_until > ?", Integer.class,
				key(username), Timestamp.from(clock.instant())).isEmpty();
	}

	/** Whether this client address has failed too often recently. */
	public boolean addressLimited(String address) {
		Deque<Instant> recent = failuresByAddress.get(address == null ? "" : address);
		if (recent == null) {
			return false;
		}
		synchronized (recent) {
			prune(recent);
			return recent.size() >= settings.maxFailuresPerAddress();
		}
	}

	/** A failure from an address that is not a password (an unusable invitation link). */
	public void addressFailed(String address) {
		Deque<Instant> recent = failuresByAddress.computeIfAbsent(address == null ? "" : address, a -> new ArrayDeque<>());
		synchronized (recent) {
			prune(recent);
			recent.addLast(clock.instant());
		}
	}

	void failed(String username, String address) {
		addressFailed(address);
		if (username == null || username.isBlank()) {
			return;
		}
		Instant now = clock.instant();
		String user = key(username);
		// one statement, so concurrent failures are all counted; a pause that has ended starts the count afresh
		Integer failures = jdbc.queryForObject("""
				INSERT INTO nssi_sign_in_failure AS f (username, failures, last_failure_at) VALUES (?, 1, ?)
				ON CONFLICT (username) DO UPDATE SET
				    failures = CASE WHEN f.locked_until IS NOT NULL AND f.locked_until <= EXCLUDED.last_failure_at THEN 1 ELSE f.failures + 1 END,
				    locked_until = CASE WHEN f.locked_until IS NOT NULL AND f.locked_until <= EXCLUDED.last_failure_at THEN NULL ELSE f.locked_until END,
				    last_failure_at = EXCLUDED.last_failure_at
				RETURNING failures""", Integer.class, user, Timestamp.from(now));
		if (ThreadLocalRandom.current().nextInt(100) == 0) {
			// now and then, forget usernames that failed long ago and are not paused (guessing at many names must not
			// grow the table for ever; a real person's count starts again after a day)
			jdbc.update("DELETE FROM nssi_sign_in_failure WHERE last_failure_at < ? AND (locked_until IS NULL OR locked_until < ?)",
					Timestamp.from(now.minus(Duration.ofDays(1))), Timestamp.from(now));
		}
		if (failures != null && failures == settings.maxFailures()) {
			jdbc.update("UPDATE nssi_sign_in_failure SET locked_until = ? WHERE username = ?", Timestamp.from(now.plus(settings.lockout())), user);
			events.accountEvent(user, "sign-in-paused", "username:" + user);
		}
	}

	/** Clears the failures of a username (a successful sign-in, a new password). */
	public void cleared(String username) {
		jdbc.update("DELETE FROM nssi_sign_in_failure WHERE username = ?", key(username));
	}

	/** Forgets the address counts (operators, and tests that exercise the limit). */
	public void resetAddresses() {
		failuresByAddress.clear();
	}

	@EventListener
	public void onFailure(AuthenticationFailureBadCredentialsEvent event) {
		if (event.getAuthentication() instanceof UsernamePasswordAuthenticationToken attempt) {
			failed(attempt.getName(), address(attempt.getDetails()));
		}
	}

	@EventListener
	public void onSuccess(AuthenticationSuccessEvent event) {
		if (event.getAuthentication() instanceof UsernamePasswordAuthenticationToken user) {
			cleared(user.getName());
		}
	}

	private static String address(Object details) {
		return details instanceof WebAuthenticationDetails web ? web.getRemoteAddress() : "";
	}

	private void prune(Deque<Instant> recent) {
		Instant since = clock.instant().minus(settings.addressWindow());
		while (!recent.isEmpty() && recent.peekFirst().isBefore(since)) {
			recent.removeFirst();
		}
	}

	private static String key(String username) {
		String lower = username.toLowerCase(Locale.ROOT);
		return lower.length() > 100 ? lower.substring(0, 100) : lower;
	}
}
