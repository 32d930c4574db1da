package org.nssifhir.server.support;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A real HTTP server publishing the public halves of some keys as a JWKS, as an identity provider or EHR would. */
public final class JwksServer implements AutoCloseable {

	private final HttpServer server;

	private JwksServer(HttpServer server) {
		this.server = server;
	}

	public static JwksServer start(List<? extends JWK> keys) {
		byte[] body = new JWKSet(keys.stream().map(JWK::toPublicJWK).toList()).toString().getBytes(StandardCharsets.UTF_8);
		try {
			HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
			server.createContext("/jwks.json", exchange -> {
				exchange.getResponseHeaders().add("Content-Type", "application/json");
				exchange.sendResponseHeaders(200, body.length);
				exchange.getResponseBody().write(body);
				exchange.close();
			});
			server.start();
			return new JwksServer(server);
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	public String url() {
		return "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json";
	}

	@Override
	public void close() {
		server.stop(0);
	}
}
