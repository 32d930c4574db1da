package org.nssifhir.server.audit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The audit outbox's own small connection pool ({@code nssi.audit.pool-size}): the same database and credentials as
 * the main pool, fewer connections. Records written outside a write's transaction go through it: a synchronous
 * search holds a connection of the main pool in its read-only transaction while its record is written, and if that
 * record needed a second connection from the same pool, more such searches at once than the pool holds would all
 * wait for each other until the pool's timeout. So no request waits on the main pool for its audit record, and
 * nothing holding an audit connection waits for any other connection. Operators' questions about the backlog use it
 * too, so they answer while the main pool is busy.
 */
@Component
public class AuditOutboxPool implements DisposableBean {

	private final HikariDataSource connections;
	private final JdbcTemplate jdbc;

	public AuditOutboxPool(HikariDataSource dataSource, NssiProperties properties) {
		HikariConfig own = new HikariConfig();
		dataSource.copyStateTo(own);
		own.setPoolName("nssi-db-audit");
		own.setMaximumPoolSize(properties.audit().poolSize());
		own.setMinimumIdle(1);
		this.connections = new HikariDataSource(own);
		this.jdbc = new JdbcTemplate(connections);
		jdbc.setQueryTimeout(2);
	}

	/** A connection of this pool (the caller closes it). */
	Connection connection() throws SQLException {
		return connections.getConnection();
	}

	/** Short queries on this pool (2 s timeout). */
	JdbcTemplate jdbc() {
		return jdbc;
	}

	@Override
	public void destroy() {
		connections.close();
	}
}
