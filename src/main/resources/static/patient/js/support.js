// "I need support now": the crisis contacts at once, and a request to the care team (a Task for the patient,
// urgent when the latest diary card's urge to die was high) sent through the offline queue; then whether the team
// has seen or answered it (the Task's status, searched on the server: the person's latest open or newly answered
// request, whichever phone sent it). Once answered, the person says they have seen the answer
// ("I have seen the answer": a note of theirs added to the Task, the one change besides cancelling the access policy
// lets them make), and the answer is no longer shown as new.
import { t } from "./i18n.js";
import { CS, APP_IDENTIFIER, HTEST, OfflineError, uuid, plainError, sayError } from "./fhir.js";
import { transaction } from "./queue.js";
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
    this.seenButton = document.getElementById("support-seen");
    this.section = document.getElementById("support");
    button.addEventListener("click", () => this.ask());
    this.seenButton.addEventListener("click", () => this.seen());
  }

  /** Whether the person has already said they saw the team's answer (a note of theirs on the answered request). */
  seenAlready(task) {
    const me = "Patient/" + this.fhir.patientId;
    return (task.note || []).some(n => n.authorReference && n.authorReference.reference === me);
  }

  /**
   * The person's latest support request that is still open or newly answered, from the server (whichever phone sent
   * it: a request kept only on this phone was lost on another phone or after signing out), or null.
   */
  async latest() {
    const tasks = await this.fhir.search("Task?patient=" + this.fhir.patientId + "&code=" + encodeURIComponent(CS + "|support-request")
      + "&_sort=-authored-on&_count=5", 1);
    return tasks.find(task => OPEN.includes(task.status) || (answered(task) && !this.seenAlready(task))) || null;
  }

  /** "I have seen the answer": a note by the person on the request (sent with If-Match), then the answer is not new. */
  async seen() {
    if (!this.task) return;
    this.seenButton.disabled = true;
    try {
      const location = "Task/" + this.task.id;
      const task = await this.fhir.request(location);
      if (!this.seenAlready(task)) {
        task.note = [...(task.note || []), { authorReference: { reference: "Patient/" + this.fhir.patientId }, time: new Date().toISOString(),
          text: t("supportSeenNote") }];
        const version = task.meta && task.meta.versionId;
        await this.fhir.request(location, { method: "PUT", body: task, headers: version ? { "If-Match": 'W/"' + version + '"' } : {} });
      }
      this.task = null;
      clearTimeout(this.timer);
      this.seenButton.hidden = true;
      this.status.textContent = t("supportSeenDone");
      this.status.dataset.state = "acknowledged";
      // the focus goes to what happened (the button it was on is gone), not to the page's body
      this.status.focus();
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
        // what the server made of it (its due time), read back; said without it only if that read fails
        await this.poll();
        if (!this.task) {
          this.status.textContent = t("supportSent", { time: formatDateTime(task.authoredOn) });
          this.status.dataset.state = "sent";
        }
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

  /**
   * Shows whether the care team has seen or answered the person's latest request, read from the server (checked now
   * and every 20 seconds while one is open or its answer is new).
   */
  async poll() {
    clearTimeout(this.timer);
    let task;
    try {
      task = await this.latest();
    } catch {
      // offline or signed out: try again later
      this.timer = setTimeout(() => this.poll(), 20000);
      return;
    }
    this.task = task;
    if (!task) {
      this.section.dataset.answered = "false";
      this.seenButton.hidden = true;
      return;
    }
    // "While you wait" is for while the person waits: not once the team has answered
    this.section.dataset.answered = String(answered(task));
    if (answered(task)) {
      const when = task.lastModified || (task.meta && task.meta.lastUpdated);
      const outcome = outcomeWords(task);
      this.status.textContent = t("supportAnswered", { time: when ? formatDateTime(when) : "" }) + (outcome ? " " + outcome : "");
      this.status.dataset.state = "answered";
      this.seenButton.hidden = false;
      return;
    }
    this.seenButton.hidden = true;
    if (["accepted", "in-progress", "received"].includes(task.status)) {
      this.status.textContent = t("supportSeen");
      this.status.dataset.state = "seen";
    } else {
      // when the team will see it: the due time the server set (restriction.period.end), never a vague "soon"
      const due = task.restriction && task.restriction.period && task.restriction.period.end;
      this.status.textContent = due ? t("supportSentDue", { time: formatDateTime(task.authoredOn), due: formatDateTime(due) })
        : t("supportSent", { time: formatDateTime(task.authoredOn) });
      this.status.dataset.state = "sent";
    }
    this.timer = setTimeout(() => this.poll(), 20000);
  }
}

/** A support request's open states (FHIR's Task statuses before an outcome). */
const OPEN = ["draft", "requested", "received", "accepted", "ready", "in-progress", "on-hold"];

/**
 * What the team did, in the person's words, when the Task says so in words meant for them: the outcomes the clinician
 * app records as statusReason (or businessStatus) text. Any other text (and the team's notes) may be the team's own
 * wording about the person, so it is not shown.
 */
const OUTCOMES = { "Called back": "supportOutcomeCalledBack", "Message sent": "supportOutcomeMessageSent" };

function outcomeWords(task) {
  const key = [task.statusReason, task.businessStatus].map(c => c && c.text && OUTCOMES[c.text.trim()]).find(Boolean);
  return key ? t(key) : "";
}

/** Whether the care team has answered the request. */
function answered(task) {
  return task.status === "completed";
}
