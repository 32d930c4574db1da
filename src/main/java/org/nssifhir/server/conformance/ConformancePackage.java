package org.nssifhir.server.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The project's FHIR NPM package as built by Maven ({@code conformance/nssi-ig.tgz} on the classpath): its bytes,
 * name, version and files. Read once; the same bytes are installed into the server and offered for download.
 */
public final class ConformancePackage {

	public static final String CLASSPATH_LOCATION = "/conformance/nssi-ig.tgz";

	private final byte[] bytes;
	private final String name;
	private final String version;
	private final Map<String, String> files;

	private ConformancePackage(byte[] bytes) {
		this.bytes = bytes;
		this.files = untar(bytes);
		try {
			JsonNode manifest = new ObjectMapper().readTree(files.get("package/package.json"));
			this.name = manifest.path("name").asText();
			this.version = manifest.path("version").asText();
		} catch (IOException e) {
			throw new UncheckedIOException("package.json in the conformance package is not valid JSON", e);
		}
	}

	public static ConformancePackage fromClasspath() {
		try (InputStream in = ConformancePackage.class.getResourceAsStream(CLASSPATH_LOCATION)) {
			if (in == null) {
				throw new IllegalStateException("No " + CLASSPATH_LOCATION + " on the classpath: build with Maven, which packs profiles/ and terminology/");
			}
			return new ConformancePackage(in.readAllBytes());
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	public static ConformancePackage fromBytes(byte[] bytes) {
		return new ConformancePackage(bytes);
	}

	private static Map<String, String> untar(byte[] tgz) {
		Map<String, String> out = new LinkedHashMap<>();
		try (TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(new ByteArrayInputStream(tgz)))) {
			TarArchiveEntry entry;
			while ((entry = tar.getNextEntry()) != null) {
				if (entry.isFile()) {
					out.put(entry.getName(), new String(tar.readAllBytes(), StandardCharsets.UTF_8));
				}
			}
		} catch (IOException e) {
			throw new UncheckedIOException("The conformance package is not a valid .tgz", e);
		}
		return out;
	}

	public byte[] bytes() {
		return bytes.clone();
	}

	public String name() {
		return name;
	}

	public String version() {
		return version;
	}

	/** File name a downloader should save it as, e.g. {@code org.nssi-fhir.ig-0.1.0.tgz}. */
	public String fileName() {
		return name + "-" + version + ".tgz";
	}

	/** Every file of the package (manifest, indexes, resources, examples), by path inside the package. */
	public Map<String, String> files() {
		return Collections.unmodifiableMap(files);
	}

	/** Conformance resources (not examples), by path inside the package. */
	public Map<String, String> conformanceFiles() {
		Map<String, String> out = new LinkedHashMap<>();
		files.forEach((path, json) -> {
			if (path.startsWith("package/") && !path.startsWith("package/example/") && path.endsWith(".json")
					&& !path.endsWith("package.json") && !path.endsWith(".index.json")) {
				out.put(path, json);
			}
		});
		return out;
	}

	/** Example resources, by path inside the package. */
	public Map<String, String> exampleFiles() {
		Map<String, String> out = new LinkedHashMap<>();
		files.forEach((path, json) -> {
			if (path.startsWith("package/example/") && path.endsWith(".json") && !path.endsWith(".index.json")) {
				out.put(path, json);
			}
		});
		return out;
	}
}
