package org.nssifhir.server.support;

/**
 * Stable error codes for problems this server (not HAPI) detects. The code prefixes the OperationOutcome
 * diagnostics ({@code NSSI-0101: ...}) so clients and log searches can rely on it; never renumber one.
 */
public enum ErrorCode {
	REQUEST_BODY_TOO_LARGE(101, 413, "request body larger than `NSSI_LIMITS_MAXREQUESTBODY`"),
	BUNDLE_TOO_MANY_ENTRIES(102, 413, "batch or transaction with more entries than `NSSI_LIMITS_MAXBUNDLEENTRIES`"),
	COUNT_TOO_LARGE(103, 400, "`_count` above `NSSI_FHIR_MAXPAGESIZE`"),
	TOO_MANY_INCLUDES(104, 400, "more `_include` + `_revinclude` parameters than `NSSI_LIMITS_MAXINCLUDEPARAMETERS`"),
	COUNT_INVALID(105, 400, "`_count` is not a non-negative integer"),
	PROFILE_VALIDATION_FAILED(201, 422, "resource does not conform to an NSSI profile (one issue per element/rule follows)"),
	UNAUTHENTICATED(301, 401, "no valid bearer token (missing, malformed, expired, revoked, foreign-signed, wrong audience)"),
	SCOPE_DOES_NOT_ALLOW(302, 403, "the token's scopes (or patient context) do not allow this request or batch entry"),
	SCOPE_NOT_ENFORCEABLE(303, 403, "a scope or scope query the server cannot enforce"),
	RESTRICTED_NO_RELATIONSHIP(304, 403, "an operation computed from a patient's restricted record, without a treating relationship, the patient's Consent or break-the-glass (a restricted record itself is answered as missing, and left out of searches)"),
	// 305 reserved (an adolescent record refused to a proxy is a plain 404: its existence is confidential)
	BREAK_GLASS_NOT_ALLOWED(306, 403, "break-the-glass not allowed for this token or request"),
	PURPOSE_OF_USE_UNSUPPORTED(307, 400, "unsupported `X-Purpose-Of-Use` value"),
	SEARCH_NOT_AVAILABLE_WHEN_FILTERED(308, 400, "search parameter not available to a user whose results are filtered"),
	DELETE_TARGET_REFERENCED(309, 409, "delete refused: the resource is referenced by other resources (which are not named)"),
	CONDITIONAL_NOT_PERMITTED(310, 403, "conditional create/update/patch/delete or conditional reference not confined to a record the caller may see in full"),
	POLICY_REFUSED(311, 403, "the access policy refuses this change (care relationships, consents, proxies, subscriptions, label operations) or interaction"),
	// enrolment and sign-in (security/enrolment)
	INVITATION_NOT_USABLE(321, 410, "invitation link unknown, already used, expired or revoked (the same answer for each)"),
	PASSWORD_RULES_NOT_MET(322, 400, "enrolment: the password breaks the rules (12 to 128 characters, not the username, not a common password, the two entries the same) or the username is taken or malformed"),
	SIGN_IN_RATE_LIMITED(323, 429, "too many failed sign-ins or invitation links from this address in a short time: wait and try again"),
	SIGN_IN_LOCKED(324, 429, "sign-in for this username paused after repeated failed attempts (`NSSI_ENROLMENT_MAXFAILURES`, for `NSSI_ENROLMENT_LOCKOUT`); a new invitation resets it"),
	NOT_INVITABLE(325, 422, "`$nssi-invite`: the resource cannot sign in (a RelatedPerson that is inactive or names no patient)"),
	RESPONSE_NOT_EXTRACTABLE(401, 422, "QuestionnaireResponse not extractable (status, subject, incomplete PHQ-9)"),
	QUESTIONNAIRE_NOT_SUPPORTED(402, 422, "questionnaire not supported by `$extract`"),
	OPERATION_PARAMETER_INVALID(403, 400, "invalid or repeated operation parameter"),
	PHQ9_TOTAL_CONTRADICTS_ITEMS(404, 422, "a PHQ-9 response whose total score answer is not the sum of its items 1-9, or is given while an item is unanswered"),
	ASSESSMENT_RESPONDENT_CONTRADICTS_AUTHOR(405, 422, "an NSSI assessment response whose `respondent` answer contradicts its author (or, without an author, its source): a Patient or RelatedPerson with `respondent-clinician`, a Practitioner or PractitionerRole with `respondent-self`"),
	// treatment (treatment/)
	NO_NSSI_CONDITION(501, 422, "`$apply` with `persist=true`: the patient has no active NSSI Condition"),
	NOT_A_TREATMENT_PLAN(502, 400, "not a DBT/CBT PlanDefinition (`$apply`) or CarePlan (`$nssi-progress`)"),
	PATIENT_MAY_EDIT_ONLY_RELAPSE_PLAN(503, 403, "a patient-context token may edit only the relapse-prevention plan"),
	PLAN_LOGIC_FAILED(504, 500, "`$apply` produced a plan without the suicide-risk pathway while a suicide-risk Flag is open"),
	ACTIVE_PLAN_EXISTS(505, 409, "`$apply` with `persist=true`: the patient already has an active DBT or CBT plan"),
	// safety escalation (escalation/)
	ESCALATION_TASK_UNDOCUMENTED(601, 422, "an escalation Task set to `completed` without a documented risk assessment (a `Task.output` referencing a RiskAssessment, Procedure, QuestionnaireResponse, Observation, ClinicalImpression or DocumentReference)"),
	// relabelling stored data (relabel/)
	RELABEL_NOT_ALLOWED(701, 403, "`$nssi-relabel` and `$nssi-relabel-status` are for a backend services client (a system scope that updates every type)"),
	RELABEL_ALREADY_RUNNING(702, 409, "`$nssi-relabel`: a relabelling job has not finished (its id is named: poll `$nssi-relabel-status`)"),
	RELABEL_JOB_NOT_FOUND(703, 404, "`$nssi-relabel-status`: no relabelling job with this id"),
	// integration (bulk export, CDS Hooks)
	BULK_EXPORT_NOT_ALLOWED(801, 403, "bulk export not allowed for this token or these types"),
	BULK_EXPORT_NOT_FOUND(802, 404, "no such export for this client"),
	BULK_IMPORT_NOT_ALLOWED(803, 403, "bulk import not allowed for this token, these types or these source URLs (`NSSI_INTEGRATION_IMPORTSOURCES`)"),
	BULK_IMPORT_NOT_FOUND(804, 404, "no such import for this client"),
	CDS_HOOKS_UNAUTHENTICATED(811, 401, "CDS Hooks call without a valid JWT"),
	CDS_HOOKS_REQUEST_INVALID(812, 400, "invalid CDS Hooks request (404 for an unknown CDS service)"),
	// hostile-input hardening (hardening/)
	MALFORMED_BODY(901, 400, "body is not well-formed JSON/XML, or not exactly one JSON object"),
	DOCTYPE_NOT_ALLOWED(902, 400, "XML with a document type declaration (DTD)"),
	INVALID_RESOURCE_CONTENT(903, 400, "resource is not valid FHIR (missing required element, extension without url, active narrative, two choice values)"),
	INVALID_ID(904, 400, "resource id is not a FHIR id"),
	INVALID_VERSION(905, 400, "version id or `If-Match` is not a version number"),
	INVALID_PARAMETER(906, 400, "invalid, repeated or unsupported request parameter"),
	BUNDLE_ENTRY_MISMATCH(907, 400, "a bundle entry's request URL names another resource type than its resource"),
	REQUEST_REJECTED(908, 400, "request refused below HAPI (URL rejected by the firewall; Tomcat's own refusals keep Tomcat's status)"),
	UNPROCESSABLE_REQUEST(909, 400, "request HAPI could not process as sent (it would otherwise be a 500)"),
	SEARCH_VALUE_INVALID(910, 400, "a search parameter's value is not valid for its type (the parameter and the value are named)"),
	COMPARTMENT_SEARCH_UNSUPPORTED(911, 400, "compartment search this server cannot answer as one search (the type is not in the compartment, or is in it through several parameters)"),
	SYSTEM_SEARCH_UNSUPPORTED(912, 400, "system-level search (`[base]?…` or `[base]/_search`): this server searches one resource type at a time");

	private final int number;
	private final int httpStatus;
	private final String meaning;

	ErrorCode(int number, int httpStatus, String meaning) {
		this.number = number;
		this.httpStatus = httpStatus;
		this.meaning = meaning;
	}

	public String code() {
		return String.format("NSSI-%04d", number);
	}

	/**
	 * The HTTP status this code is answered with (where a code has a second status, {@link #meaning()} says so).
	 * Documentation only: the throwing code decides the status; the README's error table is tested against this.
	 */
	public int httpStatus() {
		return httpStatus;
	}

	/** What the code means, in a few words (the README's error table; never part of a message). */
	public String meaning() {
		return meaning;
	}

	/** A message ready for an OperationOutcome: the code, then the human text. */
	public String message(String text) {
		return code() + ": " + text;
	}
}
