package org.nssifhir.server.security.policy;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.subscription.model.CanonicalSubscription;
import ca.uhn.fhir.jpa.subscription.model.ResourceDeliveryMessage;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import java.net.URI;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Subscription;
import org.nssifhir.server.settings.NssiProperties;

/**
 * At delivery time, not only at creation: a notification goes out only while the Subscription's owner is still an
 * allowed subscriber and its endpoint still on the allow-list (settings change; a Subscription stored before this
 * policy has no owner and delivers nothing). Every delivery, sent or withheld, is reported as a security event.
 * Registered with HAPI's global interceptor service, where subscription delivery happens.
 */
@Interceptor
public class SubscriptionDeliveryGuard {

	private final NssiProperties.Policy settings;
	private final DaoRegistry daos;
	private final SecurityEventSink events;

	public SubscriptionDeliveryGuard(NssiProperties.Policy settings, DaoRegistry daos, SecurityEventSink events) {
		this.settings = settings;
		this.daos = daos;
		this.events = events;
	}

	@Hook(Pointcut.SUBSCRIPTION_BEFORE_REST_HOOK_DELIVERY)
	public boolean beforeDelivery(CanonicalSubscription subscription, ResourceDeliveryMessage message) {
		boolean allowed;
		try {
			Subscription stored = (Subscription) daos.getResourceDao("Subscription")
					.read(new IdType("Subscription", subscription.getIdPart()), new SystemRequestDetails());
			allowed = SubscriptionPolicy.ownerStillAllowed(settings, stored);
		} catch (RuntimeException e) {
			allowed = false; // deleted, or unreadable: deliver nothing
		}
		String resource = message.getPayloadId() == null ? null
				: new IdType(message.getPayloadId()).toUnqualifiedVersionless().getValue();
		events.subscriptionDelivery("Subscription/" + subscription.getIdPart(), resource,
				host(subscription.getEndpointUrl()), allowed);
		return allowed;
	}

	private static String host(String endpoint) {
		try {
			return URI.create(endpoint).getHost();
		} catch (RuntimeException e) {
			return "unknown";
		}
	}
}
