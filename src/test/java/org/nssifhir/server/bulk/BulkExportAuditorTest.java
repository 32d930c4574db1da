package org.nssifhir.server.bulk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;

import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.Mockito;
import org.nssifhir.server.audit.AuditEventWriter;
import org.nssifhir.server.audit.SmartAuditContext;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link BulkExportAuditor}: kick-off and cancel are audited with who and what, never with filter values. */
class BulkExportAuditorTest {

	private final InMemoryBulkExport export = new InMemoryBulkExport();
	private final AuditEventWriter writer = mock(AuditEventWriter.class);
	private final InMemoryFhirServer server = new InMemoryFhirServer(new BulkExportGuard(export.coordinator),
			new BulkExportAuditor(writer, new SmartAuditContext()), new InMemoryFhirServer.Provider(export));

	private List<AuditEvent> recorded() {
		ArgumentCaptor<AuditEvent> events = ArgumentCaptor.forClass(AuditEvent.class);
		verify(writer, Mockito.atLeast(0)).recordAuditEvent(events.capture());
		return new ArrayList<>(events.getAllValues());
	}

	@Test
	void testKickOff_AuditedWithClientTypesAndJobButNoFilterValue() {
		server.as(InMemoryBulkExport.backend("ehr", "system/Observation.rs"))
				.get("/$export?_type=Observation&_typeFilter=Observation%3Fcode%3Dsecret-code");
		List<AuditEvent> events = recorded();
		assertThat(events).hasSize(1);
		AuditEvent event = events.get(0);
		assertThat(event.getMeta().getTagFirstRep().getCode()).isEqualTo("bulk-export-kickoff");
		assertThat(event.getOutcomeDesc()).contains("Observation", "(with _typeFilter)");
		assertThat(event.getAgentFirstRep().getWho().getIdentifier().getValue()).isEqualTo("ehr");
		assertThat(event.getEntity()).anyMatch(e -> "job-1".equals(e.getWhat().getIdentifier().getValue()));
		assertThat(InMemoryFhirServer.FHIR.newJsonParser().encodeResourceToString(event)).doesNotContain("secret-code");
	}

	@Test
	void testRefusedKickOff_NotAuditedHere() {
		// a refusal is the refused-access auditor's record, not an export that started
		server.as(InMemoryBulkExport.backend("ehr", "system/Observation.rs")).get("/$export?_type=Patient");
		verify(writer, never()).recordAuditEvent(Mockito.any());
	}

	@Test
	void testCancel_Audited() {
		server.as(InMemoryBulkExport.backend("ehr", "system/*.rs")).get("/$export");
		server.as(InMemoryBulkExport.backend("ehr", "system/*.rs")).send("DELETE", "/$export-poll-status?_jobId=job-1", null, java.util.Map.of());
		List<AuditEvent> events = recorded();
		assertThat(events).extracting(e -> e.getMeta().getTagFirstRep().getCode()).containsExactly("bulk-export-kickoff", "bulk-export-cancel");
		assertThat(events.get(1).getEntity()).anyMatch(e -> "job-1".equals(e.getWhat().getIdentifier().getValue()));
	}
}
