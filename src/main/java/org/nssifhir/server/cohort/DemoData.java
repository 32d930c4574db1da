package org.nssifhir.server.cohort;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirResourceDao;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.nssifhir.server.assessment.ExtractOperationProvider;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.security.issuing.DevClient;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.WholeHistory;
import org.nssifhir.server.treatment.PlanApplyProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.annotation.Order;

/**
 * Demo mode: loads a small synthetic cohort when the server starts on the embedded database, after the
 * conformance content is installed (so every resource is validated and labelled as over HTTP) and before the
 * server reports ready. The same seed gives the same people; those already present are skipped. The development
 * clinician ({@code dev-clinician}) is on the care team of every other person and of at least one young person under
 * 18 ({@link #related(List, LocalDate)}), so the clinician app shows real data for some (the adolescent notice and
 * a parent on record among them) and the refusal (with break-the-glass) for the others.
 */
@Order(10)
public class DemoData implements ApplicationRunner {

	private static final Logger log = LoggerFactory.getLogger(DemoData.class);

	private final NssiProperties properties;
	private final IFhirSystemDao<Bundle, ?> systemDao;
	private final DaoRegistry daoRegistry;
	private final ExtractOperationProvider extract;
	private final PlanApplyProvider planApply;
	private final RestfulServer restfulServer;
	private final String clinician;

	public DemoData(NssiProperties properties, IFhirSystemDao<Bundle, ?> systemDao, DaoRegistry daoRegistry, ExtractOperationProvider extract,
			PlanApplyProvider planApply, RestfulServer restfulServer) {
		this(properties, systemDao, daoRegistry, extract, planApply, restfulServer, DevClient.FHIR_USER);
	}

	/**
	 * @param clinician the Practitioner (Type/id) the demo gives treating relationships: the development sign-in
	 *     {@code dev-clinician} when the server runs; tests may name their own signed-in clinician
	 */
	public DemoData(NssiProperties properties, IFhirSystemDao<Bundle, ?> systemDao, DaoRegistry daoRegistry, ExtractOperationProvider extract,
			PlanApplyProvider planApply, RestfulServer restfulServer, String clinician) {
		this.clinician = clinician;
		this.properties = properties;
		this.systemDao = systemDao;
		this.daoRegistry = daoRegistry;
		this.extract = extract;
		this.planApply = planApply;
		this.restfulServer = restfulServer;
	}

	@Override
	public void run(ApplicationArguments args) {
		if (!properties.db().embedded()) {
			log.warn("nssi.demo.enabled is ignored: demo data is only loaded into the embedded database");
			return;
		}
		NssiProperties.Demo demo = properties.demo();
		long started = System.nanoTime();
		List<CohortGenerator.PatientHistory> people =
				new CohortGenerator(LocalDate.now(ZoneOffset.UTC)).generate(demo.patients(), demo.seed());
		int stored = inProcess().load(people);
		int teams = careTeams(people);
		log.info("Demo mode: {} synthetic patients (seed {}), {} resources stored in {} s; {} on a care team with the demo clinician",
				people.size(), demo.seed(), stored, (System.nanoTime() - started) / 1_000_000_000L, teams);
	}

	/**
	 * Which people of the cohort (0-based) the demo's clinician treats: the 1st, 3rd, 5th..., so that both the
	 * clinician's own patients and the refusal (and break-the-glass) can be tried; and, when none of those is under
	 * 18, the first young person as well (a child and adolescent clinician sees the adolescent notice and family
	 * involvement), as long as someone is left unrelated for the refusal.
	 */
	public static Set<Integer> related(List<CohortGenerator.PatientHistory> people, LocalDate today) {
		Set<Integer> related = new TreeSet<>();
		for (int i = 0; i < people.size(); i += 2) {
			related.add(i);
		}
		if (related.stream().noneMatch(i -> minor(people.get(i), today)) && related.size() + 1 < people.size()) {
			// (never the last unrelated person: the refusal must stay visible)
			for (int i = 0; i < people.size(); i++) {
				if (minor(people.get(i), today)) {
					related.add(i);
					break;
				}
			}
		}
		return related;
	}

	/** Whether the person is under 18 on the given day (by the Patient in their history's transaction). */
	public static boolean minor(CohortGenerator.PatientHistory person, LocalDate today) {
		return person.transaction().getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
				.filter(Patient.class::isInstance).map(Patient.class::cast).findFirst()
				.filter(Patient::hasBirthDate)
				.map(p -> LocalDate.parse(p.getBirthDateElement().getValueAsString()).plusYears(18).isAfter(today))
				.orElse(false);
	}

