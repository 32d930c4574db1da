// Alerts: open suicide-risk Flags and urgent Tasks first, each with what raised it (the Flag's flag-detail
// evidence, the Task's focus and reason) in clinical words, and closing a Task: the clinician gives the outcome,
// the update is sent only if the Task is still the version they read (If-Match; a colleague's change is never
// overwritten), and a suicide-risk Flag the Task is about can be resolved with it.
import { conceptText, FhirError } from "./fhir.js";
import { h } from "./form-kit.js";
import { formatDate, formatDateTime, toDate } from "/shared/js/dates.js";
import { isSuicideRisk, isSupportRequest, priorityWords, dueWords, taskTitle, isOverdue } from "./due.js";
import { person, persons } from "./person.js";

export { isSupportRequest };

const FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail";
export const OPEN_TASK = "draft,requested,received,accepted,ready,in-progress,on-hold";
const URGENT = { stat: 0, asap: 1, urgent: 2, routine: 3 };
const STATUS_TEXT = { draft: "draft", requested: "not started", received: "received", accepted: "accepted", ready: "ready",
  "in-progress": "in progress", "on-hold": "on hold" };
const SOURCE_TEXT = { Observation: "a recorded episode or result", QuestionnaireResponse: "a questionnaire answer",
  Condition: "a diagnosis", Flag: "an alert" };
const RISK_OUTCOMES = [
  { id: "acted", status: "completed", text: "Reviewed: risk assessed and action taken" },
  { id: "no-action", status: "completed", text: "Reviewed: no further action needed" },
  { id: "not-needed", status: "cancelled", text: "Not needed: raised in error or already handled" },
];

// a request from the person's app ("I need support now"): answered by a call or a message, not by a risk review
const SUPPORT_OUTCOMES = [
  { id: "called-back", status: "completed", text: "Called back" },
  { id: "message-sent", status: "completed", text: "Message sent" },
  { id: "not-needed", status: "cancelled", text: "Not needed: already answered another way" },
];

function dayAndTime(dateTime) {
  return formatDateTime(dateTime);
}

// alert codes shown by a plainer title than the code's display; a severe depression score is not a suicide-risk sign
// (PHQ-9 item 9 at 0), so it is listed with the other urgent alerts, below suicide risk
const FLAG_TITLE = { "severe-depression-score": "Severe depression (PHQ-9 20 or more, item 9 at 0)" };

function evidenceOf(flag) {
  const ext = (flag.extension || []).find(e => e.url === FLAG_DETAIL);
  return ext && ext.valueReference ? ext.valueReference.reference : null;
}

/** "QuestionnaireResponse/12" → "a questionnaire answer" */
export function sourceText(reference) {
  if (!reference) return "an unknown record";
  return SOURCE_TEXT[reference.split("/")[0]] || "a " + reference.split("/")[0] + " record";
}

/** When an alert was raised: its date and time as everywhere in the app (a date-only value stays a date). */
function day(dateTime) {
  return formatDateTime(dateTime);
}

export function alertKey(item) {
  return item.kind + "/" + item.resource.id;
}

/** When an alert was raised: a Flag's period start, a Task's authoredOn (0 when not said). */
function raisedAt(resource) {
  const when = (resource.period && resource.period.start) || resource.authoredOn || (resource.meta && resource.meta.lastUpdated);
  return when ? toDate(when).getTime() : 0;
}

export function order(flags, tasks) {
  const items = [
    ...flags.map(f => ({ kind: "flag", resource: f, rank: isSuicideRisk(f) ? 0 : 3 })),
    ...tasks.map(t => ({ kind: "task", resource: t, rank: isSuicideRisk(t) ? 1 : (URGENT[t.priority] ?? 3) <= 2 ? 2 : 4 })),
  ];
  // suicide risk first, then urgent Tasks (stat before asap before urgent), then the rest; the newest first within each
  return items.sort((a, b) => a.rank - b.rank || (URGENT[a.resource.priority] ?? 3) - (URGENT[b.resource.priority] ?? 3)
    || raisedAt(b.resource) - raisedAt(a.resource));
}

