package org.nssifhir.server.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;

/**
 * The README's "Error codes" table is {@link ErrorCode}: one row per constant, in order, with its code, HTTP status
 * and meaning, and no other rows. Every {@code NSSI-nnnn} the README mentions exists. And where the main code throws
 * a code in a way a source scan can read ({@code new XxxException(ErrorCode.X...)}, a helper returning such an
 * exception, {@code error(HttpStatus.X, ErrorCode.Y...)}), the status it gets is the one {@link ErrorCode} states
 * (or one its meaning names).
 */
class ErrorCodeTableTest {

	private static final Pattern ROW = Pattern.compile("^\\| `(NSSI-\\d{4})` \\|.*");

	/** HAPI's exceptions (and ours) by simple name, with the status HAPI answers them with. */
	private static final Map<String, Integer> EXCEPTION_STATUS = Map.of(
			"InvalidRequestException", 400,
			"AuthenticationException", 401,
			"ForbiddenOperationException", 403,
			"ResourceNotFoundException", 404,
			"ResourceVersionConflictException", 409,
			"PayloadTooLargeException", 413,
			"UnprocessableEntityException", 422,
			"InternalErrorException", 500);

	static String row(ErrorCode code) {
		return "| `" + code.code() + "` | " + code.httpStatus() + " | " + code.meaning() + " |";
	}

	static String expectedTable() {
		return Stream.concat(Stream.of("| code | HTTP | meaning |", "| --- | --- | --- |"),
				Arrays.stream(ErrorCode.values()).map(ErrorCodeTableTest::row)).collect(Collectors.joining("\n"));
	}

	@Test
	void codesAreUniqueAndWellFormed() {
		Set<String> seen = new TreeSet<>();
		for (ErrorCode code : ErrorCode.values()) {
			assertThat(code.code()).matches("NSSI-\\d{4}");
			assertThat(seen.add(code.code())).as("%s is used once", code.code()).isTrue();
			assertThat(code.httpStatus()).as(code.name()).isBetween(400, 599);
			assertThat(code.meaning()).as(code.name()).isNotBlank().doesNotContain("|").doesNotContain("\n");
			// the message format is unchanged by the table
			assertThat(code.message("x")).isEqualTo(code.code() + ": x");
		}
	}

	@Test
	void readmeTableListsEveryCodeAndNothingElse() {
		List<String> rows = Readme.section("Error codes").stream().filter(l -> ROW.matcher(l).matches()).toList();
		List<String> expected = Arrays.stream(ErrorCode.values()).map(ErrorCodeTableTest::row).toList();
		assertThat(rows)
				.as("README.md '## Error codes' must hold exactly this table (generated from ErrorCode):%n%s%n", expectedTable())
				.containsExactlyElementsOf(expected);
	}

	@Test
	void everyCodeTheReadmeMentionsExists() {
		Set<String> known = Arrays.stream(ErrorCode.values()).map(ErrorCode::code).collect(Collectors.toSet());
		Matcher m = Pattern.compile("NSSI-\\d{4}").matcher(Readme.text());
		Set<String> unknown = new TreeSet<>();
		while (m.find()) {
			if (!known.contains(m.group())) {
				unknown.add(m.group());
			}
		}
		assertThat(unknown).as("codes in README.md that ErrorCode does not define").isEmpty();
	}

	@Test
	void thrownStatusesMatchTheTable() throws IOException {
		Pattern helper = Pattern.compile("static (\\w+Exception) (\\w+)\\(ErrorCode \\w+");
		Pattern direct = Pattern.compile("new (\\w+Exception)\\(\\s*ErrorCode\\.(\\w+)");
		Pattern spring = Pattern.compile("\\(HttpStatus\\.(\\w+),\\s*ErrorCode\\.(\\w+)");
		List<String> mismatches = new ArrayList<>();
		int checked = 0;
		List<Path> sources;
		try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
			sources = files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
		}
		for (Path file : sources) {
			String source = Files.readString(file);
			Map<String, String> helpers = new HashMap<>();
			for (Matcher h = helper.matcher(source); h.find(); ) {
				helpers.put(h.group(2), h.group(1));
			}
			List<String[]> uses = new ArrayList<>(); // {exception or HttpStatus name, constant, "exception"/"http"}
			for (Matcher d = direct.matcher(source); d.find(); ) {
				uses.add(new String[] {d.group(1), d.group(2), "exception"});
			}
			for (Map.Entry<String, String> h : helpers.entrySet()) {
				for (Matcher c = Pattern.compile("\\b" + h.getKey() + "\\(\\s*ErrorCode\\.(\\w+)").matcher(source); c.find(); ) {
					uses.add(new String[] {h.getValue(), c.group(1), "exception"});
				}
			}
			for (Matcher s = spring.matcher(source); s.find(); ) {
				uses.add(new String[] {s.group(1), s.group(2), "http"});
			}
			for (String[] use : uses) {
				ErrorCode code = ErrorCode.valueOf(use[1]);
				Integer status = use[2].equals("http") ? (Integer) HttpStatus.valueOf(use[0]).value() : EXCEPTION_STATUS.get(use[0]);
				assertThat(status).as("%s: add %s and its HTTP status to EXCEPTION_STATUS", file, use[0]).isNotNull();
				checked++;
				if (status != code.httpStatus() && !code.meaning().contains(String.valueOf(status))) {
					mismatches.add(file.getFileName() + ": " + code + " thrown as " + use[0] + " (" + status + "), ErrorCode says "
							+ code.httpStatus());
				}
			}
		}
		assertThat(checked).as("the scan finds the usual ways codes are thrown").isGreaterThan(50);
		assertThat(mismatches).isEmpty();
	}
}
