package org.nssifhir.server.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import org.hl7.fhir.instance.model.api.IBaseConformance;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.SystemRestfulInteraction;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.UriType;
import org.nssifhir.server.settings.NssiProperties;
import org.springframework.stereotype.Component;

/**
 * Corrects what HAPI's generated CapabilityStatement leaves out, so that it tells the truth: the system endpoint
 * accepts {@code batch} as well as {@code transaction} bundles (HAPI serves both through one method but lists
 * only the latter).
 */
@Interceptor
@Component
public class CapabilityStatementInterceptor {

	private final NssiProperties properties;
	private final org.nssifhir.server.settings.ServerAddress address;

	public CapabilityStatementInterceptor(NssiProperties properties, org.nssifhir.server.settings.ServerAddress address) {
		this.properties = properties;
		this.address = address;
	}

	@Hook(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED)
	public void complete(IBaseConformance generated, RequestDetails request) {
		CapabilityStatement cs = (CapabilityStatement) generated;
		if (properties.security().enabled() && properties.security().mode() == NssiProperties.Security.Mode.BUILTIN && request != null) {
			security(cs, address.issuer());
		}
		if (properties.cors().enabled() || cs.getRestFirstRep().hasSecurity()) {
			// true only when CORS headers are really sent (nssi.cors.allowed-origins)
			cs.getRestFirstRep().getSecurity().setCors(properties.cors().enabled());
		}
		cs.setPublisher("NSSI FHIR Server project");
		for (CapabilityStatement.CapabilityStatementRestComponent rest : cs.getRest()) {
			boolean hasTransaction = rest.getInteraction().stream().anyMatch(i -> i.getCode() == SystemRestfulInteraction.TRANSACTION);
			boolean hasBatch = rest.getInteraction().stream().anyMatch(i -> i.getCode() == SystemRestfulInteraction.BATCH);
			if (hasTransaction && !hasBatch) {
				rest.addInteraction().setCode(SystemRestfulInteraction.BATCH);
			}
		}
	}

	/** The same endpoints as /.well-known/smart-configuration, in the CapabilityStatement's security section. */
	private static void security(CapabilityStatement cs, String base) {
		CapabilityStatement.CapabilityStatementRestSecurityComponent security = cs.getRestFirstRep().getSecurity();
		security.addService()
				.addCoding(new Coding("http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR"));
		security.setDescription("SMART on FHIR: OAuth2 bearer tokens (SMART App Launch with PKCE, SMART Backend Services) with SMART v1/v2 scopes");
		Extension uris = security.addExtension().setUrl("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
		uris.addExtension("authorize", new UriType(base + "/oauth2/authorize"));
		uris.addExtension("token", new UriType(base + "/oauth2/token"));
		uris.addExtension("register", new UriType(base + "/connect/register"));
		uris.addExtension("introspect", new UriType(base + "/oauth2/introspect"));
		uris.addExtension("revoke", new UriType(base + "/oauth2/revoke"));
	}
}
