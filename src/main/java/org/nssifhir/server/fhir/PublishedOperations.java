package org.nssifhir.server.fhir;

import java.util.Map;

/**
 * The canonicals (with version) of the OperationDefinitions our FHIR package publishes for the server's own
 * operations, keyed {@code Type/$name} (or {@code $name} at system level): the CapabilityStatement names these as
 * each operation's definition, so a client reads the package's description, callers and effects rather than the
 * bare parameter list HAPI generates. Declared here and provided by the conformance feature, so the FHIR endpoint
 * does not depend on the package's classes.
 */
@FunctionalInterface
public interface PublishedOperations {

	Map<String, String> definitions();
}
