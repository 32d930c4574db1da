package org.nssifhir.server.labeling;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A transaction the server runs itself (demo data loads each person's history this way) labels a young person's
 * entries as one sent over REST does: an episode naming its Patient by {@code urn:uuid} gets ADOL. Before, only the
 * REST request carried the Bundle the reference is resolved against, and demo minors' records had no adolescent
 * notice in the clinician app (issue 20 review, item 6).
 */
class InProcessTransactionLabelingIT extends BaseIT {

	@Autowired
	IFhirSystemDao<Bundle, ?> systemDao;

	@Test
	void aMinorEpisodeInAnInProcessTransactionIsLabelledAdolescent_asOverRest() {
		for (boolean rest : new boolean[] {false, true}) {
			Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
			Patient patient = new Patient();
			patient.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
			patient.setBirthDate(Date.from(Instant.now().minus(15 * 365, ChronoUnit.DAYS)));
			String patientUrl = "urn:uuid:" + UUID.randomUUID();
			tx.addEntry().setFullUrl(patientUrl).setResource(patient).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
			Observation episode = AssessmentFixtures.episode(new IdType(patientUrl), Date.from(Instant.now().minus(30, ChronoUnit.DAYS)), "intent-none", null);
			episode.getSubject().setReference(patientUrl);
			tx.addEntry().setFullUrl("urn:uuid:" + UUID.randomUUID()).setResource(episode).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation");

			Bundle response = rest ? client().transaction().withBundle(tx).execute() : systemDao.transaction(new SystemRequestDetails(), tx);

			IdType stored = new IdType(response.getEntry().get(1).getResponse().getLocation()).toUnqualifiedVersionless();
			Observation read = client().read().resource(Observation.class).withId(stored).execute();
			assertThat(read.getMeta().getSecurity()).as(rest ? "over REST" : "in process").map(Coding::getCode).contains("R", "ADOL");
			assertThat(read.getMeta().getTag()).map(Coding::getCode).contains(SecurityLabelingService.RULE_ADOLESCENT);
		}
	}
}
