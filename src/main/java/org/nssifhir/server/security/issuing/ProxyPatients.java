package org.nssifhir.server.security.issuing;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirResourceDao;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.Optional;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.springframework.stereotype.Component;

/** Which patient a proxy user acts for: the {@code patient} of their (active) {@code RelatedPerson}. */
@Component
public class ProxyPatients {

	private final DaoRegistry daos;

	public ProxyPatients(DaoRegistry daos) {
		this.daos = daos;
	}

	public Optional<String> patientOf(String relatedPersonReference) {
		if (!relatedPersonReference.startsWith("RelatedPerson/")) {
			return Optional.empty();
		}
		IFhirResourceDao<RelatedPerson> dao = daos.getResourceDao(RelatedPerson.class);
		try {
			RelatedPerson person = dao.read(new IdType(relatedPersonReference), new SystemRequestDetails());
			if (person.hasActive() && !person.getActive()) {
				return Optional.empty();
			}
			return Optional.ofNullable(person.getPatient().getReferenceElement().getIdPart());
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			return Optional.empty();
		}
	}
}
