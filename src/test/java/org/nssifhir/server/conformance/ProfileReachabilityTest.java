package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every profile in {@code profiles/} is enforced on write: either {@link NssiResourceClassifier} derives it from a
 * resource's content ({@link NssiResourceClassifier#contentProfiles()}), or it is listed as claim-only
 * ({@link NssiResourceClassifier#CLAIM_ONLY_PROFILES}, validated only when a resource claims it). And the content
 * list tells the truth: for each such profile, one of our examples, with its {@code meta.profile} claims removed,
 * is classified to it.
 */
class ProfileReachabilityTest {

	private static final Path PROFILES = Path.of("profiles");
	private static final Path EXAMPLES = PROFILES.resolve("examples");

	/** Profile id → file, for every StructureDefinition in profiles/ that constrains a resource (not an extension). */
	private static final Map<String, Path> profiles = new TreeMap<>();

	@BeforeAll
	static void readProfiles() throws IOException {
		ObjectMapper json = new ObjectMapper();
		for (Path file : jsonFiles(PROFILES)) {
			JsonNode node = json.readTree(file.toFile());
			if (!node.path("resourceType").asText().equals("StructureDefinition")
					// an extension definition is not a profile a resource is held to
					|| node.path("type").asText().equals("Extension")) {
				continue;
			}
			String id = node.path("id").asText();
			assertThat(node.path("url").asText()).as("%s: the classifier knows profiles by id under our canonical base", file)
					.isEqualTo(NssiCanonicals.profile(id));
			assertThat(profiles.put(id, file)).as("one StructureDefinition with id %s", id).isNull();
		}
		assertThat(profiles).as("profiles/ holds our profiles").isNotEmpty();
	}

	private static List<Path> jsonFiles(Path dir) throws IOException {
		try (Stream<Path> files = Files.walk(dir)) {
			return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
		}
	}

	@Test
	void everyProfileIsImpliedByContentOrClaimOnly() {
		Set<String> content = NssiResourceClassifier.contentProfiles();
		Set<String> claimOnly = NssiResourceClassifier.CLAIM_ONLY_PROFILES;
		Set<String> unreachable = new TreeSet<>(profiles.keySet());
		unreachable.removeAll(content);
		unreachable.removeAll(claimOnly);
		assertThat(unreachable)
				.as("profiles that no NssiResourceClassifier rule yields and that are not in its CLAIM_ONLY_PROFILES: add a "
						+ "content rule, or list them as claim-only with the reason")
				.isEmpty();
		assertThat(claimOnly).as("claim-only profiles that a content rule yields anyway").doesNotContainAnyElementsOf(content);
		assertThat(content).as("content rules naming a profile that profiles/ does not have").isSubsetOf(profiles.keySet());
		assertThat(claimOnly).as("claim-only profiles that profiles/ does not have").isSubsetOf(profiles.keySet());
	}

	@Test
	void everyContentProfileIsYieldedByTheContentOfAnExample() throws IOException {
		FhirContext fhir = FhirContext.forR4Cached();
		Set<String> yielded = new TreeSet<>();
		for (Path file : jsonFiles(EXAMPLES)) {
			Resource example = (Resource) fhir.newJsonParser().parseResource(Files.readString(file));
			example.getMeta().getProfile().clear(); // content only: no claims
			yielded.addAll(NssiResourceClassifier.profilesFor(example));
		}
		List<String> notShown = new ArrayList<>(NssiResourceClassifier.contentProfiles());
		notShown.removeAll(yielded);
		assertThat(notShown)
				.as("contentProfiles() lists these, but no example in profiles/examples/ is classified to them by content")
				.isEmpty();
	}
}
