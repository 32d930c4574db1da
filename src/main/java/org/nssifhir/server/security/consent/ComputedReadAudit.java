package org.nssifhir.server.security.consent;

import ca.uhn.fhir.rest.api.server.RequestDetails;

/**
 * Where an operation that computes its answer from a patient's restricted record (the summary, a pre-filled
 * assessment, a plan, its progress) reports the access. HAPI's BALP capture audits the resources a response shows;
 * these answers show none (a Parameters or a new resource), so without this their reads of the record went
 * unaudited. Implemented by the audit trail ({@code audit/OperationAndHistoryAuditor}); an interface here so that security
 * does not depend on how events are stored.
 */
public interface ComputedReadAudit {

	/** The caller of this request was let read the patient's restricted record to compute the answer. */
	void recordComputedRead(RequestDetails request, String patientId);
}
