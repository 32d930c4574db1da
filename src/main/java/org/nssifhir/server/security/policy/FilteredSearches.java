package org.nssifhir.server.security.policy;

/**
 * Search parameters a user whose results are filtered may not use (everyone but backend systems): filtering hides
 * what a search returns, not what it matched on, so criteria that look into other resources ({@code _has}, chained
 * parameters), match on labels ({@code _security}) or count ({@code _summary=count}, {@code _total=accurate}) could
 * tell a user that a hidden record exists; so could iterated includes, which follow the references of hidden records
 * (a Task pointing at a hidden episode brought back the episode's Patient). One list for direct searches and for the entries of a batch.
 */
public final class FilteredSearches {

	private FilteredSearches() {}

	public static boolean refused(String name, String value) {
		return name.endsWith(":iterate") || name.endsWith(":recurse") || name.startsWith("_has") || name.equals("_security") || name.startsWith("_security:") || name.contains(".")
				|| (name.equals("_summary") && "count".equals(value)) || (name.equals("_total") && "accurate".equals(value));
	}
}
