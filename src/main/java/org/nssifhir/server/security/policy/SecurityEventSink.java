package org.nssifhir.server.security.policy;

import org.nssifhir.server.security.RequestIdentity;

/**
 * Where the access policy reports security events: changes to the facts that decide access (care relationships,
 * consents, proxies, subscriptions) and subscription deliveries. Implemented by the audit trail; an interface here
 * so that security does not depend on how events are stored.
 */
public interface SecurityEventSink {

	/** A change (create, update or delete) of a fact that decides access, by this caller. */
	void securityFactChanged(RequestIdentity who, String interaction, String resourceReference);

	/**
	 * A resource disclosed by a path that HAPI's own audit does not record as a read: a conditional create that
	 * found and returned an existing resource instead of creating one.
	 */
	void disclosedByConditionalMatch(RequestIdentity who, String resourceReference);

	/** A Subscription notification sent (or withheld) to its endpoint. */
	void subscriptionDelivery(String subscriptionReference, String resourceReference, String endpointHost, boolean delivered);

	/**
	 * An event of enrolment and sign-in that changes or protects who can act as a FHIR user: an invitation
	 * created, revoked or redeemed (a password set), a sign-in paused after repeated failures. {@code actor} is
	 * who did it (a fhirUser, a client id or a username), {@code fhirUser} the person concerned.
	 */
	void accountEvent(String actor, String event, String fhirUser);
}
