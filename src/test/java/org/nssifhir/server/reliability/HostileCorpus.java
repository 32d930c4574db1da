package org.nssifhir.server.reliability;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.nssifhir.server.support.TestTokens;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;

/**
 * The hostile-input corpus: the hand-written request table {@code hostile/requests.tsv}, every body under
 * {@code hostile/bodies/} (sent to the endpoint its file name names), every search value in
 * {@code hostile/search-payloads.txt} against several search parameters, generated huge and deeply nested bodies,
 * and forged, expired and otherwise unacceptable bearer tokens. All cases except the token ones carry a valid
 * system token, so what is tested is the input, not the authorization.
 */
final class HostileCorpus {

	/** One request and what must come back ({@code 4xx}, {@code safe} or an exact status). */
	record Case(String name, String expect, String method, String path, String contentType, byte[] body, Map<String, String> headers) {}

	private static final String JSON = "application/fhir+json";
	private static final String XML = "application/fhir+xml";
	private static final String PATIENT_TAIL = "\"gender\":\"not-a-gender\"}";

	private HostileCorpus() {}

	static List<Case> load(Map<String, String> fixtures, TestTokens tokens, String audience) throws Exception {
		String system = "Bearer " + tokens.system("system/*.cruds");
		List<Case> cases = new ArrayList<>();
		cases.addAll(table(fixtures));
		cases.addAll(bodies(fixtures));
		cases.addAll(searchInjections(fixtures));
		cases.addAll(generated(fixtures));
		List<Case> authorized = new ArrayList<>();
		for (Case c : cases) {
			Map<String, String> headers = new LinkedHashMap<>(c.headers());
			headers.putIfAbsent("Authorization", system);
			authorized.add(new Case(c.name(), c.expect(), c.method(), c.path(), c.contentType(), c.body(), headers));
		}
		authorized.addAll(tokenCases(fixtures, tokens, audience));
		return authorized;
	}

	private static List<Case> table(Map<String, String> fixtures) {
		List<Case> cases = new ArrayList<>();
		int line = 0;
		for (String row : text("hostile/requests.tsv").split("\n")) {
			line++;
			if (row.isBlank() || row.startsWith("#")) {
				continue;
			}
			String[] col = row.split("\t");
			String path = fill(col[2], fixtures);
			String contentType = col.length > 3 ? col[3] : null;
			byte[] body = col.length > 4 ? fill(col[4], fixtures).replace("\\r\\n", "\r\n").getBytes(StandardCharsets.UTF_8) : null;
			Map<String, String> headers = new LinkedHashMap<>();
			if (col.length > 5) {
				String[] header = col[5].split(":", 2);
				headers.put(header[0].trim(), fill(header[1].trim(), fixtures));
			}
			cases.add(new Case("requests.tsv:" + line + " " + col[1] + " " + col[2], col[0], col[1], path, contentType, body, headers));
		}
		return cases;
	}

