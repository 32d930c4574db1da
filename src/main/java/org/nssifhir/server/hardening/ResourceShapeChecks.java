package org.nssifhir.server.hardening;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.util.Locale;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseExtension;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Resource;
import org.nssifhir.server.support.ErrorCode;

/**
 * Checks HAPI's parser does not make, on any resource written to us (our profile validator covers NSSI resources in
 * full; everything else would otherwise be stored as parsed): the resource's own required elements are present,
 * every extension has a URL, and a narrative carries no script (the clinician app shows narratives; FHIR forbids
 * active content in them). Cheap by design: top-level cardinality from HAPI's model, one walk over the extensions.
 */
final class ResourceShapeChecks {

	private static final Pattern ACTIVE_CONTENT =
			Pattern.compile("<\\s*(script|iframe|object|embed|form|style)\\b|\\son[a-z]+\\s*=|javascript:|vbscript:|data:text/html");

	private ResourceShapeChecks() {}

	static void check(FhirContext fhirContext, IBaseResource resource) {
		RuntimeResourceDefinition definition = fhirContext.getResourceDefinition(resource);
		for (BaseRuntimeChildDefinition child : definition.getChildren()) {
			if (child.getMin() > 0 && child.getAccessor().getValues(resource).isEmpty()) {
				throw invalid(ErrorCode.INVALID_RESOURCE_CONTENT, resource.fhirType() + "." + child.getElementName() + " is required");
			}
		}
		for (IBaseExtension<?, ?> extension : fhirContext.newTerser().getAllPopulatedChildElementsOfType(resource, IBaseExtension.class)) {
			if (extension.getUrl() == null || extension.getUrl().isBlank()) {
				throw invalid(ErrorCode.INVALID_RESOURCE_CONTENT, "Every extension needs a url");
			}
		}
		checkNarrative(resource);
	}

	private static void checkNarrative(IBaseResource resource) {
		if (resource instanceof DomainResource domain) {
			if (domain.hasText() && domain.getText().hasDiv()) {
				String div = domain.getText().getDivAsString();
				if (div != null && ACTIVE_CONTENT.matcher(div.toLowerCase(Locale.ROOT)).find()) {
					throw invalid(ErrorCode.INVALID_RESOURCE_CONTENT, "The narrative contains active content (script, event handlers or similar)");
				}
			}
			for (Resource contained : domain.getContained()) {
				checkNarrative(contained);
			}
		}
	}

	static InvalidRequestException invalid(ErrorCode code, String message) {
		return new InvalidRequestException(code.message(message));
	}
}