/** How many event cards show before "show all": the most urgent and newest; the rest one click away. */
export const SHOWN_GROUPS = 3;
let expanded = false;

/**
 * A long list (24 alerts) would push the timeline screens down: only the first SHOWN_GROUPS cards show, and a
 * button says how many more there are and how many of them are about suicide risk. Opened, it stays open across
 * reloads of the list (until the page is left).
 */
function collapse(list, groups) {
  const more = document.getElementById("alerts-more");
  if (!more) return;
  const cards = [...list.children];
  const hidden = cards.slice(SHOWN_GROUPS);
  const suicide = groups.slice(SHOWN_GROUPS).filter(g => g.items.some(i => isSuicideRisk(i.resource))).length;
  more.hidden = hidden.length === 0;
  if (hidden.length === 0) return;
  const render = () => {
    hidden.forEach(li => { li.hidden = !expanded; });
    more.setAttribute("aria-expanded", String(expanded));
    more.textContent = expanded ? "Show only the first " + SHOWN_GROUPS
      : "Show all alerts (" + hidden.length + " more" + (suicide ? ", " + suicide + " about suicide risk" : "") + ")";
  };
  more.onclick = () => {
    expanded = !expanded;
    render();
    // opening: the first card that was hidden takes the focus, so keyboard and screen-reader users land on it
    if (expanded) {
      hidden[0].setAttribute("tabindex", "-1");
      hidden[0].focus();
    }
  };
  render();
}

/** Renders the open alerts; returns them (ordered) so the caller can tell which are new. */
export async function renderAlerts(fhir, list, refresh, status, supportList = document.getElementById("support-list")) {
  const patient = encodeURIComponent(fhir.patientId);
  const [flags, tasks] = await Promise.all([
    // Flag has no standard status search parameter in R4; the package defines nssi-status
    fhir.search("Flag?patient=" + patient + "&nssi-status=active"),
    fhir.search("Task?patient=" + patient + "&status=" + OPEN_TASK),
  ]);
  const all = order(flags, tasks);
  await renderAnswered(fhir);
  // open support requests are never behind "Show all": each has a card of its own above the list, the newest first
  const support = all.filter(i => i.kind === "task" && isSupportRequest(i.resource));
  const items = all.filter(i => !support.includes(i));
  const flagsById = new Map(flags.map(f => ["Flag/" + f.id, f]));
  const groups = groupByEvent(items, flagsById);
  const events = await eventDates(fhir, groups.map(g => g.event).filter(Boolean));
  // the most urgent first; among equally urgent cards, the newest event (when it happened, not when it was raised)
  const rank = g => Math.min(...g.items.map(i => i.rank));
  const time = g => (g.event && events.has(g.event) ? eventTime(events.get(g.event)) : Math.max(...g.items.map(i => raisedAt(i.resource))));
  groups.sort((a, b) => rank(a) - rank(b) || time(b) - time(a));
  // what raised an alert, in clinical words; a diary card's Observation is the young person's own entry
  const source = reference => (events.has(reference) && events.get(reference).diary ? persons() + " diary card" : sourceText(reference));
  list.replaceChildren();
  if (supportList) {
    supportList.replaceChildren(...support.sort((a, b) => raisedAt(b.resource) - raisedAt(a.resource)).map(i => h("li",
      { className: "alert-group support-request", "data-event": "" },
      h("h3", { className: "event-title", text: "Support request from " + persons() + " app, " + dayAndTime(raisedAt(i.resource)) }),
      h("ul", { className: "alerts" }, taskItem(fhir, i.resource, flagsById, refresh, status, fhir.glassBroken)))));
    supportList.hidden = support.length === 0;
  }
  if (items.length === 0) {
    list.appendChild(h("li", { text: support.length ? "No other open alerts." : "No open alerts." }));
    collapse(list, []);
    return all;
  }
  for (const group of groups) {
    const inner = h("ul", { className: "alerts" });
    for (const item of group.items) {
      inner.appendChild(item.kind === "flag" ? flagItem(item.resource, source)
        : taskItem(fhir, item.resource, flagsById, refresh, status, fhir.glassBroken, source));
    }
    const when = group.event ? events.get(group.event) : null;
    list.appendChild(h("li", { className: "alert-group", "data-event": group.event || "" },
      h("h3", { className: "event-title", text: eventTitle(group.event, when, group.items[0]) }), inner));
  }
  collapse(list, groups);
  return all;
}

