package org.nssifhir.server.assessment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.interceptor.model.RequestPartitionId;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.entity.BaseResourceIndexedSearchParam;
import ca.uhn.fhir.jpa.model.entity.ResourceIndexedSearchParamToken;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Reads a patient's NSSI episodes (day, methods, functions) straight from HAPI's search index tables, without
 * loading and parsing each Observation: this is what keeps {@code $nssi-summary} fast for years of episodes.
 * It uses the same hashes HAPI searches with (code {@code nssi-episode}, the {@code date} index of the effective
 * time, our {@code nssi-method} / {@code nssi-function} search parameters), skips deleted and entered-in-error
 * Observations, and reads only what those indexes hold (the coded values, not their display text).
 *
 * <p>Tied to HAPI's index schema (HFJ_RESOURCE, HFJ_RES_LINK, HFJ_SPIDX_TOKEN, HFJ_SPIDX_DATE) of HAPI 8.8 on
 * the default partition; NssiSummaryIT checks the figures against a hand-computed fixture.
 */
public class EpisodeIndex {

	/** One episode: its day (UTC) and its method, function and intent codings as system|code. */
	public record Episode(long id, LocalDate day, List<String> methods, List<String> functions, List<String> intents) {

		/**
		 * NSSI: intent to die recorded as absent. Intent present, unsure or unrecorded is not counted as NSSI
		 * (see EscalationSignals.isNonSuicidal, the same rule on parsed episodes).
		 */
		public boolean nonSuicidal() {
			return !intents.isEmpty() && intents.stream().allMatch((CONCEPTS_SYSTEM + "|intent-none")::equals);
		}
	}

	private static final String SQL = """
			select l.SRC_RESOURCE_ID as id, d.SP_VALUE_LOW as low, t.HASH_IDENTITY as kind, t.SP_SYSTEM as sys, t.SP_VALUE as val
			from HFJ_RES_LINK l
			join HFJ_RESOURCE r on r.RES_ID = l.SRC_RESOURCE_ID and r.RES_DELETED_AT is null
			join HFJ_SPIDX_TOKEN c on c.RES_ID = l.SRC_RESOURCE_ID and c.HASH_SYS_AND_VALUE = ?
			join HFJ_SPIDX_DATE d on d.RES_ID = l.SRC_RESOURCE_ID and d.HASH_IDENTITY = ?
			left join HFJ_SPIDX_TOKEN t on t.RES_ID = l.SRC_RESOURCE_ID and t.HASH_IDENTITY in (?, ?, ?)
			where l.TARGET_RESOURCE_ID = ? and l.SRC_PATH = 'Observation.subject'
			and not exists (select 1 from HFJ_SPIDX_TOKEN s where s.RES_ID = l.SRC_RESOURCE_ID and s.HASH_VALUE = ?)
			order by l.SRC_RESOURCE_ID""";

	private final JdbcTemplate jdbc;
	private final long episodeCode;
	private final long date;
	private final long method;
	private final long function;
	private final long intent;
	private final long enteredInError;

	public EpisodeIndex(DataSource dataSource, PartitionSettings partitions) {
		this.jdbc = new JdbcTemplate(dataSource);
		RequestPartitionId partition = RequestPartitionId.defaultPartition();
		this.episodeCode = ResourceIndexedSearchParamToken.calculateHashSystemAndValue(partitions, partition, "Observation", "code", CONCEPTS_SYSTEM, "nssi-episode");
		this.date = BaseResourceIndexedSearchParam.calculateHashIdentity(partitions, partition, "Observation", "date");
		this.method = BaseResourceIndexedSearchParam.calculateHashIdentity(partitions, partition, "Observation", "nssi-method");
		this.function = BaseResourceIndexedSearchParam.calculateHashIdentity(partitions, partition, "Observation", "nssi-function");
		this.intent = BaseResourceIndexedSearchParam.calculateHashIdentity(partitions, partition, "Observation", "nssi-intent");
		this.enteredInError = ResourceIndexedSearchParamToken.calculateHashValue(partitions, partition, "Observation", "status", "entered-in-error");
	}

	/** The database id of a Patient by its FHIR id, if it exists and is not deleted. */
	public Optional<Long> patientPid(String fhirId) {
		List<Long> ids = jdbc.queryForList(
				"select RES_ID from HFJ_RESOURCE where RES_TYPE = 'Patient' and FHIR_ID = ? and RES_DELETED_AT is null", Long.class, fhirId);
		return ids.stream().findFirst();
	}

	public List<Episode> episodes(long patientPid) {
		Map<Long, Episode> episodes = new LinkedHashMap<>();
		jdbc.query(SQL, rs -> {
			long id = rs.getLong("id");
			Timestamp low = rs.getTimestamp("low");
			Episode episode = episodes.computeIfAbsent(id, k -> new Episode(k,
					low.toInstant().atZone(ZoneOffset.UTC).toLocalDate(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>()));
			long kind = rs.getLong("kind");
			if (!rs.wasNull()) {
				String coding = rs.getString("sys") + "|" + rs.getString("val");
				List<String> target = kind == method ? episode.methods() : kind == function ? episode.functions() : kind == intent ? episode.intents() : null;
				if (target != null && !target.contains(coding)) {
					target.add(coding);
				}
			}
		}, episodeCode, date, method, function, intent, patientPid, enteredInError);
		return new ArrayList<>(episodes.values());
	}
}
