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
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentInterceptor;
import org.nssifhir.server.security.consent.DeletionSafeConsentInterceptor;
import org.nssifhir.server.security.consent.SensitiveDataConsentService;
import ca.uhn.fhir.rest.server.interceptor.CorsInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import java.util.List;
import ca.uhn.fhir.storage.interceptor.balp.BalpAuditCaptureInterceptor;
import org.nssifhir.server.assessment.ExtractOperationProvider;
import org.nssifhir.server.assessment.NssiSummaryProvider;
import org.nssifhir.server.assessment.PopulateOperationProvider;
import org.nssifhir.server.treatment.CarePlanProgressProvider;
import org.nssifhir.server.treatment.PlanApplyProvider;
import org.nssifhir.server.audit.AuditEventWriter;
import org.nssifhir.server.audit.AuditTrailProtectionInterceptor;
import org.nssifhir.server.audit.RefusedAccessAuditor;
import org.nssifhir.server.audit.SmartAuditContext;
import org.nssifhir.server.fhir.CapabilityStatementInterceptor;
import org.nssifhir.server.fhir.ErrorLoggingInterceptor;
import org.nssifhir.server.fhir.IfMatchPreconditionInterceptor;
import org.nssifhir.server.limits.RequestLimitsInterceptor;
import org.nssifhir.server.security.policy.AccessPolicyInterceptor;
import org.nssifhir.server.security.SmartAuthorizationInterceptor;
import org.nssifhir.server.security.SmartSearchNarrowingInterceptor;
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
			RequestLimitsInterceptor limitsInterceptor,
			CapabilityStatementInterceptor capabilityStatementInterceptor,
			IfMatchPreconditionInterceptor ifMatchInterceptor,
			ErrorLoggingInterceptor errorLoggingInterceptor,
			SmartSearchNarrowingInterceptor searchNarrowing,
			SmartAuthorizationInterceptor authorization,
			AccessPolicyInterceptor accessPolicy,
			AuditEventWriter auditWriter,
			SmartAuditContext auditContext,
			RefusedAccessAuditor refusedAccessAuditor,
			SensitiveDataConsentService consentService,
			ExtractOperationProvider extractOperation,
			PopulateOperationProvider populateOperation,
			NssiSummaryProvider summaryOperation,
			PlanApplyProvider planApply,
			CarePlanProgressProvider carePlanProgress,
			org.nssifhir.server.bulk.BulkExportConfig.BulkExport bulkExport,
			DaoRegistry daoRegistry,
			NssiProperties properties,
			ServerAddress serverAddress) {
		// narratives are the client's business; generating them costs time on every write
		fhirContext.setNarrativeGenerator(new NullNarrativeGenerator());

		RestfulServer server = new RestfulServer(fhirContext);
		server.setServerName("NSSI FHIR Server");
		server.setImplementationDescription("NSSI FHIR Server (HAPI FHIR JPA, R4)");
		server.registerProviders(resourceProviderFactory.createProviders());
		server.registerProvider(systemProvider);
		server.registerProvider(valueSetOperationProvider);
		// assessment workflow: SDC $populate / $extract and the patient summary
		server.registerProviders(extractOperation, populateOperation, summaryOperation, planApply, carePlanProgress);
		// Bulk Data $export (system, Patient, Group) and its guards
		bulkExport.registerWith(server, properties.security().enabled());
		// OpenAPI + Swagger UI (on in the embedded default, off in production unless configured)
		org.nssifhir.server.openapi.OpenApiSettings.registerWith(server, properties);
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		server.setDefaultPrettyPrint(false);
		server.setPagingProvider(pagingProvider);

		JpaCapabilityStatementProvider capabilities = new CapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport, daoRegistry);
		capabilities.setImplementationDescription("NSSI FHIR Server");
		server.setServerConformanceProvider(capabilities);

		// the configured address, or the fixed default: never the request's Host header (see ServerAddress)
		server.setServerAddressStrategy((servletContext, request) -> serverAddress.fhirBase());

		server.registerInterceptor(limitsInterceptor);
		if (properties.security().enabled()) {
			// narrowing first, so searches are limited to the patient's compartment before the rules check them
			server.registerInterceptor(searchNarrowing);
			server.registerInterceptor(authorization);
			// the access policy: every interaction classified, conditional matches, writes, and every response
			server.registerInterceptor(accessPolicy);
			// sensitivity labels and consent, per returned resource; before the audit, so it records what was shown
			server.registerInterceptor(consentService); // decides which requests need no filtering
			server.registerInterceptor(new DeletionSafeConsentInterceptor(consentService));
			// IHE BALP AuditEvents for every read, search, write and operation; refusals audited separately
			server.registerInterceptor(new BalpAuditCaptureInterceptor(auditWriter, auditContext));
			server.registerInterceptor(refusedAccessAuditor);
			server.registerInterceptor(new AuditTrailProtectionInterceptor());
		}
		server.registerInterceptor(capabilityStatementInterceptor);
		server.registerInterceptor(errorLoggingInterceptor);
		server.registerInterceptor(ifMatchInterceptor);
		if (properties.cors().enabled()) {
			server.registerInterceptor(corsInterceptor(properties.cors().allowedOrigins()));
		}
		return server;
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

	private static CorsInterceptor corsInterceptor(List<String> origins) {
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
