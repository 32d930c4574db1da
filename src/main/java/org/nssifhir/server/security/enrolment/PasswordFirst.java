package org.nssifhir.server.security.enrolment;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.dao.DaoAuthenticationProvider;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * Checks the password at {@code POST /login} the same way whatever the username, and only then asks for the second
 * step: a wrong password gets one answer (the same redirect, body and headers) for an unknown username, a disabled
 * account, an account with or without an authenticator; only a right password of an account with one goes on to
 * {@link SecondStep}. An unknown username is checked against a stand-in bcrypt hash of the enrolled people's cost,
 * so it takes as long as a real one (Spring's own stand-in has the default cost, a quarter of the time).
 */
public class PasswordFirst extends DaoAuthenticationProvider {

	/** The stand-in account of an unknown username: its hash is of random bits no one was ever given. */
	private static final String UNKNOWN = PasswordFirst.class.getName() + ".unknown";

	public PasswordFirst(UserDetailsService users, PasswordEncoder passwords, Accounts accounts) {
		super(standIn(users));
		setPasswordEncoder(passwords);
		setPostAuthenticationChecks(user -> {
			if (user instanceof StandIn) {
				throw new BadCredentialsException("Bad credentials"); // cannot happen: no one knows the stand-in's password
			}
			if (accounts.hasSecondStep(user.getUsername())) {
				throw new SecondStepRequired(user.getUsername());
			}
		});
	}

	private static UserDetailsService standIn(UserDetailsService users) {
		byte[] random = new byte[32];
		new SecureRandom().nextBytes(random);
		String hash = "{bcrypt}" + new BCryptPasswordEncoder(Accounts.BCRYPT_STRENGTH).encode(Base64.getEncoder().encodeToString(random));
		return username -> {
			try {
				return users.loadUserByUsername(username);
			} catch (UsernameNotFoundException unknown) {
				return new StandIn(username == null || username.isBlank() ? UNKNOWN : username, hash);
			}
		};
	}

	/** The user an unknown username is checked as. */
	private static final class StandIn extends User {
		StandIn(String username, String hash) {
			super(username, hash, List.of());
		}
	}
}
