package org.nssifhir.server.security.policy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.i18n.Msg;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.util.FhirTerser;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.hl7.fhir.instance.model.api.IBaseReference;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Resource;
import org.nssifhir.server.security.FeatureOperations;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.security.consent.ProxyPatients;
import org.nssifhir.server.security.consent.TreatingRelationships;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.SecurityLabels;

/**
 * Enforces the {@link AccessPolicy} on every interaction, at three points that every request passes whatever its
 * route: before the request is handled (every interaction must be classified, or it is refused; conditional
 * matches and instance operations are checked), in the storage hooks (every write, including batch and
 * transaction entries, conditional and operation writes), and on the way out (every resource in every response,
 * pages of another request's search included, is checked again for the caller who receives it).
 *
 * <p>Registered on the REST server, so it sees client requests only; the server's own writes (escalation, audit,
 * package install) carry a {@link SystemRequestDetails} and are not client access.
 */
@Interceptor
public class AccessPolicyInterceptor {

	/** How each kind of HAPI interaction is handled here. A new kind HAPI adds is refused until classified. */
	enum Handling {
		/** public (CapabilityStatement) */
		PUBLIC,
		/** answers with stored resources: each one is checked on the way out */
		READ,
		/** changes stored resources: the storage hooks decide; conditional forms are checked first */
		WRITE,
		/** a batch or transaction: each entry as above, and each GET entry answers for exactly what it names */
		BUNDLE,
		/** a named operation: only the ones a {@link FeatureOperations} bean declares */
		OPERATION,
		/** {@code $meta}: the labels and profiles of one resource, so only if the resource is readable */
		META,
		/** {@code $meta-add}, {@code $meta-delete}: they change labels without a new version or the policy's checks: refused */
		META_CHANGE,
		/** not offered by this server (GraphQL, DSTU2 tag operations, history rewriting, ValueSet by name) */
		REFUSED
	}

	static Handling handling(RestOperationTypeEnum op) {
		return switch (op) {
			case METADATA -> Handling.PUBLIC;
			case READ, VREAD, SEARCH_TYPE, SEARCH_SYSTEM, HISTORY_INSTANCE, HISTORY_TYPE, HISTORY_SYSTEM, GET_PAGE, VALIDATE -> Handling.READ;
			case CREATE, UPDATE, PATCH, DELETE -> Handling.WRITE;
			case BATCH, TRANSACTION -> Handling.BUNDLE;
			case EXTENDED_OPERATION_SERVER, EXTENDED_OPERATION_TYPE, EXTENDED_OPERATION_INSTANCE -> Handling.OPERATION;
			case META -> Handling.META;
			case META_ADD, META_DELETE -> Handling.META_CHANGE;
			case GRAPHQL_REQUEST, ADD_TAGS, DELETE_TAGS, GET_TAGS, UPDATE_REWRITE_HISTORY -> Handling.REFUSED;
		};
	}

	/**
	 * Every named operation a client may call: the ones the {@link FeatureOperations} beans declare, each with
	 * what protects it ({@link FeatureOperations.Protection}). Any other operation is refused, whatever the scopes:
	 * an operation no one classified is an operation no one checked.
	 */
	private final Set<String> operations;

	private static final Pattern NAMED_RECORD = Pattern.compile("\\b([A-Z][A-Za-z]+)/([A-Za-z0-9\\-.]{1,64})\\b");

	private final FhirContext fhirContext;
	private final AccessPolicy policy;
	private final TreatingRelationships relationships;
	private final DaoRegistry daos;
	private final SecurityEventSink events;
	private final ProxyPatients proxies;

	public AccessPolicyInterceptor(
			FhirContext fhirContext, AccessPolicy policy, TreatingRelationships relationships, DaoRegistry daos, SecurityEventSink events,
			ProxyPatients proxies, Set<String> operations) {
		this.proxies = proxies;
		this.operations = Set.copyOf(operations);
		this.fhirContext = fhirContext;
		this.policy = policy;
		this.relationships = relationships;
		this.daos = daos;
		this.events = events;
	}

	/**
	 * The named operations a client can be allowed to call: the declared ones, less {@code $meta-add} and
	 * {@code $meta-delete}, which are refused to everyone. The CapabilityStatement lists these and no others.
	 */
	public Set<String> offeredOperations() {
		return operations.stream()
				.filter(name -> !"$meta-add".equals(name) && !"$meta-delete".equals(name))
				.collect(Collectors.toUnmodifiableSet());
	}

