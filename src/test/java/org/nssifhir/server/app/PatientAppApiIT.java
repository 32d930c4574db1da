package org.nssifhir.server.app;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.nssifhir.server.support.TestConsents;

/**
 * What the person's app at {@code /patient/} does, through the API with its own scopes ({@link PatientApp#SCOPES})
 * and a patient's or proxy's token: a diary card (with an episode) sent as a transaction of conditional creates on
 * phone-made identifiers is stored once however often it is sent; a high urge to die raises the suicide-risk alert
 * the treating clinician sees; a support request is a Task the clinician's Task search finds, and the patient reads
 * its status; a proxy sees the patient's restricted data only as far as the patient's Consent releases it, and may
 * not write into the record. All decided by the access policy, with no exception for the app.
 */
class PatientAppApiIT extends BaseIT {

	private static final String CS = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
	private static final String APP = "urn:nssi-fhir:patient-app";
	private static final String SCOPES = String.join(" ", PatientApp.SCOPES.stream().filter(s -> s.startsWith("patient/")).toList());

	private final ObjectMapper json = new ObjectMapper();
	private String patient;
	private String parent;
	private String treating;

	@BeforeEach
	void adolescentWithTeamAndParent() {
		IGenericClient admin = client();
		Patient p = tagged(new Patient());
		p.addName().setFamily("Apptest").addGiven("Kim");
		p.setBirthDateElement(new DateType("2011-05-01"));
		patient = admin.create().resource(p).execute().getId().getIdPart();
		treating = admin.create().resource(tagged(new Practitioner())).execute().getId().getIdPart();
		RelatedPerson rp = tagged(new RelatedPerson());
		rp.setPatient(new Reference("Patient/" + patient));
		parent = admin.create().resource(rp).execute().getId().getIdPart();
		CareTeam team = tagged(new CareTeam());
		team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
		team.setSubject(new Reference("Patient/" + patient));
		team.addParticipant().setMember(new Reference("Practitioner/" + treating));
		admin.create().resource(team).execute();
	}

	@Test
	void aDiaryCardSentTwiceIsStoredOnceAndAHighUrgeToDieAlertsTheTreatingClinician() throws Exception {
		String own = tokens().ownPatient(patient, SCOPES);
		String card = UUID.randomUUID().toString();
		String episode = UUID.randomUUID().toString();
		String bundle = diaryTransaction(card, episode, 7);
		HttpResponse<String> first = post("", bundle, own);
		assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
		// the answer was lost: the phone sends the same transaction again; nothing new is stored
		HttpResponse<String> again = post("", bundle, own);
		assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
		assertThat(search("Observation?patient=" + patient + "&identifier=" + APP + "|" + card, own)).hasSize(1);
		assertThat(search("Observation?patient=" + patient + "&identifier=" + APP + "|" + episode, own)).hasSize(1);
		// the diary card is labelled like every NSSI record (the person's own: readable by them)
		JsonNode found = search("Observation?patient=" + patient + "&identifier=" + APP + "|" + card, own).get(0);
		assertThat(found.path("meta").path("security").toString()).contains("\"R\"").contains("ADOL");
		assertThat(found.path("hasMember").get(0).path("reference").asText()).startsWith("Observation/");

		// the urge to die of 7 raised one urgent suicide-risk alert, which the treating clinician's app finds
		String clinician = tokens().token().scopes("patient/Flag.rs user/Task.rus patient/Observation.rs")
				.claim("patient", patient).claim("fhirUser", fhirBase() + "/Practitioner/" + treating).sign();
		List<JsonNode> flags = search("Flag?patient=" + patient, clinician);
		assertThat(flags).anySatisfy(f -> assertThat(f.path("identifier").toString()).contains("diary-urge-to-die:Observation/"));
		List<JsonNode> tasks = search("Task?patient=" + patient + "&status=requested", clinician);
		assertThat(tasks).anySatisfy(t -> {
			assertThat(t.path("priority").asText()).isEqualTo("asap");
			assertThat(t.path("description").asText() + t.path("reasonCode").toString()).containsIgnoringCase("urge to die");
		});
		// the episode with intent "unsure" raised its own
		assertThat(flags.stream().filter(f -> f.path("identifier").toString().contains("suicide-risk:Observation/")).count()).isEqualTo(1);
	}

