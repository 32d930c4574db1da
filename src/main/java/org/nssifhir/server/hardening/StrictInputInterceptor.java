package org.nssifhir.server.hardening;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URLDecoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.FeatureOperations.Input;
import org.nssifhir.server.support.ErrorCode;

/**
 * Refuses malformed input before HAPI acts on it, with a 400 and a stable code. HAPI's parser is lenient by design
 * (it logs and drops what it does not understand), which on a write means a client's mistake is stored in a changed
 * form: an unknown element silently lost, a duplicated JSON key resolved to one of its values, a DTD ignored. On a
 * clinical record the client must learn that we did not store what it sent. So a request body must be strict JSON
 * (no duplicate keys, comments, single quotes, trailing data or infinite numbers), XML without a DTD, and must parse
 * with HAPI's {@link StrictErrorHandler}; ids and versions in the URL must be FHIR ids and version numbers;
 * parameter values must not contain NUL (PostgreSQL cannot compare it: it used to be a 500), number and quantity
 * search values must fit a double; and the control
 * parameters HAPI ignores when misspelt ({@code _summary}, {@code _total}, ...) must have a value HAPI understands.
 *
 * <p>Runs at {@code SERVER_INCOMING_REQUEST_POST_PROCESSED}, before the body is parsed, the method chosen or
 * authorization decided; the body is then parsed a second time by HAPI (cost measured in the benchmark).
 */
@Interceptor
public class StrictInputInterceptor {

	/** FHIR id: 1 to 64 of A-Z a-z 0-9 - . */
	private static final Pattern FHIR_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
	private static final Pattern VERSION = Pattern.compile("[0-9]{1,18}");
	private static final Pattern IF_MATCH = Pattern.compile("(W/)?\"?([^\"]*)\"?");
	private static final Map<String, Set<String>> CONTROL_VALUES = Map.of(
			Constants.PARAM_SUMMARY, Set.of("true", "false", "text", "data", "count"),
			"_total", Set.of("none", "estimate", "accurate"),
			Constants.PARAM_PRETTY, Set.of("true", "false"),
			"_containedType", Set.of("container", "contained"),
			"_contained", Set.of("true", "false", "both"));
	/** Parameters that may appear once per request; HAPI used whichever came first. */
	private static final Set<String> SINGLE = Set.of(Constants.PARAM_COUNT, Constants.PARAM_SUMMARY, "_total", Constants.PARAM_FORMAT,
			Constants.PARAM_PAGINGACTION, Constants.PARAM_PAGINGOFFSET);

	private static final Set<String> DATE_PARAMETERS = Set.of("start", "end", "_since", "date");
	private static final Pattern NUMERIC_PREFIX = Pattern.compile("^(eq|ne|gt|lt|ge|le|sa|eb|ap)");
	private static final BigDecimal DOUBLE_MAX = new BigDecimal(Double.MAX_VALUE);
	private static final BigDecimal DOUBLE_MIN_NORMAL = new BigDecimal(Double.MIN_NORMAL);
	private static final Pattern COUNT = Pattern.compile("\\s*[0-9]{1,9}\\s*");

	/** Choice elements ([x]) common in our resources: value[x], effective[x], onset[x], ... followed by a type name. */
	private static final Pattern CHOICE = Pattern.compile(
			"(value|effective|onset|abatement|deceased|multipleBirth|occurrence|performed|timing|born|age|answer|scheduled|defaultValue|fixed|pattern|serviced|product|medication|reported|asNeeded)[A-Z][A-Za-z]*");

	private final FhirContext fhirContext;
	/** What each declared operation accepts, from the features' declarations (operations not declared: anything) */
	private final Map<String, Input> operationInputs;
	private final XMLInputFactory xml = newXmlInputFactory();
	private final JsonFactory json = JsonFactory.builder().build().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

