package org.nssifhir.server.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scales the benchmark's data to the size (a million Observations) inside PostgreSQL, because loading it
 * through the API is not possible in a session: validated ingest runs at about 70-80 resources/s on this machine, so
 * a million Observations would take close to four hours.
 *
 * <p>What it does: the patient data the harness loaded through the API (validated, labelled, indexed by HAPI) is the
 * seed. Each copy {@code k} is the seed with every resource id shifted by {@code k * 10^d} (d = digits of the largest
 * resource id, so a copy's id is {@code k} followed by the seed id zero-padded), in every place HAPI keeps it: the
 * resource and version rows, the stored JSON's references, the tag rows, the reference links and every search index
 * table. Search index hashes depend only on type, parameter and value, so they are copied as they are. The result is
 * what HAPI would have written for the same resources created with those ids, which the harness checks over the API
 * afterwards (a copied patient's timeline must equal its seed's).
 *
 * <p>What is not copied, on purpose: conformance resources (one package), AuditEvents and Binaries (the load's own
 * audit trail and export files), and the conditional-create URL rows ({@code hfj_res_search_url}, a uniqueness guard
 * for in-flight requests). Identifiers are copied unchanged, so an extracted Observation's "extracted-from" identifier
 * still names the seed's QuestionnaireResponse. Anything else that refers to a copied resource and is not handled
 * here stops the scaling with an error rather than leaving half-copied data.
 *
 * <p>The server must be stopped while this runs (its id caches and sequence blocks would be stale); the harness does
 * that. Benchmark use only: it writes HAPI's tables directly.
 */
final class BenchScale {

	/** Patient data: the types a copy contains. Shared resources (practitioners, organisations) are not copied. */
	static final List<String> PATIENT_DATA = List.of("Patient", "Observation", "Condition", "QuestionnaireResponse", "Flag",
			"Task", "CarePlan", "Goal", "ServiceRequest", "Procedure", "CareTeam", "Provenance", "Communication",
			"CommunicationRequest", "Consent", "Encounter", "DetectedIssue", "RiskAssessment", "DocumentReference",
			"MedicationStatement", "MedicationRequest", "ClinicalImpression", "List");

	/** Search index and link tables: primary key column, its sequence. Each row's res_id is shifted. */
	private static final Map<String, String[]> INDEX_TABLES = new LinkedHashMap<>();

	static {
		for (String t : List.of("token", "string", "date", "quantity", "quantity_nrml", "number", "coords", "uri")) {
			INDEX_TABLES.put("hfj_spidx_" + t, new String[] {"sp_id", "seq_spidx_" + t});
		}
		INDEX_TABLES.put("hfj_res_param_present", new String[] {"pid", "seq_resparmpresent_id"});
		INDEX_TABLES.put("hfj_idx_cmb_tok_nu", new String[] {"pid", "seq_idxcmbtoknu_id"});
		INDEX_TABLES.put("hfj_res_tag", new String[] {"pid", "seq_restag_id"});
	}

	/** Tables with a resource id that are deliberately not copied (see the class comment). */
	private static final List<String> NOT_COPIED = List.of("hfj_res_search_url", "hfj_resource_modified",
			"hfj_subscription_stats", "hfj_blk_export_colfile");

	/** The outcome: how many copies were added and the id shift of copy k ({@code k * idShift}). */
	record Result(int copies, long idShift, long seedObservations, long observationsAfter, double seconds) {

		/** The ids of {@code refs} ("Patient/123") in every copy, after the originals. */
		List<String> withCopies(List<String> refs) {
			List<String> out = new ArrayList<>(refs);
			for (int k = 1; k <= copies; k++) {
				for (String ref : refs) {
					String[] typeAndId = ref.split("/");
					if (typeAndId[1].matches("\\d+")) {
						out.add(typeAndId[0] + "/" + (k * idShift + Long.parseLong(typeAndId[1])));
					}
				}
			}
			return out;
		}
	}

	private BenchScale() {
	}

	/** Standalone, on a stopped server's database: {@code BenchScale <observations>} with NSSI_DB_URL/USERNAME/PASSWORD. */
	public static void main(String[] args) throws SQLException {
		Result r = scale(System.getenv("NSSI_DB_URL"), System.getenv("NSSI_DB_USERNAME"), System.getenv("NSSI_DB_PASSWORD"), Long.parseLong(args[0]));
		System.out.println(r);
	}

	/** Copies the patient data until there are at least {@code targetObservations} Observations. */
	static Result scale(String url, String user, String password, long targetObservations) throws SQLException {
		long start = System.nanoTime();
		try (Connection c = DriverManager.getConnection(url, user, password); Statement s = c.createStatement()) {
			s.execute("SET synchronous_commit = off");
			s.execute("DROP TABLE IF EXISTS pg_temp.clone_src");
			try (PreparedStatement p = c.prepareStatement("CREATE TEMP TABLE clone_src AS SELECT res_id FROM hfj_resource"
					+ " WHERE res_type = ANY (?) AND fhir_id = res_id::text")) {
				p.setArray(1, c.createArrayOf("varchar", PATIENT_DATA.toArray()));
				p.execute();
			}
			s.execute("ALTER TABLE clone_src ADD PRIMARY KEY (res_id)");
			s.execute("ANALYZE clone_src");
			long seedObs = single(s, "SELECT count(*) FROM hfj_resource r JOIN clone_src USING (res_id) WHERE r.res_type = 'Observation' AND r.res_deleted_at IS NULL");
			long allObs = single(s, "SELECT count(*) FROM hfj_resource WHERE res_type = 'Observation' AND res_deleted_at IS NULL");
			if (seedObs == 0) {
				throw new IllegalStateException("No Observations to copy");
			}
			int copies = (int) Math.max(0, (targetObservations - allObs + seedObs - 1) / seedObs);
			guard(s);
			int digits = String.valueOf(single(s, "SELECT max(res_id) FROM hfj_resource")).length();
			long idShift = (long) Math.pow(10, digits);
			long versionShift = single(s, "SELECT max(pid) FROM hfj_res_ver") + 1;
			Map<String, Long> shifts = new LinkedHashMap<>();
			for (Map.Entry<String, String[]> t : INDEX_TABLES.entrySet()) {
				shifts.put(t.getKey(), single(s, "SELECT coalesce(max(" + t.getValue()[0] + "), 0) + 1 FROM " + t.getKey()));
			}
			long linkShift = single(s, "SELECT coalesce(max(pid), 0) + 1 FROM hfj_res_link");
			long historyTagShift = single(s, "SELECT coalesce(max(pid), 0) + 1 FROM hfj_history_tag");
			createShiftFunction(s, digits);
			System.out.printf(Locale.ROOT, "scaling: %d Observations in the seed, %d copies, id shift %d%n", seedObs, copies, idShift);

			c.setAutoCommit(false);
			for (int k = 1; k <= copies; k++) {
				long t0 = System.nanoTime();
				String res = "r.res_id + " + k * idShift;
				// the content hash would be the seed's (its references differ): none, as for a resource never hashed
				copy(c, "hfj_resource", Map.of("res_id", res, "fhir_id", "(" + res + ")::text", "hash_sha256", "NULL"), "");
				copy(c, "hfj_res_ver", Map.of("pid", "r.pid + " + k * versionShift, "res_id", res,
						"res_text_vc", "pg_temp.nssi_shift_refs(r.res_text_vc, " + k + ")"), "");
				copy(c, "hfj_history_tag", Map.of("pid", "r.pid + " + k * historyTagShift, "res_id", res,
						"res_ver_pid", "r.res_ver_pid + " + k * versionShift), "");
				for (Map.Entry<String, String[]> t : INDEX_TABLES.entrySet()) {
					String pk = t.getValue()[0];
					copy(c, t.getKey(), Map.of(pk, "r." + pk + " + " + k * shifts.get(t.getKey()), "res_id", res), "");
				}
				// a link's target moves with the copy only when the target is copied too (shared resources stay)
				copy(c, "hfj_res_link", Map.of("pid", "r.pid + " + k * linkShift, "src_resource_id", "r.src_resource_id + " + k * idShift,
						"target_resource_id", "CASE WHEN tgt.res_id IS NULL THEN r.target_resource_id ELSE r.target_resource_id + " + k * idShift + " END"),
						" LEFT JOIN clone_src tgt ON tgt.res_id = r.target_resource_id");
				c.commit();
				System.out.printf(Locale.ROOT, "copy %d of %d: %.0f s%n", k, copies, (System.nanoTime() - t0) / 1e9);
			}
			c.setAutoCommit(true);
			// the id sequences past everything copied (HAPI allocates in pooled blocks above the sequence value)
			setSequence(s, "seq_resource_id", "SELECT max(res_id) FROM hfj_resource");
			setSequence(s, "seq_resource_history_id", "SELECT max(pid) FROM hfj_res_ver");
			setSequence(s, "seq_historytag_id", "SELECT max(pid) FROM hfj_history_tag");
			setSequence(s, "seq_reslink_id", "SELECT max(pid) FROM hfj_res_link");
			for (Map.Entry<String, String[]> t : INDEX_TABLES.entrySet()) {
				setSequence(s, t.getValue()[1], "SELECT max(" + t.getValue()[0] + ") FROM " + t.getKey());
			}
			long t0 = System.nanoTime();
			s.execute("VACUUM ANALYZE");
			// the copies' WAL written out now, not by a checkpoint in the middle of the timed workloads (needs
			// pg_checkpoint, which run.sh grants; without it, say so and go on)
			try {
				s.execute("CHECKPOINT");
			} catch (SQLException notAllowed) {
				System.out.println("no CHECKPOINT after scaling (" + notAllowed.getMessage() + "): the first workloads may pay for it");
			}
			System.out.printf(Locale.ROOT, "vacuum analyze, checkpoint: %.0f s%n", (System.nanoTime() - t0) / 1e9);
			long after = single(s, "SELECT count(*) FROM hfj_resource WHERE res_type = 'Observation' AND res_deleted_at IS NULL");
			return new Result(copies, idShift, seedObs, after, (System.nanoTime() - start) / 1e9);
		}
	}

	/** Stops before copying if a table refers to seed resources in a way this class does not copy. */
	private static void guard(Statement s) throws SQLException {
		if (single(s, "SELECT count(*) FROM hfj_res_ver v JOIN clone_src USING (res_id) WHERE v.res_text IS NOT NULL OR v.res_text_vc IS NULL") > 0) {
			throw new IllegalStateException("Some versions are stored as large objects, which this copy does not handle");
		}
		for (String unique : List.of("hfj_idx_cmp_string_uniq", "hfj_res_identifier_pt_uniq", "hfj_res_ver_prov")) {
			if (single(s, "SELECT count(*) FROM " + unique) > 0) {
				throw new IllegalStateException(unique + " has rows: copies would need their own values there");
			}
		}
		try (ResultSet r = s.executeQuery("SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
				+ " AND column_name IN ('res_id', 'res_pid', 'src_resource_id', 'target_resource_id', 'res_ver_pid')"
				+ " AND table_name LIKE 'hfj%' GROUP BY table_name")) {
			List<String> unknown = new ArrayList<>();
			while (r.next()) {
				String table = r.getString(1);
				if (!INDEX_TABLES.containsKey(table) && !NOT_COPIED.contains(table) && !List.of("hfj_resource", "hfj_res_ver",
						"hfj_history_tag", "hfj_res_link", "hfj_idx_cmp_string_uniq", "hfj_res_ver_prov").contains(table)) {
					unknown.add(table);
				}
			}
			if (!unknown.isEmpty()) {
				throw new IllegalStateException("Tables this copy does not know (a newer HAPI schema?): " + unknown);
			}
		}
	}

	/**
	 * {@code nssi_shift_refs(json, k)}: every {@code "reference":"Type/<id>"} to a patient-data type in the stored JSON,
	 * with the id of copy k. One replacement per id length, so each id is padded to d digits behind k; an id already
	 * shifted is longer than d and no later pass matches it.
	 */
	private static void createShiftFunction(Statement s, int digits) throws SQLException {
		String types = String.join("|", PATIENT_DATA);
		s.execute("CREATE OR REPLACE FUNCTION pg_temp.nssi_shift_refs(txt text, k int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$\n"
				+ "DECLARE out text := txt;\n"
				+ "BEGIN\n"
				+ "  FOR len IN 1.." + digits + " LOOP\n"
				+ "    out := regexp_replace(out, '(\"reference\":\"(?:" + types + ")/)([0-9]{' || len || '})([\"/])',\n"
				+ "      '\\1' || k || repeat('0', " + digits + " - len) || '\\2\\3', 'g');\n"
				+ "  END LOOP;\n"
				+ "  RETURN out;\n"
				+ "END $$");
	}

	/**
	 * {@code INSERT INTO table SELECT <columns, some replaced> FROM table r JOIN clone_src ON the resource id}; the
	 * replacements name the table's columns as {@code r.column}.
	 */
	private static void copy(Connection c, String table, Map<String, String> replaced, String join) throws SQLException {
		List<String> columns = new ArrayList<>();
		try (PreparedStatement p = c.prepareStatement("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
				+ " AND table_name = ? ORDER BY ordinal_position")) {
			p.setString(1, table);
			try (ResultSet r = p.executeQuery()) {
				while (r.next()) {
					columns.add(r.getString(1));
				}
			}
		}
		String key = columns.contains("src_resource_id") ? "src_resource_id" : "res_id";
		String select = columns.stream().map(col -> replaced.containsKey(col) ? replaced.get(col) : "r." + col)
				.reduce((a, b) -> a + ", " + b).orElseThrow();
		try (Statement s = c.createStatement()) {
			s.execute("INSERT INTO " + table + " (" + String.join(", ", columns) + ") SELECT " + select + " FROM " + table + " r JOIN clone_src src ON src.res_id = r." + key + join);
		}
	}

	private static void setSequence(Statement s, String sequence, String maxQuery) throws SQLException {
		long max = single(s, maxQuery);
		s.execute("SELECT setval('" + sequence + "', " + (max + 1000) + ")");
	}

	private static long single(Statement s, String sql) throws SQLException {
		try (ResultSet r = s.executeQuery(sql)) {
			r.next();
			return r.getLong(1);
		}
	}
}
