package org.nssifhir.server.treatment;

import static org.nssifhir.server.conformance.NssiCanonicals.ACT_REASON_SYSTEM;
import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirResourceDao;
import ca.uhn.fhir.jpa.dao.tx.IHapiTransactionService;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.param.UriParam;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.text.StringEscapeUtils;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.CanonicalType;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Duration;
import org.hl7.fhir.r4.model.Goal;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RequestGroup;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Timing;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.conformance.NssiResourceClassifier;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.WholeHistory;

/**
 * Turns the clinical-reasoning library's $apply proposal (a CarePlan whose RequestGroup, ServiceRequests and Goals
 * are contained) into the resources a clinician works with: the profiled DBT or CBT CarePlan, one Goal per plan
 * goal, one ServiceRequest per treatment component, and the person's relapse-prevention plan (its own CarePlan,
 * {@code partOf} the treatment plan, pre-filled with their own triggers). Everything addresses the patient's active
 * NSSI Condition(s) and names their active care team, and is stored as one transaction through the caller's
 * request, so SMART create rules, profile validation and labelling apply to each resource and nothing is stored
 * if any part fails.
 */
public class CarePlanAssembler {

	static final String GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement";

	private final DaoRegistry daoRegistry;
	private final IHapiTransactionService transactions;
	/** ActivityDefinitions by versioned canonical: package content, which does not change at run time. */
	private final Map<String, ActivityDefinition> activityDefinitions = new ConcurrentHashMap<>();

	public CarePlanAssembler(DaoRegistry daoRegistry, IHapiTransactionService transactions) {
		this.daoRegistry = daoRegistry;
		this.transactions = transactions;
	}

	/**
	 * A component of the proposal and the modules (shared PlanDefinitions) that asked for it. Two modules may ask
	 * for the same component (the relapse-prevention module and the suicide-risk pathway both add more frequent
	 * check-ins): it is ordered once, tagged with both.
	 */
	record Component(ServiceRequest request, List<String> modules) {}

