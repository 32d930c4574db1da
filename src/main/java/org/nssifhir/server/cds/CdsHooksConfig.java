package org.nssifhir.server.cds;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import org.nssifhir.server.assessment.EpisodeIndex;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.servlet.config.annotation.CorsRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/** CDS Hooks: the patient-view service and the check of the CDS Clients' JWTs. */
@Configuration(proxyBeanMethods = false)
public class CdsHooksConfig {

	@Bean
	PatientViewService patientViewService(FhirContext fhirContext, DaoRegistry daoRegistry, EpisodeIndex episodeIndex, NssiProperties properties) {
		return new PatientViewService(fhirContext, daoRegistry, episodeIndex, properties.escalation());
	}

	/**
	 * CDS Clients running in a browser (an EHR's web front end) call discovery and the services across origins.
	 * The same origins as the FHIR API (nssi.cors.allowed-origins); none listed, no CORS, as for the FHIR API.
	 */
	@Bean
	WebMvcConfigurer cdsHooksCors(NssiProperties properties) {
		return new WebMvcConfigurer() {
			@Override
			public void addCorsMappings(CorsRegistry registry) {
				if (properties.cors().enabled()) {
					String[] origins = properties.cors().allowedOrigins().toArray(String[]::new);
					for (String path : new String[] {CdsHooksController.PATH, CdsHooksController.PATH + "/**"}) {
						registry.addMapping(path)
								.allowedOriginPatterns(origins)
								.allowedMethods("GET", "POST", "OPTIONS")
								.allowedHeaders("Authorization", "Content-Type", "Accept")
								.allowCredentials(false);
					}
				}
			}
		};
	}

	@Bean
	CdsJwtVerifier cdsJwtVerifier(NssiProperties properties, JdbcTemplate jdbc) {
		return new CdsJwtVerifier(properties.integration().cdsClients(), jdbc);
	}
}
