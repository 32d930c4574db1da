package org.nssifhir.server.labeling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.nssifhir.server.conformance.ConformancePackage;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.StandardCodes;

/**
 * The sensitive categories, read from the ValueSets our FHIR package ships (so the package is the one place the
 * rules live, and what a privacy officer reads there is what the server does). Each category is one ValueSet and
 * names the label rule recorded on the resources it labels.
 *
 * <p>A ValueSet's {@code include} is read as: {@code concept} codes match exactly; a filter
 * {@code concept is-a X} matches X and every code below it, which for ICD-10-CM is every code that starts with X
 * (the classification's hierarchy is its code prefix). Codes and systems are compared through
 * {@link StandardCodes}: ICD-10-CM with or without the dot, system URIs in canonical or OID form.
 */
public final class SensitiveCategories {

	/** Category ValueSet id → the label rule it records, in order of precedence. */
	static final Map<String, String> CATEGORIES = new LinkedHashMap<>();

	static {
		CATEGORIES.put("nssi-sensitive-self-harm-vs", "self-harm-suicidality");
		CATEGORIES.put("nssi-sensitive-behavioral-health-vs", "behavioral-health");
	}

	private record Category(String rule, Set<String> exact, List<String> prefixes) {
		boolean matches(String system, String code) {
			String key = StandardCodes.system(system) + "|" + StandardCodes.code(system, code);
			return exact.contains(key) || prefixes.stream().anyMatch(key::startsWith);
		}
	}

	private final List<Category> categories;
	private final String fingerprint;

	private SensitiveCategories(List<Category> categories, String fingerprint) {
		this.categories = categories;
		this.fingerprint = fingerprint;
	}

	/**
	 * What the labelling rules are, as a SHA-256 over {@link SecurityLabelingService#RULES_VERSION} and the category
	 * ValueSets as shipped (their compose, whatever their formatting): a new package whose sensitive categories
	 * changed, or a new server whose rules code changed, has another fingerprint, and the stored data is relabelled
	 * ({@code relabel/}).
	 */
	public String fingerprint() {
		return fingerprint;
	}

	public static SensitiveCategories from(ConformancePackage pkg) {
		Map<String, JsonNode> valueSets = new LinkedHashMap<>();
		ObjectMapper json = new ObjectMapper();
		for (String file : pkg.conformanceFiles().values()) {
			try {
				JsonNode node = json.readTree(file);
				if ("ValueSet".equals(node.path("resourceType").asText())) {
					valueSets.put(node.path("url").asText(), node);
				}
			} catch (IOException e) {
				throw new UncheckedIOException(e);
			}
		}
		List<Category> categories = new ArrayList<>();
		StringBuilder rules = new StringBuilder(SecurityLabelingService.RULES_VERSION);
		CATEGORIES.forEach((id, rule) -> {
			JsonNode vs = valueSets.get(NssiCanonicals.BASE + "/ValueSet/" + id);
			if (vs == null) {
				throw new IllegalStateException("The FHIR package has no ValueSet " + id + ": security labelling cannot start without it");
			}
			rules.append('\n').append(id).append('=').append(rule).append('=').append(vs.path("compose"));
			Set<String> exact = new HashSet<>();
			List<String> prefixes = new ArrayList<>();
			for (JsonNode include : vs.path("compose").path("include")) {
				String system = StandardCodes.system(include.path("system").asText());
				include.path("concept").forEach(c -> exact.add(system + "|" + StandardCodes.code(system, c.path("code").asText())));
				for (JsonNode filter : include.path("filter")) {
					if (!"concept".equals(filter.path("property").asText()) || !"is-a".equals(filter.path("op").asText())) {
						throw new IllegalStateException("ValueSet " + id + ": only 'concept is-a' filters are supported");
					}
					String value = StandardCodes.code(system, filter.path("value").asText());
					exact.add(system + "|" + value);
					if (StandardCodes.ICD10CM.equals(system)) {
						prefixes.add(system + "|" + value);
					}
				}
			}
			categories.add(new Category(rule, Set.copyOf(exact), List.copyOf(prefixes)));
		});
		return new SensitiveCategories(List.copyOf(categories), sha256(rules.toString()));
	}

	private static String sha256(String text) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
					.digest(text.getBytes(StandardCharsets.UTF_8)));
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}

	/** The rule of the first category the code belongs to, if any. */
	public Optional<String> ruleFor(String system, String code) {
		if (system == null || code == null) {
			return Optional.empty();
		}
		return categories.stream().filter(c -> c.matches(system, code)).map(Category::rule).findFirst();
	}
}
