package org.nssifhir.server.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.PreferHandlingEnum;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.IRestfulServer;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.StringType;
import org.nssifhir.server.support.ErrorCode;

/**
 * Request forms that common FHIR clients send and plain HAPI does not serve, mapped onto what it does serve, before
 * HAPI picks the method that handles a request (so every later hook, the access policy's included, sees an ordinary
 * request):
 * <ul>
 *   <li><b>Typed page links.</b> HAPI's next links point at the server base ({@code [base]?_getpages=…}). Medplum's
 *       page iterator ({@code searchResourcePages}) keeps only a link's query and sends it again to
 *       {@code [base]/[type]}; fhir.js and others do the same. {@code [base]/[type]?_getpages=…} is answered as
 *       the page it names. HAPI 8.8 has no setting to write typed links (the base is hard-coded where it builds
 *       them), so the links stay as HAPI writes them; both forms work.</li>
 *   <li><b>Compartment searches</b> ({@code Patient/x/Condition?…}, what fhir-kit-client's {@code compartment}
 *       option sends): answered as the search {@code Condition?patient=Patient/x&…}. In the Patient compartment the
 *       parameter is the resource's <em>primary</em> patient ({@code patient}, else {@code subject}, else
 *       {@code beneficiary}), the one the access policy reads; being a performer or an asserter does not put a
 *       record in someone's compartment here. Another compartment is served when the target type has exactly one
 *       parameter for it; otherwise 400 {@code NSSI-0911}.</li>
 *   <li><b>{@code Prefer: handling=lenient}</b> on a search ({@code GET [type]?…} or {@code POST [type]/_search}): parameters the server does not know are left out and
 *       named in a warning (an OperationOutcome entry with {@code search.mode = outcome}, names only, never values).
 *       Without the header, or with {@code handling=strict}, an unknown parameter is refused with 400 as before: a
 *       misspelt filter on clinical data must not silently widen a search (FHIR leaves the default to the
 *       server). There is no system-level search here: {@code [base]?…} and {@code [base]/_search} get 400
 *       {@code NSSI-0912} saying so (see {@link #refuseSystemSearch}).</li>
 *   <li><b>{@code $validate} with a Parameters body.</b> HAPI binds a body {@code profile} as the Java text of its
 *       datatype ({@code UriType[...]}), so the validator looked for a profile of that name and reported "Invalid
 *       profile"; and it validates the Parameters itself, with the resource only nested in it. The body's
 *       {@code resource} is made the body and its {@code profile} and {@code mode} the URL parameters, which HAPI
 *       handles correctly.</li>
 *   <li><b>A refused transaction names its entry</b>: the OperationOutcome's issues get the entry's position
 *       ({@code Bundle.entry[i]}, as {@code expression} and {@code location}) and the first one its {@code fullUrl}.
 *       The entry is the one being written when the refusal came (our write rules, the access policy's reference
 *       checks and HAPI's storage all act while an entry is written); a refusal before any entry is written (a
 *       malformed bundle, a conditional URL that does not parse) or while HAPI prepares an entry (a conditional
 *       match, a version precondition: see {@link #beforeItsWrite}) names none.</li>
 *   <li><b>{@code _summary=text} on a read</b> answers the narrative as HTML; HAPI failed with a 500 when the
 *       resource has none (this server does not generate narratives). Such a resource gets an empty narrative in
 *       the answer (nothing stored changes).</li>
 * </ul>
 */
@Interceptor
public class ClientCompatibilityInterceptor {

	/** Request user data: the search parameters left out under {@code handling=lenient}. */
	static final String IGNORED_PARAMETERS = ClientCompatibilityInterceptor.class.getName() + ".ignored";

	/** In the Patient compartment, the parameters that name a resource's primary patient, in order of preference. */
	private static final List<String> PRIMARY_PATIENT = List.of("patient", "subject", "beneficiary");

	private static final String EMPTY_NARRATIVE = "<div xmlns=\"http://www.w3.org/1999/xhtml\">No narrative is recorded for this resource.</div>";

	/** The server's search parameters (custom ones included); null: the RestfulServer's own configuration. */
	private final ISearchParamRegistry searchParameters;

	public ClientCompatibilityInterceptor(ISearchParamRegistry searchParameters) {
		this.searchParameters = searchParameters;
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLER_SELECTED)
	public void route(RequestDetails request) {
		routeTypedPageLink(request);
		routeCompartmentSearch(request);
		refuseSystemSearch(request);
		applyLenientHandling(request);
		unwrapValidateParameters(request);
	}

