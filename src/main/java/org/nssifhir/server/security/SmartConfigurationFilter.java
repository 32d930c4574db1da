package org.nssifhir.server.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nssifhir.server.settings.ServerAddress;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * {@code GET /fhir/.well-known/smart-configuration} (SMART App Launch 2.2 discovery). A filter, because the path
 * lies under the HAPI servlet's {@code /fhir/*} mapping. Served as JSON whatever the Accept header, with absolute
 * URLs, and lists only capabilities this server really has.
 */
public class SmartConfigurationFilter extends OncePerRequestFilter {

	public static final String PATH = "/fhir/.well-known/smart-configuration";

	private final ServerAddress address;
	private final ObjectMapper json = new ObjectMapper();

	public SmartConfigurationFilter(ServerAddress address) {
		this.address = address;
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !PATH.equals(request.getRequestURI());
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		response.setContentType("application/json");
		response.setHeader("Access-Control-Allow-Origin", "*");
		// the pinned issuer (ServerAddress), never the request's Host header
		json.writeValue(response.getOutputStream(), document(address.issuer()));
	}

	static Map<String, Object> document(String base) {
		Map<String, Object> doc = new LinkedHashMap<>();
		doc.put("issuer", base);
		doc.put("jwks_uri", base + "/oauth2/jwks");
		doc.put("authorization_endpoint", base + "/oauth2/authorize");
		doc.put("token_endpoint", base + "/oauth2/token");
		doc.put("grant_types_supported", List.of("authorization_code", "client_credentials", "refresh_token"));
		doc.put("token_endpoint_auth_methods_supported", List.of("client_secret_basic", "client_secret_post", "private_key_jwt", "none"));
		doc.put("token_endpoint_auth_signing_alg_values_supported", List.of("RS384", "ES384"));
		doc.put("registration_endpoint", base + "/connect/register");
		doc.put("userinfo_endpoint", base + "/userinfo");
		doc.put("scopes_supported", List.of(
				"openid", "fhirUser", "launch", "launch/patient", "offline_access",
				"patient/*.rs", "patient/*.cruds", "user/*.rs", "user/*.cruds", "system/*.rs", "system/*.cruds",
				"patient/*.read", "user/*.read", "system/*.read"));
		doc.put("response_types_supported", List.of("code"));
		doc.put("introspection_endpoint", base + "/oauth2/introspect");
		doc.put("revocation_endpoint", base + "/oauth2/revoke");
		doc.put("capabilities", List.of(
				"launch-ehr", "launch-standalone",
				"client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
				"context-ehr-patient", "context-ehr-encounter", "context-standalone-patient", "context-banner",
				"sso-openid-connect",
				"permission-offline", "permission-patient", "permission-user", "permission-v1", "permission-v2"));
		doc.put("code_challenge_methods_supported", List.of("S256"));
		return doc;
	}
}
