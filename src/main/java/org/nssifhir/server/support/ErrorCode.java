package org.nssifhir.server.support;

/**
 * Stable error codes for problems this server (not HAPI) detects. The code prefixes the OperationOutcome
 * diagnostics ({@code NSSI-0101: ...}) so clients and log searches can rely on it; never renumber one.
 */
public enum ErrorCode {
	REQUEST_BODY_TOO_LARGE(101),
	BUNDLE_TOO_MANY_ENTRIES(102),
	COUNT_TOO_LARGE(103),
	TOO_MANY_INCLUDES(104),
	COUNT_INVALID(105),
	PROFILE_VALIDATION_FAILED(201),
	UNAUTHENTICATED(301),
	SCOPE_DOES_NOT_ALLOW(302),
	SCOPE_NOT_ENFORCEABLE(303),
	RESTRICTED_NO_RELATIONSHIP(304),
	// 305 reserved (an adolescent record refused to a proxy is a plain 404: its existence is confidential)
	BREAK_GLASS_NOT_ALLOWED(306),
	PURPOSE_OF_USE_UNSUPPORTED(307),
	SEARCH_NOT_AVAILABLE_WHEN_FILTERED(308),
	// a delete refused because other resources reference the target; which ones is not said (they may be restricted)
	DELETE_TARGET_REFERENCED(309),
	RESPONSE_NOT_EXTRACTABLE(401),
	QUESTIONNAIRE_NOT_SUPPORTED(402),
	OPERATION_PARAMETER_INVALID(403),
	// treatment (treatment/)
	NO_NSSI_CONDITION(501),
	NOT_A_TREATMENT_PLAN(502),
	PATIENT_MAY_EDIT_ONLY_RELAPSE_PLAN(503),
	PLAN_LOGIC_FAILED(504),
	ACTIVE_PLAN_EXISTS(505),
	// integration (bulk export, CDS Hooks)
	BULK_EXPORT_NOT_ALLOWED(801),
	BULK_EXPORT_NOT_FOUND(802),
	CDS_HOOKS_UNAUTHENTICATED(811),
	CDS_HOOKS_REQUEST_INVALID(812),
	// hostile-input hardening (hardening/)
	MALFORMED_BODY(901),
	DOCTYPE_NOT_ALLOWED(902),
	INVALID_RESOURCE_CONTENT(903),
	INVALID_ID(904),
	INVALID_VERSION(905),
	INVALID_PARAMETER(906),
	BUNDLE_ENTRY_MISMATCH(907),
	REQUEST_REJECTED(908),
	UNPROCESSABLE_REQUEST(909);

	private final int number;

	ErrorCode(int number) {
		this.number = number;
	}

	public String code() {
		return String.format("NSSI-%04d", number);
	}

	/** A message ready for an OperationOutcome: the code, then the human text. */
	public String message(String text) {
		return code() + ": " + text;
	}
}
