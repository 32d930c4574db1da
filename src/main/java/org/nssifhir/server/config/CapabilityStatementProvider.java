package org.nssifhir.server.config;

import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;

/**
 * HAPI's JPA CapabilityStatement provider, except that {@code OperationDefinition/[id]} also finds the
 * OperationDefinitions of our package (e.g. {@code nssi-summary}). HAPI's provider answers that read itself, only
 * for the operations it generates from the server's bindings, and would answer 404 for stored ones.
 */
class CapabilityStatementProvider extends JpaCapabilityStatementProvider {

	private final DaoRegistry daoRegistry;

	CapabilityStatementProvider(
			RestfulServer server,
			IFhirSystemDao<?, ?> systemDao,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			DaoRegistry daoRegistry) {
		super(server, systemDao, storageSettings, searchParamRegistry, validationSupport);
		this.daoRegistry = daoRegistry;
	}

	// HAPI binds the @Read of the superclass method; invoking it dispatches here
	@Override
	public IBaseResource readOperationDefinition(IIdType id, RequestDetails request) {
		try {
			return super.readOperationDefinition(id, request);
		} catch (ResourceNotFoundException notGenerated) {
			return daoRegistry.getResourceDao("OperationDefinition").read(id, request);
		}
	}
}
