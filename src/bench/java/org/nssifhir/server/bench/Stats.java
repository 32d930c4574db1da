package org.nssifhir.server.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Latency samples of one workload, in nanoseconds, and its wall-clock time. */
final class Stats {
	private final List<Long> samples = Collections.synchronizedList(new ArrayList<>());
	private long wallNanos;
	private long units;
	/** Seconds from the workload's last response until the audit outbox was empty (NaN: not measured). */
	double auditDrainSeconds = Double.NaN;

	void add(long nanos) {
		samples.add(nanos);
	}

	void finish(long wallNanos, long units) {
		this.wallNanos = wallNanos;
		this.units = units;
	}

	double perSecond() {
		return wallNanos == 0 ? 0 : units / (wallNanos / 1e9);
	}

	double percentileMillis(double p) {
		List<Long> sorted;
		synchronized (samples) {
			sorted = new ArrayList<>(samples);
		}
		if (sorted.isEmpty()) {
			return Double.NaN;
		}
		Collections.sort(sorted);
		int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
		return sorted.get(Math.max(0, Math.min(index, sorted.size() - 1))) / 1e6;
	}

	int count() {
		return samples.size();
	}
}
