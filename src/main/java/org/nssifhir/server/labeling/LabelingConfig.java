package org.nssifhir.server.labeling;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.MatchUrlService;
import org.nssifhir.server.conformance.ConformancePackage;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Security labelling of every write, by the sensitive-category ValueSets of our package. */
@Configuration(proxyBeanMethods = false)
class LabelingConfig {

	@Bean
	SensitiveCategories sensitiveCategories(ConformancePackage conformancePackage) {
		return SensitiveCategories.from(conformancePackage);
	}

	@Bean
	QuestionnaireItemCodes questionnaireItemCodes(DaoRegistry daoRegistry) {
		return new QuestionnaireItemCodes(daoRegistry);
	}

	@Bean
	SecurityLabelingService securityLabelingService(
			FhirContext fhirContext, DaoRegistry daoRegistry, MatchUrlService matchUrlService, SensitiveCategories categories,
			QuestionnaireItemCodes itemCodes) {
		return new SecurityLabelingService(fhirContext, daoRegistry, matchUrlService, categories, itemCodes);
	}

	@Bean
	SecurityLabelingInterceptor securityLabelingInterceptor(SecurityLabelingService service, IInterceptorService interceptors) {
		SecurityLabelingInterceptor interceptor = new SecurityLabelingInterceptor(service);
		interceptors.registerInterceptor(interceptor);
		return interceptor;
	}
}
