package org.nssifhir.server.config;

import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.CorsInterceptor;
import ca.uhn.fhir.storage.interceptor.balp.BalpAuditCaptureInterceptor;
import java.util.List;
import org.nssifhir.server.audit.AuditEventWriter;
import org.nssifhir.server.audit.AuditTrailProtectionInterceptor;
import org.nssifhir.server.audit.OperationAndHistoryAuditor;
import org.nssifhir.server.audit.RefusedAccessAuditor;
import org.nssifhir.server.audit.SmartAuditContext;
import org.nssifhir.server.bulk.BulkExportConfig;
import org.nssifhir.server.fhir.CapabilityStatementInterceptor;
import org.nssifhir.server.fhir.ErrorLoggingInterceptor;
import org.nssifhir.server.fhir.IfMatchPreconditionInterceptor;
import org.nssifhir.server.limits.RequestLimitsInterceptor;
import org.nssifhir.server.openapi.OpenApiSettings;
import org.nssifhir.server.security.SmartAuthorizationInterceptor;
import org.nssifhir.server.security.SmartSearchNarrowingInterceptor;
import org.nssifhir.server.security.consent.SensitiveDataConsentInterceptor;
import org.nssifhir.server.security.consent.SensitiveDataConsentService;
import org.nssifhir.server.security.policy.AccessPolicyInterceptor;
import org.nssifhir.server.settings.NssiProperties;

/**
 * The FHIR request pipeline, written once: every HAPI interceptor of ours, where it is registered and in what order
 * ({@link #STAGES}), and the registration of the REST-server part ({@link #registerWith}).
 *
 * <p><b>The rule.</b> An interceptor on the <em>REST server</em> sees client requests only: what came in over
 * {@code /fhir} with a token (access rules, consent, audit of what a client was shown, input and size limits,
 * response shaping). An interceptor on HAPI's <em>global interceptor service</em> ({@code IInterceptorService}) sees
 * every storage write, the server's own included (escalation Tasks, audit events, package install, $apply and
 * $extract writes): data rules that must hold whoever writes (labels, profiles, derived records). A rule that must
 * not be bypassed by a server-side write goes on the storage service; a rule about <em>who asks</em> goes on the REST
 * server, where the caller is known.
 *
 * <p>Within the REST server, interceptors run in the order listed here for the same hook (HAPI keeps registration
 * order among equal {@code @Hook} orders); a few hooks set an explicit order, noted in the class.
 * {@code RequestPipelineTest} fails when an interceptor of ours is missing from {@link #STAGES}.
 */
public final class RequestPipeline {

	/** Where an interceptor is registered. */
	public enum Where {
		/** {@code RestfulServer}: client requests over {@code /fhir} only */
		REST_SERVER,
		/** HAPI's global {@code IInterceptorService}: every storage operation, the server's own included */
		STORAGE,
		/** a private interceptor service of one component (not part of any request's pipeline) */
		OWN
	}

	/** One interceptor: where it sits, when it is on, and who registers it. */
	public record Stage(Where where, String interceptor, String when, String registeredBy) {}

