package org.nssifhir.server.hardening;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.util.Set;
import org.nssifhir.server.support.ErrorCode;

/**
 * The safety net behind {@link StrictInputInterceptor}: a few failures that HAPI and its libraries report as 500 are
 * caused by what the client sent (an unparsable number in an operation parameter, a FHIRPath or XML Patch that does
 * not parse or matches nothing). They become a 400 with {@code NSSI-0909}, so the client learns it was its request
 * and monitoring does not count them as server faults. Only these known causes are mapped; any other 500 stays a
 * 500 (and is logged by {@code ErrorLoggingInterceptor}), because hiding real server faults would be worse.
 * Runs before the other outgoing-exception hooks (order -100), so a mapped error is not logged as a server error.
 */
@Interceptor
public class ClientErrorMappingInterceptor {

	/** Exception classes, by name because they come from optional libraries, that always mean bad client input. */
	private static final Set<String> CLIENT_CAUSED = Set.of(
			NumberFormatException.class.getName(),
			DataFormatException.class.getName(),
			"org.hl7.fhir.r4.fhirpath.FHIRLexer$FHIRLexerException",
			"org.hl7.fhir.r5.fhirpath.FHIRLexer$FHIRLexerException",
			"com.github.dnault.xmlpatch.PatchException");

	@Hook(value = Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION, order = -100)
	public BaseServerResponseException mapClientCaused(RequestDetails request, Throwable exception) {
		int status = exception instanceof BaseServerResponseException e ? e.getStatusCode() : 500;
		if (status < 500) {
			return null;
		}
		for (Throwable cause = exception; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
			if (CLIENT_CAUSED.contains(cause.getClass().getName())) {
				InvalidRequestException mapped = new InvalidRequestException(ErrorCode.UNPROCESSABLE_REQUEST.message(
						"The request could not be processed as sent (" + cause.getClass().getSimpleName() + ")"));
				mapped.initCause(exception);
				return mapped;
			}
		}
		return null;
	}
}
