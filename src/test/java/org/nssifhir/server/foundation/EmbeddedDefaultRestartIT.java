package org.nssifhir.server.foundation;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.NssiServerApplication;
import org.nssifhir.server.support.TestDatabase;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The embedded default (no database configured) keeps its data across a restart. Starts the real application
 * twice on the same data directory; deliberately outside the shared test context.
 */
class EmbeddedDefaultRestartIT {

	private static ConfigurableApplicationContext start(Path dataDir) {
		// command-line arguments, because they outrank application.yaml (builder "properties" do not)
		return new SpringApplicationBuilder(NssiServerApplication.class)
				.run(
						"--server.port=0",
						"--nssi.db.url=",
						"--nssi.db.embedded-data-dir=" + dataDir,
						"--nssi.search-index-dir=" + dataDir.resolveSibling(dataDir.getFileName() + "-lucene"));
	}

	private static IGenericClient client(ConfigurableApplicationContext context) {
		int port = ((WebServerApplicationContext) context).getWebServer().getPort();
		FhirContext fhir = context.getBean(FhirContext.class);
		fhir.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
		return fhir.newRestfulGenericClient("http://localhost:" + port + "/fhir");
	}

	@Test
	void dataSurvivesARestart() throws Exception {
		Path dataDir = TestDatabase.freshDirectory("nssi-restart");
		IIdType id;
		try (ConfigurableApplicationContext first = start(dataDir)) {
			Patient patient = new Patient();
			patient.addName().setFamily("Restart");
			patient.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
			id = client(first).create().resource(patient).execute().getId().toUnqualifiedVersionless();
		}
		assertThat(Files.exists(dataDir.resolve("PG_VERSION"))).isTrue();

		try (ConfigurableApplicationContext second = start(dataDir)) {
			Patient read = client(second).read().resource(Patient.class).withId(id).execute();
			assertThat(read.getNameFirstRep().getFamily()).isEqualTo("Restart");
		}
	}
}
