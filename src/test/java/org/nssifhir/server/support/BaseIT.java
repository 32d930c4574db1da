package org.nssifhir.server.support;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import java.net.http.HttpClient;
import java.util.UUID;
import org.nssifhir.server.NssiServerApplication;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of every integration test: the whole application on a random port, over real HTTP, against a real
 * PostgreSQL (see {@link TestDatabase}). All subclasses share one Spring context, so do not add per-class
 * properties or {@code @MockBean}s here or in subclasses: each would start another server. Tests make their own
 * data (unique identifiers) and never depend on what other tests stored.
 */
// metrics export is off in Spring Boot tests unless asked for; the Prometheus endpoint is part of what we test
@AutoConfigureObservability
@SpringBootTest(classes = NssiServerApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class BaseIT {

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		TestDatabase.register(registry);
	}

	@LocalServerPort
	protected int port;

	@Autowired
	protected FhirContext fhirContext;

	protected final HttpClient http = HttpClient.newHttpClient();

	protected String baseUrl() {
		return "http://localhost:" + port;
	}

	protected String fhirBase() {
		return baseUrl() + "/fhir";
	}

	protected IGenericClient client() {
		fhirContext.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
		return fhirContext.newRestfulGenericClient(fhirBase());
	}

	/** A value no other test uses, for identifiers and names that searches must find exactly. */
	protected static String unique(String prefix) {
		return prefix + "-" + UUID.randomUUID();
	}
}
