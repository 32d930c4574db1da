package org.nssifhir.server.cds;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import org.nssifhir.server.assessment.EpisodeIndex;
import org.nssifhir.server.config.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/** CDS Hooks: the patient-view service and the check of the CDS Clients' JWTs. */
@Configuration(proxyBeanMethods = false)
public class CdsHooksConfig {

	@Bean
	PatientViewService patientViewService(FhirContext fhirContext, DaoRegistry daoRegistry, EpisodeIndex episodeIndex, NssiProperties properties) {
		return new PatientViewService(fhirContext, daoRegistry, episodeIndex, properties.escalation());
	}

	@Bean
	CdsJwtVerifier cdsJwtVerifier(NssiProperties properties, JdbcTemplate jdbc) {
		return new CdsJwtVerifier(properties.integration().cdsClients(), jdbc);
	}
}
