package org.nssifhir.server.bulk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import ca.uhn.fhir.batch2.api.IJobCoordinator;
import ca.uhn.fhir.batch2.jobs.imprt.BulkImportAppCtx;
import ca.uhn.fhir.batch2.model.JobInstance;
import ca.uhn.fhir.jpa.model.util.JpaConstants;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.UriType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;

/**
 * {@link BulkImportGuard} on an in-memory FHIR server: who may start an import, of which types, from which sources,
 * and who may see its status. HAPI's {@code $import} provider is stood in for by {@link Imports} (it counts the
 * kick-offs that got through); the job store by a Mockito {@link IJobCoordinator}.
 */
class BulkImportGuardTest {

	private static final String SOURCE = "https://files.example/nssi/";

	/** What HAPI's import provider answers once the guard lets a request through. */
	public static final class Imports {
		int started;

		@Operation(name = JpaConstants.OPERATION_IMPORT, manualResponse = true)
		public void kickOff(ServletRequestDetails request) {
			started++;
			request.getServletResponse().setStatus(202);
		}

		@Operation(name = JpaConstants.OPERATION_IMPORT_POLL_STATUS, manualResponse = true, idempotent = true)
		public void status(ServletRequestDetails request) {
			request.getServletResponse().setStatus(202);
		}
	}

	private final Imports imports = new Imports();
	private final IJobCoordinator jobs = mock(IJobCoordinator.class);
	private final InMemoryFhirServer server = server(true);

	BulkImportGuardTest() {
		when(jobs.getInstance(anyString())).thenThrow(new ResourceNotFoundException("no job"));
		JobInstance imported = new JobInstance();
		imported.setJobDefinitionId(BulkImportAppCtx.JOB_BULK_IMPORT_PULL);
		imported.setTriggeringClientId("ehr");
		org.mockito.Mockito.doReturn(imported).when(jobs).getInstance("import-1");
		JobInstance exported = new JobInstance();
		exported.setJobDefinitionId("BULK_EXPORT");
		exported.setTriggeringClientId("ehr");
		org.mockito.Mockito.doReturn(exported).when(jobs).getInstance("export-1");
	}

	private InMemoryFhirServer server(boolean security) {
		return new InMemoryFhirServer(
				new BulkImportGuard(InMemoryFhirServer.FHIR, jobs, List.of(SOURCE), security), new InMemoryFhirServer.Provider(imports));
	}

	private static Parameters manifest(String... typeAndUrl) {
		Parameters parameters = new Parameters();
		parameters.addParameter().setName("inputFormat").setValue(new StringType("application/fhir+ndjson"));
		for (int i = 0; i < typeAndUrl.length; i += 2) {
			Parameters.ParametersParameterComponent input = parameters.addParameter().setName("input");
			input.addPart().setName("type").setValue(new StringType(typeAndUrl[i]));
			input.addPart().setName("url").setValue(new UriType(typeAndUrl[i + 1]));
		}
		return parameters;
	}

	@Test
	void testPatientOrUserToken_Refused() {
		for (Map<String, Object> claims : List.<Map<String, Object>>of(
				Map.of("scope", "patient/*.cu", "patient", "p1", "client_id", "app"),
				Map.of("scope", "user/*.cu", "fhirUser", "Practitioner/d1", "client_id", "app"),
				Map.of("scope", "system/*.cu", "fhirUser", "Practitioner/d1", "client_id", "app"))) {
			InMemoryFhirServer.Response response = server.as(InMemoryFhirServer.token(claims))
					.post("/$import", manifest("Patient", SOURCE + "Patient.ndjson"));
			assertThat(response.status()).as(claims.toString()).isEqualTo(403);
			assertThat(response.diagnostics()).startsWith(ErrorCode.BULK_IMPORT_NOT_ALLOWED.code() + ":");
		}
		assertThat(server.post("/$import", manifest("Patient", SOURCE + "Patient.ndjson")).status())
				.as("no token at all").isEqualTo(403);
		assertThat(imports.started).isZero();
	}

