package org.nssifhir.server.settings;

import java.net.URI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The server's own public address, pinned: the token issuer, the FHIR base URL (the only accepted token audience
 * unless {@code nssi.security.audiences} says otherwise) and every absolute URL the server writes. Never taken
 * from a request's {@code Host} or forwarded headers, so a client cannot make the server issue or accept tokens
 * for another name.
 *
 * <p>In order: {@code nssi.security.issuer} (and {@code nssi.fhir.server-address} for the FHIR base), else
 * {@code nssi.fhir.server-address} without its {@code /fhir}, else the fixed default {@code http://127.0.0.1:PORT}
 * (the port the server listens on; 127.0.0.1 rather than localhost, as RFC 8252 recommends for loopback).
 */
@Component
public class ServerAddress implements ApplicationListener<WebServerInitializedEvent> {

	private static final Logger log = LoggerFactory.getLogger(ServerAddress.class);

	private final String configuredIssuer;
	private final String configuredFhirBase;
	private final Environment environment;
	private volatile int port;

	public ServerAddress(NssiProperties properties, Environment environment) {
		this.configuredIssuer = stripSlash(properties.security().issuer());
		this.configuredFhirBase = stripSlash(properties.fhir().serverAddress());
		this.environment = environment;
		for (String url : new String[] {configuredIssuer, configuredFhirBase}) {
			if (url != null) {
				URI uri = URI.create(url);
				if (uri.getScheme() == null || uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
					throw new IllegalStateException("nssi.security.issuer and nssi.fhir.server-address must be absolute http(s) URLs: " + url);
				}
			}
		}
	}

	@Override
	public void onApplicationEvent(WebServerInitializedEvent event) {
		// the management server (if on a port of its own) has a namespace; the application's does not
		if (event.getApplicationContext().getServerNamespace() == null) {
			port = event.getWebServer().getPort();
			if (configuredIssuer == null && configuredFhirBase == null) {
				log.warn("Neither nssi.security.issuer nor nssi.fhir.server-address is set: tokens are issued for and accepted only at {}", issuer());
			}
		}
	}

	/** The authorization server's issuer (no trailing slash). */
	public String issuer() {
		if (configuredIssuer != null) {
			return configuredIssuer;
		}
		if (configuredFhirBase != null) {
			return configuredFhirBase.endsWith("/fhir") ? configuredFhirBase.substring(0, configuredFhirBase.length() - "/fhir".length()) : origin(configuredFhirBase);
		}
		return "http://127.0.0.1:" + port();
	}

	/** The FHIR base URL (no trailing slash): the audience of the tokens this server issues. */
	public String fhirBase() {
		return configuredFhirBase != null ? configuredFhirBase : issuer() + "/fhir";
	}

	/** The server's origin ({@code scheme://host[:port]}), for pages and apps it serves itself. */
	public String origin() {
		return origin(issuer());
	}

	private int port() {
		int known = port;
		return known != 0 ? known : environment.getProperty("server.port", Integer.class, 8080);
	}

	private static String origin(String url) {
		URI uri = URI.create(url);
		return uri.getScheme() + "://" + uri.getRawAuthority();
	}

	static String stripSlash(String url) {
		if (url == null || url.isBlank()) {
			return null;
		}
		String trimmed = url.trim();
		return trimmed.endsWith("/") ? trimmed.substring(0, trimmed.length() - 1) : trimmed;
	}
}
