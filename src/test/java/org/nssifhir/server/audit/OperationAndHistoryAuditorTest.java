package org.nssifhir.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import java.util.List;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.Mockito;
import org.nssifhir.server.support.InMemoryFhirServer;

/**
 * {@link OperationAndHistoryAuditor}: the reads HAPI's BALP capture leaves out (history, named operations, computed
 * answers) each leave one record naming the patient and what was shown; reads BALP records are left to it.
 */
class OperationAndHistoryAuditorTest {

	private final AuditEventWriter writer = mock(AuditEventWriter.class);
	private final OperationAndHistoryAuditor auditor = new OperationAndHistoryAuditor(writer, new SmartAuditContext(), InMemoryFhirServer.FHIR);

	/** An operation that computes its answer from the patient's record, as the summary does. */
	public class Summary {
		@Operation(name = "$computed", type = Patient.class, idempotent = true)
		public Parameters computed(@IdParam IdType id, RequestDetails request) {
			auditor.recordComputedRead(request, id.getIdPart());
			return new Parameters().addParameter("episodes", 3);
		}

		@Operation(name = "$computed-then-refused", type = Patient.class, idempotent = true)
		public Parameters refused(@IdParam IdType id, RequestDetails request) {
			auditor.recordComputedRead(request, id.getIdPart());
			throw new ResourceVersionConflictException("a plan is already active");
		}
	}

	private final InMemoryFhirServer server = new InMemoryFhirServer(auditor, new InMemoryFhirServer.Provider(new Summary()));

	OperationAndHistoryAuditorTest() {
		server.store(new Patient().setId("p1"));
		Observation episode = new Observation();
		episode.setId("o1");
		episode.setSubject(new Reference("Patient/p1"));
		episode.setStatus(Observation.ObservationStatus.FINAL);
		episode.getCode().setText("episode");
		server.store(episode);
	}

	private List<AuditEvent> recorded() {
		ArgumentCaptor<AuditEvent> events = ArgumentCaptor.forClass(AuditEvent.class);
		verify(writer, Mockito.atLeast(0)).recordAuditEvent(events.capture());
		return events.getAllValues();
	}

	private static List<String> entities(AuditEvent event) {
		return event.getEntity().stream().filter(e -> e.getWhat().hasReference()).map(e -> e.getWhat().getReference()).toList();
	}

	@Test
	void testHistoryOfARecord_AuditedWithThePatientAndTheRecord() {
		assertThat(server.get("/Observation/o1/_history").status()).isEqualTo(200);
		assertThat(recorded()).singleElement().satisfies(event -> {
			assertThat(event.getSubtype()).extracting(Coding::getCode).contains("history-instance");
			assertThat(event.getAction()).isEqualTo(AuditEvent.AuditEventAction.R);
			assertThat(entities(event)).containsExactlyInAnyOrder("Patient/p1", "Observation/o1");
			assertThat(event.getAgent()).hasSize(2);
			assertThat(event.getMeta().getTagFirstRep().getCode()).isEqualTo(OperationAndHistoryAuditor.TAG);
		});
	}

	@Test
	void testComputedOperation_AuditedOnceNamingThePatientAndTheOperation() {
		assertThat(server.get("/Patient/p1/$computed").status()).isEqualTo(200);
		assertThat(recorded()).singleElement().satisfies(event -> {
			assertThat(event.getSubtype()).extracting(Coding::getCode).contains("operation", "$computed");
			assertThat(event.getAction()).isEqualTo(AuditEvent.AuditEventAction.E);
			assertThat(entities(event)).containsExactly("Patient/p1");
		});
	}

	@Test
	void testComputedOperationRefusedAfterReadingTheRecord_AuditedAsAMinorFailure() {
		assertThat(server.get("/Patient/p1/$computed-then-refused").status()).isEqualTo(409);
		assertThat(recorded()).singleElement().satisfies(event -> {
			assertThat(event.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._4);
			assertThat(entities(event)).containsExactly("Patient/p1");
		});
	}

	@Test
	void testCountOnlySearch_AuditedNamingThePatientButNoOtherValue() {
		assertThat(server.get("/Observation?subject=Patient/p1&code=secret-code&_summary=count").status()).isEqualTo(200);
		assertThat(recorded()).singleElement().satisfies(event -> {
			assertThat(event.getSubtype()).extracting(Coding::getCode).contains("search-type");
			assertThat(entities(event)).containsExactly("Patient/p1");
			assertThat(InMemoryFhirServer.FHIR.newJsonParser().encodeResourceToString(event)).doesNotContain("secret-code");
		});
	}

	@Test
	void testReadAndSearch_LeftToBalp() {
		assertThat(server.get("/Patient/p1").status()).isEqualTo(200);
		assertThat(server.get("/Observation?subject=Patient/p1").status()).isEqualTo(200);
		assertThat(recorded()).isEmpty();
	}

	@Test
	void testRefusedOrFailedRequest_NotRecordedAsAnAccess() {
		assertThat(server.get("/Observation/missing/_history").status()).isEqualTo(404);
		assertThat(recorded()).isEmpty();
	}
}