	/** The features' declarations say which operations take one value per parameter, or only a Parameters body. */
	public StrictInputInterceptor(FhirContext fhirContext, List<? extends FeatureOperations> features) {
		this.fhirContext = fhirContext;
		Map<String, Input> inputs = new HashMap<>();
		features.forEach(feature -> feature.operations().forEach(operation -> inputs.put(operation.name(), operation.input())));
		this.operationInputs = Map.copyOf(inputs);
	}

	private Input input(String operation) {
		return operation == null ? Input.ANY : operationInputs.getOrDefault(operation, Input.ANY);
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
	public boolean check(RequestDetails request) {
		checkId(request);
		checkIfMatch(request.getHeader(Constants.HEADER_IF_MATCH));
		checkParameters(request.getParameters());
		checkSearchValues(request.getResourceName(), request.getParameters());
		checkOperationParameters(request);
		checkBody(request);
		return true;
	}

	private static void checkId(RequestDetails request) {
		if (request.getId() == null) {
			if (request.getRequestType() == RequestTypeEnum.PATCH && request.getParameters().isEmpty()) {
				throw invalid(ErrorCode.INVALID_ID, "PATCH needs a resource id or a conditional URL");
			}
			return;
		}
		String id = request.getId().getIdPart();
		if (id != null && !FHIR_ID.matcher(id).matches()) {
			throw invalid(ErrorCode.INVALID_ID, "The resource id is not a FHIR id (1-64 of A-Z, a-z, 0-9, '-', '.')");
		}
		String version = request.getId().getVersionIdPart();
		if (version != null && !VERSION.matcher(version).matches()) {
			throw invalid(ErrorCode.INVALID_VERSION, "The version id must be a number");
		}
	}

	private static void checkIfMatch(String ifMatch) {
		if (ifMatch == null) {
			return;
		}
		var matcher = IF_MATCH.matcher(ifMatch.trim());
		if (!matcher.matches() || !VERSION.matcher(matcher.group(2)).matches()) {
			throw invalid(ErrorCode.INVALID_VERSION, "If-Match must name a version number, like W/\"3\"");
		}
	}

	private static void checkParameters(Map<String, String[]> parameters) {
		for (Map.Entry<String, String[]> parameter : parameters.entrySet()) {
			String name = parameter.getKey();
			if (name.indexOf('\0') >= 0) {
				throw invalid(ErrorCode.INVALID_PARAMETER, "Parameter names must not contain NUL characters");
			}
			String[] values = parameter.getValue();
			if (SINGLE.contains(name) && values.length > 1) {
				throw invalid(ErrorCode.INVALID_PARAMETER, "The parameter " + name + " may be given only once");
			}
			if (name.equals(Constants.PARAM_COUNT) && !COUNT.matcher(values[0]).matches()) {
				// checked here too because operations such as $everything bind _count before any later hook runs
				throw invalid(ErrorCode.COUNT_INVALID, "_count must be a non-negative integer, not \"" + values[0] + "\"");
			}
			if (name.equals(Constants.PARAM_PAGINGOFFSET) && !COUNT.matcher(values[0]).matches()) {
				// HAPI read a negative or non-numeric page offset as 0 and answered the first page as if it were asked
				throw invalid(ErrorCode.INVALID_PARAMETER, "_getpagesoffset must be a non-negative integer, as in the server's own page links");
			}
			if (name.equals(Constants.PARAM_OFFSET) && !COUNT.matcher(values[0]).matches()) {
				// HAPI passes a negative offset to the database, which answers with a 500
				throw invalid(ErrorCode.INVALID_PARAMETER, "_offset must be a non-negative integer");
			}
			Set<String> allowed = CONTROL_VALUES.get(name);
			for (String value : values) {
				if (value.indexOf('\0') >= 0) {
					throw invalid(ErrorCode.INVALID_PARAMETER, "The value of " + name + " contains a NUL character");
				}
				if (allowed != null && !allowed.contains(value.trim().toLowerCase(Locale.ROOT))) {
					throw invalid(ErrorCode.INVALID_PARAMETER, "Unsupported value for " + name + "; allowed: " + String.join(", ", allowed));
				}
				if (name.equals(Constants.PARAM_SORT)) {
					for (String key : value.split(",", -1)) {
						if (key.isBlank() || key.trim().equals("-")) {
							throw invalid(ErrorCode.INVALID_PARAMETER, "_sort names an empty search parameter");
						}
					}
				}
				if (name.equals(Constants.PARAM_FORMAT) && EncodingEnum.forContentType(value.trim()) == null
						&& !Set.of("json", "xml", "html", "text/html", "ttl", "rdf").contains(value.trim().toLowerCase(Locale.ROOT))) {
					throw invalid(ErrorCode.INVALID_PARAMETER, "Unsupported _format");
				}
			}
		}
	}

	/**
	 * Number and quantity search values must fit the database's double-precision index column. PostgreSQL refuses a
	 * bigger one (HAPI answered 1e400 with a 500) and one far beyond it was silently truncated in transit, so
	 * {@code value-quantity=1e999999} matched an Observation whose value is 0: a wrong answer, not an empty one.
	 * Values that are not numbers are left to HAPI, which refuses them with its own 400.
	 */
	private void checkSearchValues(String requestType, Map<String, String[]> parameters) {
		for (Map.Entry<String, String[]> parameter : parameters.entrySet()) {
			String resourceType = requestType;
			String name = parameter.getKey();
			if (name.startsWith(Constants.PARAM_HAS + ":")) {
				// _has:Observation:subject:value-quantity: the last part names a parameter of the type after _has
				String[] parts = name.split(":");
				if (parts.length < 4) {
					continue;
				}
				resourceType = parts[1];
				name = parts[parts.length - 1];
			}
			int modifier = name.indexOf(':');
			RuntimeSearchParam definition = searchParameter(resourceType, modifier < 0 ? name : name.substring(0, modifier));
			if (definition == null) {
				continue;
			}
			RestSearchParameterTypeEnum type = definition.getParamType();
			boolean plain = modifier < 0;
			for (String value : parameter.getValue()) {
				for (String alternative : value.split(",", -1)) {
					if (plain) {
						checkSearchValue(parameter.getKey(), type, alternative);
					}
					if (type == RestSearchParameterTypeEnum.NUMBER || type == RestSearchParameterTypeEnum.QUANTITY) {
						checkInDoubleRange(parameter.getKey(), alternative);
					} else if (type == RestSearchParameterTypeEnum.COMPOSITE) {
						String[] components = alternative.split("\\$", -1);
						for (int i = 1; i < components.length; i++) {
							checkInDoubleRange(parameter.getKey(), components[i]);
						}
					}
				}
			}
		}
	}

	/**
	 * A search value of the wrong form for its parameter's type is refused naming the parameter and the value (HAPI
	 * answered {@code date=notadate} with a 500, mapped to a 400 that named neither, and {@code subject=Patient/}
	 * with "Parameter value missing"). Only plain parameters: modifiers such as {@code :missing} take other values.
	 */
	private static void checkSearchValue(String name, RestSearchParameterTypeEnum type, String value) {
		String bare = NUMERIC_PREFIX.matcher(value.trim()).replaceFirst("");
		switch (type) {
			case DATE -> {
				try {
					new DateTimeType(bare);
				} catch (RuntimeException e) {
					throw invalidValue(name, value, "not a FHIR date or dateTime, optionally after a prefix (2024-05-01, ge2024-05-01T10:00:00Z)");
				}
			}
			case NUMBER, QUANTITY -> {
				int unit = bare.indexOf('|');
				try {
					new BigDecimal(unit < 0 ? bare : bare.substring(0, unit));
				} catch (NumberFormatException e) {
					if (!bare.matches("[-+]?[0-9.]*[eE][-+]?[0-9]+")) { // a huge exponent is checkInDoubleRange's to refuse
						throw invalidValue(name, value, "not a number, optionally after a prefix (5, gt5.4"
								+ (type == RestSearchParameterTypeEnum.QUANTITY ? ", 5.4|http://unitsofmeasure.org|mg" : "") + ")");
					}
				}
			}
			case REFERENCE -> {
				if (value.isBlank() || value.endsWith("/")) {
					throw invalidValue(name, value, "not a reference (an id, Type/id or an absolute URL)");
				}
			}
			default -> {
				// tokens, strings, URIs: any text is a value
			}
		}
	}

	private static InvalidRequestException invalidValue(String name, String value, String why) {
		String shown = value.length() > 100 ? value.substring(0, 100) + "…" : value;
		return invalid(ErrorCode.SEARCH_VALUE_INVALID, "The value \"" + shown + "\" of the search parameter " + name + " is " + why);
	}

	private RuntimeSearchParam searchParameter(String resourceType, String name) {
		if (resourceType == null || !fhirContext.getResourceTypes().contains(resourceType)) {
			return null;
		}
		return fhirContext.getResourceDefinition(resourceType).getSearchParam(name);
	}

	private static void checkInDoubleRange(String name, String value) {
		String number = NUMERIC_PREFIX.matcher(value.trim()).replaceFirst("");
		int unit = number.indexOf('|');
		if (unit >= 0) {
			number = number.substring(0, unit);
		}
		BigDecimal parsed;
		try {
			parsed = new BigDecimal(number);
		} catch (NumberFormatException e) {
			if (number.matches("[-+]?[0-9.]*[eE][-+]?[0-9]+")) {
				// an exponent too big for BigDecimal itself
				throw invalid(ErrorCode.INVALID_PARAMETER, "The value of " + name + " is out of range");
			}
			return;
		}
		BigDecimal magnitude = parsed.abs();
		if (parsed.signum() != 0 && (magnitude.compareTo(DOUBLE_MAX) > 0 || magnitude.compareTo(DOUBLE_MIN_NORMAL) < 0)) {
			throw invalid(ErrorCode.INVALID_PARAMETER, "The value of " + name + " is out of range (a number search "
					+ "value must lie between 2.2E-308 and 1.7E+308 in magnitude, or be 0)");
		}
	}

	private void checkBody(RequestDetails request) {
		RequestTypeEnum method = request.getRequestType();
		if (method != RequestTypeEnum.POST && method != RequestTypeEnum.PUT && method != RequestTypeEnum.PATCH) {
			return;
		}
		EncodingEnum encoding = RestfulServerUtils.determineRequestEncodingNoDefault(request);
		if (encoding != EncodingEnum.JSON && encoding != EncodingEnum.XML) {
			return; // form posts, JSON/XML Patch documents: HAPI parses and checks those itself
		}
		byte[] body = request.loadRequestContents();
		if (body == null || body.length == 0) {
			return; // HAPI answers a missing body itself (400), and operations may legitimately have none
		}
		checkBody(body, encoding, charset(request), request.getOperation(), request.getResourceName() == null && request.getOperation() == null);
	}

	/**
	 * The body checks on their own (also the fuzz test's entry point). {@code systemLevel}: posted to the server base,
	 * i.e. a transaction or batch.
	 */
	void checkBody(byte[] body, EncodingEnum encoding, Charset charset, String operation, boolean systemLevel) {
		if (encoding == EncodingEnum.JSON) {
			checkStrictJson(body);
		} else {
			checkXml(body);
		}
		IParser parser = (encoding == EncodingEnum.JSON ? fhirContext.newJsonParser() : fhirContext.newXmlParser())
				.setParserErrorHandler(new StrictErrorHandler());
		IBaseResource resource;
		try {
			resource = parser.parseResource(new String(body, charset));
		} catch (DataFormatException | IllegalArgumentException | IllegalStateException e) {
			if (encoding == EncodingEnum.JSON) {
				failingEntry(body);
			}
			throw invalidContent("The resource is not valid FHIR: " + e.getMessage());
		}
		if (resource instanceof Bundle bundle) {
			for (int i = 0; i < bundle.getEntry().size(); i++) {
				Bundle.BundleEntryComponent entry = bundle.getEntry().get(i);
				if (entry.getResource() != null) {
					try {
						ResourceShapeChecks.check(fhirContext, entry.getResource());
					} catch (InvalidRequestException refusal) {
						throw inEntry(refusal.getMessage(), null, i, entry.getFullUrl());
					}
				}
			}
		} else {
			ResourceShapeChecks.check(fhirContext, resource);
		}
		if (resource instanceof Parameters parameters && input(operation).singleValued()
				&& parameters.getParameter().stream().map(Parameters.ParametersParameterComponent::getName).distinct().count()
						< parameters.getParameter().size()) {
			throw invalid(ErrorCode.OPERATION_PARAMETER_INVALID, "Each parameter of " + operation + " may be given only once");
		}
		if (input(operation).parametersOnly() && !(resource instanceof Parameters)) {
			throw invalid(ErrorCode.OPERATION_PARAMETER_INVALID, operation + " takes a Parameters resource as its body");
		}
		if (resource instanceof Bundle bundle && systemLevel) {
			checkEntries(bundle);
		}
	}

	/**
	 * A batch's GET entries are searched by HAPI inside the batch, past every hook of the request: a malformed value
	 * there was answered with a 500 in the entry ({@code Observation?date=notadate}: HAPI-1940). The batch answers
	 * each entry on its own, so a failed entry whose URL breaks the rules of {@link #checkSearchValues} is answered
	 * here with the 400 and the message the same search gets on its own; any other failure is left as HAPI says.
	 */
	@Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
	public void batchEntryErrors(RequestDetails request, ResponseDetails response) {
		if (!(request.getResource() instanceof Bundle batch) || batch.getType() != Bundle.BundleType.BATCH
				|| !(response.getResponseResource() instanceof Bundle answer) || answer.getEntry().size() != batch.getEntry().size()) {
			return;
		}
		for (int i = 0; i < batch.getEntry().size(); i++) {
			Bundle.BundleEntryRequestComponent entry = batch.getEntry().get(i).getRequest();
			Bundle.BundleEntryResponseComponent result = answer.getEntry().get(i).getResponse();
			if (entry.getMethod() != Bundle.HTTPVerb.GET || entry.getUrl() == null || !result.getStatus().startsWith("5")) {
				continue;
			}
			String url = entry.getUrl();
			int q = url.indexOf('?');
			Map<String, String[]> parameters = new HashMap<>();
			if (q >= 0) {
				for (String pair : url.substring(q + 1).split("&")) {
					int eq = pair.indexOf('=');
					String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
					String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
					String[] existing = parameters.get(name);
					String[] values = existing == null ? new String[1] : Arrays.copyOf(existing, existing.length + 1);
					values[values.length - 1] = value;
					parameters.put(name, values);
				}
			}
			try {
				checkParameters(parameters);
				checkSearchValues(url.split("[/?]", 2)[0], parameters);
			} catch (InvalidRequestException problem) {
				OperationOutcome outcome = new OperationOutcome();
				outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR)
						.setCode(OperationOutcome.IssueType.INVALID).setDiagnostics(problem.getMessage());
				result.setStatus("400 Bad Request").setOutcome(outcome);
			} catch (RuntimeException unparsable) {
				// a URL this check cannot read: HAPI's answer stands
			}
		}
	}

