package org.nssifhir.server.cohort;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.rest.server.RestfulServer;
import org.hl7.fhir.r4.model.Bundle;
import org.nssifhir.server.assessment.ExtractOperationProvider;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.treatment.PlanApplyProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Demo mode ({@code nssi.demo.enabled=true}). */
@Configuration(proxyBeanMethods = false)
public class CohortConfig {

	@Bean
	@ConditionalOnProperty(name = "nssi.demo.enabled", havingValue = "true")
	DemoData demoData(NssiProperties properties, IFhirSystemDao<Bundle, ?> systemDao, DaoRegistry daoRegistry, ExtractOperationProvider extract,
			PlanApplyProvider planApply, RestfulServer restfulServer) {
		return new DemoData(properties, systemDao, daoRegistry, extract, planApply, restfulServer);
	}
}
