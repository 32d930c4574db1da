package org.nssifhir.server.app;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Serves the person's app (static files under {@code classpath:/static/patient/}) at {@code /patient/} with the
 * same strict Content Security Policy as the clinician app, and two small public descriptions it reads at start:
 * {@code client.json} (its client id and scopes, so they cannot drift from {@link PatientApp#SCOPES}) and
 * {@code config.json} (this deployment's crisis contacts). Neither holds any person's data.
 */
@Configuration(proxyBeanMethods = false)
@RestController
public class PatientAppWeb implements WebMvcConfigurer {

	private final PatientAppSettings settings;

	public PatientAppWeb(PatientAppSettings settings) {
		this.settings = settings;
	}

	@Override
	public void addViewControllers(ViewControllerRegistry registry) {
		registry.addViewController("/patient").setViewName("redirect:" + PatientApp.PATH);
		registry.addViewController(PatientApp.PATH).setViewName("forward:" + PatientApp.PATH + "index.html");
	}

	@GetMapping(PatientApp.PATH + "client.json")
	public Map<String, Object> client() {
		List<String> scopes = PatientApp.SCOPES.stream().filter(s -> !s.equals("launch/patient")).toList();
		return Map.of("clientId", PatientApp.CLIENT_ID, "scopes", scopes);
	}

	@GetMapping(PatientApp.PATH + "config.json")
	public Map<String, Object> config() {
		return Map.of("crisisContacts", settings.contactsToShow());
	}

	@Bean
	FilterRegistrationBean<OncePerRequestFilter> patientAppHeaders() {
		FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(new OncePerRequestFilter() {
			@Override
			protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
					throws ServletException, IOException {
				response.setHeader("Content-Security-Policy", ClinicianAppWeb.CSP);
				response.setHeader("Referrer-Policy", "no-referrer");
				chain.doFilter(request, response);
			}
		});
		registration.addUrlPatterns("/patient", "/patient/*");
		return registration;
	}
}
