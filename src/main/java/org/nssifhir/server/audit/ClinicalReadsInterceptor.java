package org.nssifhir.server.audit;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.entity.Search;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.model.api.IQueryParameterType;
import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.server.IPreResourceAccessDetails;
import ca.uhn.fhir.rest.api.server.IPreResourceShowDetails;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.DateRangeParam;
import ca.uhn.fhir.rest.param.ParamPrefixEnum;
import ca.uhn.fhir.rest.param.StringAndListParam;
import ca.uhn.fhir.rest.param.StringOrListParam;
import ca.uhn.fhir.rest.param.StringParam;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.util.ICachedSearchDetails;
import ca.uhn.fhir.util.ResourceReferenceInfo;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Period;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.support.ErrorCode;

/**
 * Keeps the audit trail out of clinical reads, in the query itself (so a page holds clinical data, not the
 * AuditEvents the access policy would then drop), and adds what HAPI's {@code Patient/$everything} lacks.
 *
 * <p>Every AuditEvent names the patient whose record was touched ({@code entity.what}, and so HAPI's reference
 * index), which makes each one part of that patient's {@code $everything} and reverse includes: one more with every
 * read. Here, before a search runs ({@code STORAGE_PRESEARCH_REGISTERED}):
 * <ul>
 *   <li>{@code $everything} (instance and type): the resources that point at the patient are limited to every type
 *       but AuditEvent (HAPI's {@code _type}, a condition in the SQL; HAPI's includes of what they reference are
 *       kept). A {@code _type} naming AuditEvent is a 400: the audit trail is {@code AuditEvent?patient=…}.
 *   <li>{@code $everything} honours {@code _since}, {@code start} and {@code end}, which HAPI 8.8 ignores (its
 *       {@code $everything} query has no date condition at all, not even for {@code _lastUpdated}): checked on each
 *       page, with offset paging so every next link keeps them (a page can then hold fewer than {@code _count}).
 *   <li>A {@code _revinclude} of AuditEvents on a search of another type is dropped ({@code AuditEvent:…}) before
 *       the query; with {@code _revinclude=*}, which HAPI runs with no type condition, reverse-included AuditEvents
 *       are dropped as the page is loaded (they are extras: the page's own matches are unaffected).
 * </ul>
 * System history is kept free of AuditEvents by {@link ClinicalHistory}. Registered on HAPI's global interceptor
 * service: the server's own searches get the same answer as clients'.
 */
@Interceptor
public class ClinicalReadsInterceptor {

	static final String AUDIT_EVENT = "AuditEvent";

	private static final String EVERYTHING = "$everything";

	private final FhirContext fhirContext;
	private final Set<String> clinicalTypes;
	/** The largest synchronous $everything answer (the server's maximum page size). */
	private final int maxSynchronous;

	public ClinicalReadsInterceptor(FhirContext fhirContext, int maxSynchronous) {
		this.fhirContext = fhirContext;
		this.maxSynchronous = maxSynchronous;
		Set<String> types = new TreeSet<>(fhirContext.getResourceTypes());
		types.remove(AUDIT_EVENT);
		this.clinicalTypes = Set.copyOf(types);
	}

	@Hook(Pointcut.STORAGE_PRESEARCH_REGISTERED)
	public void beforeSearch(SearchParameterMap map, RequestDetails request, ICachedSearchDetails search) {
		if (map.getEverythingMode() != null) {
			everything(map, request);
		} else if (map.hasRevIncludes()) {
			// the map serves a synchronous search; a stored search's pages take the includes recorded with it
			map.getRevIncludes().removeIf(ClinicalReadsInterceptor::revIncludesAuditEvents);
			if (search instanceof Search stored) {
				stored.getIncludes().removeIf(include -> include.isReverse()
						&& include.getInclude() != null && include.getInclude().startsWith(AUDIT_EVENT + ":"));
			}
		}
	}

