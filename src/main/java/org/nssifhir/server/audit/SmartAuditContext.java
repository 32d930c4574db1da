package org.nssifhir.server.audit;

import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.storage.interceptor.balp.IBalpAuditContextServices;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.security.SmartAccess;
import org.springframework.stereotype.Component;

/** Who is acting, for BALP AuditEvents: the SMART client and the user (fhirUser, else the token subject). */
@Component
public class SmartAuditContext implements IBalpAuditContextServices {

	static final String CLIENT_SYSTEM = "urn:nssi-fhir:oauth-client";
	static final String SUBJECT_SYSTEM = "urn:nssi-fhir:oauth-subject";
	public static final String FHIR_USER_SYSTEM = "urn:nssi-fhir:fhir-user";

	/**
	 * Relative references (with the version read or written), not absolute URLs: this server refuses external
	 * references, and an audit record must point at the local resource.
	 */
	@Override
	public String massageResourceIdForStorage(RequestDetails request, IBaseResource resource, IIdType id) {
		// a delete (plain or conditional) removes resources of the request's type; those it names are gone
		if (request.getRestOperationType() == RestOperationTypeEnum.DELETE
				&& id.getResourceType() != null
				&& id.getResourceType().equals(request.getResourceName())) {
			// the resource is gone by the time its deletion is recorded: name it, do not link to it
			return DELETED_PREFIX + id.toUnqualifiedVersionless().getValue();
		}
		return id.toUnqualified().getValue();
	}

	/** Logical (non-resolving) reference to a deleted resource; configured as logical in HapiJpaConfig. */
	public static final String DELETED_PREFIX = "urn:nssi-fhir:deleted:";

	/**
	 * The token's access as the request carries it (cached with the request by {@link RequestIdentity#of}): a batch's
	 * GET entries are read on HAPI's bundle worker threads, where the security context of the HTTP thread is absent;
	 * reading it from the thread recorded them as "anonymous" (review s8, F3).
	 */
	private static Optional<SmartAccess> access(RequestDetails request) {
		return (request == null ? RequestIdentity.current() : RequestIdentity.of(request)).map(RequestIdentity::access);
	}

	@Override
	public Reference getAgentClientWho(RequestDetails request) {
		String client = access(request).map(SmartAccess::clientId).orElse("anonymous");
		Reference who = new Reference().setDisplay(client);
		who.getIdentifier().setSystem(CLIENT_SYSTEM).setValue(client);
		return who;
	}

	@Override
	public Reference getAgentUserWho(RequestDetails request) {
		return access(request)
				.map(access -> access.fhirUser()
						// an identifier, not a resolvable reference: the user's resource may live elsewhere (an
						// external issuer) or not exist yet, and the audit record must be written regardless.
						// Privacy officers search AuditEvent?nssi-agent-identifier=urn:nssi-fhir:fhir-user|Practitioner/123
						.map(user -> {
							Reference who = new Reference().setDisplay(user);
							who.getIdentifier().setSystem(FHIR_USER_SYSTEM).setValue(user);
							return who;
						})
						.orElseGet(() -> {
							Reference who = new Reference().setDisplay(access.subject());
							who.getIdentifier().setSystem(SUBJECT_SYSTEM).setValue(access.subject());
							return who;
						}))
				.orElseGet(() -> new Reference().setDisplay("anonymous"));
	}
}