	@Test
	void aSupportRequestIsATaskTheClinicianSeesAndThePatientFollows() throws Exception {
		String own = tokens().ownPatient(patient, SCOPES);
		String id = UUID.randomUUID().toString();
		String task = """
				{"resourceType":"Task","meta":{"security":[%s,{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},
				 {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"BH"}]},
				 "identifier":[{"system":"%s","value":"%s"}],"status":"requested","intent":"order","priority":"urgent",
				 "code":{"coding":[{"system":"%s","code":"support-request","display":"Request for support"}]},
				 "description":"The person asked for support now (phone coaching) from their app",
				 "for":{"reference":"Patient/%s"},"requester":{"reference":"Patient/%s"},"authoredOn":"2026-12-06T10:00:00Z"}"""
				.formatted(htest(), APP, id, CS, patient, patient);
		String bundle = """
				{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:%s","resource":%s,
				 "request":{"method":"POST","url":"Task","ifNoneExist":"identifier=%s%%7C%s&patient=Patient/%s"}}]}""".formatted(id, task, APP, id, patient);
		HttpResponse<String> created = post("", bundle, own);
		assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
		String location = json.readTree(created.body()).path("entry").get(0).path("response").path("location").asText().split("/_history")[0];
		assertThat(location).startsWith("Task/");
		assertThat(post("", bundle, own).statusCode()).isEqualTo(200);

		// labelled by the server as NSSI content, whatever the app sent (this copy carried no R/BH)
		com.fasterxml.jackson.databind.node.ObjectNode copy = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(
				bundle.replace(id, UUID.randomUUID().toString()));
		com.fasterxml.jackson.databind.node.ArrayNode labels = (com.fasterxml.jackson.databind.node.ArrayNode)
				copy.path("entry").get(0).path("resource").path("meta").path("security");
		for (int i = labels.size() - 1; i >= 0; i--) {
			if (!"HTEST".equals(labels.get(i).path("code").asText())) {
				labels.remove(i);
			}
		}
		String unlabelled = copy.toString();
		assertThat(unlabelled).doesNotContain("v3-Confidentiality");
		HttpResponse<String> second = post("", unlabelled, own);
		assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
		String secondLocation = json.readTree(second.body()).path("entry").get(0).path("response").path("location").asText().split("/_history")[0];
		assertThat(client().read().resource(Task.class).withId(secondLocation).execute().getMeta().getSecurity())
				.extracting(Coding::getCode).contains("R", "ADOL");
		String clinician = tokens().token().scopes("user/Task.rus").claim("fhirUser", fhirBase() + "/Practitioner/" + treating).sign();
		List<JsonNode> open = search("Task?patient=" + patient + "&status=requested", clinician);
		assertThat(open.stream().filter(t -> t.path("code").toString().contains("support-request")).count()).isEqualTo(2);
		// the clinician answers; the patient's app reads its own request back
		Task answered = client().read().resource(Task.class).withId(location).execute();
		answered.setStatus(Task.TaskStatus.INPROGRESS);
		client().update().resource(answered).execute();
		HttpResponse<String> mine = get(location, own);
		assertThat(mine.statusCode()).as(mine.body()).isEqualTo(200);
		assertThat(json.readTree(mine.body()).path("status").asText()).isEqualTo("in-progress");
		// on another phone the app has no location kept: it finds the person's own requests with the search it sends
		// (its scopes allow it), the newest first, with the due time the server set
		List<JsonNode> found = search("Task?patient=" + patient + "&code=" + CS + "|support-request&_sort=-authored-on&_count=5", own);
		assertThat(found).isNotEmpty().allSatisfy(t -> {
			assertThat(t.path("code").toString()).contains("support-request");
			assertThat(t.path("restriction").path("period").path("end").asText()).isNotBlank();
		});
		assertThat(found.stream().map(t -> "Task/" + t.path("id").asText())).contains(location);
		// a patient's token writes a Task only for its own patient (Task.for is the Task's patient, as for the policy)
		String other = client().create().resource(tagged(new Patient())).execute().getId().getIdPart();
		HttpResponse<String> forOther = post("Task", task.replace("Patient/" + patient, "Patient/" + other), own);
		assertThat(forOther.statusCode()).as(forOther.body()).isIn(403, 404);
		// nobody without a relationship, and no proxy without consent, sees it
		String proxy = proxyToken();
		assertThat(get(location, proxy).statusCode()).isEqualTo(404);
	}

