package org.nssifhir.server.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;

/**
 * The tests run on the embedded database, i.e. the embedded default, where OpenAPI and Swagger UI are on. The
 * off state (production) is covered by {@link OpenApiSettingsTest} without a second Spring context.
 */
class OpenApiIT extends BaseIT {

	private HttpResponse<String> get(String path, String accept) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).header("Accept", accept).GET().build(),
				HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void openApiDescribesTheFhirApiAndOurOperations_withoutAToken() throws Exception {
		HttpResponse<String> docs = get("/fhir/api-docs", "*/*");
		assertThat(docs.statusCode()).isEqualTo(200);
		assertThat(docs.body()).startsWith("openapi: 3");
		assertThat(docs.body()).contains("/Patient/{id}/$nssi-summary", "/QuestionnaireResponse/$extract", "/Questionnaire/$populate", "/$export",
				"/Group/{id}/$export", "/Observation/{id}");
	}

	@Test
	void swaggerUiIsServed_andSpringdocIsNot() throws Exception {
		HttpResponse<String> ui = get("/fhir/swagger-ui/", "text/html");
		assertThat(ui.statusCode()).isEqualTo(200);
		assertThat(ui.body()).contains("swagger-ui");
		assertThat(get("/fhir/swagger-ui/swagger-ui-bundle.js", "*/*").statusCode()).isEqualTo(200);
		// the FHIR data behind it still needs a token
		assertThat(get("/fhir/Patient", "application/fhir+json").statusCode()).isEqualTo(401);
		// springdoc (a HAPI dependency) would describe the Spring endpoints: switched off
		assertThat(get("/v3/api-docs", "*/*").statusCode()).isNotEqualTo(200);
	}
}
