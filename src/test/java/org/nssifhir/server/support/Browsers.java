package org.nssifhir.server.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Headless Chromium from Debian's packages ({@code chromium}, {@code chromium-driver}; installed by
 * {@code .ci/run}). Nothing is downloaded: the driver and browser paths are given explicitly. A missing browser
 * fails the test rather than skipping it.
 */
public final class Browsers {

	private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("NSSI_CHROMIUM", "/usr/bin/chromium"));
	private static final Path CHROMEDRIVER = Path.of(System.getenv().getOrDefault("NSSI_CHROMEDRIVER", "/usr/bin/chromedriver"));

	private Browsers() {}

	public static WebDriver chromium() {
		return chromium(1280, 900);
	}

	/**
	 * A phone: a 390x844 CSS-pixel viewport (a common phone's), by Chromium's device emulation (headless windows are
	 * never narrower than 500 pixels).
	 */
	public static ChromeDriver phone() {
		return chromium(500, 900, java.util.Map.of("deviceMetrics", java.util.Map.of("width", 390, "height", 844, "pixelRatio", 1.0)));
	}

	/** A phone (as {@link #phone()}) in the given time zone (its TZ environment variable). */
	public static ChromeDriver phone(String timeZone) {
		return chromium(500, 900, java.util.Map.of("deviceMetrics", java.util.Map.of("width", 390, "height", 844, "pixelRatio", 1.0)), timeZone);
	}

	public static ChromeDriver chromium(int width, int height) {
		return chromium(width, height, null, null);
	}

	/**
	 * Chromium in the given time zone (its TZ environment variable), as a browser elsewhere would be: what the page
	 * shows as "today" and as an episode's day is the browser's.
	 */
	public static ChromeDriver chromium(int width, int height, String timeZone) {
		return chromium(width, height, null, timeZone);
	}

	private static ChromeDriver chromium(int width, int height, java.util.Map<String, Object> mobileEmulation) {
		return chromium(width, height, mobileEmulation, null);
	}

	private static ChromeDriver chromium(int width, int height, java.util.Map<String, Object> mobileEmulation, String timeZone) {
		if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
			throw new IllegalStateException("Browser tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
		}
		try {
			Path profile = Files.createTempDirectory("nssi-chromium");
			ChromeOptions options = new ChromeOptions();
			options.setBinary(CHROMIUM.toFile());
			options.addArguments(
					"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
					"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
					"--window-size=" + width + "," + height, "--user-data-dir=" + profile);
			String netLog = System.getenv("NSSI_CHROMIUM_NETLOG");
			if (netLog != null && !netLog.isBlank()) {
				// debugging only: every request and response of this browser, headers included (test sessions only)
				options.addArguments("--log-net-log=" + Path.of(netLog).resolve(profile.getFileName() + ".json"), "--net-log-capture-mode=IncludeSensitive");
			}
			// the browser's language is English (UK): the clinician app writes dates in the browser's language
			// (navigator.languages), and the tests read them as "6 Dec 2026, 14:05"
			options.setExperimentalOption("prefs", java.util.Map.of("intl.accept_languages", "en-GB,en"));
			if (mobileEmulation != null) {
				options.setExperimentalOption("mobileEmulation", mobileEmulation);
			}
			ChromeDriverService.Builder builder = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile());
			if (timeZone != null) {
				builder.withEnvironment(java.util.Map.of("TZ", timeZone));
			}
			ChromeDriverService service = builder.build();
			ChromeDriver driver = new ChromeDriver(service, options);
			driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
			return driver;
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	/**
	 * Takes the browser's service workers offline (or back online) as DevTools does. ChromeDriver's network conditions
	 * reach the page only: a service worker's own fetches still go out, so a test of what the worker serves offline
	 * would be answered by the network. Each worker target gets the same emulation through its own DevTools session
	 * (the browser's debugging address that ChromeDriver reports); the session stays open while offline, since the
	 * emulation ends with it (and a worker with DevTools attached is not stopped meanwhile). The pages get the same
	 * from their own session too, which holds across reloads of a page its service worker controls. Returns how many
	 * targets (workers and pages).
	 */
	public static int serviceWorkersOffline(ChromeDriver driver, boolean offline) {
		List<WebSocket> open = WORKER_SESSIONS.computeIfAbsent(driver, d -> new ArrayList<>());
		open.forEach(socket -> socket.sendClose(WebSocket.NORMAL_CLOSURE, "").join());
		open.clear();
		if (!offline) {
			return 0;
		}
		try {
			Object chromeOptions = driver.getCapabilities().getCapability("goog:chromeOptions");
			String address = String.valueOf(((Map<?, ?>) chromeOptions).get("debuggerAddress"));
			HttpClient http = HttpClient.newHttpClient();
			JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://" + address + "/json/list")).build(),
					HttpResponse.BodyHandlers.ofString()).body());
			for (JsonNode target : targets) {
				String type = target.path("type").asText();
				if (!"service_worker".equals(type) && !("page".equals(type) && target.path("url").asText().startsWith("http"))) {
					continue;
				}
				CompletableFuture<String> answered = new CompletableFuture<>();
				WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(target.path("webSocketDebuggerUrl").asText()), new WebSocket.Listener() {
					@Override
					public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
						if (data.toString().contains("\"id\":2")) {
							answered.complete(data.toString());
						}
						ws.request(1);
						return null;
					}
				}).get(10, TimeUnit.SECONDS);
				socket.sendText("{\"id\":1,\"method\":\"Network.enable\",\"params\":{}}", true).join();
				socket.sendText("{\"id\":2,\"method\":\"Network.emulateNetworkConditions\",\"params\":{\"offline\":true,\"latency\":0,"
						+ "\"downloadThroughput\":-1,\"uploadThroughput\":-1}}", true).join();
				String answer = answered.get(10, TimeUnit.SECONDS);
				if (answer.contains("\"error\"")) {
					throw new IllegalStateException("DevTools refused the service worker's offline emulation: " + answer);
				}
				open.add(socket);
			}
			return open.size();
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		} catch (InterruptedException | ExecutionException | TimeoutException e) {
			throw new IllegalStateException("No DevTools session with the service worker", e);
		}
	}

	private static final Map<WebDriver, List<WebSocket>> WORKER_SESSIONS = new java.util.concurrent.ConcurrentHashMap<>();
	private static final ObjectMapper JSON = new ObjectMapper();

	/** Saves a screenshot under target/screenshots (attached to issue notes). */
	public static Path screenshot(WebDriver driver, String name) {
		try {
			Path dir = Files.createDirectories(Path.of("target", "screenshots"));
			Path file = dir.resolve(name + ".png");
			Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
			return file;
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}
}
