// The clinician app: after the SMART launch, everything comes from the FHIR API with the user's token.
import { Fhir, FhirError } from "./fhir.js";
import { renderBanner } from "./banner.js";
import { Timeline, loadEpisodes } from "./timeline.js";
import { renderStats } from "./stats.js";
import { renderAlerts, alertKey, OPEN_TASK, followRaised } from "./alerts.js";
import { EpisodeForm } from "./episode-form.js";
import { QuestionnaireRunner } from "./questionnaire.js";
import { Treatment } from "./treatment.js";
import { showCareTeamPanel } from "./care-team.js";
import { Invitation } from "./invite.js";
import { h } from "./form-kit.js";
import { renderRisk, latestItem9 } from "./risk.js";
import { loadDiary, renderDiary } from "./diary.js";
import { setPerson } from "./person.js";

const status = document.getElementById("status");
const SECTIONS = ["alerts", "timeline", "diary", "record", "assessment", "treatment", "invite"];

function say(text) {
  status.textContent = text;
}

function showSections(on) {
  SECTIONS.forEach(id => { document.getElementById(id).hidden = !on; });
  document.querySelector("nav").hidden = !on;
}

/** The patient's summary, or null when the server says this clinician has no treating relationship (NSSI-0304). */
async function summaryOrRefusal(fhir) {
  try {
    return await fhir.request("Patient/" + fhir.patientId + "/$nssi-summary");
  } catch (error) {
    if (error instanceof FhirError && error.status === 403 && error.hasCode("NSSI-0304")) return null;
    throw error;
  }
}

/** Where writing is not possible (break-the-glass is read-only; writing restricted data needs a relationship). */
function readOnly(section, text) {
  const body = section.querySelector("form, #treatment-body, p");
  section.querySelectorAll("form, button").forEach(e => { e.hidden = true; });
  section.append(h("p", { className: "read-only-note", text }));
  return body;
}

async function open(fhir, patient, firstSummary) {
  showSections(true);
  const timeline = new Timeline(document.getElementById("chart"), document.getElementById("tooltip"), document.getElementById("legend"));
  const known = new Set();
  let loaded = false;
  let pending = firstSummary;
  let treatment = null;
  let episodeForm = null;
  let firstEpisodes = [];
  let openAlerts = [];

  /** Reloads everything; returns the alerts that appeared since the previous load (what the user's action raised). */
  async function refresh() {
    const [episodes, summary, item9, diary] = await Promise.all([
      loadEpisodes(fhir),
      pending ? Promise.resolve(pending) : fhir.request("Patient/" + fhir.patientId + "/$nssi-summary"),
      latestItem9(fhir),
      // the diary is part of the record, not a condition of it: a failed search says so in its own section
      loadDiary(fhir).catch(() => null),
    ]);
    pending = null;
    firstEpisodes = episodes;
    renderBanner(patient, episodes);
    timeline.setEpisodes(episodes);
    if (episodeForm) episodeForm.setEpisodes(episodes);
    renderStats(summary, episodes);
    if (diary) {
      renderDiary(document.getElementById("diary-list"), document.getElementById("diary-more"), document.getElementById("diary-empty"), diary);
    } else {
      document.getElementById("diary-empty").textContent = "The diary cards could not be loaded.";
      document.getElementById("diary-empty").hidden = false;
    }
    const items = await renderAlerts(fhir, document.getElementById("alert-list"), refresh, document.getElementById("alerts-status"));
    renderRisk(document.getElementById("risk-header"), { episodes, alerts: items, item9, summary });
    openAlerts = items;
    // a box saying "alert raised by this entry" follows that alert: once resolved it says so, it does not linger
    ["episode-raised", "assessment-raised"].forEach(id => followRaised(document.getElementById(id), items));
    const fresh = loaded ? items.filter(i => !known.has(alertKey(i))) : [];
    items.forEach(i => known.add(alertKey(i)));
    loaded = true;
    // the plan's figures and what is due follow a new episode or answer (not stale until the page is reloaded)
    if (treatment) {
      treatment.setAlerts(items);
      await treatment.reload().catch(() => {});
    }
    return { newAlerts: fresh };
  }

  await refresh();
  watchForNew(fhir, known, refresh);
  treatment = new Treatment(fhir, document.getElementById("treatment-body"), refresh, { readOnly: fhir.glassBroken });
  treatment.setAlerts(openAlerts);
  if (fhir.glassBroken) {
    const note = "Read-only under break-the-glass: recording for this person needs a treating relationship.";
    readOnly(document.getElementById("record"), note);
    readOnly(document.getElementById("assessment"), note);
    document.querySelector("#record .episode-pick").hidden = true;
  } else {
    episodeForm = new EpisodeForm(fhir, patient, document.getElementById("episode-form"), document.getElementById("episode-result"), refresh);
    episodeForm.setEpisodes(firstEpisodes);
    new QuestionnaireRunner(fhir, patient, document.getElementById("questionnaire-form"), document.getElementById("scores"), refresh);
  }
  await treatment.load();
  if (fhir.glassBroken) {
    document.getElementById("invite").hidden = true;
  } else {
    new Invitation(fhir, document.getElementById("invite-button"), document.getElementById("invite-revoke"), document.getElementById("invite-result"),
      document.getElementById("invite-family"), document.getElementById("disable-sign-in"));
  }
}

