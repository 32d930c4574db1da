package org.nssifhir.server.security.enrolment;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The password rules of enrolment: length over composition (NIST SP 800-63B), never the username, never a famous one. */
class PasswordRulesTest {

	@Test
	void aFewWordsAreAcceptedWhateverTheirCharacters() {
		assertThat(PasswordRules.problem("blue kettle morning walk", "robin")).isEmpty();
		assertThat(PasswordRules.problem("ñandú café à l'école", "robin")).isEmpty();
	}

	@Test
	void tooShortTooLongTheUsernameRepeatedOrFamousAreRefused() {
		assertThat(PasswordRules.problem("short", "robin")).hasValueSatisfying(p -> assertThat(p).contains("at least 12"));
		assertThat(PasswordRules.problem(null, "robin")).isPresent();
		assertThat(PasswordRules.problem("x".repeat(129) + "abcd", "robin")).hasValueSatisfying(p -> assertThat(p).contains("at most 128"));
		assertThat(PasswordRules.problem("my name is Robin!", "robin")).hasValueSatisfying(p -> assertThat(p).contains("username"));
		assertThat(PasswordRules.problem("aaaaaaaaaaaaaaaa", "robin")).hasValueSatisfying(p -> assertThat(p).contains("different characters"));
		assertThat(PasswordRules.problem("Password1234", "robin")).hasValueSatisfying(p -> assertThat(p).contains("well known"));
	}
}
