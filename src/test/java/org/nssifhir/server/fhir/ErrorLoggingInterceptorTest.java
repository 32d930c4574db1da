package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.IdType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.InMemoryFhirServer;
import org.slf4j.LoggerFactory;

/** {@link ErrorLoggingInterceptor} on an in-memory FHIR server: 5xx logged by type and code, never by message. */
class ErrorLoggingInterceptorTest {

	/** Condition/fail is a server fault whose message quotes an id; Condition/missing a client's miss. */
	public static class Failing implements IResourceProvider {
		@Override
		public Class<Condition> getResourceType() {
			return Condition.class;
		}

		@Read
		public Condition read(@IdParam IdType id) {
			if (id.getIdPart().equals("missing")) {
				throw new ResourceNotFoundException("HAPI-2001: Resource Condition/missing-secret-id is not known");
			}
			throw new InternalErrorException("HAPI-1234: failed while reading Condition/secret-id-42", new IllegalStateException("secret-cause"));
		}
	}

	private final InMemoryFhirServer server =
			new InMemoryFhirServer(new ErrorLoggingInterceptor(), new InMemoryFhirServer.Provider(new Failing()));
	private final Logger logger = (Logger) LoggerFactory.getLogger(ErrorLoggingInterceptor.class);
	private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

	@BeforeEach
	void capture() {
		logs.start();
		logger.addAppender(logs);
	}

	@AfterEach
	void release() {
		logger.detachAppender(logs);
	}

	@Test
	void testServerError_LoggedWithCodeAndRootCauseButNoMessage() {
		assertThat(server.get("/Condition/fail").status()).isEqualTo(500);
		assertThat(logs.list).hasSize(1);
		String line = logs.list.get(0).getFormattedMessage();
		assertThat(line).contains("InternalErrorException", "HAPI-1234", IllegalStateException.class.getName())
				.doesNotContain("secret-id-42", "secret-cause");
	}

	@Test
	void testClientError_NotLogged() {
		assertThat(server.get("/Condition/missing").status()).isEqualTo(404);
		assertThat(logs.list).isEmpty();
	}
}
