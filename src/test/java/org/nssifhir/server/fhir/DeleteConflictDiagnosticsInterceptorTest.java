package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.Delete;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import java.util.Map;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link DeleteConflictDiagnosticsInterceptor}: a refused delete is a 409 that does not name the referencing records. */
class DeleteConflictDiagnosticsInterceptorTest {

	/** HAPI's JPA message for a delete refused by references (HAPI-0515), naming the referencing resource. */
	static final String HAPI_MESSAGE = "HAPI-0515: Unable to delete Condition/1 because at least one resource has a reference to "
			+ "this resource. First reference found was resource Observation/other-patient-7 in path Observation.focus";

	public static class Referenced implements IResourceProvider {
		@Override
		public Class<Condition> getResourceType() {
			return Condition.class;
		}

		@Delete
		public MethodOutcome delete(@IdParam IdType id) {
			if (id.getIdPart().equals("free")) {
				return new MethodOutcome();
			}
			throw new ResourceVersionConflictException(HAPI_MESSAGE);
		}
	}

	/** A batch whose delete entry failed as the JPA server reports it: the message in the entry's outcome. */
	public static class Batches {
		@Transaction
		public Bundle batch(@TransactionParam Bundle bundle) {
			Bundle response = new Bundle().setType(Bundle.BundleType.BATCHRESPONSE);
			OperationOutcome outcome = new OperationOutcome();
			outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(OperationOutcome.IssueType.CONFLICT)
					.setDiagnostics(HAPI_MESSAGE);
			response.addEntry().getResponse().setStatus("409 Conflict").setOutcome(outcome);
			return response;
		}
	}

	private final InMemoryFhirServer server = new InMemoryFhirServer(new DeleteConflictDiagnosticsInterceptor(),
			new InMemoryFhirServer.Provider(new Referenced()), new InMemoryFhirServer.Provider(new Batches()));

	@Test
	void testDeleteOfReferencedResource_409WithoutNamingTheReferences() {
		InMemoryFhirServer.Response response = server.send("DELETE", "/Condition/1", null, Map.of());
		assertThat(response.status()).isEqualTo(409);
		assertThat(response.diagnostics()).startsWith(ErrorCode.DELETE_TARGET_REFERENCED.code() + ":");
		assertThat(response.body()).doesNotContain("other-patient-7", "HAPI-0515");
	}

	@Test
	void testDeleteWithoutReferences_Unchanged() {
		assertThat(server.send("DELETE", "/Condition/free", null, Map.of()).status()).isIn(200, 204);
	}

	@Test
	void testBatchEntryOutcome_Replaced() {
		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.DELETE).setUrl("Condition/1");
		InMemoryFhirServer.Response response = server.post("/", batch);
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.body()).contains(ErrorCode.DELETE_TARGET_REFERENCED.code()).doesNotContain("other-patient-7");
	}
}