	/** A transaction entry's URL names the type of the resource it writes (HAPI stored the resource and ignored the URL). */
	private static void checkEntries(Bundle bundle) {
		if (bundle.getType() != Bundle.BundleType.TRANSACTION && bundle.getType() != Bundle.BundleType.BATCH) {
			return;
		}
		for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
			Bundle.HTTPVerb verb = entry.getRequest().getMethod();
			if (entry.getResource() == null || (verb != Bundle.HTTPVerb.POST && verb != Bundle.HTTPVerb.PUT)) {
				continue;
			}
			String url = entry.getRequest().getUrl() == null ? "" : entry.getRequest().getUrl();
			String type = url.split("[/?]", 2)[0];
			if (!type.equals(entry.getResource().fhirType())) {
				throw invalid(ErrorCode.BUNDLE_ENTRY_MISMATCH,
						"A bundle entry's request URL names another resource type than the entry's resource");
			}
		}
	}

	/** Operation parameters are single-valued where the operation's declaration says so, and dates are dates. */
	private void checkOperationParameters(RequestDetails request) {
		String operation = request.getOperation();
		if (operation == null) {
			return;
		}
		for (Map.Entry<String, String[]> parameter : request.getParameters().entrySet()) {
			if (input(operation).singleValued() && parameter.getValue().length > 1) {
				throw invalid(ErrorCode.OPERATION_PARAMETER_INVALID, "The parameter " + parameter.getKey() + " may be given only once");
			}
			if (DATE_PARAMETERS.contains(parameter.getKey())) {
				for (String value : parameter.getValue()) {
					try {
						new DateTimeType(value);
					} catch (RuntimeException e) {
						throw invalid(ErrorCode.OPERATION_PARAMETER_INVALID, "The parameter " + parameter.getKey() + " must be a FHIR date or dateTime");
					}
				}
			}
		}
	}

	private static Charset charset(RequestDetails request) {
		Charset charset = request.getCharset();
		return charset == null ? StandardCharsets.UTF_8 : charset;
	}

	/** FHIR XML has no DTD (refusing it shuts out external entities and entity expansion) and is in the FHIR namespace. */
	private void checkXml(byte[] body) {
		if (new String(body, StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT).contains("<!DOCTYPE")) {
			throw invalid(ErrorCode.DOCTYPE_NOT_ALLOWED, "XML with a document type declaration (DTD) is not accepted");
		}
		try {
			XMLStreamReader reader = xml.createXMLStreamReader(new ByteArrayInputStream(body));
			while (reader.hasNext()) {
				if (reader.next() == XMLStreamConstants.START_ELEMENT) {
					if (!"http://hl7.org/fhir".equals(reader.getNamespaceURI())) {
						throw invalid(ErrorCode.INVALID_RESOURCE_CONTENT, "The XML root element is not in the FHIR namespace");
					}
					return;
				}
			}
		} catch (XMLStreamException e) {
			throw invalid(ErrorCode.MALFORMED_BODY, "The body is not well-formed XML");
		}
	}

	private void checkStrictJson(byte[] body) {
		try (JsonParser parser = json.createParser(body)) {
			JsonToken token;
			int roots = 0;
			Deque<Set<String>> choices = new ArrayDeque<>();
			while ((token = parser.nextToken()) != null) {
				if (token == JsonToken.START_OBJECT) {
					choices.push(new HashSet<>());
				} else if (token == JsonToken.END_OBJECT) {
					choices.pop();
				} else if (token == JsonToken.FIELD_NAME) {
					var choice = CHOICE.matcher(parser.currentName());
					if (choice.matches() && !choices.peek().add(choice.group(1))) {
						// HAPI keeps only one of value[x]'s values and drops the other without a word
						throw invalid(ErrorCode.INVALID_RESOURCE_CONTENT, "An element has two values for the choice " + choice.group(1) + "[x]");
					}
				}
				if (parser.getParsingContext().inRoot() && (token.isScalarValue() || token.isStructEnd())) {
					roots++;
				}
				if (token == JsonToken.VALUE_NUMBER_FLOAT && !Double.isFinite(parser.getDoubleValue())) {
					throw invalid(ErrorCode.MALFORMED_BODY, "A number in the body is out of range");
				}
			}
			if (roots != 1) {
				throw invalid(ErrorCode.MALFORMED_BODY, "The body must be exactly one JSON object");
			}
		} catch (JsonProcessingException e) {
			// Jackson's message names the problem and its position (line/column)
			throw invalid(ErrorCode.MALFORMED_BODY, "The body is not valid JSON: " + e.getOriginalMessage());
		} catch (IOException e) {
			throw invalid(ErrorCode.MALFORMED_BODY, "The body is not valid JSON");
		}
	}

	private static XMLInputFactory newXmlInputFactory() {
		XMLInputFactory factory = XMLInputFactory.newFactory();
		factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
		factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
		return factory;
	}

	/** HAPI's parser names the element in its message ({@code [element="status"]}, "for element valueQuantity"). */
	private static final Pattern PARSER_ELEMENT = Pattern.compile("\\[element=\"([^\"]+)\"\\]|for element ([A-Za-z0-9_.\\[\\]]+)");

	/** A parse error as an OperationOutcome whose issue also names the element in {@code expression}, when HAPI said which. */
	private static InvalidRequestException invalidContent(String message) {
		OperationOutcome outcome = new OperationOutcome();
		var issue = outcome.addIssue()
				.setSeverity(OperationOutcome.IssueSeverity.ERROR)
				.setCode(OperationOutcome.IssueType.STRUCTURE)
				.setDiagnostics(ErrorCode.INVALID_RESOURCE_CONTENT.message(message));
		var element = PARSER_ELEMENT.matcher(message);
		if (element.find()) {
			issue.addExpression(element.group(1) != null ? element.group(1) : element.group(2));
		}
		return new InvalidRequestException(ErrorCode.INVALID_RESOURCE_CONTENT.message(message), outcome);
	}

	/**
	 * A Bundle whose JSON does not parse: HAPI's parser names the element but not the entry, so each entry's resource
	 * is parsed on its own and the first that fails is named as a refused transaction entry is named (see
	 * {@code fhir.ClientCompatibilityInterceptor}): {@code Bundle.entry[i]} as location and first expression, the
	 * {@code fullUrl} in the diagnostics. Returns normally when the body is no Bundle or no single entry fails (the
	 * Bundle's own elements are wrong): the caller then reports the error without an entry.
	 */
	private void failingEntry(byte[] body) {
		JsonNode root;
		try {
			root = new ObjectMapper().readTree(body);
		} catch (IOException e) {
			return;
		}
		if (root == null || !"Bundle".equals(root.path("resourceType").asText()) || !root.path("entry").isArray()) {
			return;
		}
		IParser parser = fhirContext.newJsonParser().setParserErrorHandler(new StrictErrorHandler());
		for (int i = 0; i < root.path("entry").size(); i++) {
			JsonNode entry = root.path("entry").get(i);
			if (!entry.path("resource").isObject()) {
				continue;
			}
			try {
				parser.parseResource(entry.path("resource").toString());
			} catch (DataFormatException | IllegalArgumentException | IllegalStateException e) {
				String fullUrl = entry.path("fullUrl").isTextual() ? entry.path("fullUrl").asText() : null;
				throw inEntry(ErrorCode.INVALID_RESOURCE_CONTENT.message("The resource is not valid FHIR: " + e.getMessage()),
						elementOf(e.getMessage()), i, fullUrl);
			}
		}
	}

	private static String elementOf(String message) {
		var element = PARSER_ELEMENT.matcher(String.valueOf(message));
		return element.find() ? (element.group(1) != null ? element.group(1) : element.group(2)) : null;
	}

	/** A refusal of one entry of a posted Bundle, named as {@code ClientCompatibilityInterceptor} names refused transaction entries. */
	private static InvalidRequestException inEntry(String message, String element, int index, String fullUrl) {
		String path = "Bundle.entry[" + index + "]";
		String diagnostics = message + " [" + path + (fullUrl == null || fullUrl.isBlank() ? "" : ", fullUrl " + fullUrl)
				+ "; nothing in the Bundle was processed]";
		OperationOutcome outcome = new OperationOutcome();
		var issue = outcome.addIssue()
				.setSeverity(OperationOutcome.IssueSeverity.ERROR)
				.setCode(OperationOutcome.IssueType.STRUCTURE)
				.setDiagnostics(diagnostics);
		issue.addLocation(path);
		issue.addExpression(path);
		if (element != null) {
			issue.addExpression(element);
		}
		return new InvalidRequestException(diagnostics, outcome);
	}

	private static InvalidRequestException invalid(ErrorCode code, String message) {
		return new InvalidRequestException(code.message(message));
	}
}