	private static boolean readLike(RequestDetails request) {
		return request.getRequestType() == RequestTypeEnum.GET || request.getRequestType() == RequestTypeEnum.POST;
	}

	private static void routeTypedPageLink(RequestDetails request) {
		if (request.getResourceName() != null && request.getId() == null && request.getOperation() == null
				&& readLike(request) && request.getParameters().containsKey(Constants.PARAM_PAGINGACTION)) {
			request.setResourceName(null);
		}
	}

	private static void routeCompartmentSearch(RequestDetails request) {
		String compartment = request.getCompartmentName();
		if (compartment == null || request.getId() == null || request.getOperation() != null || !readLike(request)) {
			return;
		}
		FhirContext fhir = request.getFhirContext();
		String owner = request.getResourceName();
		if (!fhir.getResourceTypes().contains(compartment)) {
			return; // HAPI answers an unknown type itself
		}
		String parameter = compartmentParameter(fhir, owner, compartment);
		Map<String, String[]> parameters = new HashMap<>(request.getParameters());
		String value = owner + "/" + request.getId().getIdPart();
		String[] existing = parameters.get(parameter);
		String[] values = existing == null ? new String[] {value} : Arrays.copyOf(existing, existing.length + 1);
		values[values.length - 1] = value;
		parameters.put(parameter, values);
		request.setParameters(parameters);
		request.setResourceName(compartment);
		request.setId(null);
		request.setCompartmentName(null);
		request.setRequestPath(compartment);
	}

	/** The one search parameter of {@code type} that puts it in {@code owner}'s compartment. */
	static String compartmentParameter(FhirContext fhir, String owner, String type) {
		List<String> names = fhir.getResourceDefinition(type).getSearchParamsForCompartmentName(owner).stream()
				.map(RuntimeSearchParam::getName).toList();
		if (names.isEmpty()) {
			throw new InvalidRequestException(ErrorCode.COMPARTMENT_SEARCH_UNSUPPORTED.message(
					type + " is not in the " + owner + " compartment"));
		}
		if ("Patient".equals(owner)) {
			for (String primary : PRIMARY_PATIENT) {
				if (names.contains(primary)) {
					return primary;
				}
			}
		}
		if (names.size() == 1) {
			return names.get(0);
		}
		throw new InvalidRequestException(ErrorCode.COMPARTMENT_SEARCH_UNSUPPORTED.message(type + " is in the " + owner
				+ " compartment through several parameters (" + String.join(", ", names) + "): search " + type
				+ " with the one you mean"));
	}

	/**
	 * This server has no system-level search (HAPI JPA serves none here): {@code [base]?…} and {@code [base]/_search}
	 * are refused with one clear answer, whatever {@code Prefer: handling} says, instead of HAPI's "base URL" or
	 * "does not know how to handle" messages, which left a lenient client unsure whether its preference was ignored.
	 * A bare GET of the base, paging links ({@code _getpages}) and transactions/batches (POST of a body) are not
	 * searches and go on to HAPI.
	 */
	private static void refuseSystemSearch(RequestDetails request) {
		if (request.getResourceName() != null || request.getId() != null || !readLike(request)
				|| request.getParameters().containsKey(Constants.PARAM_PAGINGACTION)) {
			return;
		}
		boolean postSearch = Constants.PARAM_SEARCH.equals(request.getOperation());
		boolean getSearch = request.getOperation() == null && request.getRequestType() == RequestTypeEnum.GET && !request.getParameters().isEmpty();
		if (postSearch || getSearch) {
			String lenient = request.getHeader(Constants.HEADER_PREFER) != null
					&& RestfulServerUtils.parsePreferHeader((IRestfulServer<?>) request.getServer(), request.getHeader(Constants.HEADER_PREFER))
									.getHanding() == PreferHandlingEnum.LENIENT
					? " (Prefer: handling=lenient does not change this: it applies to the parameters of a search this server has)"
					: "";
			throw new InvalidRequestException(ErrorCode.SYSTEM_SEARCH_UNSUPPORTED.message("this server has no system-level search"
					+ " ([base]?… or [base]/_search); search one resource type, [base]/[type]?… or [base]/[type]/_search" + lenient));
		}
	}

