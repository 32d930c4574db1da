package org.nssifhir.server.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Whether the terminology search index (Lucene) existed before this start. Captured before Hibernate Search
 * creates an empty one: when it did not exist but the database already holds CodeSystems (a new node, or a
 * deleted index), the index must be rebuilt from the database, or ValueSet expansion and code validation would
 * silently find no codes.
 */
public record SearchIndexState(Path directory, boolean existedAtStartup) {

	public static SearchIndexState inspect(String directory) {
		Path dir = Path.of(directory).toAbsolutePath().normalize();
		if (!Files.isDirectory(dir)) {
			return new SearchIndexState(dir, false);
		}
		try (Stream<Path> entries = Files.list(dir)) {
			return new SearchIndexState(dir, entries.findAny().isPresent());
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}
}
