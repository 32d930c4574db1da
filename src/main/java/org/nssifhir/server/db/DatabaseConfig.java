package org.nssifhir.server.db;

import ca.uhn.fhir.jpa.migrate.DriverTypeEnum;
import ca.uhn.fhir.jpa.migrate.HapiMigrator;
import ca.uhn.fhir.jpa.migrate.MigrationResult;
import ca.uhn.fhir.jpa.migrate.SchemaMigrator;
import ca.uhn.fhir.jpa.migrate.tasks.HapiFhirJpaMigrationTasks;
import ca.uhn.fhir.util.VersionEnum;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import javax.sql.DataSource;
import org.nssifhir.server.settings.NssiProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The database: an external PostgreSQL when {@code nssi.db.url} is set, otherwise an embedded real PostgreSQL
 * (zonky) with its data under {@code nssi.db.embedded-data-dir}. Either way the schema is created and upgraded by
 * HAPI's own migration tasks (the same ones its CLI runs), never by Hibernate's {@code ddl-auto}.
 */
@Configuration(proxyBeanMethods = false)
public class DatabaseConfig {

	private static final Logger log = LoggerFactory.getLogger(DatabaseConfig.class);

	/** Holder so that the embedded server is stopped after the pool that uses it is closed. */
	public record EmbeddedDatabase(EmbeddedPostgres postgres) implements AutoCloseable {
		@Override
		public void close() throws IOException {
			if (postgres != null) {
				postgres.close();
			}
		}
	}

	@Bean(destroyMethod = "close")
	public EmbeddedDatabase embeddedDatabase(NssiProperties properties) {
		NssiProperties.Db db = properties.db();
		if (!db.embedded()) {
			return new EmbeddedDatabase(null);
		}
		Path dataDir = Path.of(db.embeddedDataDir()).toAbsolutePath().normalize();
		try {
			Files.createDirectories(dataDir);
			log.info("Starting embedded PostgreSQL, data directory {}", dataDir);
			EmbeddedPostgres postgres = EmbeddedPostgres.builder()
					.setDataDirectory(dataDir)
					// keep data between restarts: this is the point of the embedded default
					.setCleanDataDirectory(false)
					.setPort(db.embeddedPort())
					.setServerConfig("max_connections", "100")
					.start();
			return new EmbeddedDatabase(postgres);
		} catch (IOException e) {
			throw new UncheckedIOException("Could not start the embedded PostgreSQL in " + dataDir, e);
		}
	}

	@Bean(destroyMethod = "close")
	public HikariDataSource dataSource(NssiProperties properties, EmbeddedDatabase embedded) {
		NssiProperties.Db db = properties.db();
		HikariConfig config = new HikariConfig();
		config.setPoolName("nssi-db");
		config.setDriverClassName("org.postgresql.Driver");
		if (embedded.postgres() != null) {
			config.setJdbcUrl(embedded.postgres().getJdbcUrl("postgres", "postgres"));
			config.setUsername("postgres");
		} else {
			config.setJdbcUrl(db.url());
			config.setUsername(db.username());
			config.setPassword(db.password());
		}
		config.setMaximumPoolSize(db.maxPoolSize());
		config.setMinimumIdle(Math.min(2, db.maxPoolSize()));
		config.setConnectionTimeout(10_000);
		config.setValidationTimeout(3_000);
		// a database that is down should not block startup forever: fail and let the orchestrator restart us
		config.setInitializationFailTimeout(30_000);
		HikariDataSource dataSource = new HikariDataSource(config);
		migrate(dataSource);
		return dataSource;
	}

	/** Creates HAPI's schema and ours ({@link NssiSchema}) on an empty database and applies pending migrations. */
	static void migrate(DataSource dataSource) {
		long start = System.nanoTime();
		HapiMigrator migrator =
				new HapiMigrator(SchemaMigrator.HAPI_FHIR_MIGRATION_TABLENAME, dataSource, DriverTypeEnum.POSTGRES_9_4);
		migrator.addTasks(new HapiFhirJpaMigrationTasks(Set.of()).getAllTasks(VersionEnum.values()));
		migrator.createMigrationTableIfRequired();
		MigrationResult result = migrator.migrate();
		HapiMigrator own = new HapiMigrator(NssiSchema.MIGRATION_TABLE, dataSource, DriverTypeEnum.POSTGRES_9_4);
		own.addTasks(NssiSchema.tasks());
		own.createMigrationTableIfRequired();
		MigrationResult ownResult = own.migrate();
		log.info(
				"Database schema is current ({} migration tasks applied, {} ms)",
				result.succeededTasks.size() + ownResult.succeededTasks.size(),
				(System.nanoTime() - start) / 1_000_000);
	}
}