	private void applyLenientHandling(RequestDetails request) {
		String prefer = request.getHeader(Constants.HEADER_PREFER);
		// a type-level search, by GET or by POST [type]/_search (HAPI reads the form body into the parameters)
		if (prefer == null || request.getResourceName() == null || request.getId() != null
				|| !(request.getOperation() == null || Constants.PARAM_SEARCH.equals(request.getOperation()))
				|| !readLike(request) || request.getParameters().containsKey(Constants.PARAM_PAGINGACTION)
				|| !request.getFhirContext().getResourceTypes().contains(request.getResourceName())) {
			return;
		}
		if (RestfulServerUtils.parsePreferHeader((IRestfulServer<?>) request.getServer(), prefer).getHanding() != PreferHandlingEnum.LENIENT) {
			return; // strict, or no handling preference: unknown parameters are refused (HAPI's 400)
		}
		ISearchParamRegistry registry = searchParameters != null ? searchParameters : ((RestfulServer) request.getServer()).createConfiguration();
		Map<String, String[]> kept = new HashMap<>();
		Set<String> ignored = new TreeSet<>();
		for (Map.Entry<String, String[]> parameter : request.getParameters().entrySet()) {
			String name = parameter.getKey();
			String base = name.split("[.:]", 2)[0];
			if (name.startsWith("_") || registry.getActiveSearchParam(request.getResourceName(), base,
					ISearchParamRegistry.SearchParamLookupContextEnum.SEARCH) != null) {
				kept.put(name, parameter.getValue());
			} else {
				ignored.add(name);
			}
		}
		if (!ignored.isEmpty()) {
			request.setParameters(kept);
			request.getUserData().put(IGNORED_PARAMETERS, ignored);
		}
	}

