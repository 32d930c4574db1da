package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.springframework.beans.factory.annotation.Autowired;

/** A new package version upgrades the installed content in place; the original is restored afterwards. */
class PackageUpgradeIT extends BaseIT {

	@Autowired
	ConformancePackage pkg;

	@Autowired
	ConformancePackageInstaller installer;

	@Test
	void aNewVersionReplacesTheInstalledOneInPlace() throws Exception {
		IGenericClient client = client();
		String upgraded = pkg.version() + "-upgrade-test";
		ConformancePackage next = ConformancePackage.fromBytes(rewrite(pkg, upgraded));
		StructureDefinition before = client.read().resource(StructureDefinition.class).withId("nssi-episode").execute();
		try {
			ConformancePackageInstaller.Result result = installer.install(next);
			assertThat(result.installed()).isTrue();

			StructureDefinition after = client.read().resource(StructureDefinition.class).withId("nssi-episode").execute();
			assertThat(after.getVersion()).isEqualTo(upgraded);
			assertThat(after.getDescription()).endsWith("(upgrade test)");
			assertThat(Integer.parseInt(after.getMeta().getVersionId())).isGreaterThan(Integer.parseInt(before.getMeta().getVersionId()));
			Bundle sameUrl = client.search()
					.byUrl("StructureDefinition?url=" + NssiCanonicals.profile("nssi-episode"))
					.returnBundle(Bundle.class)
					.execute();
			assertThat(sameUrl.getEntry()).as("upgraded in place, not added beside").hasSize(1);
			assertThat(installer.install(next).installed()).as("and is then current").isFalse();
		} finally {
			assertThat(installer.install(pkg).installed()).isTrue();
		}
		StructureDefinition restored = client.read().resource(StructureDefinition.class).withId("nssi-episode").execute();
		assertThat(restored.getVersion()).isEqualTo(pkg.version());
	}

	/** The same package with another version number everywhere and a changed episode profile description. */
	private static byte[] rewrite(ConformancePackage pkg, String version) throws IOException {
		Map<String, String> files = new LinkedHashMap<>();
		files.put("package/package.json", "{\"name\":\"" + pkg.name() + "\",\"version\":\"" + version + "\",\"fhirVersions\":[\"4.0.1\"],\"type\":\"fhir.ig\"}");
		pkg.conformanceFiles().forEach((path, json) -> {
			String changed = json.replace("\"version\": \"" + pkg.version() + "\"", "\"version\": \"" + version + "\"");
			if (path.endsWith("StructureDefinition-nssi-episode.json")) {
				changed = changed.replaceFirst("(\"description\": \"[^\"]*)\"", "$1 (upgrade test)\"");
			}
			files.put(path, changed);
		});
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(out))) {
			tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
			for (Map.Entry<String, String> file : files.entrySet()) {
				byte[] bytes = file.getValue().getBytes(StandardCharsets.UTF_8);
				TarArchiveEntry entry = new TarArchiveEntry(file.getKey());
				entry.setSize(bytes.length);
				tar.putArchiveEntry(entry);
				tar.write(bytes);
				tar.closeArchiveEntry();
			}
		}
		return out.toByteArray();
	}
}
