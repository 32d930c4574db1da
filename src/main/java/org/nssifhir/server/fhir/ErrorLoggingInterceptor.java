package org.nssifhir.server.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Logs server-side failures without their messages. HAPI's messages quote ids, search values and resource
 * content ("Resource Patient/x is not known"), which must not reach the log on a server holding self-harm
 * records. HAPI's own ExceptionHandlingInterceptor logger is switched off in application.yaml; this logs, for a
 * 5xx, the exception type, its stable error code (HAPI-nnnn / NSSI-nnnn) and the top stack frames of the root cause,
 * which is enough to find the bug. Client errors (4xx) are already in the access log with their status.
 */
@Interceptor
@Component
public class ErrorLoggingInterceptor {

	private static final Logger log = LoggerFactory.getLogger(ErrorLoggingInterceptor.class);
	private static final Pattern CODE = Pattern.compile("(HAPI|NSSI)-\\d{4}");

	@Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
	public BaseServerResponseException logServerErrors(RequestDetails request, Throwable exception) {
		int status = exception instanceof BaseServerResponseException e ? e.getStatusCode() : 500;
		if (status >= 500) {
			Throwable root = exception;
			while (root.getCause() != null && root.getCause() != root) {
				root = root.getCause();
			}
			String frames = Arrays.stream(root.getStackTrace())
					.limit(8)
					.map(StackTraceElement::toString)
					.collect(Collectors.joining(" <- "));
			log.error(
					"{} {} (root cause {}) at {}",
					exception.getClass().getSimpleName(),
					errorCode(exception),
					root.getClass().getName(),
					frames);
		}
		return null;
	}

	static String errorCode(Throwable exception) {
		String message = exception.getMessage();
		if (message == null) {
			return "no-code";
		}
		Matcher matcher = CODE.matcher(message);
		return matcher.find() ? matcher.group() : "no-code";
	}
}