	@Test
	void aSupportRequestIsOwnedByTheCareTeamAndUrgentAfterAHighUrgeToDie() throws Exception {
		String own = tokens().ownPatient(patient, SCOPES);
		String team = client().search().forResource(CareTeam.class).where(CareTeam.PATIENT.hasId("Patient/" + patient))
				.returnBundle(org.hl7.fhir.r4.model.Bundle.class).execute().getEntryFirstRep().getResource().getIdElement().getIdPart();
		// no diary card yet: the person's own priority stays; the owner is the treating team, whatever the phone named
		String someoneElse = client().create().resource(tagged(new Practitioner())).execute().getId().getIdPart();
		Task first = client().read().resource(Task.class).withId(supportRequest(own, "asap", "Practitioner/" + someoneElse)).execute();
		assertThat(first.getOwner().getReference()).isEqualTo("CareTeam/" + team);
		assertThat(first.getPriority()).isEqualTo(Task.TaskPriority.ASAP);
		// a low urge to die on the latest card: as asked, but never below urgent (the app promises contact soon; the
		// server's EscalationService.routeSupportRequest since the attacker review s8, F7)
		assertThat(post("", diaryTransaction(UUID.randomUUID().toString(), null, 2), own).statusCode()).isEqualTo(200);
		assertThat(client().read().resource(Task.class).withId(supportRequest(own, "routine", null)).execute().getPriority())
				.isEqualTo(Task.TaskPriority.URGENT);
		// after a card with a high urge to die, the server makes the request urgent (the phone said routine)
		assertThat(post("", diaryTransaction(UUID.randomUUID().toString(), null, 8).replace("2026-12-05", "2026-12-06"), own).statusCode()).isEqualTo(200);
		Task urgent = client().read().resource(Task.class).withId(supportRequest(own, "routine", null)).execute();
		assertThat(urgent.getPriority()).as("asap: above urgent in FHIR").isEqualTo(Task.TaskPriority.ASAP);
		assertThat(urgent.getOwner().getReference()).isEqualTo("CareTeam/" + team);
		// a second card the same day with a low urge does not hide the high one (review s7: a demo card of that day
		// without the scale made a later request urgent instead of asap)
		assertThat(post("", diaryTransaction(UUID.randomUUID().toString(), null, 1).replace("2026-12-05", "2026-12-06"), own).statusCode()).isEqualTo(200);
		assertThat(client().read().resource(Task.class).withId(supportRequest(own, "routine", null)).execute().getPriority())
				.isEqualTo(Task.TaskPriority.ASAP);
		// the treating clinician finds it by owner, as their escalation Tasks
		String clinician = tokens().token().scopes("user/Task.rus").claim("fhirUser", fhirBase() + "/Practitioner/" + treating).sign();
		assertThat(search("Task?owner=CareTeam/" + team + "&code=" + CS + "|support-request", clinician)).hasSize(4);
	}

