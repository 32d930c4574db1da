package org.nssifhir.server.fhir;

import java.util.Set;

/**
 * The named operations a client can be allowed to call (with their {@code $}), as the access policy decides: the
 * CapabilityStatement lists these and no others. Declared here and provided by the security feature, so the FHIR
 * endpoint does not depend on the policy's classes (security already builds on this package).
 */
@FunctionalInterface
public interface OfferedOperations {

	Set<String> names();
}
