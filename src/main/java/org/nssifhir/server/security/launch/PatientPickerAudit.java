package org.nssifhir.server.security.launch;

import java.util.List;
import org.hl7.fhir.r4.model.Patient;

/**
 * Where the patient picker reports the patients it showed (names and birth dates: a query like any other, so it is
 * audited like one). Implemented by the audit trail ({@code audit/PatientPickerAuditor}); an interface here so that
 * security does not depend on how events are stored.
 */
public interface PatientPickerAudit {

	/** The picker showed these patients to this user ({@code fhirUser}, or the sign-in name without one). */
	void patientsShown(String who, List<Patient> shown);
}
