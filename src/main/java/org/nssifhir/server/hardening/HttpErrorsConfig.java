package org.nssifhir.server.hardening;

import ca.uhn.fhir.context.FhirContext;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.nssifhir.server.support.ErrorCode;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.web.firewall.RequestRejectedHandler;

/**
 * Errors raised below the FHIR servlet also come back as OperationOutcomes: Spring Security's firewall (path
 * traversal such as {@code ..;}, double-encoded or {@code ;}-laden paths) and Tomcat's own refusals.
 */
@Configuration(proxyBeanMethods = false)
public class HttpErrorsConfig {

	/** Picked up by Spring Security's WebSecurity for requests its StrictHttpFirewall rejects. */
	@Bean
	RequestRejectedHandler fhirRequestRejectedHandler(FhirContext fhirContext) {
		return (request, response, rejected) -> {
			OperationOutcome outcome = new OperationOutcome();
			outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(OperationOutcome.IssueType.INVALID)
					.setDiagnostics(ErrorCode.REQUEST_REJECTED.message("The request URL is not acceptable"));
			response.setStatus(400);
			response.setContentType("application/fhir+json;charset=utf-8");
			response.getWriter().write(fhirContext.newJsonParser().encodeResourceToString(outcome));
		};
	}

	/**
	 * Replaces the host's error report valve (Spring Boot adds a plain one) with {@link FhirErrorReportValve}. Done when
	 * the context starts: the host has added its valves by then and its pipeline has not started yet.
	 */
	@Bean
	WebServerFactoryCustomizer<TomcatServletWebServerFactory> fhirErrorReportValve() {
		return factory -> factory.addContextCustomizers(context -> context.addLifecycleListener(event -> {
			if (Lifecycle.BEFORE_START_EVENT.equals(event.getType()) && context.getParent() instanceof StandardHost host) {
				host.setErrorReportValveClass(FhirErrorReportValve.class.getName());
				boolean present = false;
				for (Valve valve : host.getPipeline().getValves()) {
					if (valve instanceof FhirErrorReportValve) {
						present = true;
					} else if (valve instanceof ErrorReportValve) {
						host.getPipeline().removeValve(valve);
					}
				}
				if (!present) {
					host.getPipeline().addValve(new FhirErrorReportValve());
				}
			}
		}));
	}
}
