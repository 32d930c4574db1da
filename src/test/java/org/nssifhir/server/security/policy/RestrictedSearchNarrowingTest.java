package org.nssifhir.server.security.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.param.TokenParamModifier;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/** {@link RestrictedSearchNarrowing}: which searches get which labels left out, decided by the policy. */
class RestrictedSearchNarrowingTest {

	private final AccessPolicy policy = mock(AccessPolicy.class);
	private final RestrictedSearchNarrowing narrowing = new RestrictedSearchNarrowing(policy);

	@AfterEach
	void clear() {
		SecurityContextHolder.clearContext();
		RequestContextHolder.resetRequestAttributes();
	}

	private static void signedIn(Map<String, Object> claims) {
		RequestContextHolder.setRequestAttributes(new ServletRequestAttributes(new MockHttpServletRequest()));
		SecurityContextHolder.getContext().setAuthentication(new JwtAuthenticationToken(InMemoryFhirServer.token(claims)));
	}

	private static Set<String> excluded(SearchParameterMap map) {
		if (!map.containsKey("_security")) {
			return Set.of();
		}
		return map.get("_security").stream().flatMap(List::stream).map(TokenParam.class::cast)
				.peek(t -> assertThat(t.getModifier()).isEqualTo(TokenParamModifier.NOT))
				.map(TokenParam::getValue).collect(Collectors.toSet());
	}

	private static ServletRequestDetails request(String type) {
		ServletRequestDetails request = new ServletRequestDetails();
		request.setResourceName(type);
		return request;
	}

	@Test
	void aClinicianWithoutARelationship_searchesAPatientWithEveryGatingLabelLeftOut() {
		signedIn(Map.of("scope", "user/*.rs", "fhirUser", InMemoryFhirServer.BASE + "/Practitioner/dr", "client_id", "app"));
		when(policy.mayHandleRestricted(any(), any(), eq("p1"), any())).thenReturn(false);
		SearchParameterMap map = new SearchParameterMap().add("subject", new ReferenceParam("Patient/p1"));
		narrowing.narrow(request("Observation"), map);
		assertThat(excluded(map)).containsExactlyInAnyOrder("R", "V", "ADOL");
	}

	@Test
	void aTreatingClinician_andSearchesAcrossPatients_areNotNarrowed() {
		signedIn(Map.of("scope", "user/*.rs", "fhirUser", InMemoryFhirServer.BASE + "/Practitioner/dr", "client_id", "app"));
		when(policy.mayHandleRestricted(any(), any(), eq("p1"), any())).thenReturn(true);
		SearchParameterMap treated = new SearchParameterMap().add("patient", new ReferenceParam("p1"));
		narrowing.narrow(request("Observation"), treated);
		assertThat(excluded(treated)).isEmpty();
		SearchParameterMap across = new SearchParameterMap().add("code", new TokenParam("http://loinc.org", "44261-6"));
		narrowing.narrow(request("Observation"), across);
		assertThat(excluded(across)).isEmpty();
	}

	@Test
	void aProxy_hasOnlyTheLabelsTheConsentDoesNotReleaseLeftOut() {
		signedIn(Map.of("scope", "patient/*.rs", "patient", "p1", "fhirUser", InMemoryFhirServer.BASE + "/RelatedPerson/mum", "client_id", "app"));
		when(policy.mayHandleRestricted(any(), any(), eq("p1"), eq(Set.of("R")))).thenReturn(true);
		when(policy.mayHandleRestricted(any(), any(), eq("p1"), eq(Set.of("V")))).thenReturn(true);
		when(policy.mayHandleRestricted(any(), any(), eq("p1"), eq(Set.of("ADOL")))).thenReturn(false);
		SearchParameterMap map = new SearchParameterMap().add("patient", new ReferenceParam("Patient/p1"));
		narrowing.narrow(request("Observation"), map);
		assertThat(excluded(map)).containsExactly("ADOL");
	}

	@Test
	void backendSystems_andTheServersOwnSearches_areNotNarrowed() {
		SearchParameterMap own = new SearchParameterMap().add("subject", new ReferenceParam("Patient/p1"));
		narrowing.narrow(request("Observation"), own); // no token
		assertThat(excluded(own)).isEmpty();
		signedIn(Map.of("scope", "user/*.rs", "fhirUser", InMemoryFhirServer.BASE + "/Practitioner/dr", "client_id", "app"));
		SearchParameterMap lookUp = new SearchParameterMap().add("subject", new ReferenceParam("Patient/p1"));
		SystemRequestDetails serverOwn = new SystemRequestDetails();
		serverOwn.setResourceName("CareTeam");
		narrowing.narrow(serverOwn, lookUp); // the policy's own look-up, on the caller's thread
		assertThat(excluded(lookUp)).isEmpty();
		SecurityContextHolder.clearContext();
		signedIn(Map.of("scope", "system/*.rs", "client_id", "ehr"));
		SearchParameterMap backend = new SearchParameterMap().add("subject", new ReferenceParam("Patient/p1"));
		narrowing.narrow(request("Observation"), backend);
		assertThat(excluded(backend)).isEmpty();
	}
}
