package org.nssifhir.server.security.launch;

import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Launch contexts, kept in the database so that any node can resolve a launch id another node handed out. Ids
 * are 128-bit random values (they travel in URLs); a context expires after {@code nssi.security.launch-ttl}.
 */
@Component
public class LaunchContextStore {

	private static final SecureRandom RANDOM = new SecureRandom();

	private final JdbcTemplate jdbc;
	private final NssiProperties properties;
	private final Clock clock;

	public LaunchContextStore(JdbcTemplate jdbc, NssiProperties properties) {
		this.jdbc = jdbc;
		this.properties = properties;
		this.clock = Clock.systemUTC();
	}

	public LaunchContext create(String username, String clientId, String patientId, String encounterId, List<String> fhirContext) {
		byte[] bytes = new byte[16];
		RANDOM.nextBytes(bytes);
		String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
		Instant now = clock.instant();
		jdbc.update(
				"INSERT INTO nssi_smart_launch (id, username, client_id, patient_id, encounter_id, fhir_context, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?)",
				id,
				username,
				clientId,
				patientId,
				encounterId,
				fhirContext.isEmpty() ? null : String.join(" ", fhirContext),
				Timestamp.from(now),
				Timestamp.from(now.plus(properties.security().launchTtl())));
		// expired contexts are useless; dropping them here keeps the table small without a scheduler
		jdbc.update("DELETE FROM nssi_smart_launch WHERE expires_at < ?", Timestamp.from(now.minusSeconds(3600)));
		return new LaunchContext(id, username, clientId, Optional.ofNullable(patientId), Optional.ofNullable(encounterId), List.copyOf(fhirContext));
	}

	/** The unexpired context with this id, if any. */
	public Optional<LaunchContext> find(String id) {
		if (id == null || id.isBlank() || id.length() > 64) {
			return Optional.empty();
		}
		return jdbc.query(
						"SELECT id, username, client_id, patient_id, encounter_id, fhir_context FROM nssi_smart_launch WHERE id = ? AND expires_at > ?",
						(rs, n) -> new LaunchContext(
								rs.getString(1),
								rs.getString(2),
								rs.getString(3),
								Optional.ofNullable(rs.getString(4)),
								Optional.ofNullable(rs.getString(5)),
								rs.getString(6) == null ? List.of() : Arrays.asList(rs.getString(6).split(" "))),
						id,
						Timestamp.from(clock.instant()))
				.stream()
				.findFirst();
	}
}
