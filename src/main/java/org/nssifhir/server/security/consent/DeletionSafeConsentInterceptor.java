package org.nssifhir.server.security.consent;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.IPreResourceAccessDetails;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentInterceptor;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentService;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * HAPI's consent interceptor, made safe for a HAPI 8.8.0 defect: when a search's include list holds a resource that
 * was deleted meanwhile (common in {@code $everything}), {@code JpaPreResourceAccessDetails} loads fewer resources than
 * it has ids and {@code getResource(i)} throws IndexOutOfBounds, a 500 for a valid request (fixed upstream by
 * returning null). Here a missing slot reads as null, which the consent service passes over.
 */
public class DeletionSafeConsentInterceptor extends ConsentInterceptor {

	public DeletionSafeConsentInterceptor(IConsentService service) {
		super(service);
	}

	@Override
	@Hook(value = Pointcut.STORAGE_PREACCESS_RESOURCES)
	public void interceptPreAccess(RequestDetails request, IPreResourceAccessDetails details) {
		super.interceptPreAccess(request, new IPreResourceAccessDetails() {
			@Override
			public int size() {
				return details.size();
			}

			@Override
			public IBaseResource getResource(int index) {
				try {
					return details.getResource(index);
				} catch (IndexOutOfBoundsException deletedMeanwhile) {
					return null;
				}
			}

			@Override
			public void setDontReturnResourceAtIndex(int index) {
				details.setDontReturnResourceAtIndex(index);
			}
		});
	}
}
