package org.nssifhir.server.security;

/**
 * Where security reports a request refused before it reached FHIR (no token, bad signature, expired). Implemented by
 * the audit trail ({@code audit/RefusedAccessAuditor}); an interface here so that security does not depend on how
 * events are stored.
 */
public interface AuthenticationFailures {

	/** Authentication failed for a request to this (redacted) path; no agent is known. */
	void authenticationFailed(String path);
}