	// ---------------------------------------------------------------- before handling

	// before HAPI's search narrowing, which rewrites a batch's GET entries into searches of the patient's compartment:
	// the entries are kept as the client sent them, so each answer can be held to what its entry named
	@Hook(value = Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED, order = -10)
	public void beforeHandling(RequestDetails request, RestOperationTypeEnum op) {
		Optional<RequestIdentity> identity = RequestIdentity.of(request);
		if (identity.isEmpty() || op == null) {
			return; // no token: the authorization rules refuse it (or security is off)
		}
		RequestIdentity who = identity.get();
		if (who.kind() == RequestIdentity.Kind.PROXY) {
			requireStandingProxy(who);
		}
		if ("AuditEvent".equals(request.getResourceName()) && (handling(op) == Handling.READ || handling(op) == Handling.META
				|| handling(op) == Handling.OPERATION) && !policy.mayReadAuditTrail(who)) {
			// entries are filtered on the way out, but a count (_summary=count, which backends may use) or a page's
			// shape would still tell who accessed whose record: the audit trail needs a scope naming AuditEvent
			throw forbidden("The audit trail is read with a scope naming AuditEvent (for example system/AuditEvent.rs)");
		}
		switch (handling(op)) {
			case PUBLIC -> {}
			case READ -> {
				// an instance's history answers "empty" for a hidden record and 404 for a missing one: decide first
				if (op == RestOperationTypeEnum.HISTORY_INSTANCE || op == RestOperationTypeEnum.VREAD) {
					requireReadableInstance(request, who, true);
				}
				// a search's pages are built from what the caller may see (HAPI's search task asks the consent
				// service before it stores the result list), but history pages are cut by time and filtered
				// afterwards: a user's page would be short or empty exactly where a hidden version sits
				if ((op == RestOperationTypeEnum.HISTORY_TYPE || op == RestOperationTypeEnum.HISTORY_SYSTEM)
						&& who.kind() != RequestIdentity.Kind.BACKEND) {
					throw forbidden("History across patients is for backend systems; search, or read one record's history");
				}
			}
			case REFUSED -> throw forbidden("This interaction is not offered by this server");
			case META_CHANGE -> throw forbidden("Labels and tags are changed by updating the resource, not by $meta-add or $meta-delete");
			case META -> requireReadableInstance(request, who);
			case OPERATION -> {
				if (!operations.contains(request.getOperation())) {
					throw forbidden("The operation is not available");
				}
				if ("$meta-add".equals(request.getOperation()) || "$meta-delete".equals(request.getOperation())) {
					throw forbidden("Labels and tags are changed by updating the resource, not by $meta-add or $meta-delete");
				}
				// (Bulk Data export of a Group or Patient is governed by bulk/BulkExportGuard and its scope rules: a
				// backend may export a Group it has no Group scope for)
				if (op == RestOperationTypeEnum.EXTENDED_OPERATION_INSTANCE && !"$export".equals(request.getOperation())) {
					requireReadableInstance(request, who);
				}
			}
			case WRITE -> checkConditionalRequest(request, who, op);
			case BUNDLE -> checkBundleEntries(request, who);
		}
	}

	/**
	 * A proxy's token stands for a relationship (RelatedPerson to patient) that a clinician may end before the token
	 * expires: set inactive, deleted, or pointed at another patient. Sign-in and refresh already refuse such a proxy;
	 * the token in hand is refused here, at each request (one read of the RelatedPerson; no cache, so a change holds
	 * from the next request on every node). A proxy named by a Person is left to its scopes and consents.
	 */
	private void requireStandingProxy(RequestIdentity who) {
		String user = who.fhirUser().orElse("");
		if (!user.startsWith("RelatedPerson/")) {
			return;
		}
		Optional<String> patient = proxies.patientOf(user);
		if (patient.isEmpty() || (who.patientId().isPresent() && !who.patientId().get().equals(patient.get()))) {
			AuthenticationException refused = new AuthenticationException(
					ErrorCode.UNAUTHENTICATED.message("The proxy relationship this token was issued for is no longer active"));
			refused.addResponseHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
			throw refused;
		}
	}

