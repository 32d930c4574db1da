package org.nssifhir.server.treatment;

import static org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM;
import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirResourceDao;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.param.UriParam;
import jakarta.persistence.EntityManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Goal;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.nssifhir.server.support.WholeHistory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A suicide-risk Flag raised while the person already has an active DBT or CBT plan adds the suicide-risk pathway
 * to that plan, as {@code $apply} would have if the Flag had been open when the plan was made: the pathway's
 * orders (urgent suicide risk assessment, urgent safety planning, more frequent check-ins) in the shape
 * {@link CarePlanAssembler} gives them, tagged with the pathway module, and a new version of the CarePlan that lists
 * them. Without this the pathway depended on the order in which things happened.
 *
 * <p>Runs in the pre-commit hook of the Flag's creation, so in the transaction of the write that raised it
 * (escalation writes its Flags through the DAOs): the plan changes with the alert or not at all. Writes go through
 * the DAOs with system rights (validation and labelling apply). Idempotent: a plan that already has an open
 * suicide risk assessment order gets nothing more, so a second signal adds nothing. Two signals at once (two nodes)
 * are serialised per patient by a database lock (see {@link #lockPathwayOf}); the CarePlan is also updated at the
 * version it was read at, so a concurrent edit of the plan fails the write rather than being overwritten.
 */
@Interceptor
public class SuicideRiskPathwayInterceptor {

	static final String MODULE = "suicide-risk-pathway";
	static final String RISK_ASSESSMENT = "/ActivityDefinition/nssi-suicide-risk-assessment";
	private static final Set<ServiceRequest.ServiceRequestStatus> OPEN = Set.of(ServiceRequest.ServiceRequestStatus.DRAFT,
			ServiceRequest.ServiceRequestStatus.ACTIVE, ServiceRequest.ServiceRequestStatus.ONHOLD);
	/** First key of the advisory lock (its namespace: adding the suicide-risk pathway); the second is the patient. */
	static final int LOCK_CLASS = 0x4e535349; // "NSSI"
	private static final Logger log = LoggerFactory.getLogger(SuicideRiskPathwayInterceptor.class);

	private final DaoRegistry daoRegistry;
	private final CarePlanAssembler assembler;
	private final EntityManager entityManager;

	public SuicideRiskPathwayInterceptor(DaoRegistry daoRegistry, CarePlanAssembler assembler, EntityManager entityManager) {
		this.daoRegistry = daoRegistry;
		this.assembler = assembler;
		this.entityManager = entityManager;
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_CREATED)
	public void created(IBaseResource resource) {
		if (!(resource instanceof Flag flag) || flag.getStatus() != Flag.FlagStatus.ACTIVE || !isSuicideRisk(flag)) {
			return;
		}
		String subject = flag.getSubject().getReferenceElement().getResourceType();
		if (!"Patient".equals(subject) || !flag.getSubject().getReferenceElement().hasIdPart()) {
			return;
		}
		// an earlier entry of the same transaction may have changed the plan already: the search must see it
		entityManager.flush();
		IdType patient = new IdType("Patient", flag.getSubject().getReferenceElement().getIdPart());
		lockPathwayOf(patient);
		for (CarePlan plan : activeTreatmentPlans(patient)) {
			addPathway(plan, patient);
		}
	}

	/**
	 * Serialises adding the pathway per patient, across nodes: a PostgreSQL transaction-level advisory lock (released
	 * at commit or rollback). Two signals for one person written at once (two nodes, two threads) would otherwise both
	 * find no pathway and both add it; one of the two plan updates would then fail in the middle of the writing
	 * transaction, where HAPI cannot retry it cleanly. With the lock the second waits, then finds the pathway the
	 * first committed. Taken before this transaction reads the plan, so what it reads is current. A hash collision
	 * with another patient only makes one wait for the other.
	 */
	private void lockPathwayOf(IdType patient) {
		entityManager.createNativeQuery("select count(*) from (select pg_advisory_xact_lock(?1, ?2)) l")
				.setParameter(1, LOCK_CLASS)
				.setParameter(2, patient.getIdPart().hashCode())
				.getSingleResult();
	}

	static boolean isSuicideRisk(Flag flag) {
		return flag.getCode().getCoding().stream().anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && "suicide-risk".equals(c.getCode()));
	}

	private List<CarePlan> activeTreatmentPlans(IdType patient) {
		SystemRequestDetails system = new SystemRequestDetails();
		SearchParameterMap map = WholeHistory.search()
				.add(CarePlan.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(CarePlan.SP_STATUS, new TokenParam("active"));
		List<CarePlan> plans = new ArrayList<>();
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("CarePlan").search(map, system))) {
			// read again: the current version, with its version id (the update below is conditional on it)
			CarePlan plan = (CarePlan) daoRegistry.getResourceDao("CarePlan").read(r.getIdElement().toUnqualifiedVersionless(), system);
			if (CarePlanProgressProvider.isTreatmentPlan(plan) && plan.getStatus() == CarePlan.CarePlanStatus.ACTIVE) {
				plans.add(plan);
			}
		}
		return plans;
	}

	private void addPathway(CarePlan plan, IdType patient) {
		SystemRequestDetails system = new SystemRequestDetails();
		List<ServiceRequest> orders = new ArrayList<>();
		for (CarePlan.CarePlanActivityComponent a : plan.getActivity()) {
			if (a.hasReference() && a.getReference().getReference() != null && a.getReference().getReference().startsWith("ServiceRequest/")) {
				orders.add((ServiceRequest) daoRegistry.getResourceDao("ServiceRequest").read(new IdType(a.getReference().getReference()), system));
			}
		}
		if (orders.stream().anyMatch(sr -> OPEN.contains(sr.getStatus()) && instantiates(sr, RISK_ASSESSMENT))) {
			return; // the pathway is there (from $apply or an earlier Flag): a further signal adds nothing
		}
		Optional<List<String>> definitions = pathwayActivities(plan);
		if (definitions.isEmpty()) {
			log.warn("CarePlan/{}: its PlanDefinition has no suicide-risk pathway; nothing added", plan.getIdElement().getIdPart());
			return;
		}
		boolean testData = plan.getMeta().getSecurity(ACT_REASON_SYSTEM, "HTEST") != null;
		Reference author = plan.hasAuthor() ? plan.getAuthor() : null;
		@SuppressWarnings("unchecked")
		IFhirResourceDao<ServiceRequest> requests = daoRegistry.getResourceDao(ServiceRequest.class);
		for (String canonical : definitions.get()) {
			ActivityDefinition ad = assembler.activityDefinition(canonical);
			if (ad == null) {
				continue;
			}
			String unversioned = canonical.contains("|") ? canonical.substring(0, canonical.indexOf('|')) : canonical;
			Optional<ServiceRequest> existing = orders.stream()
					.filter(sr -> OPEN.contains(sr.getStatus()) && instantiates(sr, unversioned.substring(unversioned.indexOf("/ActivityDefinition/"))))
					.findFirst();
			if (existing.isPresent()) {
				// already ordered by another module (relapse prevention's check-ins): ordered once, tagged with both,
				// and at least as urgent as the pathway asks
				ServiceRequest sr = existing.get();
				boolean changed = false;
				if (sr.getCategory().stream().flatMap(c -> c.getCoding().stream()).noneMatch(c -> MODULE.equals(c.getCode()))) {
					sr.addCategory(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, MODULE, null)));
					changed = true;
				}
				if (ad.hasPriority() && rank(ad.getPriority().toCode()) > rank(sr.hasPriority() ? sr.getPriority().toCode() : "routine")) {
					sr.setPriority(ServiceRequest.ServiceRequestPriority.fromCode(ad.getPriority().toCode()));
					changed = true;
				}
				if (changed) {
					requests.update(sr, system);
				}
				continue;
			}
			ServiceRequest proposed = new ServiceRequest();
			proposed.addInstantiatesCanonical(canonical);
			proposed.setCode(ad.getCode().copy());
			if (CarePlanAssembler.patientOnly(ad)) {
				plan.addActivity().setDetail(CarePlanAssembler.patientActivity(proposed, ad, patient, plan.getGoal()));
				continue;
			}
			List<String> modules = new ArrayList<>(List.of(MODULE));
			ServiceRequest sr = assembler.serviceRequest(new CarePlanAssembler.Component(proposed, modules), ad, patient,
					plan.getAddresses(), author, testData);
			String id = requests.create(sr, system).getId().toUnqualifiedVersionless().getValue();
			plan.addActivity().setReference(new Reference(id).setDisplay(sr.getCode().getText()));
		}
		plan.setText(CarePlanAssembler.narrative(plan, goals(plan)));
		// conditional on the version read: a concurrent change of the plan makes this fail rather than be overwritten
		daoRegistry.getResourceDao(CarePlan.class).update(plan, system);
		log.info("Suicide-risk pathway added to CarePlan/{} after a suicide-risk Flag", plan.getIdElement().getIdPart());
	}

	/** The pathway's activity canonicals, from the plan's own PlanDefinition (the version the plan was made from). */
	private Optional<List<String>> pathwayActivities(CarePlan plan) {
		if (!plan.hasInstantiatesCanonical()) {
			return Optional.empty();
		}
		Optional<PlanDefinition> treatment = planDefinition(plan.getInstantiatesCanonical().get(0).getValue());
		Optional<String> pathway = treatment.flatMap(pd -> pd.getAction().stream()
				.filter(a -> a.getCode().stream().flatMap(c -> c.getCoding().stream()).anyMatch(c -> MODULE.equals(c.getCode())))
				.filter(PlanDefinition.PlanDefinitionActionComponent::hasDefinitionCanonicalType)
				.map(a -> a.getDefinitionCanonicalType().getValue())
				.findFirst());
		return pathway.flatMap(this::planDefinition).map(pd -> pd.getAction().stream()
				.filter(PlanDefinition.PlanDefinitionActionComponent::hasDefinitionCanonicalType)
				.map(a -> a.getDefinitionCanonicalType().getValue())
				.filter(c -> c.contains("/ActivityDefinition/"))
				.toList());
	}

	private Optional<PlanDefinition> planDefinition(String canonical) {
		int bar = canonical.indexOf('|');
		SearchParameterMap map = SearchParameterMap.newSynchronous()
				.add(PlanDefinition.SP_URL, new UriParam(bar < 0 ? canonical : canonical.substring(0, bar)));
		if (bar >= 0) {
			map.add(PlanDefinition.SP_VERSION, new TokenParam(canonical.substring(bar + 1)));
		}
		List<IBaseResource> found = WholeHistory.all(daoRegistry.getResourceDao("PlanDefinition").search(map, new SystemRequestDetails()));
		return found.isEmpty() ? Optional.empty() : Optional.of((PlanDefinition) found.get(0));
	}

	private List<Goal> goals(CarePlan plan) {
		List<Goal> goals = new ArrayList<>();
		for (Reference ref : plan.getGoal()) {
			try {
				goals.add((Goal) daoRegistry.getResourceDao("Goal").read(new IdType(ref.getReference()), new SystemRequestDetails()));
			} catch (RuntimeException e) {
				// a removed goal is simply not listed in the narrative
			}
		}
		return goals;
	}

	static boolean instantiates(ServiceRequest sr, String path) {
		return sr.getInstantiatesCanonical().stream().anyMatch(c -> c.getValue() != null && c.getValue().contains(path + "|")
				|| c.getValue() != null && c.getValue().endsWith(path));
	}

	private static int rank(String priority) {
		return switch (priority == null ? "routine" : priority) {
			case "stat" -> 3;
			case "asap" -> 2;
			case "urgent" -> 1;
			default -> 0;
		};
	}
}
