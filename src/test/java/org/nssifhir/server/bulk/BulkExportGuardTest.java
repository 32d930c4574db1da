package org.nssifhir.server.bulk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link BulkExportGuard}: who may start an export, of what, and who may see its status. */
class BulkExportGuardTest {

	private final InMemoryBulkExport export = new InMemoryBulkExport();
	private final InMemoryFhirServer server =
			new InMemoryFhirServer(new BulkExportGuard(export.coordinator), new InMemoryFhirServer.Provider(export));

	@Test
	void testPatientOrUserToken_Refused() {
		for (Map<String, Object> claims : java.util.List.<Map<String, Object>>of(
				Map.of("scope", "patient/*.rs", "patient", "p1", "client_id", "app"),
				Map.of("scope", "user/*.rs", "fhirUser", "Practitioner/d1", "client_id", "app"),
				Map.of("scope", "system/*.rs", "fhirUser", "Practitioner/d1", "client_id", "app"))) {
			InMemoryFhirServer.Response response = server.as(InMemoryFhirServer.token(claims)).get("/$export");
			assertThat(response.status()).as(claims.toString()).isEqualTo(403);
			assertThat(response.diagnostics()).startsWith(ErrorCode.BULK_EXPORT_NOT_ALLOWED.code() + ":");
		}
		assertThat(export.jobs).isEmpty();
	}

	@Test
	void testRequestedTypeOutsideScopes_Refused() {
		InMemoryFhirServer.Response response = server.as(InMemoryBulkExport.backend("ehr", "system/Observation.rs"))
				.get("/$export?_type=Observation,Patient");
		assertThat(response.status()).isEqualTo(403);
		assertThat(response.diagnostics()).startsWith(ErrorCode.BULK_EXPORT_NOT_ALLOWED.code() + ":").contains("Patient");
		assertThat(export.jobs).isEmpty();
	}

	@Test
	void testNoTypes_NarrowedToReadableTypesAndStampedWithClient() {
		assertThat(server.as(InMemoryBulkExport.backend("ehr", "system/Observation.rs system/Condition.r")).get("/$export").status())
				.isEqualTo(202);
		assertThat(export.jobs).hasSize(1);
		var job = export.jobs.values().iterator().next();
		assertThat(job.getResourceTypes()).containsExactlyInAnyOrder("Observation", "Condition");
		assertThat(job.getBinarySecurityContextIdentifierSystem()).isEqualTo(BulkExportGuard.CLIENT_SYSTEM);
		assertThat(job.getBinarySecurityContextIdentifierValue()).isEqualTo("ehr");
	}

	@Test
	void testQueryRestrictedScope_Refused() {
		InMemoryFhirServer.Response response = server.as(InMemoryBulkExport.backend("ehr", "system/Observation.rs?category=laboratory"))
				.get("/$export?_type=Observation");
		assertThat(response.status()).isEqualTo(403);
		assertThat(response.diagnostics()).startsWith(ErrorCode.SCOPE_NOT_ENFORCEABLE.code() + ":");
	}

	@Test
	void testStatus_OnlyForTheClientThatStartedIt() {
		server.as(InMemoryBulkExport.backend("ehr", "system/*.rs")).get("/$export");
		assertThat(server.as(InMemoryBulkExport.backend("ehr", "system/*.rs")).get("/$export-poll-status?_jobId=job-1").status())
				.isEqualTo(202);
		InMemoryFhirServer.Response other = server.as(InMemoryBulkExport.backend("other", "system/*.rs")).get("/$export-poll-status?_jobId=job-1");
		assertThat(other.status()).isEqualTo(404);
		assertThat(other.diagnostics()).startsWith(ErrorCode.BULK_EXPORT_NOT_FOUND.code() + ":");
		// a job that does not exist answers the same
		assertThat(server.as(InMemoryBulkExport.backend("ehr", "system/*.rs")).get("/$export-poll-status?_jobId=job-9").diagnostics())
				.isEqualTo(other.diagnostics());
	}
}
