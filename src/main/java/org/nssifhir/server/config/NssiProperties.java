package org.nssifhir.server.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * All of the server's own settings ({@code nssi.*} in application.yaml). Validated at startup so a bad value
 * stops the server with a clear message instead of misbehaving later.
 */
@Validated
@ConfigurationProperties("nssi")
public record NssiProperties(
		@Valid @NotNull @DefaultValue Db db,
		@Valid @NotNull @DefaultValue Fhir fhir,
		@Valid @NotNull @DefaultValue Limits limits,
		@Valid @NotNull @DefaultValue Cors cors,
		/* Lucene index of terminology concepts (HAPI uses it for $expand filters and $subsumes). */
		@NotBlank @DefaultValue("./data/lucene") String searchIndexDir) {

	/**
	 * Database. When {@code url} is blank the server starts an embedded PostgreSQL whose data lives in
	 * {@code embeddedDataDir}, so the server runs with no setup and keeps its data between restarts.
	 */
	public record Db(
			String url,
			String username,
			String password,
			@NotBlank @DefaultValue("./data/postgres") String embeddedDataDir,
			@Min(0) @Max(65535) @DefaultValue("0") int embeddedPort,
			@Min(1) @Max(500) @DefaultValue("20") int maxPoolSize) {

		public boolean embedded() {
			return url == null || url.isBlank();
		}
	}

	/** FHIR endpoint behaviour. */
	public record Fhir(
			/* Public base URL (e.g. https://fhir.example.org/fhir); blank = derived from each request. */
			String serverAddress,
			@Min(1) @DefaultValue("20") int defaultPageSize,
			@Min(1) @DefaultValue("200") int maxPageSize) {}

	/** Request limits; exceeding any of them is a 4xx with an OperationOutcome, never a silent truncation. */
	public record Limits(
			@NotNull @DefaultValue("5MB") DataSize maxRequestBody,
			@Min(1) @DefaultValue("500") int maxBundleEntries,
			@Min(0) @DefaultValue("10") int maxIncludeParameters,
			@Min(1) @DefaultValue("1000") int maxIncludedResourcesPerPage) {}

	/** CORS is off unless at least one origin is configured. */
	public record Cors(@DefaultValue List<String> allowedOrigins) {

		public boolean enabled() {
			return allowedOrigins != null && !allowedOrigins.isEmpty();
		}
	}
}
