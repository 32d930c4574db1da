package org.nssifhir.server.support;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.HardcodedServerAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.HashMapResourceProvider;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.mock.web.MockServletConfig;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * The middle test tier: HAPI's {@link RestfulServer} in memory with HashMap-backed Patient and Observation
 * providers and the interceptors under test, called through spring-test's servlet mocks. No database, no Spring
 * context, no network: an interceptor rule is tested in milliseconds, over the same request handling as in
 * production (URL and header parsing, hook invocation, exception to OperationOutcome).
 *
 * <pre>{@code
 * InMemoryFhirServer server = new InMemoryFhirServer(new RequestLimitsInterceptor(properties));
 * InMemoryFhirServer.Response response = server.get("/Patient?_count=100000");
 * assertThat(response.status()).isEqualTo(400);
 * }</pre>
 *
 * <p>Requests run as the real server runs them behind its filter chain: the servlet request is bound to the thread
 * ({@code RequestContextHolder}, read by break-the-glass), and with {@link #as} the validated token is in Spring
 * Security's context as a {@link JwtAuthenticationToken}, which is where {@code SmartAccess} and
 * {@code RequestIdentity} read who is asking.
 */
public final class InMemoryFhirServer {

	public static final FhirContext FHIR = FhirContext.forR4Cached();
	public static final String BASE = "http://localhost/fhir";

	private final RestfulServer server;
	private final HashMapResourceProvider<Patient> patients;
	private final HashMapResourceProvider<Observation> observations;
	/** the validated token of every request, or null for none */
	private final Jwt token;

	/** A server with Patient and Observation providers, the given plain providers and the given interceptors. */
	public InMemoryFhirServer(Object... interceptorsAndProviders) {
		token = null;
		server = new RestfulServer(FHIR);
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		server.setServerAddressStrategy(new HardcodedServerAddressStrategy(BASE));
		patients = new HashMapResourceProvider<>(FHIR, Patient.class);
		observations = new HashMapResourceProvider<>(FHIR, Observation.class);
		server.registerProvider(patients);
		server.registerProvider(observations);
		for (Object each : interceptorsAndProviders) {
			if (each instanceof Provider provider) {
				server.registerProvider(provider.provider());
			} else {
				server.registerInterceptor(each);
			}
		}
		try {
			server.init(new MockServletConfig("fhir"));
		} catch (ServletException e) {
			throw new IllegalStateException(e);
		}
	}

	private InMemoryFhirServer(InMemoryFhirServer other, Jwt token) {
		this.server = other.server;
		this.patients = other.patients;
		this.observations = other.observations;
		this.token = token;
	}

	/** The same server, its requests made with this validated token (see {@link #token}). */
	public InMemoryFhirServer as(Jwt token) {
		return new InMemoryFhirServer(this, token);
	}

	/** Stores a resource directly (no request, no interceptor): the data a test starts from. Returns its id. */
	public String store(IBaseResource resource) {
		if (resource instanceof Patient patient) {
			return patients.store(patient).toUnqualifiedVersionless().getValue();
		}
		return observations.store((Observation) resource).toUnqualifiedVersionless().getValue();
	}

	/**
	 * A validated access token with these claims, as the resource server hands it on: {@code scope} (space-separated),
	 * {@code patient}, {@code fhirUser}, {@code client_id}; {@code sub} and an audience of {@link #BASE} unless given.
	 */
	public static Jwt token(Map<String, Object> claims) {
		Jwt.Builder builder = Jwt.withTokenValue("in-memory").header("alg", "none")
				.issuedAt(Instant.now()).expiresAt(Instant.now().plusSeconds(300))
				.subject("in-memory-user").audience(List.of(BASE));
		builder.claims(all -> all.putAll(claims));
		return builder.build();
	}

	public RestfulServer restfulServer() {
		return server;
	}

	/** Marks an argument of the constructor as a plain provider (operations, or methods for a type) to register. */
	public record Provider(Object provider) {}

	public Response get(String pathAndQuery) {
		return send("GET", pathAndQuery, null, Map.of());
	}

	public Response post(String path, IBaseResource body) {
		return send("POST", path, FHIR.newJsonParser().encodeResourceToString(body), Map.of());
	}

	/**
	 * One request. {@code pathAndQuery} is relative to the FHIR base ({@code /Patient?name=x}); the query is URL-decoded
	 * into parameters as a servlet container would.
	 */
	public Response send(String method, String pathAndQuery, String jsonBody, Map<String, String> headers) {
		String path = pathAndQuery;
		String query = null;
		int q = pathAndQuery.indexOf('?');
		if (q >= 0) {
			path = pathAndQuery.substring(0, q);
			query = pathAndQuery.substring(q + 1);
		}
		MockHttpServletRequest request = new MockHttpServletRequest(method, "/fhir" + path);
		request.setServletPath("/fhir");
		request.setPathInfo(path);
		request.setContextPath("");
		if (query != null) {
			request.setQueryString(query);
			for (String pair : query.split("&")) {
				int eq = pair.indexOf('=');
				String name = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
				String value = eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
				request.addParameter(name, value);
			}
		}
		headers.forEach(request::addHeader);
		if (jsonBody != null) {
			request.setContentType("application/fhir+json");
			request.setCharacterEncoding("UTF-8");
			request.setContent(jsonBody.getBytes(StandardCharsets.UTF_8));
		}
		MockHttpServletResponse response = new MockHttpServletResponse();
		RequestContextHolder.setRequestAttributes(new ServletRequestAttributes(request, response));
		if (token != null) {
			SecurityContextHolder.getContext().setAuthentication(new JwtAuthenticationToken(token));
		}
		try {
			server.service(request, response);
			return new Response(response.getStatus(), response.getContentAsString(StandardCharsets.UTF_8), response);
		} catch (ServletException | IOException e) {
			throw new IllegalStateException(e);
		} finally {
			SecurityContextHolder.clearContext();
			RequestContextHolder.resetRequestAttributes();
		}
	}

	/** An answer: status, body, and the mock for headers. */
	public record Response(int status, String body, MockHttpServletResponse raw) {

		public IBaseResource resource() {
			return FHIR.newJsonParser().parseResource(body);
		}

		public Bundle bundle() {
			return (Bundle) resource();
		}

		/** The diagnostics of the first issue of an OperationOutcome answer. */
		public String diagnostics() {
			return resource() instanceof OperationOutcome outcome ? outcome.getIssueFirstRep().getDiagnostics() : null;
		}
	}
}
