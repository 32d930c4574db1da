package org.nssifhir.server.labeling;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.storage.TransactionDetails;
import org.hl7.fhir.instance.model.api.IBaseBundle;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Security labelling on every write: one job, one hook pair. Registered with HAPI's global interceptor service, so
 * REST, batch and transaction entries, {@code $extract}, {@code $apply} and the server's own writes (alerts) are
 * all labelled. It runs first among the storage hooks ({@link #ORDER}): profile validation
 * ({@code NssiWriteInterceptor}) sees the labelled resource, and the access policy (order 1000) judges the write
 * by the labels the resource will be stored with, not by the ones the client sent.
 */
@Interceptor
public class SecurityLabelingInterceptor {

	public static final int ORDER = -100;

	private final SecurityLabelingService labeling;

	public SecurityLabelingInterceptor(SecurityLabelingService labeling) {
		this.labeling = labeling;
	}

	/**
	 * The transaction being processed, kept with the request: HAPI hands each entry to the DAO with a sub-request
	 * that does not carry the Bundle, and stores conditional creates after the other entries, so a conditional
	 * reference to one ({@code Patient?identifier=…}) is resolved against the Bundle itself.
	 */
	@Hook(value = Pointcut.STORAGE_TRANSACTION_PROCESSING, order = ORDER)
	public void transaction(IBaseBundle bundle, RequestDetails request) {
		SecurityLabelingService.rememberTransaction(bundle, request);
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED, order = ORDER)
	public void created(IBaseResource resource, RequestDetails request, TransactionDetails transaction) {
		labeling.label(resource, null, request, transaction);
	}

	@Hook(value = Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED, order = ORDER)
	public void updated(IBaseResource previous, IBaseResource resource, RequestDetails request, TransactionDetails transaction) {
		labeling.label(resource, previous, request, transaction);
	}
}
