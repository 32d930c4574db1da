package org.nssifhir.server.treatment;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.repository.HapiFhirRepository;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.hl7.fhir.r4.model.StringType;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.consent.RestrictedRecordAccess;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.WholeHistory;
import org.opencds.cqf.fhir.cr.CrSettings;
import org.opencds.cqf.fhir.cr.plandefinition.PlanDefinitionProcessor;
import org.opencds.cqf.fhir.utility.monad.Eithers;
import org.opencds.cqf.fhir.utility.repository.InMemoryFhirRepository;

/**
 * What {@code PlanDefinition/[id]/$apply} ({@link PlanApplyProvider}) does for our treatment PlanDefinitions, evaluated by the
 * clinical-reasoning library (cqf-fhir-cr): the applicability conditions are the CQL in our
 * {@code NSSITreatmentLogic} Library, run against this server's data with the caller's access rights.
 *
 * <p>As the specification says, {@code $apply} on its own proposes: it returns the CarePlan and stores nothing.
 * With {@code persist=true} (our extension, documented in OperationDefinition {@code nssi-plan-apply}) the
 * proposal is turned into real resources (CarePlan, Goals, ServiceRequests and the relapse-prevention plan) and
 * stored in one transaction, so a clinician starts a treatment with one call.
 */
public class PlanApplication {

	static final Set<String> TREATMENT_PLANS = Set.of(
			NssiCanonicals.BASE + "/PlanDefinition/nssi-dbt", NssiCanonicals.BASE + "/PlanDefinition/nssi-cbt");

	private final DaoRegistry daoRegistry;
	private final CrSettings crSettings;
	private final CarePlanAssembler assembler;
	private final RestrictedRecordAccess consent;
	private RestfulServer restfulServer;

	public PlanApplication(
			DaoRegistry daoRegistry, CrSettings crSettings, CarePlanAssembler assembler, RestrictedRecordAccess consent) {
		this.daoRegistry = daoRegistry;
		this.crSettings = crSettings;
		this.assembler = assembler;
		this.consent = consent;
	}

	/** The PlanDefinition and patient {@code $apply} was called for, once {@link #target} let them through. */
	public record Target(IdType definitionId, PlanDefinition definition, IdType patientId, Patient patient) {}

	/**
	 * 404 for an unknown PlanDefinition or patient, through the caller's request and its authorization; 400 for a
	 * PlanDefinition that is not one of our treatment plans; then the rule for restricted records, since the
	 * conditions read them (suicide-risk Flags): the same rule as reading them.
	 */
	public Target target(IdType id, IdType patient, RequestDetails request) {
		PlanDefinition definition = (PlanDefinition) daoRegistry.getResourceDao("PlanDefinition").read(id.toUnqualifiedVersionless(), request);
		if (!definition.hasUrl() || !TREATMENT_PLANS.contains(definition.getUrl())) {
			throw new InvalidRequestException(ErrorCode.NOT_A_TREATMENT_PLAN.message(
					"$apply here applies the NSSI treatment plans (nssi-dbt, nssi-cbt) only"));
		}
		Patient subjectPatient = (Patient) daoRegistry.getResourceDao("Patient").read(patient, request);
		consent.require(request, patient.getIdPart());
		return new Target(id, definition, patient, subjectPatient);
	}

	/**
	 * Evaluates the plan for the target with these CQL parameters: the proposed CarePlan, or with {@code store} the
	 * stored plan. {@code practitioner} is the author a backend service names (null: the signed-in practitioner).
	 */
	public IBaseResource apply(
			Target target, String encounter, Parameters cql, StringType practitioner, boolean store, RequestDetails request) {
		IdType patient = target.patientId();
		String author = author(practitioner, request);
		if (store) {
			refuseSecondActivePlan(patient);
		}
		// Definitions (PlanDefinitions, ActivityDefinitions, the CQL Library) come from this server. The data the
		// logic may see is exactly this patient, their Flags and their risk-factor Observations (abuse, neglect or
		// family conflict stop automatic family involvement), read here through the caller's request, so the CQL
		// cannot reach other patients' records whatever its retrieves ask for.
		List<Flag> flags = flags(patient, request);
		Bundle data = new Bundle().setType(Bundle.BundleType.COLLECTION);
		data.addEntry().setResource(target.patient());
		flags.forEach(f -> data.addEntry().setResource(f));
		riskFactors(patient, request).forEach(o -> data.addEntry().setResource(o));
		HapiFhirRepository definitions = new HapiFhirRepository(daoRegistry, request, server(request));
		InMemoryFhirRepository patientData = new InMemoryFhirRepository(definitions.fhirContext(), data);
		PlanDefinitionProcessor processor = new PlanDefinitionProcessor(definitions, crSettings);
		CarePlan proposal = (CarePlan) processor.apply(
				Eithers.forMiddle3(target.definitionId().toUnqualifiedVersionless()),
				patient.getValue(),
				encounter,
				author,
				null, null, null, null, null, null,
				cql,
				false,
				null,
				null,
				patientData,
				definitions,
				definitions);
		requireSafetyPathway(proposal, flags);
		if (!store) {
			return proposal;
		}
		return assembler.store(proposal, target.definition(), patient, author, request);
	}

