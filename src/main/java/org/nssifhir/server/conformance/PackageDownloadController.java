package org.nssifhir.server.conformance;

import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * Serves our FHIR package as a plain download, so another server or validator can load exactly what this
 * server enforces: {@code /ig/package.tgz} (current) and {@code /ig/<name>-<version>.tgz}.
 */
@RestController
class PackageDownloadController {

	private final ConformancePackage pkg;

	PackageDownloadController(ConformancePackage pkg) {
		this.pkg = pkg;
	}

	@GetMapping("/ig/package.tgz")
	ResponseEntity<byte[]> current() {
		return download();
	}

	@GetMapping("/ig/{file:.+\\.tgz}")
	ResponseEntity<byte[]> versioned(@PathVariable("file") String file) {
		return file.equals(pkg.fileName()) ? download() : ResponseEntity.notFound().build();
	}

	private ResponseEntity<byte[]> download() {
		return ResponseEntity.ok()
				.contentType(MediaType.parseMediaType("application/gzip"))
				.header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"" + pkg.fileName() + "\"")
				.cacheControl(CacheControl.noCache())
				.body(pkg.bytes());
	}
}
