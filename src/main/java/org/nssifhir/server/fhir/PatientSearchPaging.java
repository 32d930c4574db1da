package org.nssifhir.server.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.entity.Search;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.model.api.IQueryParameterType;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.SearchTotalModeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import ca.uhn.fhir.rest.server.util.ICachedSearchDetails;
import java.util.List;
import java.util.Objects;

/**
 * A search about one patient (the timeline, a patient app's own records) is answered in HAPI's offset mode: the page
 * is read synchronously and its next link repeats the search with {@code _offset}, instead of HAPI storing a search
 * snapshot (a row per search and per result, written in a transaction of its own) for {@code _getpages} links.
 * Issue 21 measured that snapshot as about a third of the timeline's p95. One patient's records are few enough for a
 * page to be read again at its offset; searches across patients keep HAPI's snapshots (their pages are re-checked
 * by the access policy as before).
 *
 * <p>Each page is then an ordinary search by whoever follows the link, so it passes every check of the pipeline for
 * that caller. HAPI gives no total in offset mode unless asked; a client that did not choose {@code _total} gets an
 * accurate one (a count over one patient's index rows), as it did from a snapshot.
 *
 * <p>A storage hook (HAPI calls it from its search coordinator), applied only to the search a client asked for over
 * the REST API: the server's own searches, also those made while serving a client, choose their mode themselves
 * and must never be cut to a page.
 */
@Interceptor
public class PatientSearchPaging {

	private static final List<String> PATIENT_PARAMETERS = List.of("patient", "subject");

	private final int defaultPageSize;

	public PatientSearchPaging(int defaultPageSize) {
		this.defaultPageSize = defaultPageSize;
	}

	@Hook(Pointcut.STORAGE_PRESEARCH_REGISTERED)
	public void beforeSearch(SearchParameterMap map, RequestDetails request, ICachedSearchDetails search) {
		if (!theClientsOwnSearch(request, search)
				|| map.getEverythingMode() != null || map.isLoadSynchronous() || map.getOffset() != null || !aboutOnePatient(map)) {
			return;
		}
		map.setOffset(0);
		if (map.getCount() == null) {
			map.setCount(defaultPageSize);
		}
		if (map.getSearchTotalMode() == null) {
			map.setSearchTotalMode(SearchTotalModeEnum.ACCURATE);
		}
	}

	private static boolean theClientsOwnSearch(RequestDetails request, ICachedSearchDetails search) {
		return request instanceof ServletRequestDetails
				&& request.getRestOperationType() == RestOperationTypeEnum.SEARCH_TYPE
				&& search instanceof Search stored
				&& Objects.equals(stored.getResourceType(), request.getResourceName());
	}

	/** Exactly one patient named by {@code patient} or {@code subject} (a subject may be another type: then it is not). */
	static boolean aboutOnePatient(SearchParameterMap map) {
		int patients = 0;
		for (String name : PATIENT_PARAMETERS) {
			List<List<IQueryParameterType>> and = map.get(name);
			if (and == null || and.isEmpty()) {
				continue;
			}
			for (List<IQueryParameterType> or : and) {
				if (or.size() != 1 || !(or.get(0) instanceof ReferenceParam reference) || !namesAPatient(name, reference)) {
					return false;
				}
				patients++;
			}
		}
		return patients > 0;
	}

	private static boolean namesAPatient(String parameter, ReferenceParam reference) {
		if (reference.getChain() != null || reference.getMissing() != null || reference.getValue() == null || reference.getValue().isBlank()) {
			return false;
		}
		String type = reference.getResourceType();
		if (type != null) {
			return "Patient".equals(type);
		}
		// patient=123 names a Patient by definition; a bare subject=123 may name a Group or a Device
		return "patient".equals(parameter) && reference.getValue().indexOf('/') < 0;
	}
}
