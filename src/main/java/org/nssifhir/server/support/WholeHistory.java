package org.nssifhir.server.support;

import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;

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

	/**
	 * Every resource a search found. Not {@code getAllResources()}: HAPI's synchronous search leaves the size unknown
	 * in some cases (it then means "maybe more"), and {@code getAllResources()} refuses an unknown size (HAPI-0464:
	 * seen in CI when a demo patient's plan was made); reading pages up to {@link #ALL} works either way.
	 */
	public static List<IBaseResource> all(IBundleProvider found) {
		Integer size = found.size();
		return found.getResources(0, size == null ? ALL : size);
	}
}
