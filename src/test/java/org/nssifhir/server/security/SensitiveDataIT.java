package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.TestConsents;

/**
 * Sensitivity labels over real HTTP: restricted NSSI data only for treating clinicians (or break-the-glass, always
 * audited), adolescent data to a parent only with the patient's Consent, and the patient always sees their own.
 */
class SensitiveDataIT extends BaseIT {

	private static final String HTEST = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

	private String patient;
	private String episode;
	private String treating;
	private String other;
	private String parent;

	@BeforeEach
	void adolescentWithAnEpisode() throws Exception {
		IGenericClient admin = client();
		Patient p = tagged(new Patient());
		p.addName().setFamily("Labeltest");
		p.setBirthDateElement(new DateType("2011-03-01"));
		patient = admin.create().resource(p).execute().getId().getIdPart();
		treating = admin.create().resource(practitioner("Treating")).execute().getId().getIdPart();
		other = admin.create().resource(practitioner("Unrelated")).execute().getId().getIdPart();
		RelatedPerson rp = tagged(new RelatedPerson());
		rp.setPatient(new Reference("Patient/" + patient));
		parent = admin.create().resource(rp).execute().getId().getIdPart();
		CareTeam team = tagged(new CareTeam());
		team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
		team.setSubject(new Reference("Patient/" + patient));
		team.addParticipant().setMember(new Reference("Practitioner/" + treating));
		admin.create().resource(team).execute();

		// the profiled example episode, without its labels: the server must add R, BH and ADOL itself
		Observation example = (Observation) fhirContext.newJsonParser()
				.parseResource(Files.readString(Path.of("profiles/examples/Observation-nssi-example-episode-adolescent-1.json")));
		example.setId((String) null);
		example.getMeta().getSecurity().removeIf(c -> !HTEST.equals(c.getSystem()));
		example.setSubject(new Reference("Patient/" + patient));
		episode = admin.create().resource(example).execute().getId().getIdPart();
		List<String> labels = admin.read().resource(Observation.class).withId(episode).execute().getMeta().getSecurity().stream().map(Coding::getCode).toList();
		assertThat(labels).contains("R", "BH", "ADOL");
	}

	@Test
	void aTreatingClinicianSeesTheEpisodeAndAnUnrelatedOneDoesNot() throws Exception {
		String treatingToken = clinician(treating);
		assertThat(get("/Observation/" + episode, treatingToken, null).statusCode()).isEqualTo(200);
		assertThat(ids(search("/Observation?subject=Patient/" + patient, treatingToken))).contains(episode);

		String otherToken = clinician(other);
		// refused exactly as a missing record is (the existence of a restricted record is itself restricted); the
		// patient-level $nssi-summary tells a clinician they need a relationship or break-the-glass
		HttpResponse<String> refused = get("/Observation/" + episode, otherToken, null);
		assertThat(refused.statusCode()).isEqualTo(404);
		assertThat(refused.body()).doesNotContain("NSSI-0304").doesNotContain("restricted");
		assertThat(ids(search("/Observation?subject=Patient/" + patient, otherToken))).doesNotContain(episode);
		assertThat(ids(search("/Patient/" + patient + "/$everything", otherToken))).contains(patient).doesNotContain(episode);
		assertThat(ids(search("/Patient?_id=" + patient + "&_revinclude=Observation:subject", otherToken))).doesNotContain(episode);
		// a count would reveal what the filter hides, so a filtered user cannot ask for one
		assertThat(get("/Observation?subject=Patient/" + patient + "&_summary=count", otherToken, null).statusCode()).isEqualTo(400);
	}

	@Test
	void theSummaryFollowsTheSameRulesAsTheRecordsItIsComputedFrom() throws Exception {
		String summary = "/Patient/" + patient + "/$nssi-summary";
		assertThat(get(summary, clinician(treating), null).statusCode()).isEqualTo(200);
		HttpResponse<String> refused = get(summary, clinician(other), null);
		assertThat(refused.statusCode()).isEqualTo(403);
		assertThat(refused.body()).contains("NSSI-0304");
		assertThat(get(summary, clinician(other), "BTG").statusCode()).isEqualTo(200);
		assertThat(get(summary, proxy(parent), null).statusCode()).isEqualTo(403);
		HttpResponse<String> populate = get("/Questionnaire/nssi-assessment/$populate?subject=Patient/" + patient, clinician(other), null);
		assertThat(populate.statusCode()).as(populate.body()).isEqualTo(403);
	}

