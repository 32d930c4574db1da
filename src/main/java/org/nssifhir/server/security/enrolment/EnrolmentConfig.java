package org.nssifhir.server.security.enrolment;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.launch.SignInSite;
import org.nssifhir.server.security.policy.AccessPolicy;
import org.nssifhir.server.security.policy.SecurityEventSink;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Enrolment by invitation, for the built-in authorization server only (with an external identity provider the
 * people sign in there). Accounts, invitations and sign-in failures are tables of ours ({@code db/NssiSchema}).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "nssi.security.mode", havingValue = "BUILTIN", matchIfMissing = true)
public class EnrolmentConfig {

	private static final Logger log = LoggerFactory.getLogger(EnrolmentConfig.class);

	/** The name the sign-in pages go by: the person's app's, or a neutral clinical one. */
	@Bean
	public SignInSite signInSite(EnrolmentSettings settings) {
		return new SignInSite(settings.appName(), settings.clinicalName());
	}

	@Bean
	public Accounts enrolledAccounts(JdbcTemplate jdbc, EnrolmentSettings settings, NssiProperties properties) {
		String configured = settings.totpKeyFile();
		Path file = configured != null && !configured.isBlank()
				? Path.of(configured)
				: properties.db().embedded()
						? Path.of(properties.db().embeddedDataDir()).toAbsolutePath().normalize().resolveSibling("totp-key")
						: null;
		if (file == null) {
			log.warn("No nssi.enrolment.totp-key-file: the optional authenticator step is not offered at enrolment"
					+ " (its secrets are stored only encrypted, with a key kept outside the database)");
		}
		return new Accounts(jdbc, Optional.ofNullable(file).map(TotpSecrets::fromFile));
	}

	/** Authenticator secrets stored in plain by an earlier version are encrypted once the server has started. */
	@Bean
	ApplicationRunner sealPlainTotpSecrets(Accounts accounts) {
		return args -> {
			int sealed = accounts.sealPlainSecrets();
			if (sealed > 0) {
				log.info("Encrypted {} authenticator secret(s) stored in plain by an earlier version", sealed);
			}
		};
	}

	/** Enrolled people as the authorization server's users (a disabled account cannot sign in). */
	public static Optional<NssiProperties.User> asUser(Accounts accounts, String username) {
		return accounts.byUsername(username)
				.filter(account -> !account.disabled())
				.map(account -> new NssiProperties.User(account.username(), account.passwordHash(), account.fhirUser()));
	}

	@Bean
	Invitations invitations(JdbcTemplate jdbc) {
		return new Invitations(jdbc);
	}

	@Bean
	public SignInThrottle signInThrottle(JdbcTemplate jdbc, EnrolmentSettings settings, SecurityEventSink events) {
		return new SignInThrottle(jdbc, settings, events, Clock.systemUTC());
	}

	@Bean
	FeatureOperations enrolmentOperations() {
		return new EnrolmentOperations();
	}

	@Bean
	InvitationProvider invitationProvider(
			DaoRegistry daos, AccessPolicy policy, Invitations invitations, Accounts accounts, EnrolmentSettings settings,
			ServerAddress address, SecurityEventSink events, ApplicationEventPublisher publisher) {
		return new InvitationProvider(daos, policy, invitations, accounts, settings, address, events, Clock.systemUTC(), publisher::publishEvent);
	}
}
