package org.nssifhir.server.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseConformance;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceOperationComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.SystemRestfulInteraction;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.UriType;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.settings.ServerAddress;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Corrects and trims HAPI's generated CapabilityStatement, so that it tells the truth and no more than a client
 * needs:
 * <ul>
 *   <li>the system endpoint accepts {@code batch} as well as {@code transaction} bundles (HAPI serves both through one
 *       method but lists only the latter); conditional delete is {@code single} (multiple deletes are off, HAPI's
 *       bindings claim {@code multiple});
 *   <li>the SMART security section (the same endpoints as {@code /.well-known/smart-configuration});
 *   <li>only the operations a client can be allowed to call (the access policy's list, {@link OfferedOperations}): HAPI lists every operation
 *       it has a binding for, including the administrative ones ({@code $expunge}, reindexing, merge) that the
 *       policy refuses to everyone;
 *   <li>our own operations ({@code $nssi-*}, {@code $populate}, {@code $extract}, {@code $apply}) name the
 *       OperationDefinition our package publishes for them ({@link PublishedOperations}, resolvable with
 *       {@code OperationDefinition?url=}), not the bare one HAPI generates from the method's parameters;
 *   <li>no {@code searchParam.documentation} (about 40% of HAPI's statement): it repeats the description of the
 *       SearchParameter that {@code searchParam.definition} names, which any client can read;
 *   <li>no generated narrative (it said only the server's name) and a stable id, so the statement is the same
 *       resource from build to build ({@link CapabilityStatementCache} derives its ETag from the content).
 * </ul>
 * HAPI's enumerated {@code searchRevInclude} lists and resource counts are switched off where the provider is
 * built ({@code config/FhirServerConfig}).
 */
@Interceptor
@Component
public class CapabilityStatementInterceptor {

	/** The statement's id: one server, one statement (HAPI would give it a new random id on every build). */
	public static final String STATEMENT_ID = "nssi-fhir-server";

	private final NssiProperties properties;
	private final ServerAddress address;
	private final JpaStorageSettings storageSettings;
	private final ObjectProvider<OfferedOperations> offeredOperations;
	private final ObjectProvider<PublishedOperations> publishedOperations;

	public CapabilityStatementInterceptor(
			NssiProperties properties,
			ServerAddress address,
			JpaStorageSettings storageSettings,
			ObjectProvider<OfferedOperations> offeredOperations,
			ObjectProvider<PublishedOperations> publishedOperations) {
		this.properties = properties;
		this.address = address;
		this.storageSettings = storageSettings;
		this.offeredOperations = offeredOperations;
		this.publishedOperations = publishedOperations;
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
		cs.setId(STATEMENT_ID);
		cs.setText(null);
		cs.setPublisher("NSSI FHIR Server project");
		Set<String> offered = properties.security().enabled() ? offeredOperations() : null;
		PublishedOperations published = publishedOperations.getIfAvailable();
		// HAPI's OpenAPI generator (GET /fhir/api-docs) reads each operation's definition back by id from the
		// OperationDefinitions the server generates itself: a package canonical there made the whole document fail
		// (404). The statement it builds from is not served to clients, so it keeps HAPI's own definitions.
		boolean forOpenApi = request != null && request.getRequestPath() != null && request.getRequestPath().startsWith("api-docs");
		Map<String, String> definitions = published == null || forOpenApi ? Map.of() : published.definitions();
		for (CapabilityStatement.CapabilityStatementRestComponent rest : cs.getRest()) {
			boolean hasTransaction = rest.getInteraction().stream().anyMatch(i -> i.getCode() == SystemRestfulInteraction.TRANSACTION);
			boolean hasBatch = rest.getInteraction().stream().anyMatch(i -> i.getCode() == SystemRestfulInteraction.BATCH);
			if (hasTransaction && !hasBatch) {
				rest.addInteraction().setCode(SystemRestfulInteraction.BATCH);
			}
			if (offered != null) {
				rest.getOperation().removeIf(op -> !offered.contains("$" + op.getName()));
			}
			rest.getOperation().forEach(op -> publishedDefinition(op, definitions.get("$" + op.getName())));
			for (CapabilityStatement.CapabilityStatementRestResourceComponent resource : rest.getResource()) {
				if (offered != null) {
					resource.getOperation().removeIf(op -> !offered.contains("$" + op.getName()));
				}
				resource.getOperation().forEach(op -> publishedDefinition(op, definitions.get(resource.getType() + "/$" + op.getName())));
				resource.getOperation().forEach(CapabilityStatementInterceptor::withoutDocumentationIfRepeated);
				resource.getSearchParam().forEach(param -> param.setDocumentationElement(null));
				if (resource.hasConditionalDelete() && !storageSettings.isAllowMultipleDelete()) {
					resource.setConditionalDelete(CapabilityStatement.ConditionalDeleteStatus.SINGLE);
				}
			}
		}
	}

	/** The package's OperationDefinition for one of our operations, when it publishes one. */
	private static void publishedDefinition(CapabilityStatementRestResourceOperationComponent operation, String canonical) {
		if (canonical != null) {
			operation.setDefinition(canonical);
		}
	}

	/** An operation's documentation repeats its OperationDefinition's description (HAPI copies it in): dropped. */
	private static void withoutDocumentationIfRepeated(CapabilityStatementRestResourceOperationComponent operation) {
		if (operation.hasDefinition()) {
			operation.setDocumentationElement(null);
		}
	}

	private Set<String> offeredOperations() {
		OfferedOperations offered = offeredOperations.getIfAvailable();
		return offered == null ? null : offered.names();
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