	private void everything(SearchParameterMap map, RequestDetails request) {
		List<List<IQueryParameterType>> requested = map.get(Constants.PARAM_TYPE);
		Set<String> types;
		if (requested == null || requested.isEmpty()) {
			types = clinicalTypes;
		} else {
			types = new TreeSet<>();
			for (List<IQueryParameterType> or : requested) {
				for (IQueryParameterType value : or) {
					for (String type : ((StringParam) value).getValue().split(",")) {
						types.add(type.trim());
					}
				}
			}
			if (types.contains(AUDIT_EVENT)) {
				throw new InvalidRequestException(ErrorCode.INVALID_PARAMETER.message("AuditEvent is not part of a patient's"
						+ " $everything: the audit trail is searched as AuditEvent?patient=... with an audit scope"));
			}
		}
		map.remove(Constants.PARAM_TYPE);
		map.add(Constants.PARAM_TYPE, new StringAndListParam().addAnd(new StringOrListParam().add(new StringParam(String.join(",", types)))));

		boolean seesAll = seesTheWholeCompartment(request);
		if (map.getOffset() != null && !seesAll) {
			// in offset mode HAPI takes the page from the whole compartment and the consent check removes hidden records
			// afterwards: an empty page at an offset told a clinician without a relationship (or a proxy) how many
			// hidden records there were and where (review s7, F2). A stored search is checked before it is paged.
			throw new InvalidRequestException(ErrorCode.INVALID_PARAMETER.message("_offset is not supported on $everything"
					+ " for this caller: page with the Bundle's next links"));
		}
		if (dateFilter(request) != null && map.getOffset() == null) {
			// HAPI's $everything query has no condition on dates (it ignores even _lastUpdated): the dates are checked
			// on each page (beforeAccess). Offset paging keeps them in every next link (a stored search's page links
			// would drop them), as HAPI's ForceOffsetSearchModeInterceptor does for all searches. For a caller from whom
			// records may be hidden, offset pages would count the hidden ones (above): one synchronous answer instead
			if (seesAll) {
				map.setOffset(0);
			} else {
				map.setLoadSynchronousUpTo(maxSynchronous);
			}
		}
	}

	/**
	 * {@code $everything} adds what the compartment's records reference (Practitioners, Organizations, Medications),
	 * chosen before the access check hides records: for a caller from whom records may be hidden, a resource only a
	 * hidden record points at told that it exists (an unrelated clinician saw the triage queue appear with a hidden
	 * suicide-risk alert, and the clinician a hidden support request named; review s8, F5). For such a caller a
	 * resource outside the patient's compartment is shown only where a record shown on the same page references it;
	 * anything else is read by its id.
	 */
	@Hook(Pointcut.STORAGE_PRESHOW_RESOURCES)
	public void beforeShow(IPreResourceShowDetails details, RequestDetails request) {
		if (request == null || !"$everything".equals(request.getOperation()) || seesTheWholeCompartment(request)) {
			return;
		}
		Set<String> referenced = new TreeSet<>();
		List<Integer> outside = new java.util.ArrayList<>();
		for (int i = 0; i < details.size(); i++) {
			IBaseResource resource = details.getResource(i);
			if (resource == null) {
				continue;
			}
			if (inSomePatientsCompartment(resource)) {
				for (ResourceReferenceInfo ref : fhirContext.newTerser().getAllResourceReferences(resource)) {
					IIdType target = ref.getResourceReference().getReferenceElement();
					if (target.hasResourceType() && target.hasIdPart()) {
						referenced.add(target.getResourceType() + "/" + target.getIdPart());
					}
				}
			} else {
				outside.add(i);
			}
		}
		for (int i : outside) {
			IBaseResource resource = details.getResource(i);
			if (!referenced.contains(fhirContext.getResourceType(resource) + "/" + resource.getIdElement().getIdPart())) {
				details.setResource(i, null);
			}
		}
	}

	private boolean inSomePatientsCompartment(IBaseResource resource) {
		String type = fhirContext.getResourceType(resource);
		return "Patient".equals(type) || !fhirContext.getResourceDefinition(resource).getSearchParamsForCompartmentName("Patient").isEmpty()
				&& !fhirContext.newTerser().getCompartmentOwnersForResource("Patient", resource, Set.of()).isEmpty();
	}

	/** Backend systems, the patient's own token and a server without security see every record of the compartment. */
	private static boolean seesTheWholeCompartment(RequestDetails request) {
		Optional<RequestIdentity> who = RequestIdentity.of(request);
		return who.isEmpty() || who.get().kind() == RequestIdentity.Kind.BACKEND
				|| (who.get().kind() == RequestIdentity.Kind.PATIENT && request.getId() != null
						&& who.get().ownPatient().map(request.getId().getIdPart()::equals).orElse(false));
	}

