package org.nssifhir.server.security.launch;

import java.util.List;
import java.util.Optional;

/**
 * What an app is launched into: the patient (and encounter) in context plus any other resources the launching
 * EHR wants the app to open ({@code fhirContext} in SMART App Launch 2.2, as relative references). It belongs to
 * the user who created it and to the app it was made for: only that user can authorize that app with it.
 */
public record LaunchContext(
		String id, String username, String clientId, Optional<String> patientId, Optional<String> encounterId, List<String> fhirContext) {}
