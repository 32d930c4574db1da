package org.nssifhir.server.security.issuing;

import com.nimbusds.jwt.SignedJWT;
import jakarta.servlet.http.HttpServletRequest;
import java.text.ParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.web.authentication.AuthenticationConverter;

/**
 * SMART Backend Services token requests carry a {@code private_key_jwt} client assertion but no {@code client_id}
 * (RFC 7523 makes it optional; SMART's examples omit it), which Spring Authorization Server's own converter
 * requires. This one takes the client id from the assertion's {@code sub}; nothing is trusted from the unverified
 * token: the provider then checks its signature against that client's registered keys and that iss = sub =
 * client id. Requests that do send {@code client_id} are left to the standard converter.
 */
class SmartClientAssertionConverter implements AuthenticationConverter {

	private static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

	@Override
	public Authentication convert(HttpServletRequest request) {
		String[] types = request.getParameterValues(OAuth2ParameterNames.CLIENT_ASSERTION_TYPE);
		String[] assertions = request.getParameterValues(OAuth2ParameterNames.CLIENT_ASSERTION);
		if (types == null || types.length != 1 || !JWT_BEARER.equals(types[0])
				|| request.getParameter(OAuth2ParameterNames.CLIENT_ID) != null) {
			return null;
		}
		if (assertions == null || assertions.length != 1) {
			throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_REQUEST);
		}
		String subject;
		try {
			subject = SignedJWT.parse(assertions[0]).getJWTClaimsSet().getSubject();
		} catch (ParseException e) {
			throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
		}
		if (subject == null || subject.isBlank() || subject.length() > 100) {
			throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
		}
		// the rest of the request, as the standard converter passes it: PKCE (code, code_verifier) is checked from
		// these parameters during client authentication, so leaving them out would skip it
		Map<String, Object> additional = new LinkedHashMap<>();
		request.getParameterMap().forEach((name, values) -> {
			if (!OAuth2ParameterNames.CLIENT_ASSERTION.equals(name) && !OAuth2ParameterNames.CLIENT_ASSERTION_TYPE.equals(name)
					&& values.length > 0) {
				additional.put(name, values.length == 1 ? values[0] : values);
			}
		});
		// the "method" Spring Authorization Server expects here is the assertion type, as its own converter sets it
		return new OAuth2ClientAuthenticationToken(subject, new ClientAuthenticationMethod(JWT_BEARER), assertions[0], additional);
	}
}
