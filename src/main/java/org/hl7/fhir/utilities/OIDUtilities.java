package org.hl7.fhir.utilities;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.hl7.fhir.exceptions.FHIRException;

/**
 * Our own implementation of the HL7 core library's {@code OIDUtilities} (org.hl7.fhir.utilities 6.7.9, used by
 * HAPI FHIR 8.8.0), loaded in its place because the application's classes come first on the class path.
 *
 * <p>Why: the library's constructor reads its whole OID registry ({@code oidregistry.csv}, 21,000 lines, shipped in
 * the library's jar), and the instance validator constructs one for every resource it validates. Measured on the
 * benchmark's ingest (src/bench/run.sh), that parsing was about nine in ten CPU samples of the server's request
 * threads. Here the registry is read once per JVM, on first use, and shared read-only. The behaviour
 * is otherwise the library's: {@code OidUtilitiesReplacementTest} compares every method, for every registry entry,
 * with the library's own class loaded from its jar, and fails when the library's class gains a public member this
 * one lacks (a core upgrade must revisit this class or drop it).
 */
public class OIDUtilities {

	/** One registry entry (the library's type, kept for API compatibility). */
	public static class OIDInfo {
		private String oid;
		private String name;
		private String codeSystem;
		private Integer type;

		public String getOid() {
			return oid;
		}

		public void setOid(String oid) {
			this.oid = oid;
		}

		public String getName() {
			return name;
		}

		public void setName(String name) {
			this.name = name;
		}

		public String getCodeSystem() {
			return codeSystem;
		}

		public void setCodeSystem(String codeSystem) {
			this.codeSystem = codeSystem;
		}

		public Integer getType() {
			return type;
		}

		public void setType(Integer type) {
			this.type = type;
		}

		@Override
		public String toString() {
			return "OID: " + oid + ", Name: " + name + ", CodeSystem: " + codeSystem + ", Type: " + type;
		}
	}

	/** First arc 0, 1 or 2, then one or more arcs without leading zeros (ITU-T X.660). */
	private static final Pattern VALID_OID = Pattern.compile("[0-2](\\.(0|[1-9][0-9]*))+");

	/** The code systems HL7 tooling names by OID, and their FHIR URIs. */
	private static final Map<String, String> CODE_SYSTEM_URIS = Map.ofEntries(
			Map.entry("2.16.840.1.113883.6.96", "http://snomed.info/sct"),
			Map.entry("2.16.840.1.113883.6.1", "http://loinc.org"),
			Map.entry("2.16.840.1.113883.6.8", "http://unitsofmeasure.org"),
			Map.entry("2.16.840.1.113883.6.3", "http://hl7.org/fhir/sid/icd-10"),
			Map.entry("2.16.840.1.113883.6.42", "http://hl7.org/fhir/sid/icd-9"),
			Map.entry("2.16.840.1.113883.6.103", "http://hl7.org/fhir/sid/icd-9"),
			Map.entry("2.16.840.1.113883.6.104", "http://hl7.org/fhir/sid/icd-9"),
			Map.entry("2.16.840.1.113883.6.73", "http://www.whocc.no/atc"),
			Map.entry("2.16.840.1.113883.3.26.1.1", "http://ncimeta.nci.nih.gov"),
			Map.entry("2.16.840.1.113883.3.26.1.1.1", "http://ncimeta.nci.nih.gov"),
			Map.entry("2.16.840.1.113883.6.88", "http://www.nlm.nih.gov/research/umls/rxnorm"),
			Map.entry("2.16.840.1.113883.6.59", "http://hl7.org/fhir/sid/cvx"),
			Map.entry("2.16.840.1.113883.12.292", "http://hl7.org/fhir/sid/cvx"),
			Map.entry("2.16.840.1.113883.6.12", "http://www.ama-assn.org/go/cpt"));

	/** Read on first use by the class loader's holder idiom: once per JVM, thread-safe without locks. */
	private static final class Registry {
		static final Map<String, OIDInfo> ENTRIES = read();

		private static Map<String, OIDInfo> read() {
			Map<String, OIDInfo> entries = new HashMap<>();
			try (InputStream in = OIDUtilities.class.getClassLoader().getResourceAsStream("oidregistry.csv")) {
				if (in == null) {
					throw new FHIRException("oidregistry.csv is not on the class path");
				}
				BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
				reader.readLine(); // the header
				for (String line = reader.readLine(); line != null; line = reader.readLine()) {
					String[] columns = line.split(",");
					if (columns.length >= 4) {
						OIDInfo info = new OIDInfo();
						info.setOid(columns[0].trim());
						info.setType(Integer.parseInt(columns[1].trim()));
						info.setName(columns[2].trim());
						info.setCodeSystem(columns[3].trim());
						entries.put(info.getOid(), info);
					}
				}
			} catch (IOException | NumberFormatException e) {
				throw new FHIRException(e);
			}
			return Map.copyOf(entries);
		}
	}

	private final Map<String, OIDInfo> oidMap;

	public OIDUtilities() {
		this.oidMap = Registry.ENTRIES;
	}

	public static String getUriForOid(String oid) {
		return oid == null ? null : CODE_SYSTEM_URIS.get(oid);
	}

	public static String oidTail(String id) {
		return id == null || !id.contains(".") ? id : id.substring(id.lastIndexOf('.') + 1);
	}

	public static String oidRoot(String id) {
		return id == null || !id.contains(".") ? id : id.substring(0, id.indexOf('.'));
	}

	public static boolean isValidOID(String oid) {
		return VALID_OID.matcher(oid).matches();
	}

	public boolean isKnownOID(String url) {
		return url != null && url.startsWith("urn:oid:") && oidMap.containsKey(url.substring("urn:oid:".length()));
	}
}
