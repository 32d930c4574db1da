package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.time.LocalDate;
import java.time.Period;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseReference;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.nssifhir.server.support.SecurityLabels;

/**
 * Adds the adolescent sensitivity label (v3-ActCode ADOL) to an NSSI resource about a patient who was under 18
 * when it happened (the Observation's date, else today). Confidentiality rules for minors (proxy access by parents)
 * key on this label, so it must not depend on every client remembering to send it.
 */
public class AdolescentLabeler {

	static final int AGE_OF_MAJORITY = 18;

	private final FhirContext fhirContext;
	private final DaoRegistry daoRegistry;

	public AdolescentLabeler(FhirContext fhirContext, DaoRegistry daoRegistry) {
		this.fhirContext = fhirContext;
		this.daoRegistry = daoRegistry;
	}

	void label(Resource resource) {
		if (SecurityLabels.has(resource.getMeta(), SecurityLabels.ACT_CODE_SYSTEM, SecurityLabels.ADOLESCENT)) {
			return;
		}
		Optional<LocalDate> birthDate = subjectPatient(resource).flatMap(this::birthDate);
		if (birthDate.isEmpty()) {
			return;
		}
		LocalDate when = clinicalDate(resource).orElse(LocalDate.now(ZoneOffset.UTC));
		if (Period.between(birthDate.get(), when).getYears() < AGE_OF_MAJORITY) {
			SecurityLabels.labelAdolescent(resource.getMeta());
		}
	}

	private Optional<IdType> subjectPatient(Resource resource) {
		return fhirContext.newTerser().getValues(resource, "subject", IBaseReference.class).stream()
				.map(ref -> ref.getReferenceElement())
				.filter(id -> "Patient".equals(id.getResourceType()) && id.hasIdPart())
				.map(id -> new IdType("Patient", id.getIdPart()))
				.findFirst();
	}

	private Optional<LocalDate> birthDate(IdType patientId) {
		try {
			Patient patient = (Patient) daoRegistry.getResourceDao("Patient").read(patientId, new SystemRequestDetails());
			return Optional.ofNullable(patient.getBirthDate()).map(AdolescentLabeler::toLocalDate);
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			// referential integrity reports a missing subject on its own; nothing to label
			return Optional.empty();
		}
	}

	private static Optional<LocalDate> clinicalDate(Resource resource) {
		if (resource instanceof Observation obs && obs.hasEffectiveDateTimeType() && obs.getEffectiveDateTimeType().getValue() != null) {
			return Optional.of(toLocalDate(obs.getEffectiveDateTimeType().getValue()));
		}
		return Optional.empty();
	}

	private static LocalDate toLocalDate(Date date) {
		return date.toInstant().atZone(ZoneOffset.UTC).toLocalDate();
	}
}
