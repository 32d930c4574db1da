package org.nssifhir.server.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * One log line per request: method, path with every id replaced by a placeholder, status and duration.
 * Query strings, bodies and ids never reach the log: on this server they can identify a patient or reveal
 * what was searched for (e.g. a method of self-harm).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class RequestLoggingFilter extends OncePerRequestFilter {

	private static final Logger log = LoggerFactory.getLogger("org.nssifhir.server.access");

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		long start = System.nanoTime();
		try {
			chain.doFilter(request, response);
		} finally {
			long millis = (System.nanoTime() - start) / 1_000_000;
			log.info("{} {} {} {}ms", request.getMethod(), redactPath(request.getRequestURI()), response.getStatus(), millis);
		}
	}

	/**
	 * Keeps the shape of a path and drops its data: resource types, operations ({@code $everything}) and
	 * keywords ({@code _history}, {@code _search}) stay; every other segment below {@code /fhir} becomes
	 * {@code {id}}. Paths outside {@code /fhir} are ours (actuator, static files) and carry no data.
	 */
	public static String redactPath(String uri) {
		if (uri == null || !uri.startsWith("/fhir")) {
			return uri;
		}
		String[] segments = uri.split("/", -1);
		StringBuilder out = new StringBuilder("/fhir");
		for (int i = 2; i < segments.length; i++) {
			String segment = segments[i];
			out.append('/');
			boolean keep = segment.isEmpty()
					|| segment.startsWith("$")
					|| segment.startsWith("_")
					|| segment.equals("metadata")
					|| segment.equals(".well-known")
					|| segment.equals("smart-configuration")
					|| (i == 2 && isResourceTypeName(segment));
			out.append(keep ? segment : "{id}");
		}
		return out.toString();
	}

	private static boolean isResourceTypeName(String segment) {
		return Character.isUpperCase(segment.charAt(0)) && segment.chars().allMatch(Character::isLetter);
	}
}
