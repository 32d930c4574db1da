package org.nssifhir.server.config;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.IDaoRegistry;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.HibernatePropertiesProvider;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.config.util.ResourceCountCacheUtil;
import ca.uhn.fhir.jpa.dao.CacheTagDefinitionDao;
import ca.uhn.fhir.jpa.dao.FulltextSearchSvcImpl;
import ca.uhn.fhir.jpa.dao.IFulltextSearchSvc;
import ca.uhn.fhir.jpa.dao.data.ITagDefinitionDao;
import ca.uhn.fhir.jpa.dao.search.HSearchSortHelperImpl;
import ca.uhn.fhir.jpa.dao.search.IHSearchSortHelper;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect;
import ca.uhn.fhir.jpa.model.entity.StorageSettings;
import ca.uhn.fhir.jpa.provider.DaoRegistryResourceSupportedSvc;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.search.HapiHSearchAnalysisConfigurers;
import ca.uhn.fhir.jpa.search.IStaleSearchDeletingSvc;
import ca.uhn.fhir.jpa.search.StaleSearchDeletingSvcImpl;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.jpa.util.MemoryCacheService;
import ca.uhn.fhir.jpa.util.ResourceCountCache;
import ca.uhn.fhir.rest.api.IResourceSupportedSvc;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy;
import org.hibernate.cfg.AvailableSettings;
import org.hibernate.dialect.Dialect;
import org.hibernate.search.mapper.orm.cfg.HibernateOrmMapperSettings;
import org.nssifhir.server.db.SessionLocalTagDefinitionDao;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.orm.jpa.SharedEntityManagerCreator;

/**
 * HAPI FHIR JPA (R4) wiring: storage settings, the entity manager factory on PostgreSQL, and the small set of
 * beans HAPI expects the host application to provide. Modelled on hapi-fhir-jpaserver-starter, reduced to what
 * this server uses.
 */
@Configuration(proxyBeanMethods = false)
// SubscriptionChannelConfig provides the in-process message broker that HAPI's batch jobs also run on
@Import({
	JpaR4Config.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
	SubscriptionChannelConfig.class,
	ThreadPoolFactoryConfig.class
})
public class HapiJpaConfig {