	/** The pipeline in the order a request meets it (REST server first, then the storage hooks of its writes). */
	public static final List<Stage> STAGES = List.of(
			new Stage(Where.REST_SERVER, "BulkExportGuard", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "BulkExportFileGuard", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "BulkExportAuditor", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "OpenApiInterceptor", "OpenAPI on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "RequestLimitsInterceptor", "always", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "SmartSearchNarrowingInterceptor", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "SmartAuthorizationInterceptor", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "AccessPolicyInterceptor", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "SensitiveDataConsentInterceptor", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "BalpAuditCaptureInterceptor", "security on", "RequestPipeline"),
			// what BALP's capture leaves unaudited: history, $meta, named operations ($everything, computed answers)
			new Stage(Where.REST_SERVER, "OperationAndHistoryAuditor", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "RefusedAccessAuditor", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "AuditTrailProtectionInterceptor", "security on", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "CapabilityStatementInterceptor", "always", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "ErrorLoggingInterceptor", "always", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "IfMatchPreconditionInterceptor", "always", "RequestPipeline"),
			new Stage(Where.REST_SERVER, "CorsInterceptor", "CORS on", "RequestPipeline"),
			// registered once the server exists, by their feature's configuration
			new Stage(Where.REST_SERVER, "DeleteConflictDiagnosticsInterceptor", "always", "fhir/ConflictDiagnosticsConfig"),
			// typed page links, compartment searches, Prefer: handling=lenient, $validate's body profile: mapped onto
			// ordinary requests before HAPI picks a method, so every hook above sees an ordinary request
			new Stage(Where.REST_SERVER, "ClientCompatibilityInterceptor", "always", "fhir/ClientCompatibilityConfig"),
			// $validate of a response to our Questionnaires validates it as a write would store it, with a note per change
			new Stage(Where.REST_SERVER, "ValidateBody", "always", "assessment/AssessmentConfig"),
			new Stage(Where.REST_SERVER, "StrictInputInterceptor", "always", "hardening/HardeningConfig"),
			new Stage(Where.REST_SERVER, "ClientErrorMappingInterceptor", "always", "hardening/HardeningConfig"),
			new Stage(Where.REST_SERVER, "BulkImportGuard", "always (token checks: security on)", "bulk/BulkImportConfig"),
			// answers GET /metadata from the built statement and ends the request: after every other hook
			new Stage(Where.REST_SERVER, "CapabilityStatementCache", "always", "fhir/CapabilityStatementConfig"),
			// storage hooks: every write, the server's own included
			new Stage(Where.STORAGE, "SecurityLabelingInterceptor", "always", "labeling/LabelingConfig"),
			new Stage(Where.STORAGE, "NssiWriteInterceptor", "always", "conformance/ConformanceConfig"),
			new Stage(Where.STORAGE, "AuditReferencesInterceptor", "always", "conformance/ConformanceConfig"),
			new Stage(Where.STORAGE, "RelapsePlanEditRule", "always", "treatment/TreatmentConfig"),
			new Stage(Where.STORAGE, "GoalRefreshInterceptor", "always", "treatment/TreatmentConfig"),
			new Stage(Where.STORAGE, "Phq9TotalRule", "always", "assessment/AssessmentConfig"),
			new Stage(Where.STORAGE, "AssessmentRespondentRule", "always", "assessment/AssessmentConfig"),
			new Stage(Where.STORAGE, "EscalationInterceptor", "always", "escalation/EscalationConfig"),
			new Stage(Where.STORAGE, "TaskClosureInterceptor", "always", "escalation/EscalationConfig"),
			// after escalation: it reacts to the suicide-risk Flag escalation writes
			new Stage(Where.STORAGE, "SuicideRiskPathwayInterceptor", "always", "treatment/TreatmentConfig"),
			new Stage(Where.STORAGE, "ConcurrentAlertRetry", "always", "escalation/EscalationConfig"),
			new Stage(Where.STORAGE, "SubscriptionDeliveryGuard", "always", "security/SecurityConfig"),
			new Stage(Where.STORAGE, "RestrictedSearchNarrowing", "security on", "security/SecurityConfig"),
			new Stage(Where.STORAGE, "CapabilityStatementInvalidation", "always", "fhir/CapabilityStatementConfig"),
			// AuditEvents out of $everything and reverse includes, in the query (system history: audit/ClinicalHistory)
			new Stage(Where.STORAGE, "ClinicalReadsInterceptor", "always", "audit/AuditSeparationConfig"),
			// a response to our Questionnaires is stored as written (PHQ-9 integers as LOINC answers, current item texts)
			new Stage(Where.STORAGE, "ResponseAsWritten", "always", "assessment/AssessmentConfig"),
			// a client's search about one patient pages by offset, without a stored snapshot (issue 21)
			new Stage(Where.STORAGE, "PatientSearchPaging", "always", "fhir/PatientSearchPagingConfig"),
			// the client that started a bulk import, recorded in the job as HAPI creates it
			new Stage(Where.STORAGE, "BulkImportJobOwner", "always", "bulk/BulkImportConfig"),
			// the audit outbox's own requests only
			new Stage(Where.OWN, "AuditSubscriptionFilter", "always", "audit/AuditOutboxDrain"));

	private final NssiProperties properties;
	private final BulkExportConfig.BulkExport bulkExport;
	private final RequestLimitsInterceptor limits;
	private final SmartSearchNarrowingInterceptor searchNarrowing;
	private final SmartAuthorizationInterceptor authorization;
	private final AccessPolicyInterceptor accessPolicy;
	private final SensitiveDataConsentService consentService;
	private final AuditEventWriter auditWriter;
	private final SmartAuditContext auditContext;
	private final OperationAndHistoryAuditor operationAuditor;
	private final RefusedAccessAuditor refusedAccessAuditor;
	private final CapabilityStatementInterceptor capabilityStatement;
	private final ErrorLoggingInterceptor errorLogging;
	private final IfMatchPreconditionInterceptor ifMatch;
	private final CorsInterceptor cors;

	public RequestPipeline(
			NssiProperties properties,
			BulkExportConfig.BulkExport bulkExport,
			RequestLimitsInterceptor limits,
			SmartSearchNarrowingInterceptor searchNarrowing,
			SmartAuthorizationInterceptor authorization,
			AccessPolicyInterceptor accessPolicy,
			SensitiveDataConsentService consentService,
			AuditEventWriter auditWriter,
			SmartAuditContext auditContext,
			OperationAndHistoryAuditor operationAuditor,
			RefusedAccessAuditor refusedAccessAuditor,
			CapabilityStatementInterceptor capabilityStatement,
			ErrorLoggingInterceptor errorLogging,
			IfMatchPreconditionInterceptor ifMatch,
			CorsInterceptor cors) {
		this.properties = properties;
		this.bulkExport = bulkExport;
		this.limits = limits;
		this.searchNarrowing = searchNarrowing;
		this.authorization = authorization;
		this.accessPolicy = accessPolicy;
		this.consentService = consentService;
		this.auditWriter = auditWriter;
		this.auditContext = auditContext;
		this.operationAuditor = operationAuditor;
		this.refusedAccessAuditor = refusedAccessAuditor;
		this.capabilityStatement = capabilityStatement;
		this.errorLogging = errorLogging;
		this.ifMatch = ifMatch;
		this.cors = cors;
	}

	/** Registers the REST-server interceptors that {@link #STAGES} attributes to this class, in its order. */
	public void registerWith(RestfulServer server) {
		boolean security = properties.security().enabled();
		if (security) {
			// Bulk Data $export's guards (bulk/BulkExportGuard, BulkExportFileGuard) and its audit
			bulkExport.registerGuards(server);
		}
		// OpenAPI + Swagger UI (on in the embedded default, off in production unless configured)
		OpenApiSettings.registerWith(server, properties);
		server.registerInterceptor(limits);
		if (security) {
			// narrowing first, so searches are limited to the patient's compartment before the rules check them
			server.registerInterceptor(searchNarrowing);
			server.registerInterceptor(authorization);
			// the access policy: every interaction classified, conditional matches, writes, and every response
			server.registerInterceptor(accessPolicy);
			// sensitivity labels and consent, per returned resource; before the audit, so it records what was shown
			server.registerInterceptor(new SensitiveDataConsentInterceptor(consentService));
			// IHE BALP AuditEvents for every read, search and write, and ours for history, $meta and operations; refusals separately
			server.registerInterceptor(new BalpAuditCaptureInterceptor(auditWriter, auditContext));
			server.registerInterceptor(operationAuditor);
			server.registerInterceptor(refusedAccessAuditor);
			server.registerInterceptor(new AuditTrailProtectionInterceptor());
		}
		server.registerInterceptor(capabilityStatement);
		server.registerInterceptor(errorLogging);
		server.registerInterceptor(ifMatch);
		if (cors != null) {
			server.registerInterceptor(cors);
		}
	}
}
