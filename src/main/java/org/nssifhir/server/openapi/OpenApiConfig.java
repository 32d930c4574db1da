package org.nssifhir.server.openapi;

import org.nssifhir.server.security.WebSecurityContribution;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * OpenAPI's part of the web security: its paths are public when it is switched on. (HAPI's OpenApiInterceptor itself
 * is registered on the REST server by {@code config.RequestPipeline}, through {@link OpenApiSettings#registerWith}.)
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfig {

	@Bean
	WebSecurityContribution openApiWebSecurity(NssiProperties properties) {
		return OpenApiSettings.webSecurity(properties);
	}
}
