package org.nssifhir.server.security;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
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
	private final Function<String, Optional<NssiProperties.User>> enrolled;

	public SmartUsers(List<NssiProperties.User> configured) {
		this(configured, username -> Optional.empty());
	}

	/**
	 * @param enrolled people who enrolled by invitation (security/enrolment), looked up when no configured user has
	 *     the name; a disabled account is not found
	 */
	public SmartUsers(List<NssiProperties.User> configured, Function<String, Optional<NssiProperties.User>> enrolled) {
		for (NssiProperties.User user : configured) {
			if (users.put(user.username(), user) != null) {
				throw new IllegalStateException("nssi.security.users lists '" + user.username() + "' twice");
			}
		}
		this.enrolled = enrolled;
	}

	@Override
	public UserDetails loadUserByUsername(String username) {
		NssiProperties.User user = find(username).orElseThrow(() -> new UsernameNotFoundException("Unknown user"));
		return User.withUsername(user.username()).password(user.password()).roles(kind(user.fhirUser()).name()).build();
	}

	/** The relative reference of the user's FHIR resource, e.g. {@code Practitioner/123}. */
	public Optional<String> fhirUser(String username) {
		return find(username).map(NssiProperties.User::fhirUser);
	}

	/** Whether the user can sign in now: configured, or enrolled and not disabled. */
	public boolean active(String username) {
		return find(username).isPresent();
	}

	/** Whether the configuration names this user (enrolment must not hand out the same name). */
	public boolean configured(String username) {
		return username != null && users.keySet().stream().anyMatch(username::equalsIgnoreCase);
	}

	private Optional<NssiProperties.User> find(String username) {
		if (username == null) {
			return Optional.empty();
		}
		NssiProperties.User user = users.get(username);
		return user != null ? Optional.of(user) : enrolled.apply(username);
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