	/**
	 * See the class comment. HAPI binds a body {@code profile} as "UriType[…]", and validates a Parameters body as the
	 * Parameters resource (the resource inside is checked only as a nested resource, so a profile would be applied to
	 * the Parameters and a write's classification would see no resource). The body's {@code resource} becomes the
	 * body, {@code profile} and {@code mode} become the URL parameters HAPI reads right: the same request as
	 * {@code POST [type]/$validate?profile=…} with the resource as its body.
	 */
	private static void unwrapValidateParameters(RequestDetails request) {
		if (!Constants.EXTOP_VALIDATE.equals(request.getOperation()) || request.getRequestType() != RequestTypeEnum.POST) {
			return;
		}
		EncodingEnum encoding = RestfulServerUtils.determineRequestEncodingNoDefault(request);
		byte[] body = request.loadRequestContents();
		if (encoding == null || body == null || body.length == 0) {
			return;
		}
		FhirContext fhir = request.getFhirContext();
		IBaseResource parsed;
		try {
			parsed = encoding.newParser(fhir).parseResource(new String(body, StandardCharsets.UTF_8));
		} catch (RuntimeException e) {
			return; // not ours to judge: StrictInputInterceptor and HAPI answer a malformed body
		}
		if (!(parsed instanceof Parameters parameters)) {
			return;
		}
		Map<String, String[]> urlParameters = new HashMap<>(request.getParameters());
		for (String name : List.of(Constants.EXTOP_VALIDATE_PROFILE, Constants.EXTOP_VALIDATE_MODE)) {
			List<String> values = new ArrayList<>();
			parameters.getParameter().stream().filter(p -> name.equals(p.getName()) && p.getValue() instanceof PrimitiveType<?>)
					.forEach(p -> values.add(((PrimitiveType<?>) p.getValue()).getValueAsString()));
			if (values.size() + (urlParameters.containsKey(name) ? 1 : 0) > 1) {
				throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message("$validate takes one " + name));
			}
			if (!values.isEmpty()) {
				urlParameters.put(name, new String[] {values.get(0)});
			}
		}
		Parameters.ParametersParameterComponent resource = parameters.getParameter(Constants.EXTOP_VALIDATE_RESOURCE);
		if (resource == null || resource.getResource() == null) {
			return; // an instance's $validate (mode=delete…): HAPI reads its own parameters from this body
		}
		request.setRequestContents(encoding.newParser(fhir).encodeResourceToString(resource.getResource()).getBytes(StandardCharsets.UTF_8));
		request.setParameters(urlParameters);
	}

	// ---------------------------------------------------------------- which transaction entry was refused

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED, order = Integer.MIN_VALUE)
	public void creating(IBaseResource resource, RequestDetails request) {
		writing(request, resource);
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED, order = Integer.MIN_VALUE)
	public void updating(IBaseResource previous, IBaseResource resource, RequestDetails request) {
		writing(request, resource);
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_DELETED, order = Integer.MIN_VALUE)
	public void deleting(IBaseResource resource, RequestDetails request) {
		writing(request, resource.getIdElement().toUnqualifiedVersionless().getValue());
	}

	/** The resource (create, update: the entry's own instance) or the id (delete) being written now. */
	private static void writing(RequestDetails request, Object what) {
		if (request != null && request.getRestOperationType() == RestOperationTypeEnum.TRANSACTION) {
			request.getUserData().put(WRITING, what);
		}
	}

	/** Request user data: what the transaction was writing when it was refused. */
	static final String WRITING = ClientCompatibilityInterceptor.class.getName() + ".writing";

	@Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
	public BaseServerResponseException nameRefusedEntry(RequestDetails request, Throwable exception) {
		Object what = request.getUserData().get(WRITING);
		if (what == null || !(request.getResource() instanceof Bundle bundle) || bundle.getType() != Bundle.BundleType.TRANSACTION
				|| !(exception instanceof BaseServerResponseException refusal) || refusal.getStatusCode() >= 500
				|| beforeItsWrite(refusal)) {
			return null;
		}
		int index = -1;
		for (int i = 0; i < bundle.getEntry().size() && index < 0; i++) {
			Bundle.BundleEntryComponent entry = bundle.getEntry().get(i);
			boolean match = what instanceof String id
					? entry.getRequest().getMethod() == Bundle.HTTPVerb.DELETE && id.equals(entry.getRequest().getUrl())
					: entry.getResource() == what;
			if (match) {
				index = i;
			}
		}
		if (index < 0) {
			return null;
		}
		String path = "Bundle.entry[" + index + "]";
		String fullUrl = bundle.getEntry().get(index).getFullUrl();
		OperationOutcome outcome = refusal.getOperationOutcome() instanceof OperationOutcome existing ? existing : new OperationOutcome();
		if (!outcome.hasIssue()) {
			outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(OperationOutcome.IssueType.PROCESSING)
					.setDiagnostics(refusal.getMessage());
		}
		for (OperationOutcome.OperationOutcomeIssueComponent issue : outcome.getIssue()) {
			issue.addLocation(path);
			issue.getExpression().add(0, new StringType(path));
		}
		OperationOutcome.OperationOutcomeIssueComponent first = outcome.getIssueFirstRep();
		first.setDiagnostics(first.getDiagnostics() + " [" + path + (fullUrl == null || fullUrl.isBlank() ? "" : ", fullUrl " + fullUrl)
				+ "; the transaction stored nothing]");
		refusal.setOperationOutcome(outcome);
		return null;
	}

	/**
	 * Refusals HAPI makes while it prepares an entry, before that entry's storage hooks: a conditional match (412,
	 * "match URL") or a version precondition ({@code If-Match}). The entry marked then is the one written before, so
	 * none is named (HAPI's message quotes the match URL itself).
	 */
	private static boolean beforeItsWrite(BaseServerResponseException refusal) {
		String message = String.valueOf(refusal.getMessage());
		return refusal.getStatusCode() == 412 || message.contains("match URL") || message.contains("If-Match");
	}

	// ---------------------------------------------------------------- answers

	@Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
	public void respond(RequestDetails request, ResponseDetails response) {
		IBaseResource resource = response.getResponseResource();
		@SuppressWarnings("unchecked")
		Set<String> ignored = (Set<String>) request.getUserData().get(IGNORED_PARAMETERS);
		if (ignored != null && resource instanceof Bundle bundle && bundle.getType() == Bundle.BundleType.SEARCHSET) {
			OperationOutcome warning = new OperationOutcome();
			warning.addIssue()
					.setSeverity(OperationOutcome.IssueSeverity.WARNING)
					.setCode(OperationOutcome.IssueType.NOTSUPPORTED)
					.setDiagnostics("Prefer: handling=lenient: search parameters this server does not know were ignored: "
							+ String.join(", ", ignored));
			bundle.addEntry().setResource(warning).getSearch().setMode(Bundle.SearchEntryMode.OUTCOME);
		}
		String[] summary = request.getParameters().get(Constants.PARAM_SUMMARY);
		if (summary != null && summary.length == 1 && "text".equals(summary[0].trim()) && resource instanceof DomainResource domain
				&& !(resource instanceof Bundle) && (!domain.hasText() || !domain.getText().hasDiv() || domain.getText().getDivAsString() == null)) {
			domain.getText().setStatus(Narrative.NarrativeStatus.EMPTY).setDivAsString(EMPTY_NARRATIVE);
		}
	}
}
