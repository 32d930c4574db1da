package org.nssifhir.server.db;

import ca.uhn.fhir.jpa.dao.CacheTagDefinitionDao;
import ca.uhn.fhir.jpa.dao.data.ITagDefinitionDao;
import ca.uhn.fhir.jpa.model.entity.TagDefinition;
import ca.uhn.fhir.jpa.model.entity.TagTypeEnum;
import ca.uhn.fhir.jpa.util.MemoryCacheService;
import ca.uhn.fhir.rest.api.server.storage.TransactionDetails;
import jakarta.persistence.EntityManager;

/**
 * HAPI's tag definition lookup, with each database session given its own TagDefinition entity.
 *
 * <p>Why: HAPI 8.8's {@link CacheTagDefinitionDao} caches the managed TagDefinition entity that one session loaded
 * and hands that same object to every later request, on every thread. A Hibernate entity belongs to one session;
 * its lazy collections are bound to the session that loaded it. When two requests each pulled the shared entity into
 * their own session and flushed at the same time, Hibernate refused with "Illegal attempt to associate a collection
 * with two open sessions" (TagDefinition.myResourceVersions) and the write failed with a 500. Every labelled write
 * uses these definitions (the HTEST, BH, R and ADOL labels and the profile tags), so concurrent ingest met it:
 * {@code ConcurrentCohortLoadIT} reproduced it on the first run.
 *
 * <p>The cache still saves the search for the definition; this only swaps the shared object for the current
 * session's own, by primary key (from the session's first-level cache when it already holds it, else one indexed
 * read per definition per transaction). A definition the current session created or loaded itself is used as is.
 */
public class SessionLocalTagDefinitionDao extends CacheTagDefinitionDao {

	private final EntityManager entityManager;

	public SessionLocalTagDefinitionDao(ITagDefinitionDao tagDefinitionDao, MemoryCacheService memoryCacheService, EntityManager entityManager) {
		super(tagDefinitionDao, memoryCacheService);
		this.entityManager = entityManager;
	}

	@Override
	protected TagDefinition getTagOrNull(TransactionDetails transactionDetails, TagTypeEnum tagType, String scheme, String term,
			String label, String version, Boolean userSelected) {
		TagDefinition shared = super.getTagOrNull(transactionDetails, tagType, scheme, term, label, version, userSelected);
		if (shared == null || shared.getId() == null || entityManager.contains(shared)) {
			return shared;
		}
		TagDefinition own = entityManager.find(TagDefinition.class, shared.getId());
		if (own == null) {
			// HAPI never deletes tag definitions (only an expunge could): refuse rather than share the cached entity
			throw new IllegalStateException("Tag definition " + shared.getId() + " is cached but no longer stored");
		}
		return own;
	}
}