	/**
	 * The privacy row of the person's app: a proxy's token (the app's own scopes) gets none of the adolescent's
	 * restricted data its Consent does not release: not by search, read, include, $everything or a batch, and not
	 * the support request; a Consent releasing R but not ADOL still hides what is labelled ADOL; one releasing both
	 * shows it.
	 */
	@Test
	void aProxyTokenGetsNoUnreleasedRestrictedData() throws Exception {
		String own = tokens().ownPatient(patient, SCOPES);
		String card = UUID.randomUUID().toString();
		assertThat(post("", diaryTransaction(card, UUID.randomUUID().toString(), 7), own).statusCode()).isEqualTo(200);
		String request = supportRequest(own, "asap", null);
		String cardId = search("Observation?patient=" + patient + "&identifier=" + APP + "|" + card, own).get(0).path("id").asText();
		String proxy = proxyToken();
		// the whole answer is checked: no id, identifier or note of the young person's restricted records
		List<String> secrets = List.of(cardId, card, request.replace("Task/", ""), "A synthetic note");
		List<String> probes = List.of("Observation?patient=" + patient, "Observation/" + cardId, "Task?patient=" + patient, request,
				"Flag?patient=" + patient, "Observation?patient=" + patient + "&_include=Observation:has-member",
				"Patient/" + patient + "/$everything", "Patient?_id=" + patient + "&_revinclude=Observation:subject");
		assertProxySeesNone(proxy, probes, secrets);
		HttpResponse<String> batch = post("", """
				{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation/%s"}},
				 {"request":{"method":"GET","url":"Observation?patient=%s"}}]}""".formatted(cardId, patient), proxy);
		assertThat(secrets).noneMatch(batch.body()::contains);

		// a Consent releasing R but not ADOL: the adolescent's records (R and ADOL) stay hidden
		client().create().resource(TestConsents.releaseTo(patient, parent,
				new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R", null))).execute();
		assertProxySeesNone(proxy, probes, secrets);
		// releasing ADOL too: the diary card shows (the app's proxy view says so)
		client().create().resource(TestConsents.releaseTo(patient, parent,
				new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R", null),
				new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "ADOL", null))).execute();
		assertThat(get("Observation/" + cardId, proxy).statusCode()).isEqualTo(200);
	}

	private void assertProxySeesNone(String proxy, List<String> probes, List<String> secrets) throws Exception {
		for (String probe : probes) {
			HttpResponse<String> answer = get(probe, proxy);
			assertThat(answer.statusCode()).as(probe).isIn(200, 400, 403, 404);
			for (String secret : secrets) {
				if (!probe.contains(secret)) { // a "not found" may repeat the id it was asked for
					assertThat(answer.body()).as(probe + " must not show " + secret).doesNotContain(secret);
				}
			}
		}
	}

	/**
	 * Once the team has answered (completed) a request, the person says they have seen the answer: a note of theirs
	 * added to the Task with their own token (the app's Task.u), which the team reads; the app then no longer shows
	 * the answer as new.
	 */
	@Test
	void thePersonSaysTheyHaveSeenTheTeamsAnswerWithANoteOfTheirOwn() throws Exception {
		String own = tokens().ownPatient(patient, SCOPES);
		String location = supportRequest(own, "urgent", null);
		Task answered = client().read().resource(Task.class).withId(location).execute();
		answered.setStatus(Task.TaskStatus.COMPLETED);
		client().update().resource(answered).execute();

		com.fasterxml.jackson.databind.node.ObjectNode mine = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(get(location, own).body());
		assertThat(mine.path("status").asText()).isEqualTo("completed");
		mine.withArray("note").addObject().put("text", "The person has seen the care team's answer (from their app).")
				.put("time", "2026-12-06T15:00:00Z").putObject("authorReference").put("reference", "Patient/" + patient);
		HttpResponse<String> seen = put(location, mine.toString(), own, mine.path("meta").path("versionId").asText());
		assertThat(seen.statusCode()).as(seen.body()).isEqualTo(200);

		String clinician = tokens().token().scopes("user/Task.rus").claim("fhirUser", fhirBase() + "/Practitioner/" + treating).sign();
		JsonNode read = json.readTree(get(location, clinician).body());
		assertThat(read.path("status").asText()).isEqualTo("completed");
		assertThat(read.path("note").get(0).path("authorReference").path("reference").asText()).isEqualTo("Patient/" + patient);
		assertThat(read.path("note").get(0).path("text").asText()).contains("has seen");
	}

	/**
	 * A person (or proxy) may update their own request for support only to cancel it while it is open or to add a
	 * note of their own (review s8): each change to what the server or the care team owns is refused, 403 NSSI-0311,
	 * and nothing is stored (the version stays); cancelling and a note are stored.
	 */
	@Test
	void aPersonMayOnlyCancelTheirSupportRequestOrAddANote() throws Exception {
		String own = tokens().ownPatient(patient, SCOPES);
		String location = supportRequest(own, "urgent", null);
		String someoneElse = client().create().resource(tagged(new Practitioner())).execute().getId().getIdPart();
		String other = client().create().resource(tagged(new Patient())).execute().getId().getIdPart();
		java.util.Map<String, java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode>> forbidden = new java.util.LinkedHashMap<>();
		forbidden.put("priority", t -> t.put("priority", "routine"));
		forbidden.put("due time", t -> ((com.fasterxml.jackson.databind.node.ObjectNode) t.path("restriction").path("period")).put("end", "2027-06-01T00:00:00Z"));
		forbidden.put("owner", t -> t.putObject("owner").put("reference", "Practitioner/" + someoneElse));
		forbidden.put("businessStatus", t -> t.putObject("businessStatus").put("text", "handled"));
		forbidden.put("output", t -> t.withArray("output").addObject().put("valueString", "done").putObject("type").put("text", "result"));
		forbidden.put("focus", t -> t.putObject("focus").put("reference", "Patient/" + patient));
		forbidden.put("for", t -> t.putObject("for").put("reference", "Patient/" + other));
		forbidden.put("description", t -> t.put("description", "Something else"));
		forbidden.put("status completed", t -> t.put("status", "completed"));
		forbidden.put("status in-progress", t -> t.put("status", "in-progress"));
		forbidden.put("a note by someone else", t -> t.withArray("note").addObject().put("text", "From the doctor")
				.putObject("authorReference").put("reference", "Practitioner/" + someoneElse));
		forbidden.put("a note under a name", t -> t.withArray("note").addObject().put("text", "Signed").put("authorString", "Dr Who"));
		for (var change : forbidden.entrySet()) {
			com.fasterxml.jackson.databind.node.ObjectNode task = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(get(location, own).body());
			String version = task.path("meta").path("versionId").asText();
			change.getValue().accept(task);
			HttpResponse<String> refused = put(location, task.toString(), own, version);
			assertThat(refused.statusCode()).as(change.getKey() + ": " + refused.body()).isIn(403, 404);
			if (!"for".equals(change.getKey())) { // (another patient's record: the patient-level rule answers first)
				assertThat(refused.statusCode()).as(change.getKey()).isEqualTo(403);
				assertThat(refused.body()).as(change.getKey()).contains("NSSI-0311");
			}
			assertThat(client().read().resource(Task.class).withId(location).execute().getMeta().getVersionId())
					.as(change.getKey() + ": nothing stored").isEqualTo(version);
		}
		// nor deleted (with the app's scopes, no d, refused by scope; with a d the policy refuses it)
		for (String token : List.of(own, tokens().ownPatient(patient, "patient/Task.crud"))) {
			HttpResponse<String> deleted = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + location)).header("Authorization", "Bearer " + token)
					.DELETE().build(), HttpResponse.BodyHandlers.ofString());
			assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(403);
			assertThat(deleted.body()).containsPattern("NSSI-03(02|11)");
		}
		assertThat(client().read().resource(Task.class).withId(location).execute().getStatus()).isEqualTo(Task.TaskStatus.REQUESTED);

		// a note of their own: stored
		com.fasterxml.jackson.databind.node.ObjectNode task = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(get(location, own).body());
		task.withArray("note").addObject().put("text", "I am at home now").putObject("authorReference").put("reference", "Patient/" + patient);
		HttpResponse<String> noted = put(location, task.toString(), own, task.path("meta").path("versionId").asText());
		assertThat(noted.statusCode()).as(noted.body()).isEqualTo(200);
		// the note already there cannot be changed afterwards
		task = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(get(location, own).body());
		((com.fasterxml.jackson.databind.node.ObjectNode) task.path("note").get(0)).put("text", "Changed");
		HttpResponse<String> rewritten = put(location, task.toString(), own, task.path("meta").path("versionId").asText());
		assertThat(rewritten.statusCode()).as(rewritten.body()).isEqualTo(403);
		// cancelling it: stored, the server's routing as it was
		task = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(get(location, own).body());
		task.put("status", "cancelled");
		HttpResponse<String> cancelled = put(location, task.toString(), own, task.path("meta").path("versionId").asText());
		assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
		Task stored = client().read().resource(Task.class).withId(location).execute();
		assertThat(stored.getStatus()).isEqualTo(Task.TaskStatus.CANCELLED);
		assertThat(stored.getNote()).extracting(org.hl7.fhir.r4.model.Annotation::getText).containsExactly("I am at home now");
		assertThat(stored.getPriority()).isEqualTo(Task.TaskPriority.URGENT);
		assertThat(stored.getOwner().getReference()).startsWith("CareTeam/");
		// a request no longer open is not reopened by the person
		task = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(get(location, own).body());
		task.put("status", "requested");
		assertThat(put(location, task.toString(), own, task.path("meta").path("versionId").asText()).statusCode()).isEqualTo(403);
		// the treating clinician still changes what is theirs to change (the rule is the person's, not everyone's)
		String clinician = tokens().token().scopes("user/Task.rus").claim("fhirUser", fhirBase() + "/Practitioner/" + treating).sign();
		task = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(get(location, clinician).body());
		task.putObject("businessStatus").put("text", "closed by the person");
		HttpResponse<String> byClinician = put(location, task.toString(), clinician, task.path("meta").path("versionId").asText());
		assertThat(byClinician.statusCode()).as(byClinician.body()).isEqualTo(200);
	}

	/** The app's support request (a conditional create in a transaction, as the phone sends it); its Task id. */
	private String supportRequest(String token, String priority, String owner) throws Exception {
		String id = UUID.randomUUID().toString();
		String task = """
				{"resourceType":"Task","meta":{"security":[%s]},"identifier":[{"system":"%s","value":"%s"}],"status":"requested",
				 "intent":"order","priority":"%s","code":{"coding":[{"system":"%s","code":"support-request"}]},%s
				 "for":{"reference":"Patient/%s"},"requester":{"reference":"Patient/%s"}}"""
				.formatted(htest(), APP, id, priority, CS, owner == null ? "" : "\"owner\":{\"reference\":\"" + owner + "\"},", patient, patient);
		String bundle = """
				{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:%s","resource":%s,
				 "request":{"method":"POST","url":"Task","ifNoneExist":"identifier=%s%%7C%s&patient=Patient/%s"}}]}""".formatted(id, task, APP, id, patient);
		HttpResponse<String> created = post("", bundle, token);
		assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
		return json.readTree(created.body()).path("entry").get(0).path("response").path("location").asText().split("/_history")[0];
	}

	@Test
	void aProxySeesOnlyWhatTheConsentReleasesAndWritesNothing() throws Exception {
		String own = tokens().ownPatient(patient, SCOPES);
		assertThat(post("", diaryTransaction(UUID.randomUUID().toString(), null, 2), own).statusCode()).isEqualTo(200);
		String proxy = proxyToken();
		// no Consent: the Patient (normal) yes, the diary card (R, ADOL) no: left out of the search
		assertThat(get("Patient/" + patient, proxy).statusCode()).isEqualTo(200);
		assertThat(search("Observation?patient=" + patient, proxy)).isEmpty();
		// a proxy may not write into the record, nor match conditionally on it
		HttpResponse<String> write = post("", diaryTransaction(UUID.randomUUID().toString(), null, 1), proxy);
		assertThat(write.statusCode()).isIn(403, 404);
		// the patient's Consent releasing every label to this parent: now the diary card is visible
		client().create().resource(TestConsents.releaseTo(patient, parent)).execute();
		assertThat(search("Observation?patient=" + patient, proxy)).hasSize(1);
		assertThat(search("Consent?patient=" + patient, proxy)).hasSize(1);
	}

	@Test
	void thePersonReadsTheirPlanWithItsContainedContacts() throws Exception {
		org.hl7.fhir.r4.model.CarePlan plan = (org.hl7.fhir.r4.model.CarePlan) fhirContext.newJsonParser().parseResource(
				java.nio.file.Files.readString(java.nio.file.Path.of("profiles/examples/CarePlan-nssi-example-relapse-prevention-adolescent.json")));
		plan.setId((String) null);
		plan.getMeta().getSecurity().removeIf(c -> !"http://terminology.hl7.org/CodeSystem/v3-ActReason".equals(c.getSystem()));
		plan.setSubject(new Reference("Patient/" + patient));
		plan.getPartOf().clear();
		plan.getAddresses().clear();
		plan.getGoal().clear();
		plan.getContributor().removeIf(r -> r.getReference() != null && r.getReference().startsWith("Patient/"));
		plan.getContained().stream().filter(r -> r instanceof RelatedPerson).forEach(r -> ((RelatedPerson) r).setPatient(new Reference("Patient/" + patient)));
		plan.getActivity().forEach(a -> a.getDetail().getPerformer().removeIf(r -> r.getReference() != null && r.getReference().startsWith("Patient/")));
		client().create().resource(plan).execute();
		// the app's scopes read CarePlans only: the contacts contained in the plan come with it (they are its content)
		List<JsonNode> plans = search("CarePlan?patient=" + patient, tokens().ownPatient(patient, SCOPES));
		assertThat(plans).hasSize(1);
		assertThat(plans.get(0).path("contained").size()).isEqualTo(3);
		String clinician = tokens().token().scopes("user/CarePlan.rs").claim("fhirUser", fhirBase() + "/Practitioner/" + treating).sign();
		assertThat(search("CarePlan?patient=" + patient, clinician).get(0).path("contained").size()).isEqualTo(3);
	}

	// ---------------------------------------------------------------- helpers

	private String proxyToken() {
		return tokens().token().scopes(SCOPES).claim("patient", patient).claim("fhirUser", fhirBase() + "/RelatedPerson/" + parent).sign();
	}

	private String diaryTransaction(String card, String episode, int urgeToDie) {
		String ep = episode == null ? "" : """
				{"fullUrl":"urn:uuid:%s","resource":{"resourceType":"Observation","meta":{"security":[%s]},
				 "identifier":[{"system":"%s","value":"%s"}],"status":"final",
				 "category":[{"coding":[{"system":"%s","code":"nssi"}]}],"code":{"coding":[{"system":"%s","code":"nssi-episode"}]},
				 "subject":{"reference":"Patient/%s"},"effectiveDateTime":"2026-12-05",
				 "component":[{"code":{"coding":[{"system":"%s","code":"method"}]},"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"248073004"}]}},
				  {"code":{"coding":[{"system":"%s","code":"suicidal-intent"}]},"valueCodeableConcept":{"coding":[{"system":"%s","code":"intent-unsure"}]}}]},
				 "request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=%s%%7C%s&patient=Patient/%s"}},"""
				.formatted(episode, htest(), APP, episode, CS, CS, patient, CS, CS, CS, APP, episode, patient);
		String member = episode == null ? "" : ",\"hasMember\":[{\"reference\":\"urn:uuid:" + episode + "\"}]";
		return """
				{"resourceType":"Bundle","type":"transaction","entry":[%s
				{"fullUrl":"urn:uuid:%s","resource":{"resourceType":"Observation","meta":{"security":[%s]},
				 "identifier":[{"system":"%s","value":"%s"}],"status":"final",
				 "category":[{"coding":[{"system":"%s","code":"nssi"}]}],"code":{"coding":[{"system":"%s","code":"diary-card"}]},
				 "subject":{"reference":"Patient/%s"},"effectiveDateTime":"2026-12-05"%s,
				 "component":[{"code":{"coding":[{"system":"%s","code":"urge-intensity"}]},"valueInteger":6},
				  {"code":{"coding":[{"system":"%s","code":"urge-to-die"}]},"valueInteger":%d},
				  {"code":{"coding":[{"system":"%s","code":"self-harm-today"}]},"valueBoolean":%s},
				  {"code":{"coding":[{"system":"%s","code":"skills-used"}]},"valueInteger":1},
				  {"code":{"coding":[{"system":"%s","code":"skill-practised"}]},"valueCodeableConcept":{"coding":[{"system":"%s","code":"skill-tipp"}]}}],
				 "note":[{"text":"A synthetic note"}]},
				 "request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=%s%%7C%s&patient=Patient/%s"}}]}"""
				.formatted(ep, card, htest(), APP, card, CS, CS, patient, member, CS, CS, urgeToDie, CS, episode != null, CS, CS, CS, APP, card, patient);
	}

	private static String htest() {
		return "{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"HTEST\"}";
	}

	private HttpResponse<String> post(String path, String body, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + path)).header("Authorization", "Bearer " + token)
				.header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> put(String path, String body, String token, String version) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + path)).header("Authorization", "Bearer " + token)
				.header("Content-Type", "application/fhir+json").header("If-Match", "W/\"" + version + "\"")
				.PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> get(String path, String token) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + path.replace("|", "%7C"))).header("Authorization", "Bearer " + token)
				.header("Accept", "application/fhir+json").build(), HttpResponse.BodyHandlers.ofString());
	}

	private List<JsonNode> search(String path, String token) throws Exception {
		HttpResponse<String> r = get(path, token);
		assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
		List<JsonNode> out = new java.util.ArrayList<>();
		json.readTree(r.body()).path("entry").forEach(e -> out.add(e.path("resource")));
		return out;
	}

	private static <T extends Resource> T tagged(T resource) {
		resource.getMeta().addSecurity("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST", null);
		return resource;
	}
}
