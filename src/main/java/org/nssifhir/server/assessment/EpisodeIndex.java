package org.nssifhir.server.assessment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.interceptor.model.RequestPartitionId;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.entity.BaseResourceIndexedSearchParam;
import ca.uhn.fhir.jpa.model.entity.ResourceIndexedSearchParamToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.nssifhir.server.conformance.ConformancePackage;
import org.nssifhir.server.support.StandardCodes;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Reads a patient's NSSI episodes (day, methods, functions) straight from HAPI's search index tables, without
 * loading and parsing each Observation: this is what keeps {@code $nssi-summary} fast for years of episodes.
 * It uses the same hashes HAPI searches with (code {@code nssi-episode}, the {@code date} index of the effective
 * time, our {@code nssi-method} / {@code nssi-function} search parameters), skips deleted and entered-in-error
 * Observations, and reads only what those indexes hold (the coded values, not their display text).
 *
 * <p>An episode is an Observation coded with our {@code nssi-episode} or with any source code of the package's
 * ConceptMap {@code nssi-inbound-episode} (SNOMED CT self-harm acts as EHRs record them, in the canonical and OID
 * forms of the system). Those codes say nothing of intent, so such an episode counts as a self-harm episode and
 * never as NSSI ({@link Episode#nonSuicidal}); a code whose map target has a suicidal-intent {@code product}
 * (suicide attempt) gives the episode that intent. The list lives in the package, not here, so the mapping is
 * published and changed with the terminology.
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

	/** The ConceptMap whose source codes make an Observation an episode. */
	public static final String INBOUND_MAP = "nssi-inbound-episode";

	private static final String SQL = """
			select l.SRC_RESOURCE_ID as id, d.SP_VALUE_LOW as low, c.HASH_SYS_AND_VALUE as matched,
			t.HASH_IDENTITY as kind, t.SP_SYSTEM as sys, t.SP_VALUE as val
			from HFJ_RES_LINK l
			join HFJ_RESOURCE r on r.RES_ID = l.SRC_RESOURCE_ID and r.RES_DELETED_AT is null
			join HFJ_SPIDX_TOKEN c on c.RES_ID = l.SRC_RESOURCE_ID and c.HASH_SYS_AND_VALUE in (%s)
			join HFJ_SPIDX_DATE d on d.RES_ID = l.SRC_RESOURCE_ID and d.HASH_IDENTITY = ?
			left join HFJ_SPIDX_TOKEN t on t.RES_ID = l.SRC_RESOURCE_ID and t.HASH_IDENTITY in (?, ?, ?)
			where l.TARGET_RESOURCE_ID = ? and l.SRC_PATH = 'Observation.subject'
			and not exists (select 1 from HFJ_SPIDX_TOKEN s where s.RES_ID = l.SRC_RESOURCE_ID and s.HASH_VALUE = ?)
			order by l.SRC_RESOURCE_ID""";

	private final JdbcTemplate jdbc;
	private final String sql;
	/** Hash of each episode code (system|code) to the intent it implies (system|code), or "" for none. */
	private final Map<Long, String> episodeCodes = new LinkedHashMap<>();
	private final long date;
	private final long method;
	private final long function;
	private final long intent;
	private final long enteredInError;

	/**
	 * @param codes episode codes as system|code, each to the intent coding (system|code) it implies or "" when it
	 *     implies none: {@link #episodeCodes(ConformancePackage)}
	 */
	public EpisodeIndex(DataSource dataSource, PartitionSettings partitions, Map<String, String> codes) {
		this.jdbc = new JdbcTemplate(dataSource);
		RequestPartitionId partition = RequestPartitionId.defaultPartition();
		codes.forEach((coding, intent) -> {
			int bar = coding.indexOf('|');
			// stored rows keep the system as sent: match the OID and trailing-slash forms an EHR may use as well
			for (String system : StandardCodes.forms(coding.substring(0, bar))) {
				episodeCodes.put(ResourceIndexedSearchParamToken.calculateHashSystemAndValue(
						partitions, partition, "Observation", "code", system, coding.substring(bar + 1)), intent);
			}
		});
		this.sql = SQL.formatted(episodeCodes.keySet().stream().map(h -> "?").collect(Collectors.joining(", ")));
		this.date = BaseResourceIndexedSearchParam.calculateHashIdentity(partitions, partition, "Observation", "date");
		this.method = BaseResourceIndexedSearchParam.calculateHashIdentity(partitions, partition, "Observation", "nssi-method");
		this.function = BaseResourceIndexedSearchParam.calculateHashIdentity(partitions, partition, "Observation", "nssi-function");
		this.intent = BaseResourceIndexedSearchParam.calculateHashIdentity(partitions, partition, "Observation", "nssi-intent");
		this.enteredInError = ResourceIndexedSearchParamToken.calculateHashValue(partitions, partition, "Observation", "status", "entered-in-error");
	}

	/**
	 * Our own {@code nssi-episode} (its intent is in its component) and every source code the package's
	 * {@value #INBOUND_MAP} ConceptMap maps to it, with the intent a target's suicidal-intent {@code product} states.
	 * Fails at startup when the map is missing: without it, EHR episodes would silently vanish from the figures.
	 */
	public static Map<String, String> episodeCodes(ConformancePackage pkg) {
		Map<String, String> codes = new LinkedHashMap<>();
		codes.put(CONCEPTS_SYSTEM + "|nssi-episode", "");
		ObjectMapper json = new ObjectMapper();
		JsonNode map = null;
		for (String file : pkg.conformanceFiles().values()) {
			try {
				JsonNode node = json.readTree(file);
				if ("ConceptMap".equals(node.path("resourceType").asText()) && INBOUND_MAP.equals(node.path("id").asText())) {
					map = node;
				}
			} catch (IOException e) {
				throw new UncheckedIOException(e);
			}
		}
		if (map == null) {
			throw new IllegalStateException("The FHIR package has no ConceptMap " + INBOUND_MAP + ": episodes from other systems cannot be read without it");
		}
		for (JsonNode group : map.path("group")) {
			if (!CONCEPTS_SYSTEM.equals(group.path("target").asText())) {
				continue;
			}
			String source = group.path("source").asText();
			for (JsonNode element : group.path("element")) {
				for (JsonNode target : element.path("target")) {
					String equivalence = target.path("equivalence").asText();
					if (!"nssi-episode".equals(target.path("code").asText()) || "disjoint".equals(equivalence) || "unmatched".equals(equivalence)) {
						continue;
					}
					String intent = "";
					for (JsonNode product : target.path("product")) {
						if (product.path("property").asText().endsWith(":suicidal-intent")) {
							intent = product.path("system").asText() + "|" + product.path("value").asText();
						}
					}
					codes.put(source + "|" + element.path("code").asText(), intent);
				}
			}
		}
		return codes;
	}

	/** The database id of a Patient by its FHIR id, if it exists and is not deleted. */
	public Optional<Long> patientPid(String fhirId) {
		List<Long> ids = jdbc.queryForList(
				"select RES_ID from HFJ_RESOURCE where RES_TYPE = 'Patient' and FHIR_ID = ? and RES_DELETED_AT is null", Long.class, fhirId);
		return ids.stream().findFirst();
	}

	public List<Episode> episodes(long patientPid) {
		Map<Long, Episode> episodes = new LinkedHashMap<>();
		List<Object> args = new ArrayList<>(episodeCodes.keySet());
		args.addAll(List.of(date, method, function, intent, patientPid, enteredInError));
		jdbc.query(sql, rs -> {
			long id = rs.getLong("id");
			Timestamp low = rs.getTimestamp("low");
			Episode episode = episodes.computeIfAbsent(id, k -> new Episode(k,
					low.toInstant().atZone(ZoneOffset.UTC).toLocalDate(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>()));
			// a code that states the intent (suicide attempt) records it, as a suicidal-intent component would
			String implied = episodeCodes.getOrDefault(rs.getLong("matched"), "");
			if (!implied.isEmpty() && !episode.intents().contains(implied)) {
				episode.intents().add(implied);
			}
			long kind = rs.getLong("kind");
			if (!rs.wasNull()) {
				String coding = rs.getString("sys") + "|" + rs.getString("val");
				List<String> target = kind == method ? episode.methods() : kind == function ? episode.functions() : kind == intent ? episode.intents() : null;
				if (target != null && !target.contains(coding)) {
					target.add(coding);
				}
			}
		}, args.toArray());
		return new ArrayList<>(episodes.values());
	}
}