	public CarePlan store(CarePlan proposal, PlanDefinition definition, IdType patientId, String practitioner, RequestDetails request) {
		SystemRequestDetails system = new SystemRequestDetails();
		Patient patient = (Patient) daoRegistry.getResourceDao("Patient").read(patientId, system);
		List<Reference> conditions = nssiConditions(patientId, system);
		if (conditions.isEmpty()) {
			throw new UnprocessableEntityException(ErrorCode.NO_NSSI_CONDITION.message(
					"The patient has no active NSSI Condition for the plan to address; record the diagnosis first"));
		}
		List<Reference> careTeams = careTeams(patientId, system);
		boolean testData = patient.getMeta().getSecurity(ACT_REASON_SYSTEM, "HTEST") != null;
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		Reference author = practitioner == null ? null : new Reference(practitioner);

		Map<String, Resource> contained = new LinkedHashMap<>();
		proposal.getContained().forEach(r -> contained.put(localId(r), r));
		List<Component> components = new ArrayList<>();
		Map<String, Goal> goals = new LinkedHashMap<>();
		collect(proposal, contained, null, components, goals);

		// One database transaction, written in dependency order (goals and orders, then the plan, then the relapse plan
		// part of it), so every reference is a real id when it is stored: HAPI's subscription matching and our write
		// hooks never see a placeholder. Each create goes through the caller's request (SMART create rules, profile
		// validation, labels); any failure rolls everything back.
		IdType planId = transactions.withRequest(request).execute(() -> {
			CarePlan plan = new CarePlan();
			for (Goal proposedGoal : goals.values()) {
				plan.addGoal(new Reference(create(goal(proposedGoal, patientId, conditions, today, testData), request)));
			}
			for (Component c : components) {
				ActivityDefinition definitionOfActivity = activityDefinition(c.request());
				if (definitionOfActivity != null && patientOnly(definitionOfActivity)) {
					// the person's own practice (diary card, daily mindfulness): a planned activity, not an order
					plan.addActivity().setDetail(patientActivity(c.request(), definitionOfActivity, patientId, plan.getGoal()));
					continue;
				}
				ServiceRequest sr = serviceRequest(c, definitionOfActivity, patientId, conditions, author, testData);
				plan.addActivity().setReference(new Reference(create(sr, request)).setDisplay(sr.getCode().getText()));
			}
			boolean dbt = definition.getUrl().endsWith("/nssi-dbt");
			tag(plan, testData);
			plan.getMeta().addProfile(NssiCanonicals.profile(dbt ? "nssi-dbt-careplan" : "nssi-cbt-careplan"));
			plan.addInstantiatesCanonical(definition.getUrl() + "|" + definition.getVersion());
			plan.setStatus(CarePlan.CarePlanStatus.ACTIVE).setIntent(CarePlan.CarePlanIntent.PLAN);
			plan.addCategory(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, dbt ? "dbt-plan" : "cbt-plan", dbt ? "DBT care plan" : "CBT care plan")));
			plan.setTitle(definition.getTitle()).setDescription(definition.getDescription());
			plan.setSubject(new Reference(patientId.getValue()));
			plan.getPeriod().setStartElement(new DateTimeType(today.toString()));
			plan.setCreated(new Date());
			if (author != null) {
				plan.setAuthor(author);
			}
			plan.setCareTeam(careTeams);
			plan.setAddresses(conditions);
			plan.setText(narrative(plan, goals.values()));
			String stored = create(plan, request);
			if (components.stream().anyMatch(c -> "relapse-prevention-plan".equals(code(c.request())))) {
				create(relapsePlan(patientId, stored, conditions, author, today, testData, system), request);
			}
			return new IdType(stored);
		});
		return (CarePlan) daoRegistry.getResourceDao("CarePlan").read(planId, request);
	}

	/** Creates through the caller's request; returns the new resource's relative reference (Type/id). */
	private String create(Resource resource, RequestDetails request) {
		@SuppressWarnings("unchecked")
		IFhirResourceDao<Resource> dao = (IFhirResourceDao<Resource>) daoRegistry.getResourceDao(resource.fhirType());
		return dao.create(resource, request).getId().toUnqualifiedVersionless().getValue();
	}

	/** Walks the proposal: its activities point at the RequestGroup, whose actions point at the requests. */
	private void collect(CarePlan plan, Map<String, Resource> contained, String module, List<Component> components, Map<String, Goal> goals) {
		for (Resource r : plan.getContained()) {
			if (r instanceof Goal g) {
				goals.putIfAbsent(goalKey(g), g);
			}
		}
		for (CarePlan.CarePlanActivityComponent activity : plan.getActivity()) {
			Resource target = resolve(activity.getReference(), contained);
			if (target instanceof RequestGroup group) {
				actions(group.getAction(), contained, module, components, goals);
			}
		}
	}

	private void actions(List<RequestGroup.RequestGroupActionComponent> actions, Map<String, Resource> contained, String module,
			List<Component> components, Map<String, Goal> goals) {
		for (RequestGroup.RequestGroupActionComponent action : actions) {
			if (action == null) {
				continue; // the library leaves a null where an action's condition was not met
			}
			Resource target = resolve(action.getResource(), contained);
			String here = module;
			if (target instanceof ServiceRequest sr) {
				String canonical = sr.hasInstantiatesCanonical() ? sr.getInstantiatesCanonical().get(0).getValue() : null;
				Optional<Component> same = components.stream().filter(c -> canonical != null && c.request().hasInstantiatesCanonical()
						&& canonical.equals(c.request().getInstantiatesCanonical().get(0).getValue())).findFirst();
				if (same.isPresent()) {
					if (module != null && !same.get().modules().contains(module)) {
						same.get().modules().add(module);
					}
				} else {
					List<String> modules = new ArrayList<>();
					if (module != null) {
						modules.add(module);
					}
					components.add(new Component(sr, modules));
				}
			} else if (target instanceof RequestGroup nested) {
				here = moduleCode(action).orElse(module);
				actions(nested.getAction(), contained, here, components, goals);
			} else if (target instanceof CarePlan nestedPlan) {
				here = moduleCode(action).orElse(module);
				Map<String, Resource> inner = new LinkedHashMap<>(contained);
				nestedPlan.getContained().forEach(r -> inner.put(localId(r), r));
				collect(nestedPlan, inner, here, components, goals);
			}
			actions(action.getAction(), contained, here, components, goals);
		}
	}

	private ActivityDefinition activityDefinition(ServiceRequest proposed) {
		if (!proposed.hasInstantiatesCanonical()) {
			return null;
		}
		return activityDefinition(proposed.getInstantiatesCanonical().get(0).getValue());
	}

	/** The ActivityDefinition of a (possibly versioned) canonical, or null when the package has none. */
	ActivityDefinition activityDefinition(String canonical) {
		return activityDefinitions.computeIfAbsent(canonical, c -> {
			int bar = c.indexOf('|');
			SearchParameterMap map = SearchParameterMap.newSynchronous().add(ActivityDefinition.SP_URL, new UriParam(bar < 0 ? c : c.substring(0, bar)));
			if (bar >= 0) {
				map.add(ActivityDefinition.SP_VERSION, new TokenParam(c.substring(bar + 1)));
			}
			List<IBaseResource> found = WholeHistory.all(daoRegistry.getResourceDao("ActivityDefinition").search(map, new SystemRequestDetails()));
			return found.isEmpty() ? null : (ActivityDefinition) found.get(0);
		});
	}

	static boolean patientOnly(ActivityDefinition ad) {
		return ad.hasParticipant() && ad.getParticipant().stream()
				.allMatch(p -> p.getType() == ActivityDefinition.ActivityParticipantType.PATIENT);
	}

	static CarePlan.CarePlanActivityDetailComponent patientActivity(
			ServiceRequest proposed, ActivityDefinition ad, IdType patient, List<Reference> goals) {
		CarePlan.CarePlanActivityDetailComponent detail = new CarePlan.CarePlanActivityDetailComponent();
		detail.setKind(CarePlan.CarePlanActivityKind.SERVICEREQUEST);
		detail.setInstantiatesCanonical(List.of(new CanonicalType(proposed.getInstantiatesCanonical().get(0).getValue())));
		detail.setCode(proposed.getCode().copy());
		detail.setStatus(CarePlan.CarePlanActivityStatus.SCHEDULED);
		if (proposed.getOccurrence() instanceof Timing timing) {
			detail.setScheduled(timing.copy());
		} else if (ad.hasTimingTiming()) {
			detail.setScheduled(ad.getTimingTiming().copy());
		}
		detail.addPerformer(new Reference(patient.getValue()));
		detail.setGoal(goals.stream().map(Reference::copy).toList());
		detail.setDescription(ad.getDescription());
		return detail;
	}

	private static Optional<String> moduleCode(RequestGroup.RequestGroupActionComponent action) {
		return action.getCode().stream().flatMap(c -> c.getCoding().stream())
				.filter(c -> CONCEPTS_SYSTEM.equals(c.getSystem())).map(Coding::getCode).findFirst();
	}

	private static Resource resolve(Reference ref, Map<String, Resource> contained) {
		if (ref == null || ref.getReference() == null) {
			return ref == null ? null : (Resource) ref.getResource();
		}
		String id = ref.getReference().startsWith("#") ? ref.getReference().substring(1) : ref.getReference();
		Resource r = contained.get(id);
		return r != null ? r : (Resource) ref.getResource();
	}

	private static String localId(Resource r) {
		String id = r.getIdElement().getIdPart();
		return id == null ? r.getId() : id.startsWith("#") ? id.substring(1) : id;
	}

	private static String goalKey(Goal g) {
		return g.getDescription().getCoding().stream().map(Coding::getCode).findFirst().orElse(g.getDescription().getText());
	}

	private Goal goal(Goal proposed, IdType patient, List<Reference> conditions, LocalDate today, boolean testData) {
		Goal goal = new Goal();
		tag(goal, testData);
		goal.getMeta().addProfile(NssiCanonicals.profile("nssi-goal"));
		goal.setLifecycleStatus(Goal.GoalLifecycleStatus.ACTIVE);
		goal.setAchievementStatus(new CodeableConcept(new Coding(GOAL_ACHIEVEMENT, "in-progress", "In Progress")));
		goal.setCategory(proposed.getCategory());
		goal.setDescription(proposed.getDescription().copy());
		goal.setSubject(new Reference(patient.getValue()));
		goal.setStart(new DateType(today.toString()));
		goal.setAddresses(conditions.stream().map(Reference::copy).toList());
		for (Goal.GoalTargetComponent t : proposed.getTarget()) {
			Goal.GoalTargetComponent target = t.copy();
			if (t.getDue() instanceof Duration d && d.getValue() != null) {
				// a plan-relative due (e.g. 26 weeks) becomes a date for this patient
				target.setDue(new DateType(today.plusDays(days(d)).toString()));
			}
			goal.addTarget(target);
		}
		return goal;
	}

	private static long days(Duration d) {
		long n = d.getValue().longValue();
		return switch (d.hasCode() ? d.getCode() : "d") {
			case "wk" -> n * 7;
			case "mo" -> n * 30;
			case "a" -> n * 365;
			default -> n;
		};
	}

	ServiceRequest serviceRequest(Component c, ActivityDefinition ad, IdType patient, List<Reference> conditions, Reference author, boolean testData) {
		ServiceRequest proposed = c.request();
		ServiceRequest sr = new ServiceRequest();
		tag(sr, testData);
		sr.getMeta().addProfile(NssiCanonicals.profile("nssi-treatment-request"));
		sr.setInstantiatesCanonical(proposed.getInstantiatesCanonical());
		sr.setStatus(ServiceRequest.ServiceRequestStatus.ACTIVE);
		sr.setIntent(ServiceRequest.ServiceRequestIntent.ORDER);
		if (proposed.hasPriority()) {
			sr.setPriority(proposed.getPriority());
		} else if (ad != null && ad.hasPriority()) {
			sr.setPriority(ServiceRequest.ServiceRequestPriority.fromCode(ad.getPriority().toCode())); // e.g. urgent risk assessment
		} else {
			sr.setPriority(ServiceRequest.ServiceRequestPriority.ROUTINE);
		}
		c.modules().forEach(m -> sr.addCategory(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, m, null))));
		sr.setCode(proposed.getCode().copy());
		sr.setSubject(new Reference(patient.getValue()));
		if (proposed.hasOccurrence()) {
			sr.setOccurrence(proposed.getOccurrence().copy());
		} else if (ad != null && ad.hasTimingTiming()) {
			sr.setOccurrence(ad.getTimingTiming().copy()); // the schedule progress counts sessions against
		}
		sr.setAuthoredOn(new Date());
		if (author != null) {
			sr.setRequester(author.copy());
		}
		sr.setReasonReference(conditions.stream().map(Reference::copy).toList());
		proposed.getNote().forEach(n -> sr.addNote(n.copy()));
		if (proposed.hasPatientInstruction()) {
			sr.setPatientInstruction(proposed.getPatientInstruction());
		}
		return sr;
	}

	/**
	 * The relapse-prevention plan starts from what the record already says: the triggers of the person's own
	 * episodes (most frequent first). Warning signs, coping strategies and contacts are written with the person,
	 * who can then edit the plan from a patient-facing app.
	 */
	private CarePlan relapsePlan(IdType patient, String planReference, List<Reference> conditions, Reference author, LocalDate today,
			boolean testData, SystemRequestDetails system) {
		CarePlan plan = new CarePlan();
		tag(plan, testData);
		plan.getMeta().addProfile(NssiCanonicals.profile("nssi-relapse-prevention-plan"));
		plan.addPartOf(new Reference(planReference));
		plan.setStatus(CarePlan.CarePlanStatus.ACTIVE).setIntent(CarePlan.CarePlanIntent.PLAN);
		plan.addCategory(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, "relapse-prevention-plan-category", "Relapse-prevention plan")));
		plan.setTitle("My plan to stay safe");
		plan.setDescription("What tends to set off an urge, the signs that one is building, what helps, and who to contact.");
		plan.setSubject(new Reference(patient.getValue()));
		plan.getPeriod().setStartElement(new DateTimeType(today.toString()));
		if (author != null) {
			plan.setAuthor(author.copy());
			plan.addContributor(author.copy());
		}
		plan.addContributor(new Reference(patient.getValue()));
		plan.setAddresses(conditions.stream().map(Reference::copy).toList());
		List<Coding> triggers = RecordedTriggers.mostFrequent(daoRegistry, patient, system, 3);
		if (triggers.isEmpty()) {
			// nothing recorded yet: a step to fill in with the person, not a placeholder code ("Other trigger" said nothing
			// and looked like a finding; issue 19, item 13)
			CarePlan.CarePlanActivityDetailComponent d = plan.addActivity().getDetail();
			d.setCode(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, "personal-trigger", "Personal trigger")));
			d.setStatus(CarePlan.CarePlanActivityStatus.NOTSTARTED);
			d.setDescription("Situations that have led to self-injury before: none recorded yet, to write with the person in their own words.");
		}
		for (Coding trigger : triggers) {
			CarePlan.CarePlanActivityDetailComponent d = plan.addActivity().getDetail();
			d.setCode(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, "personal-trigger", "Personal trigger")));
			d.addReasonCode(new CodeableConcept(trigger.copy()));
			d.setStatus(CarePlan.CarePlanActivityStatus.NOTSTARTED);
			d.setDescription("A situation that has led to self-injury before: " + (trigger.hasDisplay() ? trigger.getDisplay() : trigger.getCode()));
		}
		for (String[] part : new String[][] {
				{"warning-sign", "Warning sign", "Signs that an urge is building: to write with the person in their own words."},
				{"coping-strategy", "Coping strategy", "What helps instead of self-injury: to write with the person (for example a skill from therapy)."},
				{"support-contact", "Who to contact", "People and services to contact when coping strategies are not enough, including a crisis line."}}) {
			CarePlan.CarePlanActivityDetailComponent d = plan.addActivity().getDetail();
			d.setCode(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, part[0], part[1])));
			d.setStatus(CarePlan.CarePlanActivityStatus.NOTSTARTED);
			d.setDescription(part[2]);
			if (part[0].equals("support-contact")) {
				if (author != null) {
					d.addPerformer(author.copy());
				}
				d.addPerformer(new Reference().setDisplay("Crisis line (add the local number with the person)"));
			}
		}
		// after any episode: check in twice a week until the urges settle (the relapse-prevention module's schedule). Said
		// in words, not as a Timing: a Timing from the plan's start read as twice-weekly check-ins from day one, which is
		// not what the module orders (informaticist review s8)
		CarePlan.CarePlanActivityDetailComponent checkIns = plan.addActivity().getDetail();
		checkIns.setCode(new CodeableConcept(new Coding(CONCEPTS_SYSTEM, "increased-check-ins", "More frequent check-ins")));
		checkIns.setStatus(CarePlan.CarePlanActivityStatus.NOTSTARTED);
		checkIns.setScheduled(new StringType("After any self-harm: twice a week until the urges settle"));
		// in the person's voice, as the rest of "My plan to stay safe": the young person reads this plan in their app
		// (review s7: the team's instruction read as one of their own coping steps)
		checkIns.setDescription("After any self-harm, my care team and I check in twice a week until the urges settle.");
		if (author != null) {
			checkIns.addPerformer(author.copy());
		}
		// the standing follow-up from day one is the plan's review (nssi-rpp-4: a follow-up that states how often)
		CarePlan.CarePlanActivityDetailComponent review = plan.addActivity().getDetail();
		review.setCode(new CodeableConcept(new Coding(NssiCanonicals.SNOMED, "88848003", "Psychiatric follow-up")));
		review.setStatus(CarePlan.CarePlanActivityStatus.NOTSTARTED);
		review.setScheduled(new Timing().setRepeat(new Timing.TimingRepeatComponent()
				.setFrequency(1).setPeriod(2).setPeriodUnit(Timing.UnitsOfTime.WK)));
		review.setDescription("I look at this plan with my care team every two weeks, to keep it right for me.");
		if (author != null) {
			review.addPerformer(author.copy());
		}
		StringBuilder html = new StringBuilder("<p><b>My plan to stay safe</b></p><ul>");
		plan.getActivity().forEach(a -> html.append("<li>").append(escape(a.getDetail().getDescription())).append("</li>"));
		plan.setText(div(html.append("</ul>").toString()));
		return plan;
	}

	private List<Reference> nssiConditions(IdType patient, SystemRequestDetails system) {
		SearchParameterMap map = WholeHistory.search()
				.add(Condition.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(Condition.SP_CLINICAL_STATUS, new TokenParam("active"));
		List<Reference> out = new ArrayList<>();
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("Condition").search(map, system))) {
			if (NssiResourceClassifier.profilesFor(r).contains("nssi-condition")) {
				out.add(new Reference("Condition/" + r.getIdElement().getIdPart()));
			}
		}
		return out;
	}

	private List<Reference> careTeams(IdType patient, SystemRequestDetails system) {
		SearchParameterMap map = WholeHistory.search()
				.add(CareTeam.SP_PATIENT, new ReferenceParam(patient.getValue()))
				.add(CareTeam.SP_STATUS, new TokenParam("active"));
		return WholeHistory.all(daoRegistry.getResourceDao("CareTeam").search(map, system)).stream()
				.map(r -> new Reference("CareTeam/" + r.getIdElement().getIdPart()))
				.toList();
	}

	/** Resources made for a synthetic (HTEST) patient are synthetic too. */
	private static void tag(Resource r, boolean testData) {
		if (testData) {
			r.getMeta().addSecurity(ACT_REASON_SYSTEM, "HTEST", "test health data");
		}
	}

	static String code(ServiceRequest sr) {
		return sr.getCode().getCoding().stream().filter(c -> CONCEPTS_SYSTEM.equals(c.getSystem()))
				.map(Coding::getCode).findFirst().orElse(null);
	}

	static Narrative narrative(CarePlan plan, Collection<Goal> goals) {
		StringBuilder html = new StringBuilder("<p><b>").append(escape(plan.getTitle())).append("</b></p><p>Goals:</p><ul>");
		goals.forEach(g -> html.append("<li>").append(escape(g.getDescription().getText())).append("</li>"));
		html.append("</ul><p>Activities:</p><ul>");
		plan.getActivity().forEach(a -> html.append("<li>").append(escape(a.hasReference() ? a.getReference().getDisplay()
				: a.getDetail().getCode().getText())).append("</li>"));
		return div(html.append("</ul>").toString());
	}

	private static Narrative div(String html) {
		Narrative n = new Narrative().setStatus(Narrative.NarrativeStatus.GENERATED);
		n.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + html + "</div>");
		return n;
	}

	private static String escape(String s) {
		return s == null ? "" : StringEscapeUtils.escapeXml10(s);
	}

	/** The current user's FHIR resource when it is a Practitioner (author and requester of what $apply stores). */
	static Optional<String> currentPractitioner() {
		return SmartAccess.current().flatMap(SmartAccess::fhirUser).filter(u -> u.startsWith("Practitioner/"));
	}
}
