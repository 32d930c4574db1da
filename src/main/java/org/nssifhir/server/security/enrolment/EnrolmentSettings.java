package org.nssifhir.server.security.enrolment;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Enrolment by invitation and the sign-in limits ({@code nssi.enrolment.*}).
 *
 * @param invitationTtl how long a one-time link stays usable (3 days: long enough to reach someone by post or at
 *     their next session, short enough that a lost message is not a standing key)
 * @param maxFailures consecutive failed sign-ins for one username before sign-in is paused for it
 * @param lockout how long sign-in stays paused after {@code maxFailures}
 * @param maxFailuresPerAddress failed sign-ins and unusable invitation links from one client address within
 *     {@code addressWindow} before that address is refused for the rest of the window (guessing across usernames)
 * @param addressWindow the window of {@code maxFailuresPerAddress}
 * @param totpKeyFile the file holding the AES-256 key (base64) that encrypts the authenticator secrets of the optional
 *     second step at rest (created on first start if missing, owner-readable only; every node needs the same file).
 *     Blank: on the embedded default a file next to the data directory; otherwise the second step is not offered
 * @param appName what the person knows the app as, on the invitation's page and in their authenticator app
 *     (the deployment's own name; never the server's technical one); also the sign-in pages' name when the sign-in is
 *     for the person's app
 * @param clinicalName the sign-in pages' name for every other sign-in (clinicians, an EHR's apps): neutral, no
 *     product name or code
 */
@Validated
@ConfigurationProperties("nssi.enrolment")
public record EnrolmentSettings(
		@NotNull @DefaultValue("P3D") Duration invitationTtl,
		@Min(1) @DefaultValue("5") int maxFailures,
		@NotNull @DefaultValue("PT15M") Duration lockout,
		@Min(1) @DefaultValue("30") int maxFailuresPerAddress,
		@NotNull @DefaultValue("PT10M") Duration addressWindow,
		String totpKeyFile,
		@NotNull @DefaultValue("My support app") String appName,
		@NotNull @DefaultValue("Care records") String clinicalName) {}
