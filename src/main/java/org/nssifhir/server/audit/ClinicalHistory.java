package org.nssifhir.server.audit;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.model.RequestPartitionId;
import ca.uhn.fhir.jpa.dao.HistoryBuilder;
import ca.uhn.fhir.jpa.dao.HistoryBuilderFactory;
import ca.uhn.fhir.jpa.model.dao.JpaPid;
import ca.uhn.fhir.jpa.model.entity.ResourceHistoryTable;
import ca.uhn.fhir.jpa.search.PersistedJpaBundleProviderFactory;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.param.HistorySearchStyleEnum;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import jakarta.persistence.EntityManager;
import jakarta.persistence.TypedQuery;
import jakarta.persistence.criteria.CriteriaBuilder;
import jakarta.persistence.criteria.CriteriaQuery;
import jakarta.persistence.criteria.Predicate;
import jakarta.persistence.criteria.Root;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.nssifhir.server.support.ErrorCode;

/**
 * System history ({@code GET /fhir/_history}) without the audit trail, and with {@code _type}, in the query: HAPI's
 * history query knows one resource type or all of them, and its system history ignores {@code _type}. About five in
 * six versions a busy server stores are AuditEvents, so filtering pages afterwards would leave them nearly empty.
 *
 * <ul>
 *   <li>{@link BundleProviderFactory} (primary over HAPI's): for system history, the request's {@code _type} (one or
 *       more types, comma-separated or repeated) becomes the history search's resource type, stored with the search
 *       so every page of it keeps the filter. One type is HAPI's own type history; several are kept as a sorted
 *       comma-separated list. {@code _type} naming AuditEvent, or an unknown type, is a 400.
 *   <li>{@link BuilderFactory} (primary over HAPI's): a history of no type (system history) or of a list of types is
 *       answered by {@link TypeFilteredHistoryBuilder}: the versions of the listed types, or of every type but
 *       AuditEvent, newest first, paged in the database.
 * </ul>
 * Privacy officers read the audit trail's history as {@code AuditEvent/_history} (one type: HAPI's own query) with an
 * audit scope.
 */
public final class ClinicalHistory {

	/** The column holding the search's resource type is 200 characters long. */
	static final int MAX_TYPES_LENGTH = 200;

	private ClinicalHistory() {}

	/** The {@code _type} of a system history request as HAPI's history search stores it, or null for "all clinical types". */
	static String requestedTypes(FhirContext fhirContext, RequestDetails request) {
		String[] values = request == null || request.getParameters() == null ? null : request.getParameters().get(Constants.PARAM_TYPE);
		if (values == null) {
			return null;
		}
		Set<String> types = new TreeSet<>();
		for (String value : values) {
			for (String type : value.split(",")) {
				if (!type.isBlank()) {
					types.add(type.trim());
				}
			}
		}
		for (String type : types) {
			if (ClinicalReadsInterceptor.AUDIT_EVENT.equals(type)) {
				throw new InvalidRequestException(ErrorCode.INVALID_PARAMETER.message(
						"System history does not include the audit trail: read AuditEvent/_history with an audit scope"));
			}
			if (!fhirContext.getResourceTypes().contains(type)) {
				throw new InvalidRequestException(ErrorCode.INVALID_PARAMETER.message(
						"_type names a resource type this server does not know: " + type.replaceAll("[^A-Za-z0-9]", "")));
			}
		}
		if (types.isEmpty()) {
			return null;
		}
		String joined = String.join(",", types);
		if (joined.length() > MAX_TYPES_LENGTH) {
			throw new InvalidRequestException(ErrorCode.INVALID_PARAMETER.message(
					"_type on system history lists at most " + MAX_TYPES_LENGTH + " characters of type names"));
		}
		return joined;
	}

	/** HAPI's bundle provider factory, except that system history takes the request's {@code _type}. */
	public static class BundleProviderFactory extends PersistedJpaBundleProviderFactory {

		private final FhirContext fhirContext;

		public BundleProviderFactory(FhirContext fhirContext) {
			this.fhirContext = fhirContext;
		}

