// "I need support now": the crisis contacts at once, and a request to the care team (a Task for the patient,
// urgent when the latest diary card's urge to die was high) sent through the offline queue; then whether the team
// has seen or answered it (the Task's status, read back). Once answered, the person says they have seen the answer
// ("I have seen the answer": a note of theirs added to the Task, the one change besides cancelling the access policy
// lets them make), and the answer is no longer shown as new.
import { t } from "./i18n.js";
import { CS, APP_IDENTIFIER, HTEST, OfflineError, uuid, plainError, sayError } from "./fhir.js";
import { transaction, locations } from "./queue.js";
import { URGE_TO_DIE_HIGH } from "./diary.js";
import { formatDateTime } from "/shared/js/dates.js";

const SECURITY = [
  { system: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", code: "R" },
  { system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: "BH" },
];

export class Support {
  constructor(fhir, queue, button, status, crisisSection, testData) {
    this.fhir = fhir;
    this.queue = queue;
    this.button = button;
    this.status = status;
    this.crisis = crisisSection;
    this.testData = testData;
    this.key = "nssi-patient-support:" + fhir.patientId;
    this.seenButton = document.getElementById("support-seen");
    button.addEventListener("click", () => this.ask());
    this.seenButton.addEventListener("click", () => this.seen());
  }

  /** Whether the person has already said they saw the team's answer (a note of theirs on the answered request). */
  seenAlready(task) {
    const me = "Patient/" + this.fhir.patientId;
    return (task.note || []).some(n => n.authorReference && n.authorReference.reference === me);
  }

  /** "I have seen the answer": a note by the person on the request (sent with If-Match), then the answer is not new. */
  async seen() {
    const saved = JSON.parse(localStorage.getItem(this.key) || "null");
    if (!saved || !saved.location) return;
    this.seenButton.disabled = true;
    try {
      const task = await this.fhir.request(saved.location);
      if (!this.seenAlready(task)) {
        task.note = [...(task.note || []), { authorReference: { reference: "Patient/" + this.fhir.patientId }, time: new Date().toISOString(),
          text: t("supportSeenNote") }];
        const version = task.meta && task.meta.versionId;
        await this.fhir.request(saved.location, { method: "PUT", body: task, headers: version ? { "If-Match": 'W/"' + version + '"' } : {} });
      }
      localStorage.removeItem(this.key);
      clearTimeout(this.timer);
      this.seenButton.hidden = true;
      this.status.textContent = t("supportSeenDone");
      this.status.dataset.state = "acknowledged";
    } catch (error) {
      if (error instanceof OfflineError) this.status.textContent = t("supportSeenOffline");
      else sayError(this.status, t("supportSeenFailed", { message: plainError(error) }), error);
    } finally {
      this.seenButton.disabled = false;
    }
  }

  /** The latest urge to die the person recorded (on this phone, else from the server). */
  async lastUrgeToDie() {
    const local = localStorage.getItem("nssi-patient-last-urge-to-die:" + this.fhir.patientId);
    if (local !== null) return Number(local);
    try {
      const cards = await this.fhir.search("Observation?patient=" + this.fhir.patientId + "&code=" + encodeURIComponent(CS + "|diary-card")
        + "&_sort=-date&_count=1", 1);
      const c = (cards[0] && cards[0].component || []).find(x => (x.code.coding || []).some(k => k.code === "urge-to-die"));
      return c ? c.valueInteger : 0;
    } catch {
      return 0;
    }
  }

  async ask() {
    // the contacts first, whatever happens next
    this.crisis.scrollIntoView({ block: "start" });
    this.crisis.focus();
    this.button.disabled = true;
    const urgent = (await this.lastUrgeToDie()) >= URGE_TO_DIE_HIGH;
    const id = uuid();
    const patient = "Patient/" + this.fhir.patientId;
    const task = {
      resourceType: "Task",
      meta: { security: this.testData ? [HTEST, ...SECURITY] : SECURITY },
      identifier: [{ system: APP_IDENTIFIER, value: id }],
      status: "requested",
      intent: "order",
      priority: urgent ? "asap" : "urgent", // FHIR: urgent < asap
      code: { coding: [{ system: CS, code: "support-request", display: "Request for support" }] },
      description: t(urgent ? "supportDescriptionUrgent" : "supportDescription"),
      for: { reference: patient },
      requester: { reference: patient },
      authoredOn: new Date().toISOString(),
    };
    const entry = { id, kind: "support", createdAt: task.authoredOn,
      bundle: transaction(this.fhir.patientId, [{ fullUrl: "urn:uuid:" + id, identifier: { system: APP_IDENTIFIER, value: id }, resource: task }]) };
    try {
      const outcome = await this.queue.add(entry);
      if (outcome && outcome.ok) {
        const location = locations(outcome.answer)[0];
        localStorage.setItem(this.key, JSON.stringify({ location, at: task.authoredOn }));
        this.status.textContent = t("supportSent", { time: formatDateTime(task.authoredOn) });
        this.status.dataset.state = "sent";
        this.poll();
      } else if (outcome) {
        sayError(this.status, t("sendFailed", { message: plainError(outcome.error) }), outcome.error);
      } else {
        this.status.textContent = t("supportQueued");
        this.status.dataset.state = "queued";
      }
    } finally {
      this.button.disabled = false;
    }
  }

  /** Shows whether the care team has seen or answered the latest request (checked now and every 20 seconds). */
  async poll() {
    clearTimeout(this.timer);
    const saved = JSON.parse(localStorage.getItem(this.key) || "null");
    if (!saved || !saved.location) return;
    try {
      const task = await this.fhir.request(saved.location);
      if (task.status === "completed") {
        if (this.seenAlready(task)) {
          // seen (here or on another phone): no longer news
          localStorage.removeItem(this.key);
          this.seenButton.hidden = true;
          return;
        }
        const when = task.lastModified || (task.meta && task.meta.lastUpdated);
        this.status.textContent = t("supportAnswered", { time: when ? formatDateTime(when) : "" });
        this.status.dataset.state = "answered";
        this.seenButton.hidden = false;
        return;
      }
      if (["accepted", "in-progress", "received"].includes(task.status)) {
        this.status.textContent = t("supportSeen");
        this.status.dataset.state = "seen";
      } else if (!this.status.textContent) {
        this.status.textContent = t("supportSent", { time: formatDateTime(saved.at) });
        this.status.dataset.state = "sent";
      }
    } catch {
      // offline or signed out: try again later
    }
    this.timer = setTimeout(() => this.poll(), 20000);
  }
}