	/**
	 * The library logs and skips an action whose condition fails to evaluate. For the suicide-risk pathway that
	 * would be a silent safety gap, so the server checks the one safety-critical condition itself and refuses to
	 * return a plan that lacks the pathway while a suicide-risk Flag is open.
	 */
	private static void requireSafetyPathway(CarePlan proposal, List<Flag> flags) {
		boolean open = flags.stream().anyMatch(f -> f.getStatus() == Flag.FlagStatus.ACTIVE && f.getCode().getCoding().stream()
						.anyMatch(c -> NssiCanonicals.CONCEPTS_SYSTEM.equals(c.getSystem()) && "suicide-risk".equals(c.getCode())));
		boolean planned = proposal.getContained().stream().anyMatch(r -> r instanceof ServiceRequest sr
				&& sr.getInstantiatesCanonical().stream().anyMatch(c -> c.getValue().contains("/ActivityDefinition/nssi-suicide-risk-assessment")));
		if (open && !planned) {
			throw new InternalErrorException(ErrorCode.PLAN_LOGIC_FAILED.message(
					"The plan logic did not add the suicide-risk pathway although a suicide-risk Flag is open; no plan was made"));
		}
	}

	/** The patient's Flags, through the caller's request (its authorization applies). */
	private List<Observation> riskFactors(IdType patient, RequestDetails request) {
		SearchParameterMap map = WholeHistory.search()
				.add(Observation.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(Observation.SP_CODE, new TokenParam(NssiCanonicals.CONCEPTS_SYSTEM, "risk-factor"));
		return WholeHistory.all(daoRegistry.getResourceDao("Observation").search(map, request)).stream()
				.map(Observation.class::cast).toList();
	}

	private List<Flag> flags(IdType patient, RequestDetails request) {
		SearchParameterMap map = WholeHistory.search().add(Flag.SP_PATIENT, new ReferenceParam(patient.getValue()));
		return WholeHistory.all(daoRegistry.getResourceDao("Flag").search(map, request)).stream().map(Flag.class::cast).toList();
	}

	/**
	 * Who authors the plan and requests its components: the signed-in practitioner. Only a backend service (no user)
	 * may name one, and it must exist; nobody can put orders in another clinician's name.
	 */
	private String author(StringType practitioner, RequestDetails request) {
		Optional<String> user = CarePlanAssembler.currentPractitioner();
		if (practitioner == null || practitioner.getValue() == null) {
			return user.orElse(null);
		}
		boolean backend = SmartAccess.current().map(a -> a.fhirUser().isEmpty()).orElse(true);
		IdType named = new IdType(practitioner.getValue());
		if (!backend && !user.map(named.toUnqualifiedVersionless().getValue()::equals).orElse(false)) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message(
					"practitioner may be given only by a backend service; a signed-in user is the author"));
		}
		if (!"Practitioner".equals(named.getResourceType()) || !named.hasIdPart()) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message("practitioner must be a reference such as Practitioner/123"));
		}
		try {
			daoRegistry.getResourceDao("Practitioner").read(named.toUnqualifiedVersionless(), new SystemRequestDetails());
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message("practitioner " + named.getValue() + " does not exist"));
		}
		return named.toUnqualifiedVersionless().getValue();
	}

	/** One active DBT or CBT plan at a time: a second (a double submit, a retry) would duplicate every order. */
	private void refuseSecondActivePlan(IdType patient) {
		SearchParameterMap map = WholeHistory.search()
				.add(CarePlan.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(CarePlan.SP_STATUS, new TokenParam("active"));
		boolean active = WholeHistory.all(daoRegistry.getResourceDao("CarePlan").search(map, new SystemRequestDetails())).stream()
				.map(CarePlan.class::cast).anyMatch(CarePlanProgressProvider::isTreatmentPlan);
		if (active) {
			throw new ResourceVersionConflictException(ErrorCode.ACTIVE_PLAN_EXISTS.message(
					"The patient already has an active DBT or CBT plan; revise it, or end it (status completed or revoked) first"));
		}
	}

	private RestfulServer server(RequestDetails request) {
		if (restfulServer == null && request instanceof ServletRequestDetails servlet) {
			restfulServer = servlet.getServer();
		} else if (restfulServer == null && request.getServer() instanceof RestfulServer server) {
			restfulServer = server; // an in-process caller (demo data) that names the server
		}
		return restfulServer;
	}
}
