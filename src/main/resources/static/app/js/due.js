// When an open Task is due, in words derived from the Task itself (its priority and restriction.period.end), never from
// a fixed label: a card reading "Review now" beside a due time a day away said two things at once. The same list of
// open actions feeds the banner's "Overdue actions" and the plan's "What is due", so the two cannot disagree.
import { formatDateTime, toDate } from "/shared/js/dates.js";

const PRIORITY_WORDS = { stat: "Immediately", asap: "As soon as possible", urgent: "Urgent", routine: "Routine" };

function hasCode(resource, code) {
  return ((resource.code && resource.code.coding) || []).some(c => c.code === code);
}

export function isSuicideRisk(resource) {
  return hasCode(resource, "suicide-risk");
}

export function isSupportRequest(resource) {
  return resource.resourceType === "Task" && hasCode(resource, "support-request");
}

/** "As soon as possible" for asap: FHIR's request priority in words (routine when not said). */
export function priorityWords(task) {
  return PRIORITY_WORDS[task.priority] || PRIORITY_WORDS.routine;
}

/** The Task's due time (restriction.period.end) as a Date, or null. */
export function dueBy(task) {
  const end = task.restriction && task.restriction.period && task.restriction.period.end;
  return end ? toDate(end) : null;
}

export function isOverdue(task, now = new Date()) {
  const due = dueBy(task);
  return due !== null && due < now;
}

/** "Due by 8 Dec 2026, 09:30" or "Overdue since 6 Dec 2026, 10:00"; null without a due time. */
export function dueWords(task, now = new Date()) {
  const due = dueBy(task);
  if (due === null) return null;
  return (due < now ? "Overdue since " : "Due by ") + formatDateTime(task.restriction.period.end);
}

/**
 * A Task's title: its description, where one stored before the due time was said separately begins "Review now:"
 * whatever its due time; that word is dropped (the due words beside it say when).
 */
export function taskTitle(task) {
  return (task.description || "").replace(/^Review now:\s*/, "Review: ")
    // one stored before review s8 described the server's workings; the clinician needs the clinical step
    .replace("a safeguarding review Task is raised with this alert, or updated if one is open;", "a safeguarding review is needed;");
}

const due = t => { const d = dueBy(t); return d ? d.getTime() : Number.POSITIVE_INFINITY; };
const soonestFirst = (a, b) => due(a) - due(b);

/**
 * The open actions, in the order "What is due" lists them: suicide-risk reviews (the soonest due first), then the
 * person's requests for support (due at once: each is outstanding while open), then any other Task past its due time.
 * Each says whether it is overdue. Alert items as alerts.js orders them ({kind, resource}).
 */
export function openActions(alerts, now = new Date()) {
  const tasks = alerts.filter(a => a.kind === "task").map(a => a.resource);
  const item = kind => task => ({ kind, task, overdue: isOverdue(task, now) });
  return [
    ...tasks.filter(isSuicideRisk).sort(soonestFirst).map(item("suicide-risk")),
    ...tasks.filter(isSupportRequest).sort(soonestFirst).map(item("support")),
    ...tasks.filter(t => !isSuicideRisk(t) && !isSupportRequest(t) && isOverdue(t, now)).sort(soonestFirst).map(item("other")),
  ];
}

/** The banner's count, from the same list: the actions past due, and support requests waiting (not yet past due). */
export function outstanding(alerts, now = new Date()) {
  const actions = openActions(alerts, now);
  return {
    late: actions.filter(a => a.overdue).length,
    waiting: actions.filter(a => a.kind === "support" && !a.overdue).length,
  };
}