	@Test
	void testTypesWithoutCreateAndUpdateScopes_Refused() {
		InMemoryFhirServer.Response response = server.as(InMemoryBulkExport.backend("ehr", "system/Observation.cu system/Patient.c"))
				.post("/$import", manifest("Observation", SOURCE + "Observation.ndjson", "Patient", SOURCE + "Patient.ndjson"));
		assertThat(response.status()).isEqualTo(403);
		assertThat(response.diagnostics()).startsWith(ErrorCode.BULK_IMPORT_NOT_ALLOWED.code() + ":")
				.contains("Patient").doesNotContain("Observation");
		// a query-restricted scope cannot be held to the imported lines: it does not count
		assertThat(server.as(InMemoryBulkExport.backend("ehr", "system/Observation.cu?category=laboratory"))
				.post("/$import", manifest("Observation", SOURCE + "Observation.ndjson")).status()).isEqualTo(403);
		assertThat(imports.started).isZero();
	}

	@Test
	void testSourceOutsideAllowList_Refused() {
		for (String url : List.of(
				"http://169.254.169.254/latest/meta-data", "https://files.example/other/Patient.ndjson",
				"file:///etc/passwd", "not a url", "ftp://files.example/nssi/Patient.ndjson")) {
			InMemoryFhirServer.Response response = server.as(InMemoryBulkExport.backend("ehr", "system/*.cu"))
					.post("/$import", manifest("Patient", url));
			assertThat(response.status()).as(url).isEqualTo(403);
			assertThat(response.diagnostics()).startsWith(ErrorCode.BULK_IMPORT_NOT_ALLOWED.code() + ":")
					.contains("nssi.integration.import-sources").doesNotContain(url);
		}
		// the list applies with security off as well: it is what keeps the server from fetching internal addresses
		assertThat(server(false).post("/$import", manifest("Patient", "http://localhost:5432/")).status()).isEqualTo(403);
		assertThat(imports.started).isZero();
	}

	@Test
	void testBackendWithScopesAndAllowedSource_Started() {
		InMemoryFhirServer.Response response = server.as(InMemoryBulkExport.backend("ehr", "system/Patient.cu system/Observation.cruds"))
				.post("/$import", manifest("Patient", SOURCE + "Patient.ndjson", "Observation", SOURCE + "Observation.ndjson"));
		assertThat(response.status()).isEqualTo(202);
		assertThat(imports.started).isEqualTo(1);
	}

	@Test
	void testNotAManifest_400() {
		InMemoryFhirServer backend = server.as(InMemoryBulkExport.backend("ehr", "system/*.cu"));
		InMemoryFhirServer.Response patient = backend.post("/$import", new Patient());
		assertThat(patient.status()).isIn(400, 422);
		InMemoryFhirServer.Response unknownType = backend.post("/$import", manifest("NotAType", SOURCE + "x.ndjson"));
		assertThat(unknownType.status()).isEqualTo(400);
		assertThat(unknownType.diagnostics()).startsWith(ErrorCode.OPERATION_PARAMETER_INVALID.code() + ":");
		assertThat(imports.started).isZero();
	}

	@Test
	void testStatus_OnlyForTheClientThatStartedIt() {
		String status = "/" + JpaConstants.OPERATION_IMPORT_POLL_STATUS + "?" + JpaConstants.PARAM_IMPORT_POLL_STATUS_JOB_ID + "=";
		assertThat(server.as(InMemoryBulkExport.backend("ehr", "system/*.cu")).get(status + "import-1").status()).isEqualTo(202);
		InMemoryFhirServer.Response other = server.as(InMemoryBulkExport.backend("other", "system/*.cu")).get(status + "import-1");
		assertThat(other.status()).isEqualTo(404);
		assertThat(other.diagnostics()).startsWith(ErrorCode.BULK_IMPORT_NOT_FOUND.code() + ":");
		// a missing job, another kind of job of the same client, and no job id all answer the same
		for (String path : List.of(status + "import-9", status + "export-1", "/" + JpaConstants.OPERATION_IMPORT_POLL_STATUS)) {
			InMemoryFhirServer.Response response = server.as(InMemoryBulkExport.backend("ehr", "system/*.cu")).get(path);
			assertThat(response.status()).as(path).isEqualTo(404);
			assertThat(response.diagnostics()).as(path).isEqualTo(other.diagnostics());
		}
		assertThat(server.as(InMemoryFhirServer.token(Map.of("scope", "user/*.rs", "fhirUser", "Practitioner/d1", "client_id", "ehr")))
				.get(status + "import-1").status()).as("a user token of the same client").isEqualTo(403);
	}
}
