package org.nssifhir.server.support;

import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A browser for SMART launch tests: keeps cookies, follows redirects that stay on the server, signs in on the
 * login page when sent there, and stops at the first redirect that leaves the server (the app's redirect or
 * launch URL). Everything goes over real HTTP.
 */
public final class SmartBrowser {

	private static final Pattern CSRF = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"|name='_csrf' value='([^']+)'");

	private final HttpClient http = HttpClient.newBuilder()
			.cookieHandler(new CookieManager())
			.followRedirects(HttpClient.Redirect.NEVER)
			.build();
	private final String base;
	private final String username;
	private final String password;
	private int logins;
	private String loginPage;

	public SmartBrowser(String base, String username, String password) {
		this.base = base;
		this.username = username;
		this.password = password;
	}

	public int logins() {
		return logins;
	}

	/** The last sign-in page this browser was shown (before it signed in), or null. */
	public String loginPage() {
		return loginPage;
	}

	/** GET a server path (or absolute URL), following same-server redirects; returns the last response. */
	public HttpResponse<String> get(String pathOrUrl) throws IOException, InterruptedException {
		return follow(send(HttpRequest.newBuilder(uri(pathOrUrl)).GET().build()));
	}

	/**
	 * A request with a bearer token and this browser's cookies (as an app's fetch in the browser sends them), not
	 * following redirects.
	 */
	public HttpResponse<String> getWithToken(String url, String token) throws IOException, InterruptedException {
		return send(HttpRequest.newBuilder(uri(url)).header("Authorization", "Bearer " + token).GET().build());
	}

	/** POST a form with the CSRF token of {@code pageWithForm}, following same-server redirects. */
	public HttpResponse<String> post(String path, String pageWithForm, Map<String, String> form) throws IOException, InterruptedException {
		Map<String, String> fields = new LinkedHashMap<>(form);
		fields.put("_csrf", csrf(pageWithForm));
		return follow(send(HttpRequest.newBuilder(uri(path))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString(encode(fields)))
				.build()));
	}

	private HttpResponse<String> follow(HttpResponse<String> response) throws IOException, InterruptedException {
		for (int hops = 0; hops < 10; hops++) {
			if (response.statusCode() != 302 && response.statusCode() != 303) {
				return response;
			}
			URI next = response.uri().resolve(response.headers().firstValue("Location").orElseThrow());
			if (!next.toString().startsWith(base)) {
				return response; // leaves the server: the app's URL
			}
			if (next.getPath().equals("/login") && next.getQuery() == null) {
				HttpResponse<String> page = send(HttpRequest.newBuilder(next).GET().build());
				loginPage = page.body();
				logins++;
				response = send(HttpRequest.newBuilder(uri("/login"))
						.header("Content-Type", "application/x-www-form-urlencoded")
						.POST(HttpRequest.BodyPublishers.ofString(encode(Map.of("username", username, "password", password, "_csrf", csrf(page.body())))))
						.build());
				continue;
			}
			response = send(HttpRequest.newBuilder(next).GET().build());
		}
		throw new IllegalStateException("Too many redirects");
	}

	private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
		return http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	private URI uri(String pathOrUrl) {
		return URI.create(pathOrUrl.startsWith("http") ? pathOrUrl : base + pathOrUrl);
	}

	public static String csrf(String html) {
		Matcher m = CSRF.matcher(html);
		if (!m.find()) {
			throw new IllegalStateException("No CSRF token on the page");
		}
		return m.group(1) != null ? m.group(1) : m.group(2);
	}

	public static String encode(Map<String, String> fields) {
		return fields.entrySet().stream()
				.map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
				.collect(Collectors.joining("&"));
	}

	/** The query parameters of a redirect's Location. */
	public static Map<String, String> query(HttpResponse<String> redirect) {
		return queryOf(URI.create(redirect.headers().firstValue("Location").orElseThrow()));
	}

	public static Map<String, String> queryOf(URI location) {
		Map<String, String> out = new LinkedHashMap<>();
		if (location.getRawQuery() != null) {
			for (String pair : location.getRawQuery().split("&")) {
				int eq = pair.indexOf('=');
				out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
			}
		}
		return out;
	}

	/** A PKCE verifier and its S256 challenge. */
	public record Pkce(String verifier, String challenge) {
		public static Pkce create() {
			byte[] bytes = new byte[32];
			new SecureRandom().nextBytes(bytes);
			String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
			try {
				byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
				return new Pkce(verifier, Base64.getUrlEncoder().withoutPadding().encodeToString(digest));
			} catch (NoSuchAlgorithmException e) {
				throw new IllegalStateException(e);
			}
		}
	}
}
