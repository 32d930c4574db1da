package org.nssifhir.server.support;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.stereotype.Component;

/**
 * Installs {@link QueryValueRedactingFilter} in the logging system once Spring Boot has configured it (Boot resets
 * logback while the environment is prepared, before any bean exists; requests come long after this bean). Installed
 * once per logging context, however many application contexts share it.
 */
@Component
public class LogRedactionInstaller implements InitializingBean {

	@Override
	public void afterPropertiesSet() {
		if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
			return;
		}
		synchronized (context) {
			if (context.getTurboFilterList().stream().noneMatch(QueryValueRedactingFilter.class::isInstance)) {
				QueryValueRedactingFilter filter = new QueryValueRedactingFilter();
				filter.setName("query-value-redaction");
				filter.setContext(context);
				filter.start();
				context.addTurboFilter(filter);
			}
		}
	}
}
