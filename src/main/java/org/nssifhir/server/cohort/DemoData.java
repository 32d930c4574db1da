package org.nssifhir.server.cohort;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.TokenParam;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.nssifhir.server.assessment.ExtractOperationProvider;
import org.nssifhir.server.config.NssiProperties;
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

	public DemoData(NssiProperties properties, IFhirSystemDao<Bundle, ?> systemDao, DaoRegistry daoRegistry, ExtractOperationProvider extract) {
		this.properties = properties;
		this.systemDao = systemDao;
		this.daoRegistry = daoRegistry;
		this.extract = extract;
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

	/** The same loading as over HTTP, through HAPI's DAOs as the system (the write interceptors still apply). */
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
		};
	}
}
