// "I need support now": the crisis contacts at once, and a request to the care team (a Task for the patient,
// urgent when the latest diary card's urge to die was high) sent through the offline queue; then whether the team
// has seen or answered it (the Task's status, read back).
import { t } from "./i18n.js";
import { CS, APP_IDENTIFIER, HTEST, uuid, plainError, sayError } from "./fhir.js";
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
    button.addEventListener("click", () => this.ask());
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
        const when = task.lastModified || (task.meta && task.meta.lastUpdated);
        this.status.textContent = t("supportAnswered", { time: when ? formatDateTime(when) : "" });
        this.status.dataset.state = "answered";
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
