package org.nssifhir.server.security.consent;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * Break-the-glass: a clinician asserts an emergency purpose of use by sending {@code X-Purpose-Of-Use: BTG}
 * (HL7 v3-ActReason {@code BTG}, "break the glass") with a request. It lifts the restricted-data rules (not the
 * scopes or the patient compartment) for that request only, and the request's audit record carries the purpose
 * of use and the tag {@code urn:nssi-fhir:audit|break-the-glass} so that every use can be reviewed.
 */
public final class BreakTheGlass {

	public static final String HEADER = "X-Purpose-Of-Use";
	/** The clinician's reason for breaking the glass, URL-encoded (UTF-8), kept in the request's audit record. */
	public static final String REASON_HEADER = "X-Purpose-Of-Use-Reason";
	static final int MAX_REASON = 500;
	public static final String ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
	public static final String CODE = "BTG";
	public static final String AUDIT_TAG_SYSTEM = "urn:nssi-fhir:audit";
	public static final String AUDIT_TAG_CODE = "break-the-glass";

	private BreakTheGlass() {}

	/** Whether the current HTTP request asserts break-the-glass. */
	public static boolean asserted() {
		return currentRequest().map(request -> CODE.equals(request.getHeader(HEADER))).orElse(false);
	}

	/** The reason given with a break-the-glass request (decoded, control characters removed, at most 500 characters). */
	public static Optional<String> reason() {
		if (!asserted()) {
			return Optional.empty();
		}
		return currentRequest().map(request -> request.getHeader(REASON_HEADER)).map(BreakTheGlass::decode)
				.map(text -> text.replaceAll("\\p{Cntrl}", " ").strip())
				.filter(text -> !text.isEmpty())
				.map(text -> text.length() > MAX_REASON ? text.substring(0, MAX_REASON) : text);
	}

	private static String decode(String value) {
		try {
			return URLDecoder.decode(value, StandardCharsets.UTF_8);
		} catch (IllegalArgumentException e) {
			return value;
		}
	}

	/** The header is present with something other than BTG: a mistake the client must hear about. */
	public static Optional<String> unsupportedValue() {
		return currentRequest()
				.map(request -> request.getHeader(HEADER))
				.filter(value -> !CODE.equals(value));
	}

	private static Optional<HttpServletRequest> currentRequest() {
		return RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes
				? Optional.of(attributes.getRequest())
				: Optional.empty();
	}
}
