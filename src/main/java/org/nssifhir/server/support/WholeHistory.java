package org.nssifhir.server.support;

import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;

/** Searches that must see a patient's whole history at once (summaries, pre-fill, escalation baselines). */
public final class WholeHistory {

	/**
	 * Far above 5 years of daily episodes. Without an explicit count HAPI caps a synchronous search at
	 * nssi.fhir.max-search-results, which would silently cut a history short.
	 */
	public static final int ALL = 100_000;

	private WholeHistory() {}

	/** A synchronous search map returning every match (up to {@link #ALL}) in one go. */
	public static SearchParameterMap search() {
		SearchParameterMap map = SearchParameterMap.newSynchronous();
		map.setCount(ALL);
		return map;
	}
}