	@Test
	void breakingTheGlassGrantsAccessAndIsAlwaysAudited() throws Exception {
		String otherToken = clinician(other);
		HttpResponse<String> emergency = get("/Observation/" + episode, otherToken, "BTG");
		assertThat(emergency.statusCode()).isEqualTo(200);
		awaitAuditTrail();
		Bundle audits = client().search()
				.byUrl("AuditEvent?_tag=urn:nssi-fhir:audit|break-the-glass&entity=Observation/" + episode)
				.returnBundle(Bundle.class).execute();
		assertThat(audits.getEntry()).hasSize(1);
		org.hl7.fhir.r4.model.AuditEvent audit = (org.hl7.fhir.r4.model.AuditEvent) audits.getEntryFirstRep().getResource();
		assertThat(audit.getPurposeOfEventFirstRep().getCodingFirstRep().getCode()).isEqualTo("BTG");
		assertThat(audit.getAgent()).anySatisfy(agent -> assertThat(agent.getWho().getIdentifier().getValue()).isEqualTo("Practitioner/" + other));

		// only clinicians can break the glass, and only with the BTG code
		String parentToken = proxy(parent);
		HttpResponse<String> notAClinician = get("/Observation/" + episode, parentToken, "BTG");
		assertThat(notAClinician.statusCode()).isEqualTo(403);
		assertThat(notAClinician.body()).contains("NSSI-0306");
		HttpResponse<String> unknownPurpose = get("/Observation/" + episode, otherToken, "TREAT");
		assertThat(unknownPurpose.statusCode()).isEqualTo(400);
		assertThat(unknownPurpose.body()).contains("NSSI-0307");
	}

	@Test
	void aParentSeesAdolescentDataOnlyWithThePatientsConsent() throws Exception {
		String parentToken = proxy(parent);
		HttpResponse<String> refused = get("/Observation/" + episode, parentToken, null);
		// not even a 403: to a parent, the existence of the record is confidential
		assertThat(refused.statusCode()).isEqualTo(404);
		assertThat(refused.body()).doesNotContain("ADOL").doesNotContain("adolescent");
		assertThat(ids(search("/Observation?subject=Patient/" + patient, parentToken))).doesNotContain(episode);
		assertThat(get("/Patient/" + patient, parentToken, null).statusCode()).isEqualTo(200);

		Consent consent = TestConsents.releaseTo(patient, parent, new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "ADOL", null));
		consent.getProvision().addSecurityLabel(new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R", null));
		String consentId = client().create().resource(consent).execute().getId().getIdPart();
		assertThat(get("/Observation/" + episode, parentToken, null).statusCode()).isEqualTo(200);

		// withdrawn consent: back to refused
		consent.setId(consentId);
		consent.setStatus(Consent.ConsentState.INACTIVE);
		client().update().resource(consent).execute();
		assertThat(get("/Observation/" + episode, parentToken, null).statusCode()).isEqualTo(404);
	}

