package org.nssifhir.server.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;

/**
 * axe-core (Deque's accessibility rules engine, npm {@code axe-core}, installed by the build's {@code npm ci} in
 * src/test/fhirpath-js beside fhirpath.js) run in the page under test. {@link #check} runs it at the two widths the
 * clinician app is used at (a laptop, 1366x900, and a small laptop or landscape tablet, 1024x768) and fails on any
 * serious or critical violation, naming the rule and the elements; a screenshot of each width is kept under
 * target/screenshots/axe-*.png. Moderate and minor findings are printed, not failed on. {@link #checkAsIs} checks
 * the page at the size it has (the person's app in a phone's emulated 390x844 viewport, which a window resize
 * would not change).
 */
public final class Axe {

	private static final Path SCRIPT = Path.of("src", "test", "fhirpath-js", "node_modules", "axe-core", "axe.min.js");
	private static final List<Dimension> SIZES = List.of(new Dimension(1366, 900), new Dimension(1024, 768));
	private static String source;

	private Axe() {}

	/** Runs axe-core on the current page at 1366x900 and 1024x768; the window is left at its earlier size. */
	public static void check(WebDriver browser, String screen) {
		Dimension before = browser.manage().window().getSize();
		List<String> failures = new ArrayList<>();
		try {
			for (Dimension size : SIZES) {
				browser.manage().window().setSize(size);
				failures.addAll(run(browser, screen + " at " + size.width + "x" + size.height));
				Browsers.screenshot(browser, "axe-" + screen + "-" + size.width);
			}
		} finally {
			browser.manage().window().setSize(before);
		}
		assertThat(failures).as("serious or critical axe-core violations on " + screen).isEmpty();
	}

	/** Runs axe-core on the current page as it is (no resize: a phone's emulated viewport stays the phone's). */
	public static void checkAsIs(WebDriver browser, String screen) {
		List<String> failures = run(browser, screen);
		Browsers.screenshot(browser, "axe-" + screen);
		assertThat(failures).as("serious or critical axe-core violations on " + screen).isEmpty();
	}

	@SuppressWarnings("unchecked")
	private static List<String> run(WebDriver browser, String where) {
		JavascriptExecutor js = (JavascriptExecutor) browser;
		if (!Boolean.TRUE.equals(js.executeScript("return typeof window.axe === 'object'"))) {
			js.executeScript(script());
		}
		// the resize redraws the chart: let layout settle first
		Object result = js.executeAsyncScript("const done = arguments[arguments.length - 1];"
				+ "requestAnimationFrame(() => requestAnimationFrame(() => axe.run(document, { resultTypes: ['violations'] })"
				+ ".then(r => done({ passed: r.passes.length, violations: r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,"
				+ " nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) })) }))"
				+ ".catch(e => done({ passed: 0, violations: [{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }] }))));");
		Map<String, Object> answer = (Map<String, Object>) result;
		List<Map<String, Object>> violations = (List<Map<String, Object>>) answer.get("violations");
		// rules that passed: proof that axe-core ran on this page, not that it silently checked nothing
		long passed = ((Number) answer.get("passed")).longValue();
		System.out.println("[axe] " + where + ": " + passed + " rules passed, " + violations.size() + " violated");
		List<String> failures = new ArrayList<>();
		if (passed == 0) {
			failures.add(where + ": axe-core checked nothing");
		}
		for (Map<String, Object> v : violations) {
			String line = where + ": " + v.get("impact") + " " + v.get("id") + " (" + v.get("help") + ") " + v.get("nodes");
			if ("serious".equals(v.get("impact")) || "critical".equals(v.get("impact"))) {
				failures.add(line);
			} else {
				System.out.println("[axe] " + line);
			}
		}
		return failures;
	}

	private static synchronized String script() {
		if (source == null) {
			if (!Files.isReadable(SCRIPT)) {
				throw new IllegalStateException(SCRIPT + " is missing: the build installs it (npm ci in src/test/fhirpath-js)");
			}
			try {
				source = Files.readString(SCRIPT);
			} catch (IOException e) {
				throw new UncheckedIOException(e);
			}
		}
		return source;
	}
}
