package org.nssifhir.server.app;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The person's app ({@code nssi.patient-app.*}).
 *
 * @param redirectUris the app's redirect URIs (absolute); empty: derived like the clinician app's
 * @param crisisContacts who to call in a crisis, shown at once when the urge to die is high and on "I need support
 *     now": set per deployment (local crisis lines, the service's own out-of-hours number). The default is a
 *     placeholder that says so: a real number cannot be guessed for every country
 */
@ConfigurationProperties("nssi.patient-app")
public record PatientAppSettings(@DefaultValue List<String> redirectUris, @DefaultValue List<CrisisContact> crisisContacts) {

	/** One crisis contact: a name, a phone number (digits, +, spaces) and when or what for. */
	public record CrisisContact(String name, String phone, String text) {}

	/**
	 * The contacts to show: the configured ones, or the placeholder naming the emergency number to use (its text does
	 * not repeat the app's own "If you are in danger now…" line below the contacts).
	 */
	public List<CrisisContact> contactsToShow() {
		return crisisContacts.isEmpty()
				? List.of(new CrisisContact("Emergency services", "112",
						"The emergency number in many countries. This service has not set its own crisis contacts yet."))
				: crisisContacts;
	}
}
