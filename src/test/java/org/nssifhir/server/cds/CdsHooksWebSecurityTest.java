package org.nssifhir.server.cds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.security.WebSecurityContribution;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;

/** The CDS Client's JWT is not read as one of our access tokens; CdsHooksIT shows the whole call. */
class CdsHooksWebSecurityTest {

	@Test
	void theResourceServerReadsNoTokenOnTheCdsHooksPaths() {
		WebSecurityContribution contribution = new CdsHooksConfig().cdsHooksWebSecurity();
		assertThat(contribution.publicPaths()).isEmpty();
		BearerTokenResolver resolver = WebSecurityContribution.bearerTokenResolver(List.of(contribution));

		MockHttpServletRequest cds = new MockHttpServletRequest("POST", CdsHooksController.PATH + "/" + PatientViewService.ID);
		cds.addHeader("Authorization", "Bearer cds.client.jwt");
		assertThat(resolver.resolve(cds)).isNull();

		MockHttpServletRequest fhir = new MockHttpServletRequest("GET", "/fhir/Patient");
		fhir.addHeader("Authorization", "Bearer access.token.jwt");
		assertThat(resolver.resolve(fhir)).isEqualTo("access.token.jwt");
	}
}
