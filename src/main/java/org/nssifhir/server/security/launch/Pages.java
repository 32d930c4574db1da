package org.nssifhir.server.security.launch;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.util.HtmlUtils;

/**
 * The HTML of the sign-in flow's pages (login, consent, launcher, patient picker): every value escaped with
 * {@link #esc}, the stylesheet {@link #STYLESHEET} served by this server (no other origin, no inline style or
 * script: the Content-Security-Policy of these paths allows neither), never cached.
 */
public final class Pages {

	public static final String STYLESHEET = "/css/nssi-pages.css";

	private Pages() {}

	public static ResponseEntity<String> page(String title, String body) {
		return page(HttpStatus.OK, title, body);
	}

	public static ResponseEntity<String> page(HttpStatus status, String title, String body) {
		return page(status, "NSSI FHIR Server", title, body);
	}

	/** A page under another name than the server's (a page for the people in care says their app's name). */
	public static ResponseEntity<String> page(HttpStatus status, String site, String title, String body) {
		String html = "<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
				+ "<title>" + esc(title) + " - " + esc(site) + "</title>"
				+ "<link rel='stylesheet' href='" + STYLESHEET + "'>"
				+ "</head><body><header class='site'><p>" + esc(site) + "</p></header><main>" + body + "</main></body></html>";
		return ResponseEntity.status(status).header("Cache-Control", "no-store").contentType(MediaType.TEXT_HTML).body(html);
	}

	public static String csrf(HttpServletRequest http) {
		CsrfToken token = (CsrfToken) http.getAttribute(CsrfToken.class.getName());
		return token == null ? "" : hidden(token.getParameterName(), token.getToken());
	}

	public static String hidden(String name, String value) {
		return "<input type='hidden' name='" + esc(name) + "' value='" + esc(value) + "'>";
	}

	/** HTML-escapes text for element content and single- or double-quoted attributes. */
	public static String esc(String value) {
		return value == null ? "" : HtmlUtils.htmlEscape(value, "UTF-8");
	}
}