	/**
	 * {@code _since} (updated at or after), {@code start} and {@code end} (care dates) of {@code $everything}, on
	 * each page: resources outside them are not returned. The Patient itself always is; a resource with no care date
	 * (a CareTeam without a period) is kept when only {@code start}/{@code end} are given.
	 */
	@Hook(Pointcut.STORAGE_PREACCESS_RESOURCES)
	public void beforeAccess(IPreResourceAccessDetails details, RequestDetails request) {
		if (revIncludesIntoAnotherType(request)) {
			// _revinclude=* (HAPI has no type condition for it): the only AuditEvents such a page can hold are
			// reverse-included ones, and they are not part of a clinical search's answer
			for (int i = 0; i < details.size(); i++) {
				IBaseResource resource = details.getResource(i);
				if (resource != null && AUDIT_EVENT.equals(fhirContext.getResourceType(resource))) {
					details.setDontReturnResourceAtIndex(i);
				}
			}
		}
		DateFilter filter = dateFilter(request);
		if (filter == null) {
			return;
		}
		for (int i = 0; i < details.size(); i++) {
			IBaseResource resource = details.getResource(i);
			if (resource == null || "Patient".equals(fhirContext.getResourceType(resource))) {
				continue;
			}
			if (!filter.admits(fhirContext, resource)) {
				details.setDontReturnResourceAtIndex(i);
			}
		}
	}

	/** A search (or its page) of a type other than AuditEvent that asks for reverse includes. */
	private static boolean revIncludesIntoAnotherType(RequestDetails request) {
		if (request == null || request.getParameters() == null || !request.getParameters().containsKey(Constants.PARAM_REVINCLUDE)) {
			return false;
		}
		return request.getResourceName() != null && !AUDIT_EVENT.equals(request.getResourceName());
	}

	private static DateFilter dateFilter(RequestDetails request) {
		if (request == null || !EVERYTHING.equals(request.getOperation())) {
			return null;
		}
		String since = single(request, Constants.PARAM_SINCE);
		String start = single(request, "start");
		String end = single(request, "end");
		if (since == null && start == null && end == null) {
			return null;
		}
		try {
			Date sinceInstant = since == null ? null : new DateParam(since).getValue();
			Date low = start == null ? null : precisionRange(start).getLowerBoundAsInstant();
			Date high = end == null ? null : precisionRange(end).getUpperBoundAsInstant();
			return new DateFilter(sinceInstant, low, high);
		} catch (RuntimeException e) {
			throw new InvalidRequestException(ErrorCode.INVALID_PARAMETER.message("_since, start and end are FHIR dates"));
		}
	}

	/** The dates a page of {@code $everything} is held to. */
	record DateFilter(Date since, Date careStart, Date careEnd) {

		/** The elements that carry a resource's care date, the first one a type has. */
		private static final List<String> CARE_DATE_ELEMENTS = List.of(
				"effective", "onset", "performed", "occurrence", "period", "authoredOn", "recordedDate", "issued", "date", "created");

		boolean admits(FhirContext fhirContext, IBaseResource resource) {
			if (since != null) {
				Date updated = resource.getMeta().getLastUpdated();
				if (updated == null || updated.before(since)) {
					return false;
				}
			}
			if (careStart == null && careEnd == null) {
				return true;
			}
			Date[] care = careDates(fhirContext, resource);
			if (care == null) {
				return true;
			}
			return (careEnd == null || care[0] == null || !care[0].after(careEnd))
					&& (careStart == null || care[1] == null || !care[1].before(careStart));
		}

		/** {low, high} of the resource's care date (null = open), or null when it has none. */
		private static Date[] careDates(FhirContext fhirContext, IBaseResource resource) {
			var definition = fhirContext.getResourceDefinition(resource);
			for (String element : CARE_DATE_ELEMENTS) {
				var child = definition.getChildByName(element);
				if (child == null) {
					child = definition.getChildByName(element + "[x]");
				}
				if (child == null) {
					continue;
				}
				for (IBase value : child.getAccessor().getValues(resource)) {
					if (value instanceof BaseDateTimeType date && date.getValue() != null) {
						DateRangeParam range = precisionRange(date.getValueAsString());
						return new Date[] {range.getLowerBoundAsInstant(), range.getUpperBoundAsInstant()};
					}
					if (value instanceof Period period && (period.hasStart() || period.hasEnd())) {
						return new Date[] {period.getStart(), period.getEnd()};
					}
				}
			}
			return null;
		}
	}

	/** The instants a date covers at its precision: 2001 is the whole year, 2001-05-05 the whole day. */
	static DateRangeParam precisionRange(String date) {
		return new DateRangeParam(
				new DateParam(ParamPrefixEnum.GREATERTHAN_OR_EQUALS, date), new DateParam(ParamPrefixEnum.LESSTHAN_OR_EQUALS, date));
	}

	private static String single(RequestDetails request, String name) {
		if (request == null || request.getParameters() == null) {
			return null;
		}
		String[] values = request.getParameters().get(name);
		return values == null || values.length == 0 || values[0].isBlank() ? null : values[0];
	}

	/** {@code AuditEvent:patient}, {@code AuditEvent:*}, {@code AuditEvent:entity:Patient}… */
	private static boolean revIncludesAuditEvents(Include include) {
		return AUDIT_EVENT.equals(include.getParamType());
	}
}
