package org.nssifhir.server.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Paging of searches about one patient ({@link PatientSearchPaging}): offset links instead of a stored snapshot,
 * every record once and in order, an accurate total, no empty last page, and each page checked for whoever follows
 * the link. Searches across patients keep HAPI's stored pages.
 */
class PatientSearchPagingIT extends BaseIT {

	private static final String HTEST = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

	@Autowired
	DataSource dataSource;

	private String patient;
	private final List<String> newestFirst = new ArrayList<>();

	private static <T extends Resource> T tagged(T r) {
		r.getMeta().addSecurity(HTEST, "HTEST", null);
		return r;
	}

	@BeforeEach
	void patientWithSixHeartRates() {
		patient = client().create().resource(tagged(new Patient())).execute().getId().getIdPart();
		List<String> oldestFirst = new ArrayList<>();
		for (int day = 1; day <= 6; day++) {
			Observation obs = tagged(new Observation());
			obs.setStatus(Observation.ObservationStatus.FINAL);
			obs.setCode(new CodeableConcept(new Coding("http://loinc.org", "8867-4", "Heart rate")));
			obs.setSubject(new Reference("Patient/" + patient));
			obs.setEffective(new DateTimeType("2026-11-0" + day + "T10:00:00Z"));
			oldestFirst.add(client().create().resource(obs).execute().getId().getIdPart());
		}
		newestFirst.clear();
		for (int i = oldestFirst.size() - 1; i >= 0; i--) {
			newestFirst.add(oldestFirst.get(i));
		}
	}

	@Test
	void aPatientsTimelinePagesByOffsetWithoutAStoredSearch() throws Exception {
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		long storedBefore = jdbc.queryForObject("SELECT count(*) FROM hfj_search", Long.class);
		String token = tokens().system(FULL_ACCESS);
		for (String search : List.of("/Observation?subject=Patient/" + patient + "&code=http://loinc.org%7C8867-4&_sort=-date&_count=4",
				"/Observation?patient=" + patient + "&_sort=-date&_count=4", "/Patient/" + patient + "/Observation?_sort=-date&_count=4")) {
			List<Bundle> pages = pages(search, token);
			// six records in pages of four: 4 + 2, no third (empty) page, links by offset only
			assertThat(pages).as(search).hasSize(2);
			assertThat(pages.get(0).getEntry()).hasSize(4);
			assertThat(pages.get(1).getEntry()).hasSize(2);
			assertThat(pages.get(0).getLink("next").getUrl()).contains("_offset=4").doesNotContain("_getpages");
			assertThat(pages.get(1).getLink("previous").getUrl()).contains("_offset=0");
			assertThat(pages.get(0).getTotal()).as("an accurate total without asking for one").isEqualTo(6);
			List<String> ids = pages.stream().flatMap(p -> p.getEntry().stream())
					.map(e -> e.getResource().getIdElement().getIdPart()).toList();
			assertThat(ids).as(search).containsExactlyElementsOf(newestFirst);
		}
		// an exact multiple of the page size: the last page has no next link to an empty page
		List<Bundle> threes = pages("/Observation?subject=Patient/" + patient + "&_sort=-date&_count=3", token);
		assertThat(threes).hasSize(2).allSatisfy(p -> assertThat(p.getEntry()).hasSize(3));
		assertThat(jdbc.queryForObject("SELECT count(*) FROM hfj_search", Long.class)).as("no search snapshot stored").isEqualTo(storedBefore);
	}

	@Test
	void aClientsOwnTotalChoiceAndPageSizeAreKept() throws Exception {
		String token = tokens().system(FULL_ACCESS);
		Bundle none = pages("/Observation?subject=Patient/" + patient + "&_total=none&_count=2", token).get(0);
		assertThat(none.hasTotal()).isFalse();
		assertThat(none.getEntry()).hasSize(2);
		assertThat(none.getLink("next").getUrl()).contains("_offset=2").contains("_total=none");
	}

	@Test
	void aSearchAcrossPatientsKeepsStoredPages() throws Exception {
		Bundle first = pages("/Observation?code=http://loinc.org%7C8867-4&_count=1", tokens().system(FULL_ACCESS)).get(0);
		assertThat(first.getLink("next").getUrl()).contains("_getpages");
	}

	@Test
	void aPageLinkIsAnOrdinarySearchForWhoeverFollowsIt() throws Exception {
		Bundle first = pages("/Observation?subject=Patient/" + patient + "&_count=2", tokens().system(FULL_ACCESS)).get(0);
		String next = first.getLink("next").getUrl();
		// another patient's own token: the search about someone else is refused, as it would be typed by hand
		String other = client().create().resource(tagged(new Patient())).execute().getId().getIdPart();
		String otherPatient = tokens().token().scopes("patient/*.rs").claim("patient", other)
				.claim("fhirUser", fhirBase() + "/Patient/" + other).sign();
		HttpResponse<String> followed = get(next, otherPatient);
		assertThat(followed.statusCode()).as(followed.body()).isIn(403, 404);
		assertThat(followed.body()).doesNotContain(newestFirst.get(2));
		// no token at all
		assertThat(get(next, null).statusCode()).isEqualTo(401);
	}

	private List<Bundle> pages(String search, String token) throws Exception {
		List<Bundle> pages = new ArrayList<>();
		HttpResponse<String> response = get(fhirBase() + search, token);
		while (true) {
			assertThat(response.statusCode()).as(search + ": " + response.body()).isEqualTo(200);
			Bundle page = fhirContext.newJsonParser().parseResource(Bundle.class, response.body());
			pages.add(page);
			if (page.getLink("next") == null || pages.size() > 10) {
				return pages;
			}
			response = get(page.getLink("next").getUrl(), token);
		}
	}

	private HttpResponse<String> get(String url, String token) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).GET();
		if (token != null) {
			request.header("Authorization", "Bearer " + token);
		}
		return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}
}
