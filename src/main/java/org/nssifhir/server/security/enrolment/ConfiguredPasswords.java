package org.nssifhir.server.security.enrolment;

import java.util.List;
import java.util.regex.Pattern;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;

/**
 * The configured users' passwords ({@code nssi.security.users} and the development sign-ins) at the enrolled people's
 * bcrypt cost ({@link Accounts#BCRYPT_STRENGTH}), so that checking a wrong password is the same work for every
 * username: a configured user whose password was a {@code {noop}} value (or a cheaper hash) answered a wrong
 * password measurably faster than an enrolled or unknown username (checked against {@link PasswordFirst}'s stand-in
 * of the same cost), which told an attacker which usernames are configured accounts (review s8: a timing oracle).
 * A {@code {noop}} password is hashed here at startup; a bcrypt hash of the enrolled cost is kept; anything else
 * (another cost, another algorithm: its clear text is not known here, so it cannot be hashed again) stops startup
 * with the username named, rather than run with an account that can be told apart.
 */
public final class ConfiguredPasswords {

	/** {@code {bcrypt}} then a modular-crypt bcrypt hash: its version and cost. */
	private static final Pattern BCRYPT = Pattern.compile("\\{bcrypt}\\$2[aby]?\\$(\\d\\d)\\$.{53}");
	private static final String NOOP = "{noop}";

	private ConfiguredPasswords() {}

	/** The users with their passwords as bcrypt hashes of the enrolled people's cost. */
	public static List<NssiProperties.User> atEnrolledCost(List<NssiProperties.User> users) {
		BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder(Accounts.BCRYPT_STRENGTH);
		return users.stream().map(user -> {
			String password = user.password();
			if (password.startsWith(NOOP)) {
				return new NssiProperties.User(user.username(), "{bcrypt}" + bcrypt.encode(password.substring(NOOP.length())), user.fhirUser());
			}
			var bcryptHash = BCRYPT.matcher(password);
			if (bcryptHash.matches() && Integer.parseInt(bcryptHash.group(1)) == Accounts.BCRYPT_STRENGTH) {
				return user;
			}
			throw new IllegalStateException("nssi.security.users: the password of '" + user.username() + "' must be a {bcrypt} hash of cost "
					+ Accounts.BCRYPT_STRENGTH + " (the enrolled people's), or {noop} to be hashed at startup: any other kind or cost"
					+ " answers a wrong password in another time, which tells configured accounts apart");
		}).toList();
	}
}