		@Override
		public IBundleProvider history(
				RequestDetails request,
				String resourceType,
				JpaPid resourcePid,
				Date rangeStartInclusive,
				Date rangeEndInclusive,
				Integer offset,
				HistorySearchStyleEnum style,
				RequestPartitionId partitionId) {
			String type = resourceType;
			if (type == null && resourcePid == null) {
				type = requestedTypes(fhirContext, request);
			}
			return super.history(request, type, resourcePid, rangeStartInclusive, rangeEndInclusive, offset, style, partitionId);
		}
	}

	/** HAPI's history builder factory, except for system history and histories of several types. */
	public static class BuilderFactory extends HistoryBuilderFactory {

		private final EntityManager entityManager;

		public BuilderFactory(EntityManager entityManager) {
			this.entityManager = entityManager;
		}

		@Override
		public HistoryBuilder newHistoryBuilder(String resourceType, JpaPid resourceId, Date rangeStartInclusive, Date rangeEndInclusive) {
			if (resourceId == null && (resourceType == null || resourceType.contains(","))) {
				List<String> types = resourceType == null ? null : Arrays.asList(resourceType.split(","));
				return new TypeFilteredHistoryBuilder(entityManager, types, rangeStartInclusive, rangeEndInclusive);
			}
			return super.newHistoryBuilder(resourceType, resourceId, rangeStartInclusive, rangeEndInclusive);
		}
	}

	/**
	 * The versions of the listed types (or, with no list, of every type but AuditEvent) in a date range, newest
	 * first, with the resource row fetched in the same query (it gives each version its id).
	 */
	static class TypeFilteredHistoryBuilder extends HistoryBuilder {

		private final EntityManager entityManager;
		private final List<String> types;
		private final Date start;
		private final Date end;

		TypeFilteredHistoryBuilder(EntityManager entityManager, List<String> types, Date start, Date end) {
			super(null, (JpaPid) null, start, end);
			this.entityManager = entityManager;
			this.types = types;
			this.start = start;
			this.end = end;
		}

		@Override
		public Long fetchCount(RequestPartitionId partitionId) {
			CriteriaBuilder cb = entityManager.getCriteriaBuilder();
			CriteriaQuery<Long> query = cb.createQuery(Long.class);
			Root<ResourceHistoryTable> from = query.from(ResourceHistoryTable.class);
			query.select(cb.count(from)).where(conditions(cb, from));
			return entityManager.createQuery(query).getSingleResult();
		}

		@Override
		public List<ResourceHistoryTable> fetchEntities(
				RequestPartitionId partitionId, Integer offset, int fromIndex, int toIndex, HistorySearchStyleEnum style) {
			CriteriaBuilder cb = entityManager.getCriteriaBuilder();
			CriteriaQuery<ResourceHistoryTable> query = cb.createQuery(ResourceHistoryTable.class);
			Root<ResourceHistoryTable> from = query.from(ResourceHistoryTable.class);
			from.fetch("myResourceTable");
			query.select(from).where(conditions(cb, from))
					// versions written in one transaction share a timestamp: the resource id keeps pages stable
					.orderBy(cb.desc(from.get("myUpdated")), cb.desc(from.get("myResourceId")));
			TypedQuery<ResourceHistoryTable> typed = entityManager.createQuery(query);
			typed.setFirstResult(fromIndex + (offset == null ? 0 : offset));
			typed.setMaxResults(toIndex - fromIndex);
			return typed.getResultList();
		}

		private Predicate[] conditions(CriteriaBuilder cb, Root<ResourceHistoryTable> from) {
			List<Predicate> conditions = new ArrayList<>();
			if (types == null) {
				conditions.add(cb.notEqual(from.get("myResourceType"), ClinicalReadsInterceptor.AUDIT_EVENT));
			} else {
				conditions.add(from.get("myResourceType").in(types));
			}
			if (start != null) {
				conditions.add(cb.greaterThanOrEqualTo(from.get("myUpdated"), start));
			}
			if (end != null) {
				conditions.add(cb.lessThanOrEqualTo(from.get("myUpdated"), end));
			}
			return conditions.toArray(Predicate[]::new);
		}
	}
}
