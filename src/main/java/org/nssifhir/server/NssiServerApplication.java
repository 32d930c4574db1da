package org.nssifhir.server;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchClientAutoConfiguration;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration;
import org.springframework.boot.autoconfigure.security.servlet.UserDetailsServiceAutoConfiguration;
import org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * Entry point. The HAPI FHIR JPA server is wired in {@code config}; the data source (external PostgreSQL or the
 * embedded default) in {@code db}. Spring's own DataSource/JPA/Flyway auto-configuration is switched off because
 * HAPI needs its own entity manager factory and schema migrator, and we pick the database ourselves.
 */
@SpringBootApplication(
		exclude = {
			DataSourceAutoConfiguration.class,
			// HAPI ships Flyway for its own migrator (DatabaseConfig); Boot must not run it on its own
			FlywayAutoConfiguration.class,
			// the Elasticsearch client comes with HAPI's optional full-text search, which we do not use
			ElasticsearchClientAutoConfiguration.class,
			ElasticsearchRestClientAutoConfiguration.class,
			HibernateJpaAutoConfiguration.class,
			ThymeleafAutoConfiguration.class,
			// no username/password users: access is by SMART bearer tokens only
			UserDetailsServiceAutoConfiguration.class
		})
@ConfigurationPropertiesScan
public class NssiServerApplication {

	public static void main(String[] args) {
		SpringApplication.run(NssiServerApplication.class, args);
	}
}
