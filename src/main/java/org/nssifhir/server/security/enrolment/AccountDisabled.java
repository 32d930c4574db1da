package org.nssifhir.server.security.enrolment;

/**
 * An enrolled account was disabled ({@code $nssi-disable-account}): published as a Spring application event so the
 * built-in authorization server (security/issuing, which this package may not import) revokes what the account
 * holds: its refresh tokens and the access tokens issued with them.
 */
public record AccountDisabled(String username, String fhirUser) {}