const POLL_MS = 60000;

/**
 * An open page notices alerts and support requests raised meanwhile (a colleague's entry, the person's app): every
 * minute while the tab is visible, and at once when it becomes visible again, it asks for the ids of this person's
 * open Flags and Tasks only; anything new is announced politely and the page reloaded, unless the clinician is closing
 * a task (a reload would take their half-filled form away: then it is said, and picked up on the next check).
 */
function watchForNew(fhir, known, refresh) {
  const slot = document.getElementById("alerts-new");
  const patient = encodeURIComponent(fhir.patientId);
  let busy = false;
  async function check() {
    if (busy || document.visibilityState !== "visible") return;
    busy = true;
    try {
      const [flags, tasks] = await Promise.all([
        fhir.search("Flag?patient=" + patient + "&nssi-status=active"),
        fhir.search("Task?patient=" + patient + "&status=" + OPEN_TASK),
      ]);
      const fresh = [...flags.map(f => "flag/" + f.id), ...tasks.map(t => "task/" + t.id)].filter(k => !known.has(k));
      if (fresh.length === 0) return;
      if (document.querySelector("#alerts .close-form")) {
        slot.textContent = "New alert: it shows in Alerts once you have closed or cancelled this task.";
        return;
      }
      await refresh();
      slot.textContent = "New alert" + (fresh.length > 1 ? "s (" + fresh.length + ")" : "") + ": see Alerts.";
    } catch (e) {
      // offline or signed out (fhir.js says that): the next check tries again
    } finally {
      busy = false;
    }
  }
  setInterval(check, POLL_MS);
  document.addEventListener("visibilitychange", check);
}

// the sign-in ended (fhir.js says so on a 401 it could not refresh): say it plainly, once, with the way back in
let openPatientId = null;
window.addEventListener("nssi:signed-out", () => {
  const panel = document.getElementById("signed-out");
  if (!panel.hidden) return;
  panel.hidden = false;
  say("Signed out");
  const again = panel.querySelector("a");
  // signing in again comes back to this person (launch.js reads this once, in this tab only)
  again.addEventListener("click", () => {
    if (openPatientId) sessionStorage.setItem("nssi-relaunch-patient", openPatientId);
  });
  again.focus();
});

// the sticky banner stays small while scrolling (a tablet's screen is not given over to it)
window.addEventListener("scroll", () => {
  // two thresholds: the banner's own change of height must not flip it back
  const banner = document.getElementById("banner");
  if (window.scrollY > 160) banner.classList.add("compact");
  else if (window.scrollY < 40) banner.classList.remove("compact");
}, { passive: true });

FHIR.oauth2.ready().then(async client => {
  const fhir = new Fhir(client);
  openPatientId = fhir.patientId;
  say("Loading patient…");
  const patient = await fhir.request("Patient/" + fhir.patientId);
  setPerson(patient);
  renderBanner(patient, []);
  say("Loading the record…");
  const summary = await summaryOrRefusal(fhir);
  if (summary === null) {
    showSections(false);
    document.body.dataset.access = "none";
    showCareTeamPanel(fhir, document.getElementById("care-team-panel"), async reason => {
      say("Opening the record under break-the-glass…");
      const opened = await fhir.request("Patient/" + fhir.patientId + "/$nssi-summary");
      const notice = document.getElementById("glass-notice");
      notice.textContent = "Break-the-glass access: every record you open is audited. Your reason: “" + reason
        + "”. Read-only; it ends when you leave or reload this page.";
      notice.hidden = false;
      await open(fhir, patient, opened);
      document.body.dataset.access = "btg";
      say("Ready (break-the-glass)");
    });
    say("Not on this person's care team");
    document.body.dataset.ready = "true";
    return;
  }
  await open(fhir, patient, summary);
  document.body.dataset.access = "full";
  say("Ready");
  document.body.dataset.ready = "true";
}).catch(error => {
  // an ended sign-in at load is said by the "sign in again" panel, not as an error
  say(document.getElementById("signed-out").hidden ? "Error: " + error.message : "Signed out");
  document.body.dataset.ready = "error";
});