	/**
	 * The demo clinician (created if missing, as DevUserRecords would create it later) and one active CareTeam per
	 * related person naming them, stored as the system: only backend clients and administrators may assert a
	 * treating relationship. Also for people loaded by an earlier start without one; never twice.
	 */
	int careTeams(List<CohortGenerator.PatientHistory> people) {
		IdType practitioner = new IdType(clinician);
		IFhirResourceDao<Practitioner> practitioners = daoRegistry.getResourceDao(Practitioner.class);
		try {
			practitioners.read(practitioner, new SystemRequestDetails());
		} catch (ResourceNotFoundException | ResourceGoneException missing) {
			Practitioner p = new Practitioner();
			p.setId(practitioner);
			p.addName().setFamily("Development").addGiven("Clinician");
			p.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", "test health data");
			practitioners.update(p, new SystemRequestDetails());
		}
		int related = 0;
		LocalDate today = LocalDate.now(ZoneOffset.UTC);
		Set<Integer> treated = related(people, today);
		for (int i = 0; i < people.size(); i++) {
			if (!treated.contains(i)) {
				continue;
			}
			Optional<String> patient = patientId(people.get(i).mrn());
			if (patient.isEmpty()) {
				continue;
			}
			related++;
			if (minor(people.get(i), today)) {
				parent(patient.get());
			}
			SearchParameterMap existing = SearchParameterMap.newSynchronous()
					.add(CareTeam.SP_PATIENT, new ReferenceParam(patient.get()))
					.add(CareTeam.SP_PARTICIPANT, new ReferenceParam(practitioner.getValue()))
					.add(CareTeam.SP_STATUS, new TokenParam("active"));
			if (!daoRegistry.getResourceDao(CareTeam.class).search(existing, new SystemRequestDetails()).isEmpty()) {
				continue;
			}
			CareTeam team = new CareTeam();
			team.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", "test health data");
			team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
			team.setName("Child and adolescent mental health team");
			team.setSubject(new Reference(patient.get()));
			team.getPeriod().setStartElement(new DateTimeType(LocalDate.now(ZoneOffset.UTC).minusYears(1).toString()));
			team.addParticipant().setMember(new Reference(practitioner.getValue()).setDisplay("Development Clinician"))
					.addRole().setText("Treating clinician");
			daoRegistry.getResourceDao(CareTeam.class).create(team, new SystemRequestDetails());
		}
		return related;
	}

	/**
	 * A parent on record for a young person the clinician treats (synthetic, tagged as test data), so the app's
	 * family parts (inviting a parent, disabling their sign-in) have someone to show; never twice.
	 */
	private void parent(String patient) {
		IFhirResourceDao<RelatedPerson> dao = daoRegistry.getResourceDao(RelatedPerson.class);
		SearchParameterMap existing = SearchParameterMap.newSynchronous(RelatedPerson.SP_PATIENT, new ReferenceParam(patient));
		if (!dao.search(existing, new SystemRequestDetails()).isEmpty()) {
			return;
		}
		RelatedPerson parent = new RelatedPerson();
		parent.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", "test health data");
		parent.setActive(true);
		parent.setPatient(new Reference(patient));
		// words only: no relationship code is verified for this project (clinical-content.md)
		parent.addRelationship().setText("Parent");
		parent.addName().setFamily("Synthetic").addGiven("Parent");
		dao.create(parent, new SystemRequestDetails());
	}

	private Optional<String> patientId(String mrn) {
		SearchParameterMap map = SearchParameterMap.newSynchronous(Patient.SP_IDENTIFIER, new TokenParam(CohortGenerator.MRN_SYSTEM, mrn));
		List<?> found = WholeHistory.all(daoRegistry.getResourceDao("Patient").search(map, new SystemRequestDetails()));
		return found.isEmpty() ? Optional.empty()
				: Optional.of(((Resource) found.get(0)).getIdElement().toUnqualifiedVersionless().getValue());
	}

	/**
	 * The same loading as over HTTP, through HAPI's DAOs and our operations as the system (the write interceptors
	 * still apply): histories, their extracted assessments, and the treatment plans with their sessions.
	 */
	CohortLoader inProcess() {
		return new CohortLoader() {
			@Override
			public boolean exists(String mrn) {
				SearchParameterMap map = SearchParameterMap.newSynchronous(Patient.SP_IDENTIFIER, new TokenParam(CohortGenerator.MRN_SYSTEM, mrn));
				return !daoRegistry.getResourceDao("Patient").search(map, new SystemRequestDetails()).isEmpty();
			}

			@Override
			public List<String> transaction(Bundle transaction) {
				return CohortLoader.locations(systemDao.transaction(new SystemRequestDetails(), transaction));
			}

			@Override
			public void extract(String questionnaireResponseId) {
				extract.extractInstance(new IdType(questionnaireResponseId), new SystemRequestDetails());
			}

			@Override
			public Optional<CarePlan> startPlan(String planDefinition, String patient) {
				// the same operation a clinician's app calls; the plan logic reads its definitions through the server
				SystemRequestDetails request = new SystemRequestDetails();
				request.setServer(restfulServer);
				return Optional.of((CarePlan) planApply.apply(new IdType("PlanDefinition", planDefinition), new StringType(patient),
						null, null, null, null, null, new BooleanType(true), request));
			}

			@Override
			public void update(Resource resource) {
				dao(resource).update(resource, new SystemRequestDetails());
			}

			@Override
			public void create(Resource resource) {
				dao(resource).create(resource, new SystemRequestDetails());
			}
		};
	}

	@SuppressWarnings("unchecked")
	private IFhirResourceDao<Resource> dao(Resource resource) {
		return (IFhirResourceDao<Resource>) daoRegistry.getResourceDao(resource.fhirType());
	}
}
