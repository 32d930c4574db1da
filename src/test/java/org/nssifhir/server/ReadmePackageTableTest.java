package org.nssifhir.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.Readme;

/**
 * The README's "Java packages" table (under "Where things live") has one row per Java package under
 * {@code src/main/java}: a new package must be described there, a removed or renamed one taken out.
 */
class ReadmePackageTableTest {

	private static final Path MAIN = Path.of("src/main/java");
	private static final Pattern ROW = Pattern.compile("^\\| `([a-z][a-z0-9_]*(?:\\.[a-z][a-z0-9_]*)*)` \\| (.*) \\|$");

	@Test
	void everyPackageHasOneRowAndEveryRowAPackage() throws IOException {
		Set<String> packages;
		try (Stream<Path> files = Files.walk(MAIN)) {
			packages = files.filter(f -> f.toString().endsWith(".java"))
					.map(f -> MAIN.relativize(f.getParent()).toString().replace(MAIN.getFileSystem().getSeparator(), "."))
					.collect(Collectors.toCollection(TreeSet::new));
		}
		assertThat(packages).as("the scan finds our packages").contains("org.nssifhir.server", "org.nssifhir.server.security.consent");

		Set<String> rows = new TreeSet<>();
		for (String line : Readme.section("Where things live")) {
			Matcher m = ROW.matcher(line);
			if (m.matches()) {
				assertThat(rows.add(m.group(1))).as("one row for %s", m.group(1)).isTrue();
				assertThat(m.group(2).strip()).as("what %s is for", m.group(1)).isNotEmpty();
			}
		}
		Set<String> missing = new TreeSet<>(packages);
		missing.removeAll(rows);
		Set<String> gone = new TreeSet<>(rows);
		gone.removeAll(packages);
		SoftAssertions.assertSoftly(soft -> {
			soft.assertThat(missing).as("packages without a row in README.md 'Where things live' (add | `package` | purpose |)").isEmpty();
			soft.assertThat(gone).as("rows in README.md 'Where things live' naming no package under src/main/java").isEmpty();
		});
	}
}
