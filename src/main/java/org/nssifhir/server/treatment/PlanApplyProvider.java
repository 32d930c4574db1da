package org.nssifhir.server.treatment;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.StringType;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.support.ErrorCode;

/**
 * {@code PlanDefinition/[id]/$apply} (FHIR R4 core / CPG) for our treatment PlanDefinitions: reads the parameters
 * and hands them to {@link PlanApplication}, which checks access, evaluates the plan and (with {@code persist=true},
 * our extension documented in OperationDefinition {@code nssi-plan-apply}) stores it.
 */
public class PlanApplyProvider implements FhirOperationProvider {

	private final PlanApplication plans;

	public PlanApplyProvider(PlanApplication plans) {
		this.plans = plans;
	}

	@Operation(name = "$apply", type = PlanDefinition.class)
	public IBaseResource apply(
			@IdParam IdType id,
			@OperationParam(name = "subject", min = 1, max = 1) StringType subject,
			@OperationParam(name = "practitioner", max = 1) StringType practitioner,
			@OperationParam(name = "encounter", max = 1) StringType encounter,
			@OperationParam(name = "parameters", max = 1) Parameters parameters,
			@OperationParam(name = "familyInvolvement", max = 1) BooleanType familyInvolvement,
			@OperationParam(name = "cbtVariant", max = 1) CodeType cbtVariant,
			@OperationParam(name = "persist", max = 1) BooleanType persist,
			RequestDetails request) {
		IdType patient = patientReference(subject);
		// unknown definition or patient, and access, are answered before the other parameters are checked
		PlanApplication.Target target = plans.target(id, patient, request);

		Parameters cql = cqlParameters(parameters);
		if (familyInvolvement != null && familyInvolvement.getValue() != null) {
			cql.addParameter("FamilyInvolvementChosen", familyInvolvement.getValue());
		}
		String variant = cbtVariant == null ? null : cbtVariant.getValue();
		if (variant != null) {
			if (!variant.equals("standard") && !variant.equals("act")) {
				throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message(
						"cbtVariant must be 'standard' or 'act'"));
			}
			cql.addParameter("CbtVariant", new StringType(variant));
		}
		boolean store = persist != null && Boolean.TRUE.equals(persist.getValue());
		return plans.apply(target, encounter == null ? null : encounter.getValue(), cql, practitioner, store, request);
	}

	/**
	 * Only the logic's own parameters, with the right types: anything else would make a condition fail, and the
	 * library would then silently leave an action out.
	 */
	private static Parameters cqlParameters(Parameters given) {
		Parameters cql = new Parameters();
		if (given == null) {
			return cql;
		}
		for (Parameters.ParametersParameterComponent p : given.getParameter()) {
			boolean ok = ("FamilyInvolvementChosen".equals(p.getName()) && p.getValue() instanceof BooleanType)
					|| ("CbtVariant".equals(p.getName()) && p.getValue() instanceof StringType v && ("standard".equals(v.getValue()) || "act".equals(v.getValue())));
			if (!ok) {
				throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message(
						"parameters may hold FamilyInvolvementChosen (boolean) and CbtVariant ('standard' or 'act') only"));
			}
			cql.addParameter(p.copy());
		}
		return cql;
	}

	private static IdType patientReference(StringType subject) {
		IdType id = new IdType(subject == null || subject.getValue() == null ? "" : subject.getValue());
		if (!"Patient".equals(id.getResourceType()) || !id.hasIdPart()) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message(
					"subject must be a Patient reference such as Patient/123"));
		}
		return id.toUnqualifiedVersionless();
	}
}