/** How long a closed support request stays in "Recently answered". */
export const ANSWERED_DAYS = 7;

/**
 * Support requests closed in the last ANSWERED_DAYS days, compact: once closed they left the alerts, and with them the
 * person's own note that they had seen the answer, which then never reached the team (clinician review s8).
 */
async function renderAnswered(fhir, section = document.getElementById("support-answered")) {
  if (!section) return;
  const list = section.querySelector("ul");
  const since = new Date(Date.now() - ANSWERED_DAYS * 86400000).toISOString();
  let closed = [];
  try {
    closed = await fhir.search("Task?patient=" + encodeURIComponent(fhir.patientId) + "&code=support-request"
      + "&status=completed,cancelled&_lastUpdated=ge" + encodeURIComponent(since), 2);
  } catch (e) {
    // the open alerts still show; this list is a convenience
  }
  closed = closed.filter(isSupportRequest);
  const closedAt = t => toDate(t.lastModified || (t.meta && t.meta.lastUpdated)).getTime();
  const me = "Patient/" + fhir.patientId;
  list.replaceChildren(...closed.sort((a, b) => closedAt(b) - closedAt(a)).map(t => {
    const seen = (t.note || []).filter(n => n.authorReference && n.authorReference.reference === me)
      .map(n => h("li", { text: "Seen by " + person() + (n.time ? ", " + dayAndTime(n.time) : "") }));
    return h("li", {},
      h("span", { text: "Asked " + dayAndTime(raisedAt(t)) + " · " + ((t.statusReason && t.statusReason.text) || (t.status === "cancelled" ? "Cancelled" : "Answered"))
        + (t.lastModified ? ", " + dayAndTime(t.lastModified) : "") }),
      seen.length ? h("ul", {}, ...seen) : h("span", { text: " · not yet seen by " + person() }));
  }));
  section.hidden = closed.length === 0;
}

/** What raised an alert: a Flag's evidence, a Task's Flag's evidence, else the Task's reason or focus. */
function eventOf(item, flagsById) {
  const r = item.resource;
  if (item.kind === "flag") return evidenceOf(r);
  const focus = r.focus && r.focus.reference;
  if (focus && flagsById.has(focus)) return evidenceOf(flagsById.get(focus)) || focus;
  return (r.reasonReference && r.reasonReference.reference) || focus || null;
}

/**
 * One card per event (an episode, a questionnaire answer) with its Flag and Tasks together: the same event no longer
 * shows twice. Groups keep the order of their most urgent alert; alerts without an event stand alone.
 */
export function groupByEvent(items, flagsById) {
  const groups = [];
  const byEvent = new Map();
  for (const item of items) {
    const event = eventOf(item, flagsById);
    if (event && byEvent.has(event)) {
      byEvent.get(event).items.push(item);
      continue;
    }
    const group = { event, items: [item] };
    groups.push(group);
    if (event) byEvent.set(event, group);
  }
  // within a card the Flag (what is wrong) comes before its Tasks (what to do)
  groups.forEach(g => g.items.sort((a, b) => (a.kind === "flag" ? 0 : 1) - (b.kind === "flag" ? 0 : 1)));
  return groups;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * When an event happened, for sorting the cards. A date-only value (a diary card is for a day) is that day, and within
 * the day the time it was recorded (issued, else meta.lastUpdated): midnight would put a card sent this evening below
 * this morning's events.
 */
export function eventTime(when) {
  if (!when.dateOnly) return when.date.getTime();
  const start = when.date.getTime();
  const end = new Date(when.date.getFullYear(), when.date.getMonth(), when.date.getDate() + 1).getTime() - 1;
  return when.recorded ? Math.min(Math.max(when.recorded.getTime(), start), end) : start;
}

/** "2026-12-06" → that day in the browser's time zone (new Date() would read it as UTC midnight: the day before in New York) */
function parseWhen(value) {
  const m = DATE_ONLY.exec(value);
  return m ? { date: new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])), dateOnly: true } : { date: new Date(value), dateOnly: false };
}

