package org.nssifhir.server.cohort;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirResourceDao;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.nssifhir.server.assessment.ExtractOperationProvider;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.treatment.PlanApplyProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.annotation.Order;

/**
 * Demo mode: loads a small synthetic cohort when the server starts on the embedded database, after the
 * conformance content is installed (so every resource is validated and labelled as over HTTP) and before the
 * server reports ready. The same seed gives the same people; those already present are skipped.
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

	public DemoData(NssiProperties properties, IFhirSystemDao<Bundle, ?> systemDao, DaoRegistry daoRegistry, ExtractOperationProvider extract,
			PlanApplyProvider planApply, RestfulServer restfulServer) {
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
		log.info("Demo mode: {} synthetic patients (seed {}), {} resources stored in {} s", people.size(), demo.seed(), stored,
				(System.nanoTime() - started) / 1_000_000_000L);
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
