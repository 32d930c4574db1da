package org.nssifhir.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.IPreResourceShowDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.CapturedLogs;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Query values (search strings, conditional match URLs) can say what was looked for on a server holding self-harm
 * records; no log line may quote them, whoever logs it (our code, HAPI, Spring, Tomcat) at the configured levels.
 */
class NoQueryValuesInLogsIT extends BaseIT {

	private CapturedLogs captured;

	@BeforeEach
	void capture() {
		captured = CapturedLogs.attach();
	}

	@AfterEach
	void release() {
		captured.close();
	}

	@Autowired
	private IInterceptorService interceptors;

	/** Refuses to show the patients holding this identifier value, as an access rule would. */
	@Interceptor
	public static class HidingInterceptor {
		private final String value;

		HidingInterceptor(String value) {
			this.value = value;
		}

		@Hook(Pointcut.STORAGE_PRESHOW_RESOURCES)
		public void refuse(IPreResourceShowDetails details) {
			for (IBaseResource resource : details) {
				if (resource instanceof Patient patient && patient.getIdentifier().stream().anyMatch(i -> value.equals(i.getValue()))) {
					throw new ForbiddenOperationException("Access denied");
				}
			}
		}
	}

	private HttpResponse<String> send(HttpRequest request) throws Exception {
		return http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	private HttpRequest.Builder as(String token, String pathAndQuery) {
		return HttpRequest.newBuilder(URI.create(fhirBase() + pathAndQuery)).header("Authorization", "Bearer " + token)
				.header("Content-Type", "application/fhir+json");
	}

	private String patientWith(String system, String value) {
		Patient p = new Patient();
		p.addIdentifier().setSystem(system).setValue(value);
		p.addName().setFamily("Logged");
		return fhirContext.newJsonParser().encodeResourceToString(p);
	}

	@Test
	void conditionalWritesAndSearchesLeaveNoQueryValueInAnyLogLine() throws Exception {
		String secret = unique("SECRETVALUE").replace("-", "");
		String system = "urn:example:mrn";
		String everything = tokens().system("system/*.cruds");
		String createOnly = tokens().system("system/Patient.c");
		String body = patientWith(system, secret);
		String match = "identifier=" + system + "|" + secret;

		// a conditional create, twice (the second one matches), by a client allowed everything
		for (int i = 0; i < 2; i++) {
			assertThat(send(as(everything, "/Patient").header("If-None-Exist", match)
					.POST(HttpRequest.BodyPublishers.ofString(body)).build()).statusCode()).isIn(200, 201);
		}
		// a conditional create whose match is refused by the access rules at STORAGE_PRESHOW_RESOURCES, as a consent or
		// authorization rule refuses it (HAPI warns "Inline match URL [...] specified a resource the user is not
		// authorized to access", quoting the match URL); the refusal is simulated here, for this test's patient only
		Object hiding = new HidingInterceptor(secret);
		interceptors.registerInterceptor(hiding);
		try {
			send(as(everything, "/Patient").header("If-None-Exist", match).POST(HttpRequest.BodyPublishers.ofString(body)).build());
		} finally {
			interceptors.unregisterInterceptor(hiding);
		}
		// a message of any logger quoting a query string or a match URL
		LoggerFactory.getLogger("ca.uhn.fhir.jpa.example").warn("Inline match URL [{}] was not resolved", match);
		LoggerFactory.getLogger("org.nssifhir.server.example").error("Search failed: GET /fhir/Patient?" + match,
				new IllegalStateException("while loading Patient?" + match));
		// conditional creates that match a record the client may not read (HAPI warns about such a match, quoting it)
		String otherPatient = client().create().resource(new Patient().addName(new org.hl7.fhir.r4.model.HumanName().setFamily("Other")))
				.execute().getId().getIdPart();
		for (String token : List.of(createOnly, tokens().patient(otherPatient, "patient/Patient.cruds"),
				tokens().patient(otherPatient, "patient/*.cruds"), tokens().system("system/Observation.cruds"))) {
			send(as(token, "/Patient").header("If-None-Exist", match).POST(HttpRequest.BodyPublishers.ofString(body)).build());
			String observation = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
					+ "\"subject\":{\"reference\":\"Patient/" + otherPatient + "\"}}";
			send(as(token, "/Observation").header("If-None-Exist", "subject:Patient.identifier=" + system + "|" + secret)
					.POST(HttpRequest.BodyPublishers.ofString(observation)).build());
		}
		// a conditional update, and one the client may not make
		String encoded = URLEncoder.encode(system + "|" + secret, StandardCharsets.UTF_8);
		send(as(everything, "/Patient?identifier=" + encoded).PUT(HttpRequest.BodyPublishers.ofString(body)).build());
		send(as(createOnly, "/Patient?identifier=" + encoded).PUT(HttpRequest.BodyPublishers.ofString(body)).build());
		// a conditional delete the client may not make, searches (good, malformed and refused)
		send(as(createOnly, "/Patient?identifier=" + encoded).DELETE().build());
		assertThat(send(as(everything, "/Patient?identifier=" + encoded).GET().build()).statusCode()).isEqualTo(200);
		send(as(everything, "/Patient?name=" + secret + "&birthdate=" + secret).GET().build());
		send(as(createOnly, "/Patient?name=" + secret).GET().build());
		// a transaction with a conditional create and a conditional reference
		String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + body
				+ ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\",\"ifNoneExist\":\"" + match + "\"}},"
				+ "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
				+ "\"subject\":{\"reference\":\"Patient?" + match + "\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
		send(as(everything, "").POST(HttpRequest.BodyPublishers.ofString(tx)).build());
		send(as(createOnly, "").POST(HttpRequest.BodyPublishers.ofString(tx)).build());
		// a conditional reference to a patient the client may not read (HAPI warns, quoting the match URL)
		String conditionalReference = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
				+ "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
				+ "\"subject\":{\"reference\":\"Patient?" + match + "\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
		for (String token : List.of(tokens().system("system/Observation.cruds"), tokens().patient(otherPatient, "patient/*.cruds"))) {
			send(as(token, "").POST(HttpRequest.BodyPublishers.ofString(conditionalReference)).build());
		}
		awaitAuditTrail();

		List<String> lines = new ArrayList<>();
		for (ILoggingEvent event : captured.lines()) {
			lines.add(event.getLoggerName() + " " + event.getFormattedMessage());
			for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
				lines.add(event.getLoggerName() + " " + t.getClassName() + ": " + t.getMessage());
			}
		}
		assertThat(lines).as("log lines captured").isNotEmpty();
		assertThat(lines.stream().filter(line -> line.contains(secret)).toList()).as("log lines quoting a query value").isEmpty();
	}
}
