package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;

/** What SecurityConfig makes of the features' contributions: public paths collected, no token read on own-credential paths. */
class WebSecurityContributionTest {

	private static final WebSecurityContribution OWN = new WebSecurityContribution() {
		@Override
		public List<String> ownCredentialPaths() {
			return List.of("/own");
		}
	};

	private static final WebSecurityContribution PUBLIC = new WebSecurityContribution() {
		@Override
		public List<String> publicPaths() {
			return List.of("/fhir/open", "/fhir/docs/**");
		}
	};

	private static MockHttpServletRequest request(String contextPath, String path) {
		MockHttpServletRequest request = new MockHttpServletRequest("POST", contextPath + path);
		request.setContextPath(contextPath);
		request.addHeader("Authorization", "Bearer abc.def.ghi");
		return request;
	}

	@Test
	void publicPathsOfAllContributionsAreCollected() {
		assertThat(WebSecurityContribution.publicPaths(List.of(OWN, PUBLIC))).containsExactly("/fhir/open", "/fhir/docs/**");
		assertThat(WebSecurityContribution.publicPaths(List.of())).isEmpty();
	}

	@Test
	void noTokenIsReadOnAnOwnCredentialPath() {
		BearerTokenResolver resolver = WebSecurityContribution.bearerTokenResolver(List.of(PUBLIC, OWN));
		assertThat(resolver.resolve(request("", "/own"))).isNull();
		assertThat(resolver.resolve(request("", "/own/service"))).isNull();
		assertThat(resolver.resolve(request("/ctx", "/own/service"))).as("after the context path").isNull();
	}

	@Test
	void theTokenIsReadElsewhere() {
		BearerTokenResolver resolver = WebSecurityContribution.bearerTokenResolver(List.of(PUBLIC, OWN));
		assertThat(resolver.resolve(request("", "/fhir/Patient"))).isEqualTo("abc.def.ghi");
		assertThat(resolver.resolve(request("/own", "/fhir/Patient"))).as("a context path is not the path").isEqualTo("abc.def.ghi");
		assertThat(WebSecurityContribution.bearerTokenResolver(List.of()).resolve(request("", "/own"))).isEqualTo("abc.def.ghi");
	}
}