	private void checkConditionalRequest(RequestDetails request, RequestIdentity who, RestOperationTypeEnum op) {
		String type = request.getResourceName();
		// a change to one named record: it must exist and be visible to the caller, or the answer is the one a
		// missing record gets. (HAPI would otherwise answer a missing record differently: a delete "succeeds", an
		// update creates it or says no such id exists.) Users cannot create records with ids of their choosing.
		if (op != RestOperationTypeEnum.CREATE && request.getId() != null && request.getId().hasIdPart()
				&& who.kind() != RequestIdentity.Kind.BACKEND) {
			requireReadableInstance(request, who, true);
		}
		if (op == RestOperationTypeEnum.CREATE) {
			String ifNoneExist = request.getHeader(Constants.HEADER_IF_NONE_EXIST);
			if (ifNoneExist != null && !ifNoneExist.isBlank()) {
				checkMatch(request, who, type + "?" + stripType(ifNoneExist));
			}
		} else if (request.getId() == null || !request.getId().hasIdPart()) {
			String conditional = request.getConditionalUrl(op);
			if (conditional != null) {
				checkMatch(request, who, conditional);
			}
		}
		if (request.getResource() != null) {
			checkConditionalReferences(request, who, request.getResource());
		}
	}

	/** Where the entries' requests are kept for the answer's check (HAPI may replace the request's resource). */
	private static final String SENT_ENTRIES = AccessPolicyInterceptor.class.getName() + ".sent";

