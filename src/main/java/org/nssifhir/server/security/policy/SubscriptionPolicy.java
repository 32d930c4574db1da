package org.nssifhir.server.security.policy;

import java.net.URI;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Subscription;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.security.SmartScope;
import org.nssifhir.server.settings.NssiProperties;

/**
 * Who may subscribe, and where notifications may go. A Subscription delivers every future matching change to an
 * endpoint the subscriber chose, so it is a standing read of other people's records and a way to make this server
 * send requests: only configured backend clients ({@code nssi.policy.subscription-clients}) may create or change
 * one, only for types their scopes let them read, only as rest-hooks to endpoints that start with an entry of
 * {@code nssi.policy.subscription-endpoints} (nothing by default: internal addresses included).
 */
final class SubscriptionPolicy {

	/** Meta tag naming the client that owns a Subscription: delivery checks that client is still allowed. */
	static final String SUBSCRIBER_TAG_SYSTEM = "urn:nssi-fhir:subscriber";

	private SubscriptionPolicy() {}

	static Optional<AccessPolicy.Refusal> refusal(NssiProperties.Policy settings, RequestIdentity who, IBaseResource after) {
		if (who.kind() != RequestIdentity.Kind.BACKEND || !settings.subscriptionClients().contains(who.clientId())) {
			return Optional.of(AccessPolicy.Refusal.forbidden(
					"Subscriptions are created only by the backend clients this server is configured to allow (nssi.policy.subscription-clients)"));
		}
		if (!(after instanceof Subscription subscription)) {
			return Optional.empty(); // a delete by an allowed client
		}
		if (subscription.getChannel().getType() != Subscription.SubscriptionChannelType.RESTHOOK) {
			return Optional.of(AccessPolicy.Refusal.forbidden("Only rest-hook Subscriptions are supported"));
		}
		String endpoint = subscription.getChannel().getEndpoint();
		if (!endpointAllowed(settings, endpoint)) {
			return Optional.of(AccessPolicy.Refusal.forbidden(
					"The Subscription endpoint is not on this server's allow-list (nssi.policy.subscription-endpoints)"));
		}
		String criteria = subscription.getCriteria();
		String type = criteria == null ? "" : criteria.split("\\?", 2)[0];
		boolean readable = who.scopes().stream().anyMatch(s -> s.context() == SmartScope.Context.SYSTEM
				&& s.query().isEmpty() && s.allows(SmartScope.Permission.READ)
				&& ("AuditEvent".equals(type) ? type.equals(s.resourceType()) : s.appliesTo(type)));
		if (type.isEmpty() || !readable) {
			return Optional.of(AccessPolicy.Refusal.forbidden("The subscriber's scopes do not allow reading what the criteria select"));
		}
		subscription.getMeta().getTag().removeIf(t -> SUBSCRIBER_TAG_SYSTEM.equals(t.getSystem()));
		subscription.getMeta().addTag(SUBSCRIBER_TAG_SYSTEM, who.clientId(), null);
		return Optional.empty();
	}

	/** The endpoint must start with an allow-listed prefix, compared on the parsed URL (no user-info tricks). */
	static boolean endpointAllowed(NssiProperties.Policy settings, String endpoint) {
		if (endpoint == null) {
			return false;
		}
		try {
			URI uri = URI.create(endpoint);
			if (uri.getRawUserInfo() != null || uri.getHost() == null
					|| !("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))) {
				return false;
			}
		} catch (IllegalArgumentException e) {
			return false;
		}
		return settings.subscriptionEndpoints().stream().anyMatch(prefix -> !prefix.isBlank() && endpoint.startsWith(prefix));
	}

	/** Whether a stored Subscription's owner is still allowed to receive deliveries. */
	static boolean ownerStillAllowed(NssiProperties.Policy settings, Subscription subscription) {
		return subscription.getMeta().getTag().stream()
				.filter(t -> SUBSCRIBER_TAG_SYSTEM.equals(t.getSystem()))
				.anyMatch(t -> settings.subscriptionClients().contains(t.getCode()))
				&& endpointAllowed(settings, subscription.getChannel().getEndpoint());
	}
}
