package org.nssifhir.server.audit;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.model.DeleteConflict;
import ca.uhn.fhir.jpa.api.model.DeleteConflictList;
import ca.uhn.fhir.jpa.delete.DeleteConflictOutcome;
import ca.uhn.fhir.jpa.model.entity.ResourceLink;
import ca.uhn.fhir.model.primitive.IdDt;
import jakarta.persistence.EntityManager;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Audit records point at what was accessed, and must outlive it: a reference from an AuditEvent never blocks the
 * deletion of the resource it names (otherwise, with referential integrity on, nothing that was ever read could be
 * deleted). Every other reference still does. Registered with HAPI's global interceptor service, where delete
 * conflicts are resolved.
 *
 * <p>Removing the AuditEvent conflicts from the list is not enough on its own. HAPI's {@code DeleteConflictService}
 * first asks the database for one conflict only ({@code FIRST_QUERY_RESULT_COUNT}); it asks again, for up to
 * {@code maximumDeleteConflictQueryCount} (60), only when a hook returns a {@link DeleteConflictOutcome} with a retry
 * count, and each retry runs the same unordered, unpaged query. That protocol assumes the hook deletes the conflicting
 * resources (cascading delete); AuditEvents are never deleted, so whenever the first 1 (or 60) links HAPI happens to
 * load are AuditEvents, the Observation behind them is never seen and the Patient is deleted from under it. So
 * whenever AuditEvent conflicts are dropped, this looks for the remaining ones itself: every link to the target whose
 * source is not an AuditEvent, in one query that skips the AuditEvents, however many there are.
 *
 * <p>The alternative, not indexing AuditEvent references at all, is not taken. HAPI offers no per-path switch for
 * the references it indexes ({@code enforceReferentialIntegrityOnDeleteDisableForPaths} is only read by
 * {@code $delete-expunge}, and {@code treatReferencesAsLogical} matches reference URLs, not paths); the only way is to
 * drop AuditEvent's reference search parameters, and with them the searches the audit trail exists for
 * ({@code AuditEvent?patient=}, {@code ?entity=}, {@code ?agent=}: who looked at this patient's record).
 */
@Interceptor
public class AuditReferencesInterceptor {

	private static final String AUDIT_EVENT = "AuditEvent";

	private final EntityManager entityManager;
	private final JpaStorageSettings storageSettings;

	public AuditReferencesInterceptor(EntityManager entityManager, JpaStorageSettings storageSettings) {
		this.entityManager = entityManager;
		this.storageSettings = storageSettings;
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_DELETE_CONFLICTS)
	public DeleteConflictOutcome ignoreAuditReferences(DeleteConflictList conflicts) {
		Set<IdDt> targets = new LinkedHashSet<>();
		for (DeleteConflict conflict : conflicts) {
			if (AUDIT_EVENT.equals(conflict.getSourceId().getResourceType())) {
				targets.add(conflict.getTargetId());
			}
		}
		if (targets.isEmpty()) {
			return null;
		}
		conflicts.removeIf(conflict -> AUDIT_EVENT.equals(conflict.getSourceId().getResourceType()));
		for (IdDt target : targets) {
			addOtherConflicts(conflicts, target);
		}
		// null: no retry. The list now holds every non-audit conflict HAPI would have found (up to its query limit)
		return null;
	}

	/** The links to the target from anything but an AuditEvent, added to the list as HAPI would add them. */
	private void addOtherConflicts(DeleteConflictList conflicts, IdDt target) {
		IdDt targetId = target.toUnqualifiedVersionless();
		List<ResourceLink> links = entityManager.createQuery(
						"SELECT l FROM ResourceLink l WHERE l.myTargetResource.myResourceType = :type"
								+ " AND l.myTargetResource.myFhirId = :id AND l.myTargetResourceVersion IS NULL"
								+ " AND l.mySourceResourceType <> :audit",
						ResourceLink.class)
				.setParameter("type", targetId.getResourceType())
				.setParameter("id", targetId.getIdPart())
				.setParameter("audit", AUDIT_EVENT)
				.setMaxResults(storageSettings.getMaximumDeleteConflictQueryCount())
				.getResultList();
		for (ResourceLink link : links) {
			IdDt sourceId = link.getSourceResource().getIdDt();
			boolean alreadyListed = false;
			for (DeleteConflict existing : conflicts) {
				alreadyListed |= existing.getSourceId().toUnqualifiedVersionless().getValue().equals(sourceId.toUnqualifiedVersionless().getValue())
						&& existing.getSourcePath().equals(link.getSourcePath());
			}
			// as HAPI: a reference between two resources that the same transaction deletes is no conflict
			boolean bothDeleted = conflicts.isResourceIdMarkedForDeletion(sourceId) && conflicts.isResourceIdMarkedForDeletion(target);
			if (!alreadyListed && !bothDeleted) {
				conflicts.add(new DeleteConflict(sourceId, link.getSourcePath(), target));
			}
		}
	}
}
