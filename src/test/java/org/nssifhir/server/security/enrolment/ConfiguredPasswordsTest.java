package org.nssifhir.server.security.enrolment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.security.SmartUsers;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.crypto.bcrypt.BCrypt;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * A wrong password is the same hash work for every kind of username (review s8: the configured development users
 * answered faster, a timing oracle): a configured user (its {@code {noop}} password hashed at startup), an enrolled
 * person and an unknown username are each checked with exactly one bcrypt comparison of the enrolled cost. The work
 * is counted, not timed.
 */
class ConfiguredPasswordsTest {

	private static final String ENROLLED_HASH = "{bcrypt}" + new BCryptPasswordEncoder(Accounts.BCRYPT_STRENGTH).encode("an enrolled password");

	/** The password encoder the sign-in uses, recording each hash a password is compared with. */
	private static final class Counting implements PasswordEncoder {
		final PasswordEncoder real = PasswordEncoderFactories.createDelegatingPasswordEncoder();
		final List<String> compared = new ArrayList<>();

		@Override
		public String encode(CharSequence raw) {
			return real.encode(raw);
		}

		@Override
		public boolean matches(CharSequence raw, String encoded) {
			compared.add(encoded);
			return real.matches(raw, encoded);
		}
	}

	@Test
	void aWrongPasswordIsOneBcryptComparisonOfTheEnrolledCostForEveryKindOfUsername() {
		List<NssiProperties.User> configured = ConfiguredPasswords.atEnrolledCost(List.of(
				new NssiProperties.User("dev-clinician", "{noop}a configured password", "Practitioner/dev-clinician")));
		SmartUsers users = new SmartUsers(configured, username -> "kim.enrolled".equals(username)
				? Optional.of(new NssiProperties.User("kim.enrolled", ENROLLED_HASH, "Patient/kim"))
				: Optional.empty());
		Counting passwords = new Counting();
		PasswordFirst signIn = new PasswordFirst(users, passwords, null);
		for (String username : List.of("dev-clinician", "kim.enrolled", "nobody-by-this-name")) {
			passwords.compared.clear();
			assertThatThrownBy(() -> signIn.authenticate(UsernamePasswordAuthenticationToken.unauthenticated(username, "a wrong password")))
					.as(username).isInstanceOf(BadCredentialsException.class);
			assertThat(passwords.compared).as(username).hasSize(1)
					.allSatisfy(hash -> assertThat(cost(hash)).as(username + ": " + hash).isEqualTo(Accounts.BCRYPT_STRENGTH));
		}
	}

	@Test
	void aNoopPasswordIsHashedAtTheEnrolledCostAndStillSignsIn() {
		NssiProperties.User user = ConfiguredPasswords.atEnrolledCost(List.of(
				new NssiProperties.User("dev-patient", "{noop}sixteen letters", "Patient/dev-patient"))).get(0);
		assertThat(user.password()).startsWith("{bcrypt}$2a$12$");
		assertThat(BCrypt.checkpw("sixteen letters", user.password().substring("{bcrypt}".length()))).isTrue();
		assertThat(user.username()).isEqualTo("dev-patient");
		assertThat(user.fhirUser()).isEqualTo("Patient/dev-patient");
	}

	@Test
	void aBcryptHashOfTheEnrolledCostIsKeptAndAnyOtherKindOrCostStopsStartup() {
		NssiProperties.User kept = new NssiProperties.User("ops", ENROLLED_HASH, "Practitioner/ops");
		assertThat(ConfiguredPasswords.atEnrolledCost(List.of(kept))).containsExactly(kept);
		String cheaper = "{bcrypt}" + new BCryptPasswordEncoder(4).encode("x");
		for (String password : List.of(cheaper, "{pbkdf2}abcdef", "no-prefix")) {
			assertThatThrownBy(() -> ConfiguredPasswords.atEnrolledCost(List.of(new NssiProperties.User("ops", password, "Practitioner/ops"))))
					.as(password).isInstanceOf(IllegalStateException.class).hasMessageContaining("'ops'").hasMessageContaining("cost 12");
		}
	}

	private static int cost(String hash) {
		return Integer.parseInt(hash.substring("{bcrypt}$2a$".length(), "{bcrypt}$2a$".length() + 2));
	}
}
