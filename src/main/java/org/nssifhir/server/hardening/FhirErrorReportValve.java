package org.nssifhir.server.hardening;

import java.io.IOException;
import java.io.Writer;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.nssifhir.server.support.ErrorCode;

/**
 * Tomcat's own error page, for requests Tomcat refuses before any application code runs (an encoded slash or NUL in
 * the path, a URL or header too large, an unknown HTTP method): an OperationOutcome instead of an HTML page, so a
 * FHIR client can read every error the same way. Nothing from the request is echoed. Tomcat creates this valve by
 * class name, so it has no Spring dependencies.
 */
public class FhirErrorReportValve extends ErrorReportValve {

	@Override
	protected void report(Request request, Response response, Throwable throwable) {
		int status = response.getStatus();
		if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
			return;
		}
		String outcome = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\""
				+ (status >= 500 ? "exception" : "invalid") + "\",\"diagnostics\":\""
				+ ErrorCode.REQUEST_REJECTED.message("The HTTP request was refused (status " + status + ")") + "\"}]}";
		try {
			response.setContentType("application/fhir+json");
			response.setCharacterEncoding("UTF-8");
			Writer writer = response.getReporter();
			if (writer != null) {
				writer.write(outcome);
				response.finishResponse();
			}
		} catch (IOException | IllegalStateException e) {
			// the client has gone or the response is already committed: nothing more to tell it
		}
	}
}
