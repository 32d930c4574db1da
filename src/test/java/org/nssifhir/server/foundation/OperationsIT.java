package org.nssifhir.server.foundation;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nssifhir.server.support.BaseIT;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** Health, metrics, what is not exposed, CORS default, and what the request log may contain. */
@ExtendWith(OutputCaptureExtension.class)
class OperationsIT extends BaseIT {

	private HttpResponse<String> get(String path) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).build(), HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void livenessAndReadinessAreUp() throws Exception {
		HttpResponse<String> readiness = get("/actuator/health/readiness");
		assertThat(readiness.statusCode()).isEqualTo(200);
		assertThat(readiness.body()).contains("\"status\":\"UP\"");
		assertThat(get("/actuator/health/liveness").statusCode()).isEqualTo(200);
	}

	@Test
	void prometheusMetricsIncludeHttpAndPoolMetrics() throws Exception {
		get("/fhir/metadata");
		// metrics need a token with the metrics.read scope (RegistrationAndTokenAttacksIT checks the refusals)
		HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/actuator/prometheus"))
				.header("Authorization", "Bearer " + tokens().system("metrics.read")).build(), HttpResponse.BodyHandlers.ofString());
		assertThat(metrics.statusCode()).isEqualTo(200);
		assertThat(metrics.body()).contains("http_server_requests_seconds").contains("hikaricp_connections");
	}

	@Test
	void nothingElseOfActuatorIsExposed() throws Exception {
		for (String path : new String[] {"/actuator/env", "/actuator/beans", "/actuator/heapdump", "/actuator/configprops", "/actuator/loggers"}) {
			assertThat(get(path).statusCode()).as(path).isEqualTo(404);
		}
	}

	@Test
	void noTesterUiIsServed() throws Exception {
		assertThat(get("/").statusCode()).isEqualTo(404);
		assertThat(get("/home").statusCode()).isEqualTo(404);
	}

	@Test
	void corsAnswersOnlyTheConfiguredOrigins_forTheFhirApiAndCdsHooks() throws Exception {
		for (String path : new String[] {"/fhir/Patient", "/cds-services", "/cds-services/nssi-patient-view"}) {
			assertThat(preflight(path, "https://evil.example").headers().firstValue("Access-Control-Allow-Origin")).as(path).isEmpty();
			HttpResponse<String> allowed = preflight(path, TRUSTED_ORIGIN);
			assertThat(allowed.statusCode()).as(path).isEqualTo(200);
			assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin")).as(path).contains(TRUSTED_ORIGIN);
			assertThat(allowed.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase()).as(path).contains("authorization");
		}
		for (String path : new String[] {"/fhir/metadata", "/cds-services"}) {
			assertThat(getFrom(path, "https://evil.example").headers().firstValue("Access-Control-Allow-Origin")).as(path).isEmpty();
			HttpResponse<String> simple = getFrom(path, TRUSTED_ORIGIN);
			assertThat(simple.statusCode()).as(path).isEqualTo(200);
			assertThat(simple.headers().firstValue("Access-Control-Allow-Origin")).as(path).contains(TRUSTED_ORIGIN);
		}
	}

	private HttpResponse<String> preflight(String path, String origin) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path))
						.method("OPTIONS", HttpRequest.BodyPublishers.noBody())
						.header("Origin", origin)
						.header("Access-Control-Request-Method", path.startsWith("/cds-services/") ? "POST" : "GET")
						.header("Access-Control-Request-Headers", "authorization,content-type")
						.build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> getFrom(String path, String origin) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).header("Origin", origin).build(), HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void requestLogHasMethodPathStatusAndDurationButNoQueryOrIds(CapturedOutput output) throws Exception {
		String secret = unique("SecretFamily").replace("-", "");
		http.send(fhirRequest("/Patient?family=" + secret).build(), HttpResponse.BodyHandlers.discarding());
		http.send(fhirRequest("/Patient/" + secret).build(), HttpResponse.BodyHandlers.discarding());
		// the access line is written after the response has gone out, so wait for it briefly
		Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			String log = output.getAll();
			assertThat(log).containsPattern("GET /fhir/Patient 200 \\d+ms");
			assertThat(log).containsPattern("GET /fhir/Patient/\\{id\\} 404 \\d+ms");
		});
		assertThat(output.getAll()).doesNotContain(secret);
	}
}
