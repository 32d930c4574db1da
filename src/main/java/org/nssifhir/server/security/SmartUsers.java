package org.nssifhir.server.security;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;

/**
 * The people who can sign in to the built-in authorization server, from {@code nssi.security.users}. Each is a
 * FHIR resource ({@code fhirUser}); its type decides what they may authorize: practitioners get user-level and
 * patient-level scopes, a patient or a proxy ({@code RelatedPerson}) only patient-level scopes for that patient.
 */
public class SmartUsers implements UserDetailsService {

	/** Kinds of user, by the type of their fhirUser resource. */
	public enum Kind {
		CLINICIAN,
		PATIENT,
		PROXY,
		/** any other resource type (e.g. Device, Organization from an external issuer): no user-level rights */
		UNKNOWN
	}

	private final Map<String, NssiProperties.User> users = new LinkedHashMap<>();

	public SmartUsers(List<NssiProperties.User> configured) {
		for (NssiProperties.User user : configured) {
			if (users.put(user.username(), user) != null) {
				throw new IllegalStateException("nssi.security.users lists '" + user.username() + "' twice");
			}
		}
	}

	@Override
	public UserDetails loadUserByUsername(String username) {
		NssiProperties.User user = users.get(username);
		if (user == null) {
			throw new UsernameNotFoundException("Unknown user");
		}
		return User.withUsername(user.username()).password(user.password()).roles(kind(user.fhirUser()).name()).build();
	}

	/** The relative reference of the user's FHIR resource, e.g. {@code Practitioner/123}. */
	public Optional<String> fhirUser(String username) {
		return Optional.ofNullable(users.get(username)).map(NssiProperties.User::fhirUser);
	}

	public static Kind kind(String fhirUser) {
		if (fhirUser.startsWith("Patient/")) {
			return Kind.PATIENT;
		}
		if (fhirUser.startsWith("RelatedPerson/") || fhirUser.startsWith("Person/")) {
			return Kind.PROXY;
		}
		if (fhirUser.startsWith("Practitioner/") || fhirUser.startsWith("PractitionerRole/")) {
			return Kind.CLINICIAN;
		}
		return Kind.UNKNOWN;
	}
}
