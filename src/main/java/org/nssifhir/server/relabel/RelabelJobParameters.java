package org.nssifhir.server.relabel;

import ca.uhn.fhir.batch2.jobs.bulkmodify.framework.base.BaseBulkModifyJobParameters;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Parameters of one relabelling job, persisted by batch2 with the job instance: which types (one URL per type, as
 * HAPI's bulk modification jobs take them), why it runs and under which rules fingerprint.
 */
public class RelabelJobParameters extends BaseBulkModifyJobParameters {

	/** Why the job was started: {@value RelabelService#REASON_OPERATION}, {@value RelabelService#REASON_RULES_CHANGED} or
	 * {@value RelabelService#REASON_RETRY} (the automatic run for the current rules failed or was cancelled: started again at
	 * the next startup). */
	@JsonProperty("reason")
	private String reason;

	/** The rules fingerprint the job applies ({@code labeling.SensitiveCategories#fingerprint()}). */
	@JsonProperty("fingerprint")
	private String fingerprint;

	public String getReason() {
		return reason;
	}

	public RelabelJobParameters setReason(String reason) {
		this.reason = reason;
		return this;
	}

	public String getFingerprint() {
		return fingerprint;
	}

	public RelabelJobParameters setFingerprint(String fingerprint) {
		this.fingerprint = fingerprint;
		return this;
	}
}
