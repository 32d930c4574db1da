package org.nssifhir.server.foundation;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.NssiServerApplication;
import org.nssifhir.server.security.issuing.DevClient;
import org.nssifhir.server.support.TestDatabase;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The embedded default (no database configured) keeps its data across a restart. Starts the real application
 * twice on the same data directory; deliberately outside the shared test context.
 */
class EmbeddedDefaultRestartIT {

	private static ConfigurableApplicationContext start(Path dataDir, int port) {
		// command-line arguments, because they outrank application.yaml (builder "properties" do not)
		return new SpringApplicationBuilder(NssiServerApplication.class)
				.run(
						// the same port both times: a token's audience is the FHIR base URL, port included
						"--server.port=" + port,
						"--nssi.db.url=",
						"--nssi.db.embedded-data-dir=" + dataDir,
						"--nssi.search-index-dir=" + dataDir.resolveSibling(dataDir.getFileName() + "-lucene"));
	}

	/**
	 * A client authenticated the way the README tells a developer to: the dev client's secret from the data
	 * directory, exchanged for a token at the built-in authorization server.
	 */
	private static String token(ConfigurableApplicationContext context) throws Exception {
		int port = ((WebServerApplicationContext) context).getWebServer().getPort();
		String secret = Files.readString(context.getBean(DevClient.class).secretFile()).trim();
		HttpResponse<String> response = HttpClient.newHttpClient().send(
				HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth2/token"))
						.header("Content-Type", "application/x-www-form-urlencoded")
						.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((DevClient.CLIENT_ID + ":" + secret).getBytes(StandardCharsets.UTF_8)))
						.POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&scope=system/*.cruds"))
						.build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("Cache-Control")).hasValueSatisfying(v -> assertThat(v).contains("no-store"));
		return new ObjectMapper().readTree(response.body()).path("access_token").asText();
	}

	private static IGenericClient client(ConfigurableApplicationContext context, String token) {
		int port = ((WebServerApplicationContext) context).getWebServer().getPort();
		FhirContext fhir = context.getBean(FhirContext.class);
		fhir.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
		IGenericClient client = fhir.newRestfulGenericClient("http://127.0.0.1:" + port + "/fhir");
		client.registerInterceptor(new BearerTokenAuthInterceptor(token));
		return client;
	}

	@Test
	void dataAndTokensSurviveARestart() throws Exception {
		Path dataDir = TestDatabase.freshDirectory("nssi-restart").resolve("postgres");
		int port;
		try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
			port = socket.getLocalPort();
		}
		IIdType id;
		String token;
		try (ConfigurableApplicationContext first = start(dataDir, port)) {
			Patient patient = new Patient();
			patient.addName().setFamily("Restart");
			patient.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
			token = token(first);
			id = client(first, token).create().resource(patient).execute().getId().toUnqualifiedVersionless();
		}
		assertThat(Files.exists(dataDir.resolve("PG_VERSION"))).isTrue();

		try (ConfigurableApplicationContext second = start(dataDir, port)) {
			// the signing key is kept next to the data, so a token from before the restart is still valid
			Patient read = client(second, token).read().resource(Patient.class).withId(id).execute();
			assertThat(read.getNameFirstRep().getFamily()).isEqualTo("Restart");
		}
	}
}
