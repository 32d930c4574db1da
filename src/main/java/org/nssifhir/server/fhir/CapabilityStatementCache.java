package org.nssifhir.server.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.HookParams;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IServerConformanceProvider;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;
import org.hl7.fhir.instance.model.api.IBaseConformance;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Serves {@code GET /fhir/metadata} from a statement built once, instead of HAPI's rebuild and re-encoding of
 * the whole CapabilityStatement on every call (HAPI's own cache keeps the object for a minute, but encoding it
 * is most of the cost).
 *
 * <ul>
 *   <li><b>Built once</b>, by HAPI's provider and our {@code SERVER_CAPABILITY_STATEMENT_GENERATED} hooks (so the
 *       statement is exactly what HAPI's path gives), then encoded once per representation (JSON or XML, pretty or
 *       not), plain and gzip.
 *   <li><b>Invalidated</b> by {@link #invalidate()}: the storage hook {@link CapabilityStatementInvalidation} calls it once a change
 *       to a type that shapes the statement (SearchParameter, StructureDefinition, OperationDefinition, the package
 *       install's ImplementationGuide and CapabilityStatement) has committed. Configuration changes need a restart,
 *       which starts with an empty cache. Another node's change is picked up when the statement is rebuilt after
 *       {@link #MAX_AGE} (HAPI's search-parameter registry itself refreshes from the database periodically).
 *   <li><b>ETag</b>: weak ({@code W/"..."}), a hash of the statement's content without its date, so it is the same
 *       across encodings, gzip, rebuilds and nodes with the same content, and changes when the content does.
 *       {@code If-None-Match} with it gets {@code 304 Not Modified}.
 *   <li><b>Cache-Control</b>: {@code public, max-age=60}: the statement is public, and a client or proxy may keep it
 *       for a minute, then revalidate cheaply with {@code If-None-Match}.
 * </ul>
 * Requests with parameters other than {@code _format} and {@code _pretty} ({@code _summary}, {@code _elements})
 * and the RDF format take HAPI's ordinary path (same content, no ETag).
 *
 * <p>Registered last on the REST server (see {@link CapabilityStatementConfig}): every other interceptor's
 * {@code SERVER_INCOMING_REQUEST_POST_PROCESSED} hook has run when this one answers and ends the request.
 */
@Interceptor
public class CapabilityStatementCache {

	/** How long a built statement is served before it is rebuilt anyway (picks up other nodes' changes). */
	static final Duration MAX_AGE = Duration.ofMinutes(5);

	/** What clients and proxies are told they may keep it for. */
	static final String CACHE_CONTROL = "public, max-age=60";

	private static final Set<String> CACHEABLE_PARAMETERS = Set.of(Constants.PARAM_FORMAT, Constants.PARAM_PRETTY);

	private final RestfulServer server;
	private final FhirContext fhirContext;
	private final Clock clock;
	private final AtomicLong generation = new AtomicLong();
	private volatile Built built;

	/** The last content hash and the date it was first seen, so a rebuild of the same content keeps its date. */
	private volatile String lastHash;
	private volatile Date lastChanged;

	public CapabilityStatementCache(RestfulServer server, Clock clock) {
		this.server = server;
		this.fhirContext = server.getFhirContext();
		this.clock = clock;
	}

	/** Drops the built statement: the next request builds it again. */
	public void invalidate() {
		generation.incrementAndGet();
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
	public boolean serve(RequestDetails request, HttpServletRequest servletRequest, HttpServletResponse servletResponse) {
		if (request.getRestOperationType() != RestOperationTypeEnum.METADATA
				|| (request.getRequestType() != RequestTypeEnum.GET && request.getRequestType() != RequestTypeEnum.HEAD)
				|| !CACHEABLE_PARAMETERS.containsAll(request.getParameters().keySet())) {
			return true;
		}
		RestfulServerUtils.ResponseEncoding encoding = RestfulServerUtils.determineResponseEncodingWithDefault(request);
		if (encoding.getEncoding() != EncodingEnum.JSON && encoding.getEncoding() != EncodingEnum.XML) {
			return true;
		}
		Built current = current(request);
		Variant variant = new Variant(encoding.getEncoding(), encoding.getResourceContentType(),
				RestfulServerUtils.prettyPrintResponse(server, request));
		Body body = current.bodies.computeIfAbsent(variant, v -> current.encode(fhirContext, v));
		if (request.getRequestId() != null) {
			servletResponse.setHeader(Constants.HEADER_REQUEST_ID, request.getRequestId());
		}
		write(servletRequest, servletResponse, current.etag, body, request.getRequestType() == RequestTypeEnum.HEAD);
		return false;
	}

	/** The statement to serve: the built one while it is current, else a new build (one thread builds, others wait). */
	Built current(RequestDetails request) {
		Built current = built;
		if (isCurrent(current)) {
			return current;
		}
		synchronized (this) {
			current = built;
			if (isCurrent(current)) {
				return current;
			}
			long buildingGeneration = generation.get();
			current = build(request, buildingGeneration);
			built = current;
			return current;
		}
	}

	private boolean isCurrent(Built current) {
		return current != null
				&& current.generation == generation.get()
				&& current.builtAt.plus(MAX_AGE).isAfter(clock.instant());
	}

	private Built build(RequestDetails request, long buildingGeneration) {
		HttpServletRequest servletRequest = request instanceof ServletRequestDetails s ? s.getServletRequest() : null;
		@SuppressWarnings("unchecked")
		IServerConformanceProvider<IBaseConformance> provider =
				(IServerConformanceProvider<IBaseConformance>) server.getServerConformanceProvider();
		IBaseConformance statement = provider.getServerConformance(servletRequest, request);
		HookParams params = new HookParams();
		params.add(IBaseConformance.class, statement);
		params.add(RequestDetails.class, request);
		params.addIfMatchesType(ServletRequestDetails.class, request);
		Object replaced = server.getInterceptorService()
				.callHooksAndReturnObject(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED, params);
		CapabilityStatement cs = (CapabilityStatement) (replaced != null ? replaced : statement);

		// the hash leaves out the date (HAPI sets it to the time of the build), so a rebuild of unchanged content
		// keeps its ETag, and so does another node with the same content
		Date generatedDate = cs.getDate();
		cs.setDateElement(null);
		String hash = sha256(fhirContext.newJsonParser().encodeResourceToString(cs));
		synchronized (this) {
			if (!hash.equals(lastHash)) {
				lastHash = hash;
				lastChanged = generatedDate != null ? generatedDate : Date.from(clock.instant());
			}
			cs.setDate(lastChanged);
		}
		return new Built(buildingGeneration, clock.instant(), "W/\"" + hash.substring(0, 32) + "\"", cs, new ConcurrentHashMap<>());
	}

	private static void write(HttpServletRequest servletRequest, HttpServletResponse response, String etag, Body body, boolean headOnly) {
		response.setHeader(Constants.HEADER_ETAG, etag);
		response.setHeader(Constants.HEADER_CACHE_CONTROL, CACHE_CONTROL);
		// added, not set: CORS may already have said "Vary: Origin"
		response.addHeader("Vary", "Accept, Accept-Encoding");
		try {
			if (matches(servletRequest.getHeader(Constants.HEADER_IF_NONE_MATCH), etag)) {
				response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
				response.flushBuffer();
				return;
			}
			boolean gzip = acceptsGzip(servletRequest.getHeader(Constants.HEADER_ACCEPT_ENCODING));
			byte[] bytes = gzip ? body.gzip : body.plain;
			response.setStatus(HttpServletResponse.SC_OK);
			response.setContentType(body.contentType + Constants.HEADER_SUFFIX_CT_UTF_8);
			if (gzip) {
				response.setHeader(Constants.HEADER_CONTENT_ENCODING, Constants.ENCODING_GZIP);
			}
			response.setContentLength(bytes.length);
			if (!headOnly) {
				response.getOutputStream().write(bytes);
			}
			response.flushBuffer();
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	/** {@code If-None-Match}: {@code *} or any listed tag equal to ours by the weak comparison (RFC 9110 13.1.2). */
	static boolean matches(String ifNoneMatch, String etag) {
		if (ifNoneMatch == null || ifNoneMatch.isBlank()) {
			return false;
		}
		String ours = opaque(etag);
		for (String tag : ifNoneMatch.split(",")) {
			String t = tag.trim();
			if (t.equals("*") || opaque(t).equals(ours)) {
				return true;
			}
		}
		return false;
	}

	private static String opaque(String tag) {
		return tag.startsWith("W/") ? tag.substring(2) : tag;
	}

	static boolean acceptsGzip(String acceptEncoding) {
		if (acceptEncoding == null) {
			return false;
		}
		for (String coding : acceptEncoding.split(",")) {
			String[] parts = coding.trim().split(";");
			if (parts[0].trim().equalsIgnoreCase("gzip")) {
				return parts.length < 2 || !parts[1].replace(" ", "").matches("q=0(\\.0*)?");
			}
		}
		return false;
	}

	private static String sha256(String text) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}

	/** One representation: encoding, the content type HAPI would answer with, pretty or not. */
	record Variant(EncodingEnum encoding, String contentType, boolean pretty) {}

	/** One representation's bytes, plain and gzip. */
	record Body(String contentType, byte[] plain, byte[] gzip) {}

	/** A built statement and the representations encoded from it so far. */
	record Built(long generation, Instant builtAt, String etag, CapabilityStatement statement, Map<Variant, Body> bodies) {

		Body encode(FhirContext fhirContext, Variant variant) {
			IParser parser = variant.encoding().newParser(fhirContext).setPrettyPrint(variant.pretty());
			byte[] plain = parser.encodeResourceToString(statement).getBytes(StandardCharsets.UTF_8);
			ByteArrayOutputStream compressed = new ByteArrayOutputStream(plain.length / 8);
			try (GZIPOutputStream gzip = new GZIPOutputStream(compressed)) {
				gzip.write(plain);
			} catch (IOException e) {
				throw new UncheckedIOException(e);
			}
			return new Body(variant.contentType(), plain, compressed.toByteArray());
		}
	}

	/**
	 * The storage hook that invalidates the cache: registered on HAPI's global interceptor service, so the package
	 * install and other server-side writes count as well as clients'. It acts after commit (a rolled-back change
	 * changes nothing), and refreshes HAPI's search-parameter registry first, so the rebuild sees the new
	 * parameters whatever order the after-commit callbacks run in.
	 */
	@Interceptor
	public static class CapabilityStatementInvalidation {

		/** The types whose stored resources shape the CapabilityStatement. */
		static final Set<String> SHAPING_TYPES = Set.of(
				"SearchParameter", "StructureDefinition", "OperationDefinition", "ImplementationGuide", "CapabilityStatement");

		private final CapabilityStatementCache cache;
		private final FhirContext fhirContext;
		private final Runnable refreshSearchParameters;

		public CapabilityStatementInvalidation(CapabilityStatementCache cache, FhirContext fhirContext, Runnable refreshSearchParameters) {
			this.cache = cache;
			this.fhirContext = fhirContext;
			this.refreshSearchParameters = refreshSearchParameters;
		}

		@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_CREATED)
		public void created(IBaseResource resource) {
			changed(resource);
		}

		@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_UPDATED)
		public void updated(IBaseResource resource) {
			changed(resource);
		}

		@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_DELETED)
		public void deleted(IBaseResource resource) {
			changed(resource);
		}

		private void changed(IBaseResource resource) {
			if (resource == null || !SHAPING_TYPES.contains(fhirContext.getResourceType(resource))) {
				return;
			}
			boolean searchParameter = "SearchParameter".equals(fhirContext.getResourceType(resource));
			if (!TransactionSynchronizationManager.isSynchronizationActive()) {
				afterCommit(searchParameter);
				return;
			}
			// once per transaction (a package install writes dozens of these in one)
			AfterCommit pending = (AfterCommit) TransactionSynchronizationManager.getResource(this);
			if (pending == null) {
				pending = new AfterCommit();
				TransactionSynchronizationManager.bindResource(this, pending);
				TransactionSynchronizationManager.registerSynchronization(pending);
			}
			pending.searchParameter |= searchParameter;
		}

		private void afterCommit(boolean searchParameter) {
			if (searchParameter) {
				refreshSearchParameters.run();
			}
			cache.invalidate();
		}

		/** What one transaction changed, acted on after it commits. */
		private final class AfterCommit implements TransactionSynchronization {

			private boolean searchParameter;

			@Override
			public void afterCommit() {
				CapabilityStatementInvalidation.this.afterCommit(searchParameter);
			}

			@Override
			public void afterCompletion(int status) {
				TransactionSynchronizationManager.unbindResourceIfPossible(CapabilityStatementInvalidation.this);
			}
		}
	}
}
