package org.nssifhir.server.support;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.HardcodedServerAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.HashMapResourceProvider;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.mock.web.MockServletConfig;

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
 */
public final class InMemoryFhirServer {

	public static final FhirContext FHIR = FhirContext.forR4Cached();
	public static final String BASE = "http://localhost/fhir";

	private final RestfulServer server;

	/** A server with Patient and Observation providers, the given plain providers and the given interceptors. */
	public InMemoryFhirServer(Object... interceptorsAndProviders) {
		server = new RestfulServer(FHIR);
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		server.setServerAddressStrategy(new HardcodedServerAddressStrategy(BASE));
		server.registerProvider(new HashMapResourceProvider<>(FHIR, Patient.class));
		server.registerProvider(new HashMapResourceProvider<>(FHIR, Observation.class));
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
		try {
			server.service(request, response);
			return new Response(response.getStatus(), response.getContentAsString(StandardCharsets.UTF_8), response);
		} catch (ServletException | IOException e) {
			throw new IllegalStateException(e);
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