/** When each event happened (an episode's own date, an answer's authored time), by reference; one search per type. */
async function eventDates(fhir, references) {
  const dates = new Map();
  const byType = new Map();
  for (const ref of new Set(references)) {
    const [type, id] = ref.split("/");
    if (!["Observation", "QuestionnaireResponse"].includes(type) || !id) continue;
    if (!byType.has(type)) byType.set(type, []);
    byType.get(type).push(id);
  }
  await Promise.all([...byType].map(async ([type, ids]) => {
    try {
      const found = await fhir.search(type + "?patient=" + encodeURIComponent(fhir.patientId) + "&_id=" + ids.join(","), 2);
      for (const r of found) {
        const when = r.effectiveDateTime || (r.effectivePeriod && r.effectivePeriod.start) || r.authored || r.issued;
        const codes = ((r.code && r.code.coding) || []).map(c => c.code);
        const recorded = r.issued || (r.meta && r.meta.lastUpdated);
        if (when) {
          dates.set(type + "/" + r.id, { ...parseWhen(when), recorded: recorded ? new Date(recorded) : null,
            episode: codes.includes("nssi-episode"), diary: codes.includes("diary-card") });
        }
      }
    } catch (e) {
      // the cards still show, with the day each alert was raised
    }
  }));
  return dates;
}

function eventTitle(event, when, first) {
  if (!event) return alertTitle(first);
  const what = event.startsWith("QuestionnaireResponse/") ? "Questionnaire answers"
    : when && when.episode ? "Episode" : when && when.diary ? "From " + persons() + " diary card"
    : event.startsWith("Observation/") ? "Recorded result" : "Record";
  if (!when) return what;
  // a date-only value has no time of day: "00:00" would be invented
  return what + (when.diary ? ", " : " on ") + (when.dateOnly ? formatDate(when.date) : formatDateTime(when.date));
}

function line(text, className) {
  return h("p", { className, text });
}

export function alertTitle(item) {
  const r = item.resource;
  if (item.kind === "flag") {
    const coding = ((r.code && r.code.coding) || [])[0];
    return isSuicideRisk(r) ? "Suicide risk" : (coding && (FLAG_TITLE[coding.code] || coding.display)) || "Alert";
  }
  return taskTitle(r) || conceptText(r.code) || "Task";
}

function flagItem(flag, source = sourceText) {
  const li = h("li", { className: "alert " + (isSuicideRisk(flag) ? "alert-critical" : "alert-warning"), "data-kind": "flag",
    "data-flag": flag.id, "data-code": ((flag.code && flag.code.coding) || []).map(c => c.code).join(" ") });
  li.append(
    line(alertTitle({ kind: "flag", resource: flag }), "alert-title"),
    line(conceptText(flag.code)),
    line("Raised by " + source(evidenceOf(flag)) + (flag.period && flag.period.start ? " on " + day(flag.period.start) : ""), "alert-source"));
  return li;
}

