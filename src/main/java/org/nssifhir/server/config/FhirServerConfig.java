package org.nssifhir.server.config;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.ValueSetOperationProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.CorsInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import java.util.List;
import org.nssifhir.server.audit.AuditEventWriter;
import org.nssifhir.server.audit.OperationAndHistoryAuditor;
import org.nssifhir.server.audit.RefusedAccessAuditor;
import org.nssifhir.server.audit.SmartAuditContext;
import org.nssifhir.server.bulk.BulkExportConfig;
import org.nssifhir.server.fhir.CapabilityStatementInterceptor;
import org.nssifhir.server.fhir.ErrorLoggingInterceptor;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.fhir.IfMatchPreconditionInterceptor;
import org.nssifhir.server.limits.RequestLimitsInterceptor;
import org.nssifhir.server.security.SmartAuthorizationInterceptor;
import org.nssifhir.server.security.SmartSearchNarrowingInterceptor;
import org.nssifhir.server.security.consent.SensitiveDataConsentService;
import org.nssifhir.server.security.policy.AccessPolicyInterceptor;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.web.cors.CorsConfiguration;

/** The FHIR REST endpoint at {@code /fhir}: HAPI's RestfulServer with the JPA resource providers. */
@Configuration(proxyBeanMethods = false)
public class FhirServerConfig {

	public static final String FHIR_PATH = "/fhir";

	@Bean
	public RestfulServer restfulServer(
			FhirContext fhirContext,
			IFhirSystemDao<?, ?> systemDao,
			ResourceProviderFactory resourceProviderFactory,
			IJpaSystemProvider systemProvider,
			ValueSetOperationProvider valueSetOperationProvider,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			DatabaseBackedPagingProvider pagingProvider,
			List<FhirOperationProvider> operationProviders,
			RequestPipeline pipeline,
			DaoRegistry daoRegistry,
			ServerAddress serverAddress) {
		// narratives are the client's business; generating them costs time on every write
		fhirContext.setNarrativeGenerator(new NullNarrativeGenerator());

		RestfulServer server = new RestfulServer(fhirContext);
		server.setServerName("NSSI FHIR Server");
		server.setImplementationDescription("NSSI FHIR Server (HAPI FHIR JPA, R4)");
		server.registerProviders(resourceProviderFactory.createProviders());
		server.registerProvider(systemProvider);
		server.registerProvider(valueSetOperationProvider);
		// every feature's operations ($populate, $extract, $nssi-summary, $apply, $nssi-progress, Bulk Data $export
		// ...): each feature declares its FhirOperationProvider beans in its own package
		operationProviders.forEach(provider -> server.registerProvider(provider.hapiProvider()));
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		server.setDefaultPrettyPrint(false);
		server.setPagingProvider(pagingProvider);

		JpaCapabilityStatementProvider capabilities = new CapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport, daoRegistry);
		capabilities.setImplementationDescription("NSSI FHIR Server");
		// not in the statement: per-type resource counts (they change with every write, cost a query, and volumes
		// are not public information) and HAPI's enumeration of every reference parameter of every type that
		// could point at a type (a third of the statement; the same facts are the other types' reference
		// searchParams). See fhir/CapabilityStatementInterceptor for the rest of what is trimmed.
		capabilities.setIncludeResourceCounts(false);
		capabilities.setRestResourceRevIncludesEnabled(false);
		server.setServerConformanceProvider(capabilities);

		// the configured address, or the fixed default: never the request's Host header (see ServerAddress)
		server.setServerAddressStrategy((servletContext, request) -> serverAddress.fhirBase());

		// the interceptors, in order, and the rule for what goes here and what on the storage service: RequestPipeline
		pipeline.registerWith(server);
		return server;
	}

	@Bean
	RequestPipeline requestPipeline(
			NssiProperties properties,
			BulkExportConfig.BulkExport bulkExport,
			RequestLimitsInterceptor limitsInterceptor,
			SmartSearchNarrowingInterceptor searchNarrowing,
			SmartAuthorizationInterceptor authorization,
			AccessPolicyInterceptor accessPolicy,
			SensitiveDataConsentService consentService,
			AuditEventWriter auditWriter,
			SmartAuditContext auditContext,
			OperationAndHistoryAuditor operationAuditor,
			RefusedAccessAuditor refusedAccessAuditor,
			CapabilityStatementInterceptor capabilityStatementInterceptor,
			ErrorLoggingInterceptor errorLoggingInterceptor,
			IfMatchPreconditionInterceptor ifMatchInterceptor) {
		CorsInterceptor cors = properties.cors().enabled() ? corsInterceptor(properties.cors().allowedOrigins()) : null;
		return new RequestPipeline(properties, bulkExport, limitsInterceptor, searchNarrowing, authorization, accessPolicy,
				consentService, auditWriter, auditContext, operationAuditor, refusedAccessAuditor, capabilityStatementInterceptor,
				errorLoggingInterceptor, ifMatchInterceptor, cors);
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer restfulServer) {
		ServletRegistrationBean<RestfulServer> registration =
				new ServletRegistrationBean<>(restfulServer, FHIR_PATH + "/*");
		registration.setName("fhir");
		// initialise HAPI at startup, not on the first request
		registration.setLoadOnStartup(1);
		return registration;
	}

	/** Our CORS configuration of HAPI's interceptor (package-private for CorsInterceptorTest). */
	static CorsInterceptor corsInterceptor(List<String> origins) {
		CorsConfiguration config = new CorsConfiguration();
		origins.forEach(config::addAllowedOriginPattern);
		config.setAllowedHeaders(List.of(
				HttpHeaders.ORIGIN,
				HttpHeaders.ACCEPT,
				HttpHeaders.CONTENT_TYPE,
				HttpHeaders.AUTHORIZATION,
				HttpHeaders.CACHE_CONTROL,
				HttpHeaders.IF_MATCH,
				HttpHeaders.IF_NONE_MATCH,
				"If-None-Exist",
				"Prefer"));
		config.setExposedHeaders(List.of(HttpHeaders.LOCATION, HttpHeaders.CONTENT_LOCATION, HttpHeaders.ETAG));
		config.setAllowedMethods(List.of("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"));
		config.setAllowCredentials(false);
		return new CorsInterceptor(config);
	}
}