	@Bean
	public JpaStorageSettings jpaStorageSettings(NssiProperties properties) {
		JpaStorageSettings settings = new JpaStorageSettings();
		// references must point at resources that exist, on write and on delete: no dangling clinical links
		settings.setEnforceReferentialIntegrityOnWrite(true);
		settings.setEnforceReferentialIntegrityOnDelete(true);
		settings.setAutoCreatePlaceholderReferenceTargets(false);
		settings.setAllowExternalReferences(false);
		// audit records of deletions name the deleted resource by this logical URN (see SmartAuditContext)
		settings.setTreatReferencesAsLogical(new HashSet<>(List.of("urn:nssi-fhir:deleted:*")));
		settings.setAllowMultipleDelete(false);
		settings.setDeleteExpungeEnabled(false);
		settings.setExpungeEnabled(false);
		// client-assigned ids must not be purely numeric, so they cannot collide with server-assigned ones
		settings.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ALPHANUMERIC);
		settings.setIndexMissingFields(StorageSettings.IndexEnabledEnum.DISABLED);
		// not the page size: bulk export's id-batch queries are synchronous and must not be cut short (HAPI-0464)
		settings.setFetchSizeDefaultMaximum(properties.fhir().maxSearchResults());
		settings.setMaximumIncludesToLoadPerPage(properties.limits().maxIncludedResourcesPerPage());
		// cached search results let paging links work; keep them briefly, they may hold sensitive ids
		settings.setReuseCachedSearchResultsForMillis(0L);
		settings.setExpireSearchResultsAfterMillis(60L * 60 * 1000);
		settings.setFilterParameterEnabled(false);
		settings.setAdvancedHSearchIndexing(false);
		settings.setHibernateSearchIndexFullText(false);
		// our CodeSystem (about 150 concepts) must be indexed at once, or $lookup/$subsumes/$expand lag behind the install
		settings.setDeferIndexingForCodesystemsOfSize(5000);
		// our package marks its resources draft (issue 19, item 10: no external code has been checked on a terminology
		// server); HAPI installs only active package resources unless this check is off. Our own package is the only one
		// installed (from the classpath, no registry), and SearchParameters stay active, since only active ones are enforced
		settings.setValidateResourceStatusForPackageUpload(false);
		// our ValueSets are small enumerations: expand in memory, no background pre-expansion job
		settings.setPreExpandValueSets(false);
		// bulk export: a job per request (a reused job would hand one client's files to another), files purged
		// after their retention period, small jobs finished without waiting for the once-a-minute maintenance pass
		settings.setEnableBulkExportJobReuse(false);
		settings.setEnableTaskBulkExportJobExecution(true);
		settings.setBulkExportFileRetentionPeriodHours(2);
		settings.setJobFastTrackingEnabled(true);
		settings.setStoreMetaSourceInformation(JpaStorageSettings.StoreMetaSourceInformationEnum.SOURCE_URI_AND_REQUEST_ID);
		return settings;
	}

	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	@Bean
	public SubscriptionSettings subscriptionSettings() {
		SubscriptionSettings settings = new SubscriptionSettings();
		// rest-hook only (see notification/NotificationConfig): EHRs are told of suicide-risk Flags and urgent Tasks
		// HAPI takes the DSTU2 model's enum here; named in full so it is not read as the R4 Subscription we store
		settings.addSupportedSubscriptionType(org.hl7.fhir.dstu2.model.Subscription.SubscriptionChannelType.RESTHOOK);
		return settings;
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			DataSource dataSource,
			SearchIndexState searchIndex) {
		LocalContainerEntityManagerFactoryBean factory =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		Map<String, Object> jpa = new HashMap<>();
		jpa.put(AvailableSettings.DIALECT, HapiFhirPostgresDialect.class.getName());
		// the schema belongs to HAPI's migration tasks (see DatabaseConfig), never to Hibernate
		jpa.put(AvailableSettings.HBM2DDL_AUTO, "none");
		jpa.put(AvailableSettings.SCANNER, "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		jpa.put(AvailableSettings.IMPLICIT_NAMING_STRATEGY, SpringImplicitNamingStrategy.class.getName());
		jpa.put(AvailableSettings.PHYSICAL_NAMING_STRATEGY, CamelCaseToUnderscoresNamingStrategy.class.getName());
		jpa.put(AvailableSettings.STATEMENT_BATCH_SIZE, "30");
		jpa.put(AvailableSettings.ORDER_INSERTS, "true");
		jpa.put(AvailableSettings.ORDER_UPDATES, "true");
		jpa.put(AvailableSettings.USE_QUERY_CACHE, "false");
		jpa.put(AvailableSettings.USE_SECOND_LEVEL_CACHE, "false");
		jpa.put(AvailableSettings.SHOW_SQL, "false");
		// Hibernate Search (Lucene) indexes terminology only: HAPI needs it for $expand with a filter and for
		// $subsumes on stored CodeSystems. Resource full-text indexing stays off (see jpaStorageSettings).
		jpa.put(HibernateOrmMapperSettings.ENABLED, "true");
		jpa.put("hibernate.search.backend.type", "lucene");
		jpa.put("hibernate.search.backend.analysis.configurer", HapiHSearchAnalysisConfigurers.HapiLuceneAnalysisConfigurer.class.getName());
		jpa.put("hibernate.search.backend.directory.type", "local-filesystem");
		jpa.put("hibernate.search.backend.directory.root", searchIndex.directory().toString());
		jpa.put("hibernate.search.backend.lucene_version", "LUCENE_CURRENT");
		jpa.put("hibernate.search.schema_management.strategy", "create-or-update");
		jpa.put("hibernate.search.indexing.plan.synchronization.strategy", "sync");
		factory.setPersistenceUnitName("HAPI_PU");
		factory.setJpaPropertyMap(jpa);
		factory.setDataSource(dataSource);
		return factory;
	}

	/** Looked at before the entity manager factory (and with it Hibernate Search) exists. */
	@Bean
	public SearchIndexState searchIndexState(NssiProperties properties) {
		return SearchIndexState.inspect(properties.searchIndexDir());
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		return new JpaTransactionManager(entityManagerFactory);
	}

	/**
	 * HAPI's tag definition lookup, but never handing one session's entity to another (see
	 * {@link SessionLocalTagDefinitionDao}); primary, so HAPI's DAOs, which autowire this type, get it.
	 */
	@Primary
	@Bean
	public CacheTagDefinitionDao sessionLocalTagDefinitionDao(ITagDefinitionDao tagDefinitionDao, MemoryCacheService memoryCacheService,
			EntityManagerFactory entityManagerFactory) {
		return new SessionLocalTagDefinitionDao(tagDefinitionDao, memoryCacheService,
				SharedEntityManagerCreator.createSharedEntityManager(entityManagerFactory));
	}

	/** Tells HAPI which SQL dialect is in use without asking the database. */
	@Primary
	@Bean
	public HibernatePropertiesProvider hibernatePropertiesProvider() {
		Dialect dialect = new HapiFhirPostgresDialect();
		return new HibernatePropertiesProvider() {
			@Override
			public Dialect getDialect() {
				return dialect;
			}
		};
	}

	@Bean
	public DatabaseBackedPagingProvider databaseBackedPagingProvider(NssiProperties properties) {
		DatabaseBackedPagingProvider paging = new DatabaseBackedPagingProvider();
		paging.setDefaultPageSize(properties.fhir().defaultPageSize());
		paging.setMaximumPageSize(properties.fhir().maxPageSize());
		return paging;
	}

	@Bean
	public IFulltextSearchSvc fullTextSearchSvc() {
		return new FulltextSearchSvcImpl();
	}

	@Bean
	public IHSearchSortHelper hSearchSortHelper(ISearchParamRegistry searchParamRegistry) {
		return new HSearchSortHelperImpl(searchParamRegistry);
	}

	@Bean
	public IStaleSearchDeletingSvc staleSearchDeletingSvc() {
		return new StaleSearchDeletingSvcImpl();
	}

	@Bean
	public IResourceSupportedSvc resourceSupportedSvc(IDaoRegistry daoRegistry) {
		return new DaoRegistryResourceSupportedSvc(daoRegistry);
	}

	@Bean(name = "myResourceCountsCache")
	public ResourceCountCache resourceCountsCache(IFhirSystemDao<?, ?> systemDao) {
		return ResourceCountCacheUtil.newResourceCountCache(systemDao);
	}
}