function taskItem(fhir, task, flagsById, refresh, status, readOnly, source = sourceText) {
  const li = h("li", { className: "alert " + ((URGENT[task.priority] ?? 3) <= 2 ? "alert-urgent" : "alert-info"), "data-kind": "task",
    "data-task": task.id, "data-overdue": isOverdue(task) ? "true" : null });
  const focus = task.focus && task.focus.reference;
  const flag = focus ? flagsById.get(focus) : null;
  const about = flag ? (isSuicideRisk(flag) ? "the suicide-risk alert" : "the alert “" + alertTitle({ kind: "flag", resource: flag }) + "”")
    : focus ? source(focus) : null;
  const reason = task.reasonReference && task.reasonReference.reference;
  // (a Task with neither focus nor reason, such as a person's request for support from their app, has no "about" line:
  // append() would print a null as text)
  li.append(...[
    line(alertTitle({ kind: "task", resource: task }), "alert-title"),
    // the priority and the due time in words from the Task itself, so that they agree: "As soon as possible · Due by …"
    line([priorityWords(task), dueWords(task), STATUS_TEXT[task.status] || task.status,
      task.authoredOn ? (isSupportRequest(task) ? "asked " + dayAndTime(task.authoredOn) : "raised " + day(task.authoredOn)) : null]
      .filter(Boolean).join(" · "), "alert-source"),
    about || reason ? line([about ? "About " + about : null, reason ? "raised by " + source(reason) : null].filter(Boolean).join(", "), "alert-source") : null,
  ].filter(Boolean));
  // the Task's notes, the newest first: a colleague's, a re-escalation, a further alert added to a safeguarding review
  const notes = taskNotes(task);
  if (notes) li.append(notes);
  if (readOnly) return li;
  const button = h("button", { type: "button", className: "close-task", "aria-expanded": "false",
    "aria-label": "Close task: " + alertTitle({ kind: "task", resource: task }), text: "Close task…" });
  li.append(button);
  button.addEventListener("click", () => {
    button.hidden = true;
    const form = closeForm(fhir, task, flag, refresh, status, () => { form.remove(); button.hidden = false; button.focus(); });
    li.append(form);
    form.querySelector("input").focus();
  });
  return li;
}

const REFERENCE = /(Flag|Task|Observation|QuestionnaireResponse|Condition|Procedure|ClinicalImpression)\/[A-Za-z0-9.-]+/g;

/** A note's text in words: "(Flag/12)" after a named alert is dropped, any other reference said as what it is. */
export function noteText(text) {
  return String(text || "").replace(/\s*\((?:Flag|Task)\/[A-Za-z0-9.-]+\)/g, "").replace(REFERENCE, ref => sourceText(ref));
}

function taskNotes(task) {
  const notes = (task.note || []).filter(n => n.text && n.text.trim());
  if (notes.length === 0) return null;
  const when = n => (n.time ? toDate(n.time).getTime() : 0);
  const by = n => n.authorString || (n.authorReference && n.authorReference.display) || null;
  const item = n => h("li", {},
    h("span", { className: "note-meta", text: [n.time ? formatDateTime(n.time) : null, by(n)].filter(Boolean).join(", ") + (n.time || by(n) ? ": " : "") }),
    noteText(n.text));
  const [latest, ...earlier] = notes.slice().sort((a, b) => when(b) - when(a));
  // the newest shows; earlier ones are one click away (a review that gathered nine alerts must not push the page down)
  return h("ul", { className: "task-notes", "aria-label": "Notes" }, item(latest),
    earlier.length ? h("li", {}, h("details", {}, h("summary", { text: "Earlier notes (" + earlier.length + ")" }),
      h("ul", { className: "task-notes-earlier" }, ...earlier.map(item)))) : null);
}

function focus(element) {
  element.setAttribute("tabindex", "-1");
  element.focus();
}

/** The alert cards shown (support requests, then the event cards not collapsed away), top to bottom. */
function visibleCards() {
  return [...document.querySelectorAll("#support-list > li, #alert-list > li.alert-group")]
    .filter(li => !li.hidden && li.getClientRects().length > 0);
}

/** After a task is closed: the card now at its place in the list (else the last one), or the Alerts heading. */
function focusAfterClose(position) {
  const cards = visibleCards();
  focus(cards.length ? cards[Math.min(Math.max(position, 0), cards.length - 1)] : document.getElementById("alerts-heading"));
}

