package org.nssifhir.server.security.consent;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.IPreResourceAccessDetails;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentInterceptor;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentService;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.SmartScope;
import org.nssifhir.server.security.policy.FilteredSearches;
import org.nssifhir.server.support.ErrorCode;

/**
 * HAPI's consent interceptor around {@link SensitiveDataConsentService}, registered once on the REST server. Two
 * additions: requests whose results need no filtering skip the consent machinery ({@link #skipWhenNothingIsFiltered}),
 * and it is made safe for a HAPI 8.8.0 defect: when a search's include list holds a resource that was deleted
 * meanwhile (common in {@code $everything}), {@code JpaPreResourceAccessDetails} loads fewer resources than it has
 * ids and {@code getResource(i)} throws IndexOutOfBounds, a 500 for a valid request (fixed upstream by returning
 * null). Here a missing slot reads as null, which the consent service passes over.
 */
public class SensitiveDataConsentInterceptor extends ConsentInterceptor {

	public SensitiveDataConsentInterceptor(IConsentService service) {
		super(service);
	}

	/**
	 * Requests whose results need no filtering skip HAPI's consent machinery altogether: backend systems only (their
	 * scopes are the whole rule). They keep {@code _summary=count} and {@code _total=accurate}, which the consent
	 * interceptor refuses (HAPI-2037/2038) because a count would reveal what filtering hides. A patient reading
	 * "their own" record is filtered like anyone else: if any path ever reached another patient's data, the filter
	 * is what would stop it.
	 */
	@Hook(value = Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED, order = -1)
	public void skipWhenNothingIsFiltered(RequestDetails request) {
		Optional<SmartAccess> current = SmartAccess.current();
		if (current.isEmpty() || BreakTheGlass.unsupportedValue().isPresent() || BreakTheGlass.asserted()) {
			return;
		}
		if (backend(current.get())) {
			ConsentInterceptor.skipAllConsentForRequest(request);
			return;
		}
		// filtering only hides what a search returns, not what it matched on: criteria that look into other
		// resources (_has, chains) or at labels could tell a filtered user that a hidden record exists
		for (String name : request.getParameters().keySet()) {
			if (FilteredSearches.refused(name, "")) {
				throw new InvalidRequestException(ErrorCode.SEARCH_NOT_AVAILABLE_WHEN_FILTERED.message(
						"The search parameter '" + name.replaceAll("[^A-Za-z0-9_:.\\-]", "") + "' is not available to this user: "
								+ "it could reveal records that sensitivity labels hide"));
			}
		}
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

	static boolean backend(SmartAccess access) {
		return access.fhirUser().isEmpty() && access.scopes().stream().allMatch(s -> s.context() == SmartScope.Context.SYSTEM);
	}
}