	/** Each file is sent where its name says: Patient bodies are both created and used to update an existing Patient. */
	private static List<Case> bodies(Map<String, String> fixtures) throws IOException {
		List<Case> cases = new ArrayList<>();
		for (Resource file : new PathMatchingResourcePatternResolver().getResources("classpath:hostile/bodies/*")) {
			String name = file.getFilename();
			byte[] body;
			try (InputStream in = file.getInputStream()) {
				body = fill(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1), fixtures).getBytes(StandardCharsets.ISO_8859_1);
			}
			String type = name.endsWith(".xml") ? XML : JSON;
			String patient = fixtures.get("{patient}");
			List<String> targets = new ArrayList<>();
			if (name.startsWith("observation-")) {
				targets.add("POST /Observation");
			} else if (name.startsWith("careplan-")) {
				targets.add("POST /CarePlan");
				targets.add("PUT /CarePlan/" + fixtures.get("{careplan}"));
			} else if (name.startsWith("qr-")) {
				targets.add("POST /QuestionnaireResponse");
			} else if (name.startsWith("bundle-")) {
				targets.add("POST ");
			} else if (name.startsWith("parameters-extract-")) {
				targets.add("POST /QuestionnaireResponse/$extract");
			} else if (name.startsWith("parameters-populate-")) {
				targets.add("POST /Questionnaire/" + fixtures.get("{questionnaire}") + "/$populate");
			} else if (name.startsWith("parameters-summary-")) {
				targets.add("POST /Patient/" + patient + "/$nssi-summary");
			} else {
				targets.add("POST /Patient");
				targets.add("PUT /Patient/" + patient);
			}
			for (String target : targets) {
				String[] mp = target.split(" ", 2);
				cases.add(new Case("bodies/" + name + " " + target.replace(patient, "{patient}"), "4xx", mp[0], mp[1], type, body, Map.of()));
			}
		}
		return cases;
	}

	private static List<Case> searchInjections(Map<String, String> fixtures) {
		List<String> payloads = new ArrayList<>();
		for (String line : text("hostile/search-payloads.txt").split("\n")) {
			if (!line.isBlank() && !line.startsWith("#")) {
				payloads.add(line);
			}
		}
		payloads.add("nul\u0000byte");
		payloads.add("\u0000");
		payloads.add("x".repeat(3000));
		List<String> parameters = List.of(
				"/Patient?name=", "/Patient?identifier=", "/Observation?code=", "/Observation?subject=", "/Observation?patient=",
				"/CarePlan?subject:Patient.name=");
		List<Case> cases = new ArrayList<>();
		int i = 0;
		for (String payload : payloads) {
			i++;
			String encoded = URLEncoder.encode(payload, StandardCharsets.UTF_8);
			for (String parameter : parameters) {
				cases.add(new Case("search-payloads #" + i + " " + parameter, "safe", "GET", parameter + encoded, null, null, Map.of()));
			}
		}
		return cases;
	}

	/** Bodies too big or too deep to keep as files. Each is also wrong in a plain way, so none could be stored. */
	private static List<Case> generated(Map<String, String> fixtures) {
		List<Case> cases = new ArrayList<>();
		String patientStart = "{\"resourceType\":\"Patient\",";
		cases.add(json("deeply nested arrays (100k)", "/Patient", patientStart + "\"x\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}"));
		cases.add(json("deeply nested objects (50k)", "/Patient", patientStart + "\"x\":" + "{\"a\":".repeat(50_000) + "1" + "}".repeat(50_000) + "}"));
		cases.add(json("unclosed nesting (200k)", "/Patient", patientStart + "\"x\":" + "[{".repeat(200_000)));
		for (int depth : new int[] {200, 450, 2000}) {
			StringBuilder ext = new StringBuilder();
			for (int i = 0; i < depth; i++) {
				ext.append("{\"url\":\"http://example.org/x\",\"extension\":[");
			}
			ext.append("{\"url\":\"http://example.org/x\",\"valueString\":\"leaf\"}");
			ext.append("]}".repeat(depth));
			cases.add(json("extensions nested " + depth + " deep", "/Patient", patientStart + "\"extension\":[" + ext + "]," + PATIENT_TAIL));
			StringBuilder item = new StringBuilder();
			for (int i = 0; i < depth; i++) {
				item.append("{\"linkId\":\"l").append(i).append("\",\"item\":[");
			}
			item.append("{\"linkId\":\"leaf\",\"answer\":[{\"valueInteger\":3}]}");
			item.append("]}".repeat(depth));
			String qr = "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\",\"questionnaire\":\"https://nssi-fhir.org/fhir/Questionnaire/nssi-phq9\","
					+ "\"subject\":{\"reference\":\"Patient/" + fixtures.get("{patient}") + "\"},\"authored\":\"not-a-date\",\"item\":[" + item + "]}";
			cases.add(json("QuestionnaireResponse items nested " + depth + " deep", "/QuestionnaireResponse", qr));
			cases.add(new Case("xml nested " + depth + " deep", "4xx", "POST", "/Patient", XML,
					("<Patient xmlns=\"http://hl7.org/fhir\">" + "<extension url=\"http://example.org/x\">".repeat(depth)
							+ "<valueString value=\"x\"/>" + "</extension>".repeat(depth) + "<gender value=\"not-a-gender\"/></Patient>")
							.getBytes(StandardCharsets.UTF_8), Map.of()));
		}
		cases.add(json("4 MB string", "/Patient", patientStart + "\"name\":[{\"family\":\"" + "x".repeat(4_000_000) + "\"}]," + PATIENT_TAIL));
		cases.add(json("100k names", "/Patient", patientStart + "\"name\":[" + "{\"family\":\"x\"},".repeat(100_000) + "{}]," + PATIENT_TAIL));
		cases.add(json("200k keys", "/Patient", patientStart + "\"x\":{" + "\"k\":1,".repeat(200_000) + "\"k\":1}," + PATIENT_TAIL));
		cases.add(new Case("6 MB body", "413", "POST", "/Patient", JSON,
				(patientStart + "\"name\":[{\"family\":\"" + "x".repeat(6_000_000) + "\"}]}").getBytes(StandardCharsets.UTF_8), Map.of()));
		StringBuilder bundle = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
		for (int i = 0; i < 2000; i++) {
			bundle.append(i == 0 ? "" : ",").append("{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}");
		}
		cases.add(new Case("transaction of 2000 entries", "413", "POST", "", JSON, (bundle + "]}").getBytes(StandardCharsets.UTF_8), Map.of()));
		StringBuilder batch = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[");
		for (int i = 0; i < 600; i++) {
			batch.append(i == 0 ? "" : ",").append("{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient?name=x\"}}");
		}
		cases.add(new Case("batch of 600 deletes", "413", "POST", "", JSON, (batch + "]}").getBytes(StandardCharsets.UTF_8), Map.of()));
		StringBuilder manyParams = new StringBuilder("/Patient?");
		for (int i = 0; i < 5000; i++) {
			manyParams.append("nonexistent").append(i).append("=1&");
		}
		cases.add(new Case("5000 unknown search parameters (URL)", "4xx", "GET", manyParams.toString(), null, null, Map.of()));
		cases.add(new Case("5000 unknown search parameters (form)", "4xx", "POST", "/Patient/_search", "application/x-www-form-urlencoded",
				manyParams.substring("/Patient?".length()).getBytes(StandardCharsets.UTF_8), Map.of()));
		StringBuilder manyIncludes = new StringBuilder("/Observation?_id=x");
		for (int i = 0; i < 200; i++) {
			manyIncludes.append("&_include=Observation:subject");
		}
		cases.add(new Case("200 _include parameters", "400", "GET", manyIncludes.toString(), null, null, Map.of()));
		cases.add(new Case("_id with 500 values", "safe", "GET", "/Patient?_id=" + "x,".repeat(500) + "x", null, null, Map.of()));
		return cases;
	}

	private static Case json(String name, String path, String body) {
		return new Case(name, "4xx", "POST", path, JSON, body.getBytes(StandardCharsets.UTF_8), Map.of());
	}

	/** Tokens that must not be accepted, each against reads, searches, writes and an operation: 401 every time. */
	private static List<Case> tokenCases(Map<String, String> fixtures, TestTokens tokens, String audience) throws JOSEException, java.text.ParseException {
		String valid = tokens.system("system/*.cruds");
		String[] parts = valid.split("\\.");
		Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
		RSAKey stranger = new RSAKeyGenerator(2048).keyID(SignedJWT.parse(valid).getHeader().getKeyID()).generate();
		JWTClaimsSet claims = new JWTClaimsSet.Builder()
				.issuer("http://localhost").subject("attacker").claim("scope", "system/*.cruds").jwtID(UUID.randomUUID().toString())
				.issueTime(new Date()).expirationTime(Date.from(Instant.now().plusSeconds(600))).audience(audience).build();
		SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(stranger.getKeyID()).build(), claims);
		forged.sign(new RSASSASigner(stranger));
		SignedJWT hmac = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
		hmac.sign(new MACSigner(padded(stranger.toPublicJWK().toJSONString())));
		String claimsJson = b64.encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
		String elevated = b64.encodeToString(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
				.replace("\"sub\":\"test-user\"", "\"sub\":\"admin\"").getBytes(StandardCharsets.UTF_8));
		Map<String, String> bad = new LinkedHashMap<>();
		bad.put("no token", null);
		bad.put("empty bearer", "Bearer ");
		bad.put("garbage", "Bearer not.a.jwt");
		bad.put("one segment", "Bearer abc");
		bad.put("basic auth", "Basic " + Base64.getEncoder().encodeToString("admin:admin".getBytes(StandardCharsets.UTF_8)));
		bad.put("alg none", "Bearer " + b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "." + claimsJson + ".");
		bad.put("alg none keeping signature", "Bearer " + b64.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." + parts[1] + "." + parts[2]);
		bad.put("signed by another key with our kid", "Bearer " + forged.serialize());
		bad.put("HS256 with a public key as secret", "Bearer " + hmac.serialize());
		bad.put("payload changed after signing", "Bearer " + parts[0] + "." + elevated + "." + parts[2]);
		bad.put("signature stripped", "Bearer " + parts[0] + "." + parts[1] + ".");
		bad.put("expired", "Bearer " + tokens.token().scopes("system/*.cruds").expiredAt(Instant.now().minusSeconds(3600)).sign());
		bad.put("other audience", "Bearer " + tokens.token().scopes("system/*.cruds").audience("https://evil.example/fhir").sign());
		bad.put("token with NUL", "Bearer " + valid.substring(0, 20) + "%00" + valid.substring(20));
		bad.put("huge token", "Bearer " + "a".repeat(6000) + "." + "b".repeat(1000) + ".c");
		String patient = fixtures.get("{patient}");
		List<String[]> targets = List.of(
				new String[] {"GET", "/Patient/" + patient},
				new String[] {"GET", "/Observation?subject=Patient/" + patient},
				new String[] {"POST", "/Patient"},
				new String[] {"GET", "/Patient/" + patient + "/$nssi-summary"});
		List<Case> cases = new ArrayList<>();
		for (Map.Entry<String, String> token : bad.entrySet()) {
			for (String[] target : targets) {
				boolean post = target[0].equals("POST");
				Map<String, String> headers = token.getValue() == null ? Map.of() : Map.of("Authorization", token.getValue());
				cases.add(new Case("token: " + token.getKey() + " " + target[0] + " " + target[1].replace(patient, "{patient}"), "401",
						target[0], target[1], post ? JSON : null,
						post ? "{\"resourceType\":\"Patient\",\"active\":true}".getBytes(StandardCharsets.UTF_8) : null, headers));
			}
		}
		// the token in the query string instead of the header is not accepted either
		cases.add(new Case("token: access_token query parameter", "401", "GET", "/Patient/" + patient + "?access_token=" + valid, null, null, Map.of()));
		return cases;
	}

	private static byte[] padded(String secret) {
		byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
		return bytes.length >= 32 ? bytes : java.util.Arrays.copyOf(bytes, 32);
	}

	private static String fill(String text, Map<String, String> fixtures) {
		String result = text;
		for (Map.Entry<String, String> f : fixtures.entrySet()) {
			result = result.replace(f.getKey(), f.getValue());
		}
		return result;
	}

	private static String text(String resource) {
		try (InputStream in = HostileCorpus.class.getClassLoader().getResourceAsStream(resource)) {
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}
}