function closeForm(fhir, task, flag, refresh, status, cancelled) {
  const name = "outcome-" + task.id;
  const OUTCOMES = isSupportRequest(task) ? SUPPORT_OUTCOMES : RISK_OUTCOMES;
  const outcomes = h("fieldset", { className: "choices" }, h("legend", { text: "Outcome (required)" }),
    ...OUTCOMES.map(o => h("div", { className: "choice" },
      h("input", { type: "radio", name, id: name + "-" + o.id, value: o.id }),
      h("label", { for: name + "-" + o.id, text: o.text }))));
  const note = h("textarea", { id: "note-" + task.id, rows: 2 });
  const resolve = flag && flag.status === "active"
    ? h("div", { className: "choice" }, h("input", { type: "checkbox", id: "resolve-" + task.id, className: "resolve-flag" }),
      h("label", { for: "resolve-" + task.id, text: "Also resolve " + (isSuicideRisk(flag) ? "the suicide-risk alert" : "the alert")
        + " (the risk has been reviewed and is being managed)" }))
    : null;
  const error = h("p", { className: "field-error", role: "alert", hidden: true });
  const confirm = h("button", { type: "submit", className: "confirm-close", text: "Close task" });
  const cancel = h("button", { type: "button", className: "secondary", text: "Cancel" });
  const form = h("form", { className: "close-form", novalidate: true }, outcomes,
    h("div", { className: "field" }, h("label", { for: note.id, text: "What was done (optional)" }), note),
    resolve, error, h("p", {}, confirm, " ", cancel));
  cancel.addEventListener("click", cancelled);
  outcomes.addEventListener("change", () => { error.hidden = true; });
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const chosen = OUTCOMES.find(o => form.querySelector("#" + CSS.escape(name + "-" + o.id)).checked);
    if (!chosen) {
      error.textContent = "Choose the outcome.";
      error.hidden = false;
      form.querySelector("input").focus();
      return;
    }
    confirm.disabled = true;
    // where this card is in the list: after closing, the focus goes to the card now in its place (the next alert)
    const position = visibleCards().indexOf(form.closest("#support-list > li, #alert-list > li"));
    const now = new Date().toISOString();
    const text = "Outcome: " + chosen.text + (note.value.trim() ? ". " + note.value.trim() : "");
    try {
      // completing an escalation Task needs a documented risk assessment (the server refuses it otherwise, and
      // then resolves the Task's alert itself): the clinician's review is recorded as a ClinicalImpression
      const output = [...(task.output || [])];
      if (chosen.status === "completed" && !isSupportRequest(task)) {
        const review = await fhir.create({ resourceType: "ClinicalImpression", status: "completed",
          subject: task.for, date: now, description: "Suicide-risk review. " + text });
        output.push({ type: { text: "Risk assessment" }, valueReference: { reference: "ClinicalImpression/" + review.id } });
      }
      // the copy read when the list was shown, with its version: a colleague's later change makes this a 412
      await fhir.update({ ...task, status: chosen.status, statusReason: { text: chosen.text },
        note: [...(task.note || []), { time: now, text }], output });
      let message = "Task closed: " + chosen.text + ".";
      const resolvedByServer = chosen.status === "completed" && flag && task.focus && task.focus.reference === "Flag/" + flag.id;
      if (resolvedByServer) {
        message += " The " + (isSuicideRisk(flag) ? "suicide-risk alert" : "alert") + " was resolved.";
      } else if (resolve && resolve.querySelector("input").checked) {
        try {
          await fhir.update({ ...flag, status: "inactive", period: { ...(flag.period || {}), end: now } });
          message += " The " + (isSuicideRisk(flag) ? "suicide-risk alert" : "alert") + " was resolved.";
        } catch (e) {
          message += e instanceof FhirError && e.status === 412
            ? " The alert was not resolved: a colleague changed it in the meantime. Check it below."
            : " The alert could not be resolved: " + e.message;
        }
      }
      status.textContent = "";
      await refresh();
      // said once the list is drawn again (a polite live region), while the focus goes to the next alert, or to the
      // Alerts heading when none is left: never to the page's body, where a keyboard user would have to start over
      status.textContent = message;
      focusAfterClose(position);
    } catch (e) {
      if (e instanceof FhirError && e.status === 412) {
        status.textContent = "This task was not closed: a colleague changed it after you opened it. "
          + "It has been reloaded with their changes; check it and close it again if still needed.";
        await refresh();
        focus(status);
        return;
      }
      error.textContent = "Could not close the task: " + e.message;
      error.hidden = false;
      confirm.disabled = false;
    }
  });
  return form;
}

