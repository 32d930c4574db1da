package org.nssifhir.server.security.consent;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.interceptor.api.HookParams;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.api.server.IPreResourceAccessDetails;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentOutcome;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentContextServices;
import ca.uhn.fhir.rest.server.interceptor.consent.IConsentService;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.InMemoryFhirServer;

/**
 * {@link SensitiveDataConsentInterceptor}: when the JPA layer's pre-access list has a slot it cannot load (a resource
 * deleted meanwhile: {@code getResource(i)} throws in HAPI 8.8.0), the request is answered, not a 500.
 */
class SensitiveDataConsentInterceptorTest {

	/**
	 * Stands in for a JPA search: three result slots, the second deleted since the search ran; asks the pre-access
	 * hook which to return, as HAPI's search does, and answers those.
	 */
	public static class SearchWithDeletedInclude {
		@Operation(name = "$results", idempotent = true)
		public Bundle results(RequestDetails request) {
			List<Observation> loaded = List.of(new Observation().setStatus(Observation.ObservationStatus.FINAL),
					new Observation().setStatus(Observation.ObservationStatus.CANCELLED));
			boolean[] hidden = new boolean[3];
			IPreResourceAccessDetails details = new IPreResourceAccessDetails() {
				@Override
				public int size() {
					return 3;
				}

				@Override
				public IBaseResource getResource(int index) {
					// what JpaPreResourceAccessDetails does when fewer resources load than it has ids
					return loaded.get(index == 0 ? 0 : index == 2 ? 2 : 1);
				}

				@Override
				public void setDontReturnResourceAtIndex(int index) {
					hidden[index] = true;
				}
			};
			request.getInterceptorBroadcaster().callHooks(Pointcut.STORAGE_PREACCESS_RESOURCES, new HookParams()
					.add(IPreResourceAccessDetails.class, details)
					.add(RequestDetails.class, request)
					.addIfMatchesType(ServletRequestDetails.class, request));
			Bundle answer = new Bundle().setType(Bundle.BundleType.SEARCHSET);
			for (int i = 0; i < 2; i++) {
				if (!hidden[i]) {
					answer.addEntry().setResource(loaded.get(i));
				}
			}
			return answer;
		}
	}

	/** Refuses cancelled Observations; records what it was asked about. */
	static class Service implements IConsentService {
		final List<IBaseResource> asked = new ArrayList<>();

		@Override
		public boolean shouldProcessCanSeeResource(RequestDetails request, IConsentContextServices context) {
			return true;
		}

		@Override
		public ConsentOutcome canSeeResource(RequestDetails request, IBaseResource resource, IConsentContextServices context) {
			asked.add(resource);
			return resource instanceof Observation o && o.getStatus() == Observation.ObservationStatus.CANCELLED
					? ConsentOutcome.REJECT : ConsentOutcome.PROCEED;
		}
	}

	@Test
	void testPreAccessSlotThatCannotLoad_ReadAsNullAndAnswered() {
		Service service = new Service();
		InMemoryFhirServer server = new InMemoryFhirServer(new SensitiveDataConsentInterceptor(service),
				new InMemoryFhirServer.Provider(new SearchWithDeletedInclude()));
		InMemoryFhirServer.Response response = server.get("/$results");
		assertThat(response.status()).isEqualTo(200);
		assertThat(service.asked).hasSize(3).containsNull();
		// the other slots are still decided: the refused one is left out
		assertThat(response.bundle().getEntry()).hasSize(1);
	}
}
