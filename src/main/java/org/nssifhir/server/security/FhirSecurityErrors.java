package org.nssifhir.server.security;

import ca.uhn.fhir.context.FhirContext;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.function.Consumer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.web.RequestLoggingFilter;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;

/** 401 and 403 from Spring Security as FHIR OperationOutcomes, with the Bearer challenge RFC 6750 asks for. */
final class FhirSecurityErrors {

	private FhirSecurityErrors() {}

	static AuthenticationEntryPoint unauthorized(FhirContext fhirContext, Consumer<String> audit) {
		return (request, response, exception) -> {
			if (request.getRequestURI().startsWith("/fhir")) {
				audit.accept(RequestLoggingFilter.redactPath(request.getRequestURI()));
			}
			// the reason (expired, bad signature, ...) goes to the client, never the token itself
			response.setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
			write(fhirContext, response, 401, OperationOutcome.IssueType.LOGIN,
					ErrorCode.UNAUTHENTICATED.message("A valid bearer token is required (" + exception.getMessage() + ")"));
		};
	}

	static AccessDeniedHandler forbidden(FhirContext fhirContext) {
		return (request, response, exception) -> write(fhirContext, response, 403, OperationOutcome.IssueType.FORBIDDEN,
				ErrorCode.SCOPE_DOES_NOT_ALLOW.message("Access denied"));
	}

	static void write(FhirContext fhirContext, HttpServletResponse response, int status, OperationOutcome.IssueType type, String message)
			throws IOException {
		OperationOutcome outcome = new OperationOutcome();
		outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(type).setDiagnostics(message);
		response.setStatus(status);
		response.setContentType("application/fhir+json;charset=utf-8");
		response.getWriter().write(fhirContext.newJsonParser().encodeResourceToString(outcome));
	}
}
