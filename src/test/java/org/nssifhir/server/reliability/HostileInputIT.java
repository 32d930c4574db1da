package org.nssifhir.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.parser.DataFormatException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.reliability.HostileCorpus.Case;
import org.nssifhir.server.support.BaseIT;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The hostile-input corpus ({@link HostileCorpus}: the request table and bodies under {@code src/test/resources/hostile/}
 * plus generated cases) sent over real HTTP. Each request must be answered with a client error carrying an
 * OperationOutcome (401 for token problems), never a 5xx, and must change nothing stored: the count and the summed
 * versions of all resources (except the AuditEvents the requests themselves cause) are compared before and after
 * each case (for every case, whatever its expected status). Injection attempts in search values may also be answered 200, but then with an empty Bundle (a value
 * taken literally, not a widened search).
 */
class HostileInputIT extends BaseIT {

	@Autowired
	DataSource dataSource;

	@TestFactory
	Stream<DynamicTest> hostileRequestsAreRefusedWithoutChangingData() throws Exception {
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		Map<String, String> fixtures = fixtures();
		List<Case> cases = HostileCorpus.load(fixtures, tokens(), fhirBase());
		assertThat(cases).hasSizeGreaterThanOrEqualTo(200);
		return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c, jdbc)));
	}

	private Map<String, String> fixtures() {
		String patient = AssessmentFixtures.patient(client()).getIdPart();
		// a second patient and two plain Observations, so conditional deletes and creates that match "everything"
		// match more than one resource (HAPI then refuses them with 412) even when this class runs alone
		AssessmentFixtures.patient(client());
		for (int i = 0; i < 2; i++) {
			Observation obs = new Observation();
			obs.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
			obs.setStatus(Observation.ObservationStatus.FINAL).getCode().setText("hostile-input fixture");
			obs.setSubject(new Reference("Patient/" + patient));
			client().create().resource(obs).execute();
		}
		String questionnaire = client().search().byUrl("Questionnaire?url=" + NssiCanonicals.QUESTIONNAIRE + "nssi-assessment")
				.returnBundle(Bundle.class).execute().getEntryFirstRep().getResource().getIdElement().getIdPart();
		// a stored response to a questionnaire that is not ours: $extract must refuse it
		QuestionnaireResponse other = new QuestionnaireResponse();
		other.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		other.setQuestionnaire("http://example.org/Questionnaire/not-nssi");
		other.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.COMPLETED);
		other.setSubject(new Reference("Patient/" + patient));
		String qrOther = client().create().resource(other).execute().getId().getIdPart();
		CarePlan plan = new CarePlan();
		plan.getMeta().addSecurity(NssiCanonicals.ACT_REASON_SYSTEM, "HTEST", null);
		plan.setStatus(CarePlan.CarePlanStatus.ACTIVE).setIntent(CarePlan.CarePlanIntent.PLAN).setSubject(new Reference("Patient/" + patient));
		String careplan = client().create().resource(plan).execute().getId().getIdPart();
		return Map.of("{patient}", patient, "{questionnaire}", questionnaire, "{qr-other}", qrOther, "{careplan}", careplan);
	}

	private void check(Case c, JdbcTemplate jdbc) throws Exception {
		List<Object> before = snapshot(jdbc);
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(fhirBase() + c.path()))
				.timeout(Duration.ofSeconds(60))
				.header("Accept", "application/fhir+json")
				.method(c.method(), c.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(c.body()));
		if (c.contentType() != null) {
			request.header("Content-Type", c.contentType());
		}
		c.headers().forEach(request::header);
		HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
		List<Object> after = snapshot(jdbc);
		int status = response.statusCode();
		String contentType = response.headers().firstValue("Content-Type").orElse("");
		String body = response.body();
		String seen = c.name() + " -> " + status + " " + contentType + " " + body.substring(0, Math.min(body.length(), 300));
		assertThat(after).as("stored data changed: %s", seen).isEqualTo(before);
		assertThat(status).as(seen).isLessThan(500);
		switch (c.expect()) {
			case "4xx" -> assertThat(status).as(seen).isBetween(400, 499);
			case "nochange" -> {
				// below 500 and nothing stored changed: both checked above
			}
			case "safe" -> {
				if (status == 200) {
					Bundle bundle = fhirContext.newJsonParser().parseResource(Bundle.class, body);
					assertThat(bundle.getEntry()).as("a hostile search value widened the search: %s", seen).isEmpty();
				} else {
					assertThat(status).as(seen).isBetween(400, 499);
				}
			}
			default -> assertThat(status).as(seen).isEqualTo(Integer.parseInt(c.expect()));
		}
		if (status >= 400) {
			assertThat(contentType).as(seen).contains("json");
			OperationOutcome outcome;
			try {
				outcome = fhirContext.newJsonParser().parseResource(OperationOutcome.class, body);
			} catch (DataFormatException e) {
				throw new AssertionError("the error is not an OperationOutcome: " + seen, e);
			}
			assertThat(outcome.getIssue()).as(seen).isNotEmpty();
		}
	}

	/**
	 * Number of resources, summed versions and number of stored versions, leaving out AuditEvents (every request is
	 * audited, which is intended) and Subscriptions (HAPI updates their status in the background for other tests).
	 */
	private static List<Object> snapshot(JdbcTemplate jdbc) {
		List<Object> values = new ArrayList<>(jdbc.queryForMap(
				"select count(*) as n, coalesce(sum(res_ver), 0) as v from hfj_resource where res_type not in ('AuditEvent', 'Subscription')")
				.values());
		values.add(jdbc.queryForObject("select count(*) from hfj_res_ver where res_type not in ('AuditEvent', 'Subscription')", Long.class));
		return values;
	}
}
