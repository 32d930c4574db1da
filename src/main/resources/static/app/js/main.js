// The clinician app: after the SMART launch, everything comes from the FHIR API with the user's token.
import { Fhir } from "./fhir.js";
import { renderBanner } from "./banner.js";
import { Timeline, loadEpisodes } from "./timeline.js";
import { renderStats } from "./stats.js";
import { renderAlerts } from "./alerts.js";
import { EpisodeForm } from "./episode-form.js";
import { QuestionnaireRunner } from "./questionnaire.js";
import { Treatment } from "./treatment.js";

const status = document.getElementById("status");

function say(text) {
  status.textContent = text;
}

FHIR.oauth2.ready().then(async client => {
  const fhir = new Fhir(client);
  const patient = await fhir.request("Patient/" + fhir.patientId);
  const timeline = new Timeline(document.getElementById("chart"), document.getElementById("tooltip"), document.getElementById("legend"));

  async function refresh() {
    const [episodes, summary] = await Promise.all([
      loadEpisodes(fhir),
      fhir.request("Patient/" + fhir.patientId + "/$nssi-summary"),
    ]);
    renderBanner(patient, episodes);
    timeline.setEpisodes(episodes);
    renderStats(summary, episodes);
    await renderAlerts(fhir, document.getElementById("alert-list"), refresh);
  }

  await refresh();
  const treatment = new Treatment(fhir, document.getElementById("treatment-body"), refresh);
  new EpisodeForm(fhir, patient, document.getElementById("episode-form"), document.getElementById("episode-result"), refresh);
  new QuestionnaireRunner(fhir, patient, document.getElementById("questionnaire-form"), document.getElementById("scores"), refresh);
  await treatment.load();
  say("Ready");
  document.body.dataset.ready = "true";
}).catch(error => {
  say("Error: " + error.message);
  document.body.dataset.ready = "error";
});
