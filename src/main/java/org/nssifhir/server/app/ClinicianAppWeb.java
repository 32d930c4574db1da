package org.nssifhir.server.app;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Serves the clinician app (static files under {@code classpath:/static/app/}) at {@code /app/}, with a strict
 * Content Security Policy: scripts, styles and connections only from this server (the app loads no inline
 * script or style, no remote code), no framing by other sites, no referrer (launch URLs carry a launch id).
 */
@Configuration(proxyBeanMethods = false)
public class ClinicianAppWeb implements WebMvcConfigurer {

	static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
			+ "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

	@Override
	public void addViewControllers(ViewControllerRegistry registry) {
		// the app's redirect URI is the folder itself
		registry.addViewController("/app").setViewName("redirect:" + ClinicianApp.PATH);
		registry.addViewController(ClinicianApp.PATH).setViewName("forward:" + ClinicianApp.PATH + "index.html");
	}

	@Bean
	FilterRegistrationBean<OncePerRequestFilter> clinicianAppHeaders() {
		FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(new OncePerRequestFilter() {
			@Override
			protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
					throws ServletException, IOException {
				response.setHeader("Content-Security-Policy", CSP);
				response.setHeader("Referrer-Policy", "no-referrer");
				chain.doFilter(request, response);
			}
		});
		registration.addUrlPatterns("/app", "/app/*");
		return registration;
	}
}
