package org.nssifhir.server.security.enrolment;

/**
 * A person set a password through an invitation (a forgotten password, a lost phone): published as a Spring
 * application event so the built-in authorization server (security/issuing) revokes what the account held before, as
 * for {@link AccountDisabled}. Sign-in sessions open before the new password are refused there too (by the time of the
 * new password, {@link Accounts#passwordSetAt}), so the old phone is signed out everywhere.
 */
public record PasswordReset(String username, String fhirUser) {}