/**
 * Says where the clinician acted that their entry raised alerts (the slot is a role="alert" region, so screen
 * readers announce it at once), with a link to the alert list; empties the slot when nothing was raised.
 */
export function announceRaised(slot, newAlerts) {
  slot.replaceChildren();
  slot.classList.remove("raised", "resolved");
  delete slot.dataset.alerts;
  const raised = newAlerts.filter(i => i.kind === "flag" || !newAlerts.some(j => j.kind === "flag"));
  if (raised.length === 0) return false;
  const suicide = newAlerts.some(i => isSuicideRisk(i.resource));
  // when the review is due, from the Task itself (not "now" beside a due time a day away)
  const task = newAlerts.find(i => i.kind === "task" && isSuicideRisk(i.resource) === suicide) || newAlerts.find(i => i.kind === "task");
  const reviewDue = task ? dueWords(task.resource) : null;
  slot.classList.add("raised");
  // which alerts this box is about: it follows them (followRaised) as they are closed
  slot.dataset.alerts = raised.map(alertKey).join(" ");
  slot.dataset.suicideAlerts = raised.filter(i => isSuicideRisk(i.resource)).map(alertKey).join(" ");
  slot.dataset.suicide = String(suicide);
  slot.append(
    h("p", {}, h("strong", { text: suicide ? "Suicide-risk alert raised by this entry." : "Alert raised by this entry." })),
    h("ul", {}, ...raised.map(i => h("li", { text: alertTitle(i) + (i.kind === "flag" && conceptText(i.resource.code) && conceptText(i.resource.code) !== alertTitle(i)
      ? ": " + conceptText(i.resource.code) : "") }))),
    h("p", { text: (suicide ? "The care team has been given a task to review it" : "A task was created for the care team")
      + (reviewDue ? " (" + reviewDue.charAt(0).toLowerCase() + reviewDue.slice(1) + ")" : "") + "."
      + (suicide ? " Before the person leaves: ask about current thoughts of suicide, plans and access to means, and go through their safety plan." : "") }),
    h("p", {}, h("a", { href: "#alerts-heading", text: "See it in Alerts" })));
  return true;
}

/**
 * A box saying an entry raised an alert follows that alert's state: once none of its alerts is open any more (the
 * task closed and the alert resolved, here or by a colleague), it says the alert has been resolved, out of the alarm
 * colours, instead of urging a review that has been done.
 */
export function followRaised(slot, open) {
  if (!slot || !slot.dataset.alerts || !slot.classList.contains("raised")) return;
  const openKeys = new Set(open.map(alertKey));
  const stillOpen = slot.dataset.alerts.split(" ").filter(k => openKeys.has(k));
  const suicideKeys = (slot.dataset.suicideAlerts || "").split(" ").filter(Boolean);
  // the alarm is about suicide risk: once that alert is resolved the box leaves the alarm colours, and says what
  // else the entry raised is still open (review s7: it stayed red until the NSSI escalation task was closed too)
  const suicideResolved = suicideKeys.length > 0 && suicideKeys.every(k => !openKeys.has(k));
  if (stillOpen.length > 0 && !suicideResolved) return;
  slot.classList.remove("raised");
  slot.classList.add("resolved");
  const others = stillOpen.length;
  slot.replaceChildren(h("p", { text: (slot.dataset.suicide === "true" ? "The suicide-risk alert" : "The alert")
    + " raised by this entry has been resolved." + (others > 0 ? " " + others + " other alert" + (others > 1 ? "s" : "")
    + " from it still open: see Alerts." : "") }));
}
