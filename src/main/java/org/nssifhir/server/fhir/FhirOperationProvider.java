package org.nssifhir.server.fhir;

/**
 * A provider of FHIR operations ({@code @Operation} methods) that the FHIR endpoint registers: every Spring bean of
 * this type is registered on the RestfulServer, so a feature adds an operation by declaring its provider bean in
 * its own package. Its access rules go in the feature's {@code security.FeatureOperations} bean.
 */
public interface FhirOperationProvider {

	/**
	 * The object HAPI scans for {@code @Operation} methods: the bean itself, or a HAPI provider the feature
	 * configures (HAPI's own classes cannot implement this interface).
	 */
	default Object hapiProvider() {
		return this;
	}
}
