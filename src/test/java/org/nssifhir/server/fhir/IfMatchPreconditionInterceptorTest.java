package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Update;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import java.util.Map;
import org.hl7.fhir.r4.model.Goal;
import org.hl7.fhir.r4.model.IdType;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link IfMatchPreconditionInterceptor} on an in-memory FHIR server (middle tier: no database). */
class IfMatchPreconditionInterceptorTest {

	/** Answers every update as JPA does when the stored version has moved on. */
	public static class ConflictingGoals {
		@Update(typeName = "Goal")
		public MethodOutcome update(@IdParam IdType id, @ResourceParam Goal goal) {
			throw new ResourceVersionConflictException("HAPI-0989: Trying to update " + id.toUnqualifiedVersionless() + " but this is not the current version");
		}
	}

	private final InMemoryFhirServer server = new InMemoryFhirServer(
			new IfMatchPreconditionInterceptor(), new InMemoryFhirServer.Provider(new ConflictingGoals()));

	private static String goal() {
		Goal goal = new Goal();
		goal.setId("g1");
		goal.setLifecycleStatus(Goal.GoalLifecycleStatus.ACTIVE);
		goal.getDescription().setText("fewer urges");
		return InMemoryFhirServer.FHIR.newJsonParser().encodeResourceToString(goal);
	}

	@Test
	void testVersionConflictWithIfMatch_PreconditionFailed() {
		InMemoryFhirServer.Response response = server.send("PUT", "/Goal/g1", goal(), Map.of("If-Match", "W/\"1\""));
		assertThat(response.status()).isEqualTo(412);
		assertThat(response.diagnostics()).contains("not the current version");
	}

	@Test
	void testVersionConflictWithoutIfMatch_StaysConflict() {
		InMemoryFhirServer.Response response = server.send("PUT", "/Goal/g1", goal(), Map.of());
		assertThat(response.status()).isEqualTo(409);
	}
}
