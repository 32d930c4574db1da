package org.nssifhir.server.assessment;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.util.UrlUtil;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.support.ErrorCode;

/**
 * SDC {@code QuestionnaireResponse/[id]/$extract} (and the type-level form with a stored response in the
 * {@code questionnaire-response} parameter) for our NSSI assessment and PHQ-9: stores the profiled Observations
 * of {@link AssessmentExtractor} in one FHIR transaction and returns its response Bundle. Each Observation is a
 * conditional create on its derived identifier, so running it again on the same response creates nothing (the
 * entries answer 200 with the existing resources).
 *
 * <p>Why not the clinical-reasoning library's {@code $extract}: see {@code README.md} (it builds generic
 * observation-based resources from Questionnaire annotations, neither our profiles nor idempotent storage).
 * The writes go through the normal DAOs with the caller's request, so the caller's SMART scopes are checked
 * for each created Observation, and profile validation, labels and escalation apply as for any write.
 */
public class ExtractOperationProvider implements FhirOperationProvider {

	private final DaoRegistry daoRegistry;
	private final IFhirSystemDao<Bundle, ?> systemDao;

	public ExtractOperationProvider(DaoRegistry daoRegistry, IFhirSystemDao<Bundle, ?> systemDao) {
		this.daoRegistry = daoRegistry;
		this.systemDao = systemDao;
	}

	@Operation(name = "$extract", type = QuestionnaireResponse.class, idempotent = false)
	public Bundle extractInstance(@IdParam IdType id, RequestDetails request) {
		return extract(read(id, request), request);
	}

	@Operation(name = "$extract", type = QuestionnaireResponse.class, idempotent = false)
	public Bundle extractType(
			@OperationParam(name = "questionnaire-response", min = 1, max = 1) QuestionnaireResponse given, RequestDetails request) {
		if (given == null || !given.getIdElement().hasIdPart()) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message(
					"questionnaire-response must be a stored response (with its id); store it first, then extract"));
		}
		return extract(read(given.getIdElement(), request), request);
	}

	private QuestionnaireResponse read(IdType id, RequestDetails request) {
		return (QuestionnaireResponse) daoRegistry.getResourceDao("QuestionnaireResponse")
				.read(new IdType("QuestionnaireResponse", id.getIdPart()), request);
	}

	Bundle extract(QuestionnaireResponse response, RequestDetails request) {
		List<AssessmentExtractor.Extracted> extracted = AssessmentExtractor.extract(response);
		Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
		Map<String, String> fullUrls = new HashMap<>();
		for (AssessmentExtractor.Extracted e : extracted) {
			fullUrls.put(e.key(), "urn:uuid:" + UUID.randomUUID());
		}
		for (AssessmentExtractor.Extracted e : extracted) {
			Observation obs = e.observation();
			for (Reference member : obs.getHasMember()) {
				member.setReference(fullUrls.get(member.getReference()));
			}
			String identifier = obs.getIdentifierFirstRep().getSystem() + "|" + obs.getIdentifierFirstRep().getValue();
			transaction.addEntry()
					.setFullUrl(fullUrls.get(e.key()))
					.setResource(obs)
					.getRequest()
					.setMethod(Bundle.HTTPVerb.POST)
					.setUrl("Observation")
					.setIfNoneExist("identifier=" + UrlUtil.escapeUrlParam(identifier));
		}
		return systemDao.transaction(request, transaction);
	}
}
