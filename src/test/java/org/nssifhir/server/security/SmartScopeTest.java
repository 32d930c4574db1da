package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.security.SmartScope.Context;
import org.nssifhir.server.security.SmartScope.Permission;

class SmartScopeTest {

	@Test
	void parsesV2Scopes() {
		SmartScope scope = SmartScope.parse("patient/Observation.rs").orElseThrow();
		assertThat(scope.context()).isEqualTo(Context.PATIENT);
		assertThat(scope.resourceType()).isEqualTo("Observation");
		assertThat(scope.permissions()).isEqualTo(EnumSet.of(Permission.READ, Permission.SEARCH));
		assertThat(SmartScope.parse("user/*.cruds").orElseThrow().permissions()).isEqualTo(EnumSet.allOf(Permission.class));
	}

	@Test
	void mapsV1ScopesToV2() {
		assertThat(SmartScope.parse("patient/Observation.read").orElseThrow().permissions()).isEqualTo(EnumSet.of(Permission.READ, Permission.SEARCH));
		assertThat(SmartScope.parse("system/*.write").orElseThrow().permissions())
				.isEqualTo(EnumSet.of(Permission.CREATE, Permission.UPDATE, Permission.DELETE));
		assertThat(SmartScope.parse("user/Patient.*").orElseThrow().permissions()).isEqualTo(EnumSet.allOf(Permission.class));
	}

	@Test
	void parsesGranularQueries() {
		SmartScope scope = SmartScope.parse("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|survey")
				.orElseThrow();
		assertThat(scope.query()).isEqualTo(Map.of("category", "http://terminology.hl7.org/CodeSystem/observation-category|survey"));
	}

	@Test
	void refusesLettersOutOfOrderOrUnknown() {
		assertThat(SmartScope.parse("patient/Observation.sr")).isEmpty();
		assertThat(SmartScope.parse("patient/Observation.dus")).isEmpty();
		assertThat(SmartScope.parse("patient/Observation.x")).isEmpty();
		assertThat(SmartScope.parse("patient/observation.rs")).isEmpty();
		assertThat(SmartScope.parse("patient/Observation.rs?category")).isEmpty();
		assertThat(SmartScope.parse("openid")).isEmpty();
	}
}