	@Test
	void aCarerOfAnAdultNeedsConsentCoveringRestrictedData() throws Exception {
		Patient adult = tagged(new Patient());
		adult.setBirthDateElement(new DateType("1990-01-01"));
		String adultId = client().create().resource(adult).execute().getId().getIdPart();
		RelatedPerson carer = tagged(new RelatedPerson());
		carer.setPatient(new Reference("Patient/" + adultId));
		String carerId = client().create().resource(carer).execute().getId().getIdPart();
		Observation example = (Observation) fhirContext.newJsonParser()
				.parseResource(Files.readString(Path.of("profiles/examples/Observation-nssi-example-episode-adult-1.json")));
		example.setId((String) null);
		example.getMeta().getSecurity().removeIf(c -> !HTEST.equals(c.getSystem()));
		example.setSubject(new Reference("Patient/" + adultId));
		String adultEpisode = client().create().resource(example).execute().getId().getIdPart();
		List<String> labels = client().read().resource(Observation.class).withId(adultEpisode).execute().getMeta().getSecurity().stream().map(Coding::getCode).toList();
		assertThat(labels).contains("R").doesNotContain("ADOL");

		String carerToken = tokens().token().scopes("patient/*.rs").claim("patient", adultId)
				.claim("fhirUser", fhirBase() + "/RelatedPerson/" + carerId).sign();
		assertThat(get("/Observation/" + adultEpisode, carerToken, null).statusCode()).isEqualTo(404);
		// a consent that covers only adolescent data does not release restricted data
		client().create().resource(TestConsents.releaseTo(adultId, carerId, new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "ADOL", null))).execute();
		assertThat(get("/Observation/" + adultEpisode, carerToken, null).statusCode()).isEqualTo(404);
		client().create().resource(TestConsents.releaseTo(adultId, carerId, new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R", null))).execute();
		assertThat(get("/Observation/" + adultEpisode, carerToken, null).statusCode()).isEqualTo(200);
	}

	@Test
	void searchesThatCouldProbeHiddenRecordsAreRefusedToFilteredUsers() throws Exception {
		HttpResponse<String> probe = get("/Patient?_id=" + patient + "&_has:Observation:subject:_security=ADOL", proxy(parent), null);
		assertThat(probe.statusCode()).isEqualTo(400);
		assertThat(probe.body()).contains("NSSI-0308");
		assertThat(get("/Observation?subject.name=Labeltest", clinician(other), null).statusCode()).isEqualTo(400);
		// break-the-glass is for one patient, never a search across patients
		HttpResponse<String> sweep = get("/Observation?code=http://snomed.info/sct%7C248062006", clinician(other), "BTG");
		assertThat(sweep.statusCode()).isEqualTo(403);
		assertThat(sweep.body()).contains("NSSI-0306");
		assertThat(ids(search("/Observation?subject=Patient/" + patient, clinician(other), "BTG"))).contains(episode);
	}

	@Test
	void thePatientAlwaysSeesTheirOwnRecord() throws Exception {
		String own = tokens().token().scopes("patient/*.rs").claim("patient", patient)
				.claim("fhirUser", fhirBase() + "/Patient/" + patient).sign();
		assertThat(get("/Observation/" + episode, own, null).statusCode()).isEqualTo(200);
		// a patient-level app whose user is not known to be the patient is treated like a proxy
		String anonymousApp = tokens().patient(patient, "patient/*.rs");
		assertThat(get("/Observation/" + episode, anonymousApp, null).statusCode()).isEqualTo(404);
	}

	@Test
	void aBatchDoesNotReleaseWhatAReadWouldNot() throws Exception {
		Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Observation/" + episode);
		batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Observation?subject=Patient/" + patient);
		Bundle response = client(clinician(other)).transaction().withBundle(batch).execute();
		String body = fhirContext.newJsonParser().encodeResourceToString(response);
		assertThat(body).as(body).doesNotContain("\"id\":\"" + episode + "\"");
		assertThat(response.getEntry().get(0).getResponse().getStatus()).as(body).startsWith("404");
	}

	private String clinician(String practitionerId) {
		return tokens().token().scopes("user/*.rs").claim("fhirUser", fhirBase() + "/Practitioner/" + practitionerId).sign();
	}

	private String proxy(String relatedPersonId) {
		return tokens().token().scopes("patient/*.rs").claim("patient", patient)
				.claim("fhirUser", fhirBase() + "/RelatedPerson/" + relatedPersonId).sign();
	}

	private HttpResponse<String> get(String path, String token, String purpose) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fhirBase() + path)).header("Authorization", "Bearer " + token);
		if (purpose != null) {
			b.header("X-Purpose-Of-Use", purpose);
		}
		return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
	}

	private Bundle search(String path, String token) throws Exception {
		return search(path, token, null);
	}

	private Bundle search(String path, String token, String purpose) throws Exception {
		HttpResponse<String> r = get(path, token, purpose);
		assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
		return fhirContext.newJsonParser().parseResource(Bundle.class, r.body());
	}

	private static List<String> ids(Bundle bundle) {
		return bundle.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
	}

	private static Practitioner practitioner(String family) {
		Practitioner p = tagged(new Practitioner());
		p.addName().setFamily(family);
		return p;
	}

	private static <T extends Resource> T tagged(T resource) {
		resource.getMeta().addSecurity(HTEST, "HTEST", null);
		return resource;
	}
}
