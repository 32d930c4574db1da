package org.nssifhir.server.app;

import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The app's client id and scopes, read by its launch page, so that what the app asks for and what the
 * authorization server registered for it ({@link ClinicianApp#SCOPES}) cannot drift apart. The launch scope
 * ({@code launch} for an EHR launch, {@code launch/patient} standalone) is the page's to choose. Public: it
 * describes the app, holds no data.
 */
@RestController
public class ClinicianAppClient {

	@GetMapping(ClinicianApp.PATH + "client.json")
	public Map<String, Object> client() {
		List<String> scopes = ClinicianApp.SCOPES.stream().filter(s -> !s.equals("launch") && !s.equals("launch/patient")).toList();
		return Map.of("clientId", ClinicianApp.CLIENT_ID, "scopes", scopes);
	}
}
