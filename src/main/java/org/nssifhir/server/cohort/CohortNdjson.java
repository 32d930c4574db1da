package org.nssifhir.server.cohort;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hl7.fhir.r4.model.Bundle;

/**
 * The synthetic cohort as Bulk Data NDJSON, one file per resource type ({@code Patient.ndjson}, ...), for
 * {@code $import}. Each person's transaction becomes resources with ids of their own ({@code syn-<seed>-<n>} for the
 * Patient, {@code syn-<seed>-<n>-<entry>} for the rest; never purely numeric, as the server requires of
 * client-assigned ids) and the transaction's {@code urn:uuid} references point at the Patient's id. People are
 * generated and written one at a time, so a million resources need no more memory than one person.
 */
public final class CohortNdjson {

	private final CohortGenerator generator;
	private final IParser parser;

	public CohortNdjson(CohortGenerator generator, FhirContext fhirContext) {
		this.generator = generator;
		this.parser = fhirContext.newJsonParser();
	}

	/** The Patient id person {@code n} of {@code seed} is imported with. */
	public static String patientId(long seed, int n) {
		return "syn-" + seed + "-" + n;
	}

	/**
	 * Writes people {@code from}..{@code to} (inclusive) of {@code seed} into {@code dir}; answers how many resources
	 * of each type were written (Patient first).
	 */
	public Map<String, Integer> write(long seed, int from, int to, Path dir) {
		Map<String, BufferedWriter> files = new LinkedHashMap<>();
		Map<String, Integer> counts = new LinkedHashMap<>();
		try {
			Files.createDirectories(dir);
			for (int n = from; n <= to; n++) {
				Bundle tx = generator.person(seed, n).transaction();
				String patientId = patientId(seed, n);
				String patientUrn = tx.getEntryFirstRep().getFullUrl();
				for (int i = 0; i < tx.getEntry().size(); i++) {
					Bundle.BundleEntryComponent entry = tx.getEntry().get(i);
					String type = entry.getResource().fhirType();
					entry.getResource().setId(i == 0 ? patientId : patientId + "-" + i);
					// the only references in a person's transaction are to its Patient, by urn:uuid
					String json = parser.encodeResourceToString(entry.getResource())
							.replace("\"" + patientUrn + "\"", "\"Patient/" + patientId + "\"");
					BufferedWriter out = files.get(type);
					if (out == null) {
						out = Files.newBufferedWriter(dir.resolve(type + ".ndjson"), StandardCharsets.UTF_8);
						files.put(type, out);
					}
					out.write(json);
					out.write('\n');
					counts.merge(type, 1, Integer::sum);
				}
			}
			for (BufferedWriter out : files.values()) {
				out.close();
			}
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
		return counts;
	}
}
