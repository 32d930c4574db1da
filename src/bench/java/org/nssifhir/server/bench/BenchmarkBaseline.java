package org.nssifhir.server.bench;

import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.rest.server.RestfulServer;
import org.nssifhir.server.bulk.BulkImportJobOwner;
import org.nssifhir.server.conformance.NssiWriteInterceptor;
import org.nssifhir.server.escalation.EscalationInterceptor;
import org.nssifhir.server.fhir.PatientSearchPaging;
import org.nssifhir.server.hardening.StrictInputInterceptor;
import org.nssifhir.server.labeling.SecurityLabelingInterceptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark's baseline server, never for real use: the server then stores unvalidated, unlabelled NSSI data.
 * Not part of the application: {@link BenchmarkMain} starts the baseline with the bench classes on the server's class
 * path and names this class as an extra Spring source ({@code --spring.main.sources}), together with
 * {@code nssi.security.enabled=false}, which already removes authorization, consent and audit. This also unregisters
 * our profile validation and security labelling of writes and the strict input checks, so the server is as close to
 * stock HAPI JPA as this build gets. The benchmark reports each of our workloads as a ratio to the same workload on
 * this baseline.
 *
 * <p>Deliberately not annotated: it is under the application's component-scan package, and must only ever be active
 * when named as a source.
 */
public class BenchmarkBaseline {

	private static final Logger log = LoggerFactory.getLogger(BenchmarkBaseline.class);

	/** The interceptors exist (and are registered) before this bean, which depends on them, is created. */
	public BenchmarkBaseline(IInterceptorService storageInterceptors, NssiWriteInterceptor validation, RestfulServer server,
			StrictInputInterceptor strictInput, SecurityLabelingInterceptor labelling, EscalationInterceptor escalation,
			BulkImportJobOwner importSettings, PatientSearchPaging patientSearchPaging) {
		storageInterceptors.unregisterInterceptor(validation);
		// labelling and escalation are storage hooks of ours too: off, so the baseline's writes (and its $import) are HAPI's
		storageInterceptors.unregisterInterceptor(labelling);
		storageInterceptors.unregisterInterceptor(escalation);
		// and HAPI's own chunk size for $import (ours is tuned for our hooks), so the baseline import is HAPI's as shipped
		storageInterceptors.unregisterInterceptor(importSettings);
		server.unregisterInterceptor(strictInput);
		// HAPI's default paging (a stored snapshot per search), the tuning ours is compared against
		storageInterceptors.unregisterInterceptor(patientSearchPaging);
		log.warn("BENCHMARK BASELINE: NSSI profile validation, labelling, escalation and strict input checks are OFF; one-patient searches page as HAPI does by default");
	}
}
