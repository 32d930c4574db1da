package org.nssifhir.server.cds;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import java.util.List;
import org.nssifhir.server.assessment.EpisodeIndex;
import org.nssifhir.server.security.WebSecurityContribution;
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

	/**
	 * The resource server must not read the CDS Client's JWT as an access token of ours (it would refuse it with
	 * 401 before the controller checks it the CDS Hooks way, with {@link CdsJwtVerifier}): no bearer token on the CDS
	 * Hooks paths. Discovery and the services are otherwise open to the web layer; the controller decides.
	 */
	@Bean
	WebSecurityContribution cdsHooksWebSecurity() {
		return new WebSecurityContribution() {
			@Override
			public List<String> ownCredentialPaths() {
				return List.of(CdsHooksController.PATH);
			}
		};
	}

	@Bean
	CdsJwtVerifier cdsJwtVerifier(NssiProperties properties, JdbcTemplate jdbc) {
		return new CdsJwtVerifier(properties.integration().cdsClients(), jdbc);
	}
}
