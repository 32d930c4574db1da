package org.nssifhir.server.assessment;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.rest.server.RestfulServer;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.Bundle;
import org.nssifhir.server.conformance.ConformancePackage;
import org.nssifhir.server.conformance.NssiProfileValidator;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.consent.RestrictedRecordAccess;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The assessment operations ($populate, $extract, $nssi-summary); FhirServerConfig registers them. */
@Configuration(proxyBeanMethods = false)
class AssessmentConfig {

	@Bean
	FeatureOperations assessmentOperations() {
		return new AssessmentOperations();
	}

	@Bean
	Phq9TotalRule phq9TotalRule(IInterceptorService interceptors) {
		Phq9TotalRule rule = new Phq9TotalRule();
		interceptors.registerInterceptor(rule); // storage: every write path, the server's own included
		return rule;
	}

	@Bean
	ResponseAsWritten responseAsWritten(IInterceptorService interceptors, RestfulServer server, FhirContext fhirContext,
			NssiProfileValidator validator, ConformancePackage conformancePackage) {
		ResponseAsWritten rule = new ResponseAsWritten(fhirContext, validator, conformancePackage);
		interceptors.registerInterceptor(rule); // storage (every write path) and the validator's result
		server.registerInterceptor(new ResponseAsWritten.ValidateBody(rule)); // the $validate request and answer
		return rule;
	}

	@Bean
	AssessmentRespondentRule assessmentRespondentRule(IInterceptorService interceptors) {
		AssessmentRespondentRule rule = new AssessmentRespondentRule();
		interceptors.registerInterceptor(rule); // storage: every write path, the server's own included
		return rule;
	}

	@Bean
	ExtractOperationProvider extractOperationProvider(DaoRegistry daoRegistry, IFhirSystemDao<Bundle, ?> systemDao) {
		return new ExtractOperationProvider(daoRegistry, systemDao);
	}

	@Bean
	PopulateService populateService(DaoRegistry daoRegistry, RestrictedRecordAccess consent) {
		return new PopulateService(daoRegistry, consent);
	}

	@Bean
	PopulateOperationProvider populateOperationProvider(PopulateService populate) {
		return new PopulateOperationProvider(populate);
	}

	@Bean
	EpisodeIndex episodeIndex(DataSource dataSource, PartitionSettings partitionSettings, ConformancePackage conformancePackage) {
		return new EpisodeIndex(dataSource, partitionSettings, EpisodeIndex.episodeCodes(conformancePackage));
	}

	@Bean
	NssiSummaryService nssiSummaryService(
			DaoRegistry daoRegistry, EpisodeIndex episodeIndex, NssiProperties properties, RestrictedRecordAccess consent,
			TreatmentPlanSummary progress) {
		return new NssiSummaryService(daoRegistry, episodeIndex, properties.escalation(), consent, progress);
	}

	@Bean
	NssiSummaryProvider nssiSummaryProvider(NssiSummaryService summaries) {
		return new NssiSummaryProvider(summaries);
	}
}