	private void checkBundleEntries(RequestDetails request, RequestIdentity who) {
		if (!(request.getResource() instanceof Bundle bundle)) {
			return;
		}
		request.getUserData().put(SENT_ENTRIES, bundle.getEntry().stream().map(e -> e.getRequest().copy()).toList());
		for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
			Bundle.BundleEntryRequestComponent r = entry.getRequest();
			String url = r.getUrl() == null ? "" : r.getUrl();
			String type = url.split("[/?]", 2)[0];
			if (who.kind() != RequestIdentity.Kind.BACKEND && url.contains("?")) {
				// a batch entry is a request like any other: the searches a filtered user may not run directly
				// (they look into other resources or count what filtering hides) are refused inside a bundle too
				for (String pair : url.substring(url.indexOf('?') + 1).split("&")) {
					String name = URLDecoder.decode(pair.split("=", 2)[0], StandardCharsets.UTF_8);
					String value = pair.contains("=") ? URLDecoder.decode(pair.split("=", 2)[1], StandardCharsets.UTF_8) : "";
					if (FilteredSearches.refused(name, value)) {
						throw new InvalidRequestException(ErrorCode.SEARCH_NOT_AVAILABLE_WHEN_FILTERED.message(
								"The search parameter '" + name.replaceAll("[^A-Za-z0-9_:.\\-]", "") + "' is not available to this user,"
										+ " in a batch as elsewhere: it could reveal records that sensitivity labels hide"));
					}
				}
			}
			if (CHANGES_ONE_RECORD.contains(r.getMethod()) && who.kind() != RequestIdentity.Kind.BACKEND && !url.contains("?")) {
				// HAPI answers a batch DELETE of a missing record 204 and our check 404 for a hidden one; a PATCH entry
				// on a hidden record answered "200, version 2" (nothing stored) where a missing one got 404: a user's
				// DELETE, PATCH or PUT entry must name a record they may see, else the bundle is answered as a
				// missing record is (as a plain DELETE, PATCH or PUT already is)
				requireVisibleEntryTarget(request, who, url);
			}
			if (r.hasIfNoneExist()) {
				checkMatch(request, who, type + "?" + stripType(r.getIfNoneExist()));
			}
			if (r.getMethod() != Bundle.HTTPVerb.GET && r.getMethod() != Bundle.HTTPVerb.POST && url.contains("?")) {
				checkMatch(request, who, url);
			}
			if (entry.getResource() != null) {
				checkConditionalReferences(request, who, entry.getResource());
			}
		}
	}

	/** Entries that change the one record their URL names (conditional forms are decided by {@code checkMatch}). */
	private static final Set<Bundle.HTTPVerb> CHANGES_ONE_RECORD = EnumSet.of(Bundle.HTTPVerb.DELETE, Bundle.HTTPVerb.PATCH, Bundle.HTTPVerb.PUT);

	private void requireVisibleEntryTarget(RequestDetails request, RequestIdentity who, String url) {
		IdType id = new IdType(url);
		if (id.hasResourceType() && id.hasIdPart() && fhirContext.getResourceTypes().contains(id.getResourceType())) {
			requireReadable(request, who, id.toUnqualifiedVersionless()); // (HAPI refuses a malformed entry itself)
		}
	}

	private void checkConditionalReferences(RequestDetails request, RequestIdentity who, IBaseResource resource) {
		for (IBaseReference reference : fhirContext.newTerser().getAllPopulatedChildElementsOfType(resource, IBaseReference.class)) {
			String value = reference.getReferenceElement().getValue();
			if (value != null && value.contains("?") && !value.startsWith("#")) {
				if (who.kind() != RequestIdentity.Kind.BACKEND && who.kind() != RequestIdentity.Kind.CLINICIAN) {
					throw forbidden("Conditional references are not available to this user");
				}
				// the same rule as every conditional match, a Patient included: HAPI resolves the reference as the server,
				// so a clinician's Patient?identifier=… found a patient hidden from them (and wrote into that chart), and
				// its 201 against the 404 for no match told that the hidden patient exists (review s7, F3). A clinician
				// names a patient they treat (Patient?_id=…), or searches first and uses the literal reference
				checkMatch(request, who, value);
			}
		}
	}

	private void checkMatch(RequestDetails request, RequestIdentity who, String matchUrl) {
		ConditionalMatchPolicy.refusal(fhirContext, relationships, request, who, matchUrl).ifPresent(reason -> {
			throw new ForbiddenOperationException(ErrorCode.CONDITIONAL_NOT_PERMITTED.message(reason));
		});
	}

	/** {@code Observation?identifier=x} and {@code identifier=x} both mean the query {@code identifier=x}. */
	private static String stripType(String query) {
		int q = query.indexOf('?');
		return q >= 0 ? query.substring(q + 1) : query;
	}

	private void requireReadableInstance(RequestDetails request, RequestIdentity who) {
		requireReadableInstance(request, who, false);
	}

	/** {@code alsoDefinitional}: checks existence of definitional content too (its visibility is not in question). */
	private void requireReadableInstance(RequestDetails request, RequestIdentity who, boolean alsoDefinitional) {
		if (request.getId() == null || !request.getId().hasIdPart() || request.getResourceName() == null) {
			return;
		}
		IdType id = new IdType(request.getResourceName(), request.getId().getIdPart());
		if (AccessPolicy.DEFINITIONAL_TYPES.contains(id.getResourceType()) && !alsoDefinitional) {
			return;
		}
		requireReadable(request, who, id);
	}

	/** A record the caller may not see is answered exactly as a missing one. */
	private void requireReadable(RequestDetails request, RequestIdentity who, IdType id) {
		IBaseResource stored;
		try {
			stored = daos.getResourceDao(id.getResourceType()).read(id, new SystemRequestDetails());
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			throw notFound(id);
		} catch (RuntimeException e) {
			return; // an unknown type or a malformed id: HAPI answers the client's mistake itself
		}
		if (!policy.mayRead(request, who, stored)) {
			throw notFound(id);
		}
	}

	// ---------------------------------------------------------------- writes

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED, order = 1000)
	public void created(RequestDetails request, IBaseResource resource) {
		checkWrite(request, "create", null, resource);
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED, order = 1000)
	public void updated(RequestDetails request, IBaseResource previous, IBaseResource resource) {
		// labels never go down through the API: what was restricted stays at least as restricted
		if (previous instanceof Resource before && resource instanceof Resource after && !(request instanceof SystemRequestDetails)) {
			before.getMeta().getSecurity().stream()
					.filter(label -> SecurityLabels.gating(before).contains(label.getCode()))
					.filter(label -> !SecurityLabels.has(after.getMeta(), label.getSystem(), label.getCode()))
					.forEach(label -> after.getMeta().addSecurity(label.copy()));
		}
		checkWrite(request, "update", previous, resource);
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_DELETED, order = 1000)
	public void deleted(RequestDetails request, IBaseResource resource) {
		checkWrite(request, "delete", resource, null);
	}

	private void checkWrite(RequestDetails request, String interaction, IBaseResource before, IBaseResource after) {
		if (request == null || request instanceof SystemRequestDetails) {
			return;
		}
		Optional<RequestIdentity> identity = RequestIdentity.of(request);
		if (identity.isEmpty()) {
			return;
		}
		RequestIdentity who = identity.get();
		Optional<AccessPolicy.Refusal> refusal = policy.writeRefusal(request, who, before, after);
		if (refusal.isPresent() && refusal.get().asNotFound()) {
			throw notFound(before.getIdElement());
		}
		if (refusal.isPresent() && who.patientLevelOnly()) {
			throw forbidden(refusal.get().reason()); // outside its own chart: refused whatever the resource points at
		}
		// before the label check: a resource pointing at a hidden record inherits its labels, and a refusal for
		// those labels would tell a hidden record from a missing one just the same
		if (after != null && who.kind() != RequestIdentity.Kind.BACKEND) {
			requireVisibleReferences(request, who, before, after);
		}
		if (refusal.isPresent()) {
			throw forbidden(refusal.get().reason());
		}
	}

	/**
	 * A new reference to a record the caller may not see is refused with the answer HAPI gives a reference to a
	 * missing record (its referential-integrity check, HAPI-1094): otherwise a Task whose focus is a hidden episode was
	 * stored (201) where a missing one was refused (400), telling the two apart. Checked on the paths HAPI checks (the
	 * resource's reference search parameters); references already in the stored version are left alone.
	 */
	private void requireVisibleReferences(RequestDetails request, RequestIdentity who, IBaseResource before, IBaseResource after) {
		String type = fhirContext.getResourceType(after);
		FhirTerser terser = fhirContext.newTerser();
		Set<String> existing = new HashSet<>();
		if (before != null) {
			terser.getAllResourceReferences(before).forEach(r -> existing.add(
					r.getResourceReference().getReferenceElement().toUnqualifiedVersionless().getValue()));
		}
		for (RuntimeSearchParam parameter : fhirContext.getResourceDefinition(type).getSearchParams()) {
			if (parameter.getParamType() != RestSearchParameterTypeEnum.REFERENCE) {
				continue;
			}
			for (String expression : parameter.getPathsSplit()) {
				String path = expression.trim();
				int where = path.indexOf(".where(");
				path = where > 0 ? path.substring(0, where) : path;
				if (!path.startsWith(type + ".") || path.contains("(") || path.contains(" ")) {
					continue;
				}
				List<IBaseReference> references;
				try {
					references = terser.getValues(after, path, IBaseReference.class);
				} catch (RuntimeException e) {
					continue;
				}
				for (IBaseReference reference : references) {
					IIdType target = reference.getReferenceElement();
					if (target == null || !target.hasResourceType() || !target.hasIdPart() || target.isAbsolute() || target.isLocal()
							|| AccessPolicy.DEFINITIONAL_TYPES.contains(target.getResourceType())
							|| existing.contains(target.toUnqualifiedVersionless().getValue())) {
						continue;
					}
					IBaseResource stored;
					try {
						stored = daos.getResourceDao(target.getResourceType()).read(target.toUnqualifiedVersionless(), new SystemRequestDetails());
					} catch (RuntimeException e) {
						continue; // missing (HAPI refuses it), or a type this server does not store
					}
					// labels, not scopes: pointing at one's own Patient needs no Patient scope; a restricted record the
					// caller may not see is what must not be told apart from a missing one
					if (!policy.labelsAllow(request, who, stored)) {
						throw new InvalidRequestException(Msg.code(1094) + "Resource " + target.getResourceType() + "/" + target.getIdPart()
								+ " not found, specified in path: " + path);
					}
				}
			}
		}
	}

	/** Changes to the facts that decide access are audited as security events, once the change has its id. */
	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_CREATED)
	public void createdCommitting(RequestDetails request, IBaseResource resource) {
		reportSecurityFact(request, "create", null, resource);
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_UPDATED)
	public void updatedCommitting(RequestDetails request, IBaseResource previous, IBaseResource resource) {
		reportSecurityFact(request, "update", previous, resource);
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_DELETED)
	public void deletedCommitting(RequestDetails request, IBaseResource resource) {
		reportSecurityFact(request, "delete", resource, null);
	}

	private void reportSecurityFact(RequestDetails request, String interaction, IBaseResource before, IBaseResource after) {
		if (request == null || request instanceof SystemRequestDetails) {
			return;
		}
		Optional<RequestIdentity> who = RequestIdentity.of(request);
		IBaseResource subject = after != null ? after : before;
		if (who.isPresent() && isSecurityFact(subject, before, after)) {
			events.securityFactChanged(who.get(), interaction,
					fhirContext.getResourceType(subject) + "/" + subject.getIdElement().getIdPart());
		}
	}

	private boolean isSecurityFact(IBaseResource subject, IBaseResource before, IBaseResource after) {
		return switch (fhirContext.getResourceType(subject)) {
			case "CareTeam", "Consent", "RelatedPerson", "Subscription" -> true;
			// a Patient is a security fact when its general practitioners (a care relationship) change
			case "Patient" -> !AccessPolicy.generalPractitioners(before).equals(AccessPolicy.generalPractitioners(after));
			default -> false;
		};
	}

	// ---------------------------------------------------------------- on the way out

	@Hook(value = Pointcut.SERVER_OUTGOING_RESPONSE, order = 1000)
	public void outgoing(RequestDetails request, ResponseDetails response) {
		Optional<RequestIdentity> identity = RequestIdentity.of(request);
		RestOperationTypeEnum op = request.getRestOperationType();
		if (identity.isEmpty() || op == null || op == RestOperationTypeEnum.METADATA || response.getResponseResource() == null) {
			return;
		}
		RequestIdentity who = identity.get();
		IBaseResource body = response.getResponseResource();
		if (handling(op) == Handling.WRITE) {
			// the resource this request wrote, or its conditional match (confined before any search to records the
			// caller may see): decided before and while writing. A match returned instead of a create is a
			// disclosure HAPI's audit does not record as one, so it is recorded here
			if (op == RestOperationTypeEnum.CREATE && response.getResponseCode() == 200 && body.getIdElement().hasIdPart()) {
				events.disclosedByConditionalMatch(who, fhirContext.getResourceType(body) + "/" + body.getIdElement().getIdPart());
			}
			return;
		}
		if (body instanceof Bundle bundle) {
			if (handling(op) == Handling.BUNDLE) {
				checkBundleResponse(request, who, bundle);
			} else {
				filter(request, who, bundle);
			}
		} else if (body instanceof Parameters parameters) {
			for (Parameters.ParametersParameterComponent part : parameters.getParameter()) {
				if (part.getResource() != null && !readable(request, who, part.getResource())) {
					throw notFound(request.getId() == null ? new IdType("unknown") : request.getId());
				}
			}
		} else if (!(body instanceof OperationOutcome) && !policy.mayRead(request, who, body)) {
			throw notFound(body.getIdElement());
		}
	}

	private boolean readable(RequestDetails request, RequestIdentity who, Resource resource) {
		if (resource instanceof OperationOutcome) {
			return true;
		}
		if (resource instanceof Bundle nested) {
			filter(request, who, nested);
			return true;
		}
		return policy.mayRead(request, who, resource);
	}

	/** Removes what the caller may not see from a search, history, page or $everything answer. */
	private void filter(RequestDetails request, RequestIdentity who, Bundle bundle) {
		boolean removed = false;
		for (Iterator<Bundle.BundleEntryComponent> it = bundle.getEntry().iterator(); it.hasNext(); ) {
			Resource resource = it.next().getResource();
			if (resource != null && !readable(request, who, resource)) {
				it.remove();
				removed = true;
			}
		}
		if (removed) {
			bundle.setTotalElement(null); // a total would count what was hidden
		}
	}

	/**
	 * Each entry of a batch or transaction answer holds only what the caller may see, and a GET of one resource
	 * answers for exactly that resource: anything else becomes the answer a missing resource gets.
	 */
	private void checkBundleResponse(RequestDetails request, RequestIdentity who, Bundle response) {
		@SuppressWarnings("unchecked")
		List<Bundle.BundleEntryRequestComponent> sent =
				(List<Bundle.BundleEntryRequestComponent>) request.getUserData().get(SENT_ENTRIES);
		for (int i = 0; i < response.getEntry().size(); i++) {
			Bundle.BundleEntryComponent entry = response.getEntry().get(i);
			Resource resource = entry.getResource();
			// without the request (it cannot be missing: it was kept before handling), every entry is checked as a read
			Bundle.BundleEntryRequestComponent asked = sent != null && i < sent.size() ? sent.get(i) : null;
			boolean isGet = asked != null && asked.getMethod() == Bundle.HTTPVerb.GET;
			if (!isGet && asked != null) {
				continue; // a write entry: decided by the storage hooks
			}
			IdType named = isGet ? namedInstance(asked.getUrl()) : null;
			boolean success = entry.getResponse().getStatus() == null || entry.getResponse().getStatus().startsWith("2");
			if (named != null && resource instanceof Bundle searched) {
				// HAPI's narrowing answered a read with a search of the compartment: keep only what was named
				resource = searched.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
						.filter(r -> r != null && r.fhirType().equals(named.getResourceType())
								&& named.getIdPart().equals(r.getIdElement().getIdPart()))
						.findFirst().orElse(null);
				entry.setResource(resource);
			}
			if (resource == null && !(named != null && success)) {
				continue; // nothing returned, and nothing claimed to be
			}
			boolean exact = named == null || (resource != null
					&& resource.fhirType().equals(named.getResourceType()) && named.getIdPart().equals(resource.getIdElement().getIdPart()));
			if (!exact || !readable(request, who, resource)) {
				OperationOutcome gone = new OperationOutcome();
				gone.addIssue()
						.setSeverity(OperationOutcome.IssueSeverity.ERROR)
						.setCode(OperationOutcome.IssueType.NOTFOUND)
						.setDiagnostics(notFoundMessage(named != null ? named : new IdType(resource.fhirType(), resource.getIdElement().getIdPart())));
				// the entry's status and body, like a missing resource's
				entry.setResource(gone);
				entry.getResponse().setStatus("404 Not Found").setEtag(null).setLocation(null).setLastModified(null);
			}
		}
	}

	/** {@code Observation/1} or {@code Observation/1/_history/2} names one resource; a search does not. */
	private static IdType namedInstance(String url) {
		if (url == null || url.contains("?") || url.contains("$")) {
			return null;
		}
		String[] parts = url.split("/");
		return parts.length >= 2 && !parts[0].isEmpty() && !parts[1].startsWith("_") ? new IdType(parts[0], parts[1]) : null;
	}

	/**
	 * Every "not found" and "gone" a user gets for one resource reads the same, whichever part of HAPI (or this
	 * policy) said it: otherwise the wording would tell a hidden record from a missing or deleted one.
	 */
	@Hook(value = Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION, order = 1000) // after the refusal is audited, so the floor covers it
	public BaseServerResponseException uniformNotFound(RequestDetails request, Throwable exception) {
		if (!(exception instanceof ResourceNotFoundException || exception instanceof ResourceGoneException)) {
			return null;
		}
		Optional<RequestIdentity> who = RequestIdentity.of(request);
		if (who.isEmpty() || who.get().kind() == RequestIdentity.Kind.BACKEND) {
			return null;
		}
		IdType named;
		if (request.getId() != null && request.getId().hasIdPart() && request.getResourceName() != null) {
			named = new IdType(request.getResourceName(), request.getId().getIdPart());
		} else {
			// a type-level operation that read a record it was given (type-level $extract with an inline response's
			// id): HAPI-1995 for a hidden record, HAPI-2001 for a missing one, unless answered alike here
			Matcher m = NAMED_RECORD.matcher(String.valueOf(exception.getMessage()));
			if (!m.find()) {
				padToFloor(request);
				return null;
			}
			named = new IdType(m.group(1), m.group(2));
		}
		padToFloor(request);
		return notFound(named);
	}

	/**
	 * A hidden record is found, then refused after the policy's relationship and consent look-ups; a missing one is
	 * refused at once: measured here, about twice as long, enough to tell them apart with a few dozen requests. Every
	 * user's "not found" therefore takes at least {@code nssi.policy.not-found-floor} from the start of the request
	 * (a clinical app rarely asks for what is not there; a prober pays the floor for every probe).
	 */
	private void padToFloor(RequestDetails request) {
		long floor = policy.settings().notFoundFloor().toMillis();
		long elapsed = request.getRequestStopwatch() == null ? 0 : request.getRequestStopwatch().getMillis();
		if (elapsed < floor) {
			try {
				Thread.sleep(floor - elapsed);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
		}
	}

	// ---------------------------------------------------------------- answers

	/**
	 * The answer for a record the caller may not see: exactly the one a record that does not exist gets, so that
	 * neither its existence nor its labels show.
	 */
	static ResourceNotFoundException notFound(IIdType id) {
		return new ResourceNotFoundException(notFoundMessage(id));
	}

	static String notFoundMessage(IIdType id) {
		return Msg.code(2001) + "Resource " + id.getResourceType() + "/" + id.getIdPart() + " is not known";
	}

	private static BaseServerResponseException forbidden(String reason) {
		return new ForbiddenOperationException(ErrorCode.POLICY_REFUSED.message(reason));
	}
}
