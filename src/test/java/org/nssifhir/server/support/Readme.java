package org.nssifhir.server.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The project README (read from the working directory, the project root under Maven), for tests that keep it true. */
public final class Readme {

	public static final Path PATH = Path.of("README.md");

	private Readme() {}

	public static String text() {
		try {
			return Files.readString(PATH);
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	/**
	 * The lines of the {@code ## heading} section, up to the next {@code ## } heading (lines of fenced code blocks
	 * are never taken for headings). Fails when the README has no such section.
	 */
	public static List<String> section(String heading) {
		List<String> lines = text().lines().toList();
		List<String> out = new ArrayList<>();
		boolean inside = false;
		boolean fenced = false;
		for (String line : lines) {
			if (line.startsWith("```")) {
				fenced = !fenced;
			}
			if (!fenced && line.startsWith("## ")) {
				if (inside) {
					break;
				}
				inside = line.equals("## " + heading);
				continue;
			}
			if (inside) {
				out.add(line);
			}
		}
		if (!inside && out.isEmpty()) {
			throw new AssertionError("README.md has no section '## " + heading + "'");
		}
		return out;
	}
}
