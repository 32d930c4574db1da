package org.nssifhir.server.bulk;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.server.provider.HashMapResourceProvider;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link BulkExportFileGuard}: an export file is served only to the client whose export made it. */
class BulkExportFileGuardTest {

	private final HashMapResourceProvider<Binary> binaries = new HashMapResourceProvider<>(InMemoryFhirServer.FHIR, Binary.class);
	private final InMemoryFhirServer server =
			new InMemoryFhirServer(new BulkExportFileGuard(InMemoryFhirServer.FHIR), new InMemoryFhirServer.Provider(binaries));

	BulkExportFileGuardTest() {
		Binary file = new Binary().setContentType("application/fhir+ndjson").setData("{}".getBytes());
		file.getSecurityContext().getIdentifier().setSystem(BulkExportGuard.CLIENT_SYSTEM).setValue("ehr");
		binaries.store((Binary) file.setId("export-file"));
		binaries.store((Binary) new Binary().setContentType("text/plain").setData("x".getBytes()).setId("other-binary"));
	}

	@Test
	void testExportFile_ServedToItsClient() {
		assertThat(server.as(InMemoryBulkExport.backend("ehr", "system/Observation.rs")).get("/Binary/export-file").status()).isEqualTo(200);
	}

	@Test
	void testExportFile_RefusedToAnotherClient() {
		InMemoryFhirServer.Response response = server.as(InMemoryBulkExport.backend("other", "system/*.rs")).get("/Binary/export-file");
		assertThat(response.status()).isEqualTo(403);
		assertThat(response.diagnostics()).startsWith(ErrorCode.BULK_EXPORT_NOT_ALLOWED.code() + ":");
	}

	@Test
	void testOtherBinary_NeedsABinaryScope() {
		assertThat(server.as(InMemoryBulkExport.backend("ehr", "system/Observation.rs")).get("/Binary/other-binary").status()).isEqualTo(403);
		assertThat(server.as(InMemoryBulkExport.backend("ehr", "system/Binary.rs")).get("/Binary/other-binary").status()).isEqualTo(200);
	}
}
