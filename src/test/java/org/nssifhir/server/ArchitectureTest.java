package org.nssifhir.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * No two of our top-level packages ({@code org.nssifhir.server.X}) depend on each other both ways. The pairs that
 * still do are listed in {@link #ALLOWED_PAIRS}, each with its reason; the list only shrinks: a new pair fails
 * this test, and so does a listed pair that no longer exists (take it off the list).
 */
class ArchitectureTest {

	private static final String ROOT = "org.nssifhir.server";

	/** Pairs of top-level packages (alphabetical, {@code a<->b}) that still import each other, and why. */
	static final Map<String, String> ALLOWED_PAIRS = Map.of();

	static JavaClasses mainClasses() {
		return new ClassFileImporter()
				.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
				.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
				.importPackages(ROOT);
	}

	/** {@code security} for {@code org.nssifhir.server.security.policy.AccessPolicy}; empty for the root package. */
	static Optional<String> topLevel(JavaClass type) {
		String name = type.getPackageName();
		if (!name.startsWith(ROOT + ".")) {
			return Optional.empty();
		}
		String rest = name.substring(ROOT.length() + 1);
		int dot = rest.indexOf('.');
		String top = dot < 0 ? rest : rest.substring(0, dot);
		return "bench".equals(top) ? Optional.empty() : Optional.of(top);
	}

	/** For each pair importing each other, one example class each way. */
	static Map<String, String> mutualPairs(JavaClasses classes) {
		Map<String, Map<String, String>> uses = new TreeMap<>();
		for (JavaClass type : classes) {
			Optional<String> from = topLevel(type);
			if (from.isEmpty()) {
				continue;
			}
			for (Dependency dependency : type.getDirectDependenciesFromSelf()) {
				Optional<String> to = topLevel(dependency.getTargetClass());
				if (to.isPresent() && !to.get().equals(from.get())) {
					uses.computeIfAbsent(from.get(), k -> new TreeMap<>())
							.putIfAbsent(to.get(), type.getSimpleName() + " -> " + dependency.getTargetClass().getSimpleName());
				}
			}
		}
		Map<String, String> pairs = new TreeMap<>();
		uses.forEach((a, targets) -> targets.forEach((b, example) -> {
			if (a.compareTo(b) < 0 && uses.getOrDefault(b, Map.of()).containsKey(a)) {
				pairs.put(a + "<->" + b, example + "; " + uses.get(b).get(a));
			}
		}));
		return pairs;
	}

	@Test
	void noNewPairOfPackagesDependsOnEachOther() {
		JavaClasses classes = mainClasses();
		assertThat(classes.stream().map(ArchitectureTest::topLevel).flatMap(Optional::stream))
				.as("the import finds our packages").contains("security", "config", "assessment");
		Map<String, String> pairs = mutualPairs(classes);

		Set<String> unexpected = new TreeSet<>(pairs.keySet());
		unexpected.removeAll(ALLOWED_PAIRS.keySet());
		assertThat(unexpected)
				.as("packages that now import each other (break the cycle, e.g. with an interface the lower package owns): %s", pairs)
				.isEmpty();

		Set<String> gone = new TreeSet<>(ALLOWED_PAIRS.keySet());
		gone.removeAll(pairs.keySet());
		assertThat(gone).as("pairs that no longer import each other: take them off ALLOWED_PAIRS").isEmpty();
	}

	/**
	 * Issuing tokens ({@code security.issuing}, the built-in authorization server) and checking them (the rest of
	 * {@code security}) live apart: the checking side works the same with an external issuer, so nothing in it may
	 * import the authorization server.
	 */
	@Test
	void checkingTokensDoesNotDependOnIssuingThem() {
		String issuing = ROOT + ".security.issuing";
		Set<String> uses = new TreeSet<>();
		for (JavaClass type : mainClasses()) {
			String name = type.getPackageName();
			if (!name.startsWith(ROOT + ".security") || name.startsWith(issuing)) {
				continue;
			}
			for (Dependency dependency : type.getDirectDependenciesFromSelf()) {
				if (dependency.getTargetClass().getPackageName().startsWith(issuing)) {
					uses.add(type.getSimpleName() + " -> " + dependency.getTargetClass().getSimpleName());
				}
			}
		}
		assertThat(uses).as("security classes outside security.issuing that use it").isEmpty();
	}

	/**
	 * What the classes of {@code security} itself (not its subpackages) may import of ours besides {@code security}:
	 * the ground floor ({@code settings}, {@code support}) and two cross-cutting packages that own an interface or
	 * helper security uses ({@code fhir.OfferedOperations}, which security implements; {@code web.RequestLoggingFilter}'s
	 * path redaction for the audit of refused tokens).
	 */
	static final Set<String> SECURITY_MAY_USE = Set.of("settings", "support", "fhir", "web");

	/**
	 * Security knows no feature: features plug in through the extension points it offers ({@code FeatureOperations}
	 * for FHIR operations, {@code WebSecurityContribution} for public paths and paths with their own credentials), so
	 * {@code SecurityConfig} and its neighbours import none of them.
	 */
	@Test
	void securityImportsNoFeature() {
		String security = ROOT + ".security";
		Set<String> uses = new TreeSet<>();
		for (JavaClass type : mainClasses()) {
			if (!type.getPackageName().equals(security)) {
				continue;
			}
			for (Dependency dependency : type.getDirectDependenciesFromSelf()) {
				topLevel(dependency.getTargetClass())
						.filter(to -> !to.equals("security") && !SECURITY_MAY_USE.contains(to))
						.ifPresent(to -> uses.add(type.getSimpleName() + " -> " + to + "." + dependency.getTargetClass().getSimpleName()));
			}
		}
		assertThat(uses).as("classes of the security package that use a feature package (offer an extension point instead)").isEmpty();
	}
}
