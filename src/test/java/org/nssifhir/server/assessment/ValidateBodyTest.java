package org.nssifhir.server.assessment;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Validate;
import ca.uhn.fhir.rest.api.MethodOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.conformance.ConformancePackage;
import org.nssifhir.server.support.InMemoryFhirServer;

/**
 * The REST half of {@link ResponseAsWritten} over HAPI's request handling: a {@code $validate} body with PHQ-9
 * integer answers reaches the validator as the write would store it (LOINC answers), and the answer names each item
 * and the code to send. The validator here is a stand-in provider that records what it was given.
 */
class ValidateBodyTest {

	/** Records the response HAPI hands to $validate. */
	public static final class RecordingValidator {
		QuestionnaireResponse received;

		@Validate(type = QuestionnaireResponse.class)
		public MethodOutcome validate(@ResourceParam QuestionnaireResponse response) {
			received = response;
			OperationOutcome ok = new OperationOutcome();
			ok.addIssue().setSeverity(OperationOutcome.IssueSeverity.INFORMATION).setCode(OperationOutcome.IssueType.INFORMATIONAL).setDiagnostics("All OK");
			return new MethodOutcome().setOperationOutcome(ok);
		}
	}

	@Test
	void integerPhq9AnswersAreValidatedAsTheirLoincAnswersWithANotePerItem() throws Exception {
		RecordingValidator validator = new RecordingValidator();
		InMemoryFhirServer server = server(validator);
		QuestionnaireResponse qr = examplePhq9();
		qr.getItem().stream().filter(i -> i.getLinkId().equals("phq9-item-9")).forEach(i -> i.getAnswerFirstRep().setValue(new IntegerType(1)));
		qr.getItem().stream().filter(i -> i.getLinkId().equals("phq9-item-2")).forEach(i -> i.getAnswerFirstRep().setValue(new IntegerType(3)));

		InMemoryFhirServer.Response answer = server.send("POST", "/QuestionnaireResponse/$validate",
				InMemoryFhirServer.FHIR.newJsonParser().encodeResourceToString(qr), Map.of("Content-Type", "application/fhir+json"));

		assertThat(answer.status()).as(answer.body()).isEqualTo(200);
		assertThat(validator.received).isNotNull();
		assertThat(validator.received.getItem()).filteredOn(i -> i.getLinkId().equals("phq9-item-9"))
				.allSatisfy(i -> assertThat(i.getAnswerFirstRep().getValueCoding().getCode()).isEqualTo("LA6569-3"));
		assertThat(validator.received.getItem()).filteredOn(i -> i.getLinkId().equals("phq9-item-2"))
				.allSatisfy(i -> assertThat(i.getAnswerFirstRep().getValueCoding().getCode()).isEqualTo("LA6571-9"));
		OperationOutcome outcome = (OperationOutcome) answer.resource();
		assertThat(outcome.getIssue()).filteredOn(i -> i.getSeverity() == OperationOutcome.IssueSeverity.WARNING)
				.hasSize(2).allSatisfy(i -> assertThat(i.getDiagnostics()).contains("LA"));
		assertThat(outcome.getIssue()).noneMatch(i -> "All OK".equals(i.getDiagnostics()));
	}

	@Test
	void otherRequestsPassUntouched() throws Exception {
		InMemoryFhirServer server = server(new RecordingValidator());
		QuestionnaireResponse qr = examplePhq9();
		InMemoryFhirServer.Response answer = server.send("POST", "/QuestionnaireResponse/$validate",
				InMemoryFhirServer.FHIR.newJsonParser().encodeResourceToString(qr), Map.of("Content-Type", "application/fhir+json"));
		assertThat(answer.status()).as(answer.body()).isEqualTo(200);
		assertThat(((OperationOutcome) answer.resource()).getIssue()).noneMatch(i -> i.getSeverity() == OperationOutcome.IssueSeverity.WARNING);
		assertThat(server.get("/Patient?_count=1").status()).isEqualTo(200);
	}

	private static InMemoryFhirServer server(RecordingValidator validator) {
		// the profile validator serves the storage hooks only; the REST half needs the package's Questionnaires
		ResponseAsWritten rule = new ResponseAsWritten(InMemoryFhirServer.FHIR, null, ConformancePackage.fromClasspath());
		return new InMemoryFhirServer(new ResponseAsWritten.ValidateBody(rule), new InMemoryFhirServer.Provider(validator));
	}

	private static QuestionnaireResponse examplePhq9() throws java.io.IOException {
		return InMemoryFhirServer.FHIR.newJsonParser().parseResource(QuestionnaireResponse.class,
				Files.readString(Path.of("profiles/examples/QuestionnaireResponse-nssi-example-phq9-adolescent.json")));
	}
}
