package org.nssifhir.server.security.enrolment;

import org.springframework.security.authentication.AccountStatusException;

/**
 * The password was right and the account set up the second step: sign-in goes on at {@link SecondStep#PATH}. An
 * account status (not a bad credential), so no failure is counted or audited and no other provider is asked.
 */
public class SecondStepRequired extends AccountStatusException {

	private final String username;

	SecondStepRequired(String username) {
		super("The authenticator code is needed");
		this.username = username;
	}

	String username() {
		return username;
	}
}
