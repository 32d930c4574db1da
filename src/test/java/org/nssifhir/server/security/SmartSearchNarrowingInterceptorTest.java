package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IResourceProvider;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Condition;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.InMemoryFhirServer;

/** {@link SmartSearchNarrowingInterceptor}: a patient-level token's searches are confined to its patient's compartment. */
class SmartSearchNarrowingInterceptorTest {

	/** Records the parameters a search reaches the provider with. */
	public static class Conditions implements IResourceProvider {
		final Map<String, String[]> reached = new HashMap<>();

		@Override
		public Class<Condition> getResourceType() {
			return Condition.class;
		}

		@Search(allowUnknownParams = true)
		public List<Condition> search(RequestDetails request) {
			reached.clear();
			reached.putAll(request.getParameters());
			return List.of();
		}
	}

	private final Conditions conditions = new Conditions();
	private final InMemoryFhirServer server =
			new InMemoryFhirServer(new SmartSearchNarrowingInterceptor(), new InMemoryFhirServer.Provider(conditions));

	@Test
	void testPatientToken_SearchNarrowedToItsPatient() {
		server.as(InMemoryFhirServer.token(Map.of("scope", "patient/Condition.rs", "patient", "p1"))).get("/Condition?code=x");
		assertThat(conditions.reached).containsKey("code");
		assertThat(conditions.reached.get("patient")).containsExactly("Patient/p1");
	}

	@Test
	void testUserToken_NotNarrowed() {
		server.as(InMemoryFhirServer.token(Map.of("scope", "user/Condition.rs", "fhirUser", InMemoryFhirServer.BASE + "/Practitioner/d1")))
				.get("/Condition?code=x");
		assertThat(conditions.reached).containsOnlyKeys("code");
	}

	@Test
	void testPatientAndUserScopes_NotNarrowed() {
		// not patient-level only: the user scope may reach other patients; the authorization rules decide
		server.as(InMemoryFhirServer.token(Map.of("scope", "patient/Condition.rs user/Condition.rs", "patient", "p1",
				"fhirUser", "Practitioner/d1"))).get("/Condition");
		assertThat(conditions.reached).doesNotContainKey("patient");
	}
}
