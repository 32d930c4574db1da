// The risk header in the banner: what a clinician must see at a glance before anything else, from data the page
// already loaded (episodes, open alerts) plus the latest PHQ-9 answer to item 9. Each figure says what it counts.
import { daysAgo, episodeWhen } from "./timeline.js";
import { formatDateTime } from "/shared/js/dates.js";
import { params, part } from "./fhir.js";
import { outstanding } from "./due.js";

const DAY = 86400000;
const INTENT_RISK = new Set(["intent-present", "intent-unsure"]);
const INTENT_TEXT = { "intent-present": "intent to die present", "intent-unsure": "unsure about intent to die" };
const PHQ9_ITEM_9 = "phq9-item-9";
const PHQ9_ANSWERS = { "LA6568-5": 0, "LA6569-3": 1, "LA6570-1": 2, "LA6571-9": 3 };

/**
 * Frequency trend: the server's figure (Patient/$nssi-summary, the one the "Episode frequency" tile shows), so that
 * the banner and the tile never disagree; counting here again would give a second definition (and other days).
 */
export function trend(summary) {
  const p = params(summary, "trend")[0];
  if (!p) return null;
  return { direction: part(p, "direction"), recent: part(p, "recentCount"), windowDays: part(p, "windowDays"),
    before: Number(part(p, "baselinePerWindow")) };
}

/**
 * A window in words: 28 → "4 weeks", 30 → "30 days". The banner's trend (the last 4 weeks against the weeks before) and
 * the plan's goal (the last 30 days against the 30 before) are different windows; each says its own in words, so the
 * two do not read as contradicting each other (clinician review s8).
 */
export function windowWords(days) {
  const n = Number(days);
  return n % 7 === 0 ? (n / 7 === 1 ? "week" : n / 7 + " weeks") : n === 1 ? "day" : n + " days";
}

/** The trend in words, as the banner and the tile both say it: "rising: 4 in the last 4 weeks, average 1 per 4 weeks before". */
export function trendText(t) {
  const w = windowWords(t.windowDays);
  return t.direction + ": " + t.recent + " in the last " + w + ", average " + baselineText(t) + " per " + w + " before";
}

/** "1.33" → "1.3", "1.00" → "1": the baseline as the tile and the banner both say it */
export function baselineText(t) {
  return String(Math.round(t.before * 10) / 10);
}


function findItem(items, linkId) {
  for (const item of items || []) {
    if (item.linkId === linkId) return item;
    const inner = findItem(item.item, linkId) || findItem((item.answer || []).flatMap(a => a.item || []), linkId);
    if (inner) return inner;
  }
  return null;
}

/** The latest PHQ-9 item 9 answer (0–3) and when, or null. */
export async function latestItem9(fhir) {
  const responses = await fhir.search("QuestionnaireResponse?patient=" + encodeURIComponent(fhir.patientId)
    + "&_sort=-authored&_count=20", 1);
  for (const r of responses) {
    const item = findItem(r.item, PHQ9_ITEM_9);
    const answer = item && (item.answer || [])[0];
    // a LOINC answer of list LL358-3 (since package 0.6.0) or an integer (older responses)
    const value = answer && (Number.isInteger(answer.valueInteger) ? answer.valueInteger : answer.valueCoding && PHQ9_ANSWERS[answer.valueCoding.code]);
    if (Number.isInteger(value)) return { value, date: r.authored ? new Date(r.authored) : null };
  }
  return null;
}

/**
 * One figure: its label and value, and a short form of both that the compact (scrolled) banner shows instead, so that
 * on a tablet the banner keeps every figure in two short lines rather than five long ones.
 */
function chip(key, label, text, level, shortLabel = label, shortText = text) {
  const li = document.createElement("li");
  li.dataset.risk = key;
  li.className = "risk-" + level;
  const span = (className, content) => {
    const e = document.createElement("span");
    e.className = className;
    e.textContent = content;
    return e;
  };
  li.append(span("risk-full", ""), span("risk-short", ""));
  li.firstChild.append(span("risk-label", label + ": "), span("risk-value", text));
  li.lastChild.append(span("risk-label", shortLabel + ": "), span("risk-value", shortText));
  return li;
}

export function renderRisk(list, { episodes, alerts, item9, summary }) {
  const flags = alerts.filter(a => a.kind === "flag" && ((a.resource.code && a.resource.code.coding) || []).some(c => c.code === "suicide-risk"));
  const withIntent = episodes.filter(e => INTENT_RISK.has(e.intent)).sort((a, b) => b.date - a.date)[0];
  const t = trend(summary);
  // the same list "What is due" shows (due.js): the actions past due, and the person's requests for support still
  // waiting (each outstanding while open, whatever its due time)
  const { late, waiting } = outstanding(alerts);
  const total = late + waiting;
  const days = withIntent ? daysAgo(withIntent.date) : null;
  const ago = days === null ? "" : days === 0 ? "today" : days + " d ago";
  list.replaceChildren(
    chip("suicide-alerts", "Suicide-risk alerts", flags.length === 0 ? "none open" : flags.length + " open", flags.length ? "high" : "ok",
      "Suicide risk", flags.length === 0 ? "none open" : flags.length + " open"),
    chip("intent", "Last episode with intent", withIntent
      ? episodeWhen(withIntent) + " (" + (days === 0 ? "today" : days + " day(s) ago") + ", " + INTENT_TEXT[withIntent.intent] + ")"
      : "none recorded", withIntent ? (days <= 90 ? "high" : "watch") : "ok",
      "Intent", withIntent ? ago + ", " + (withIntent.intent === "intent-present" ? "present" : "unsure") : "none"),
    chip("phq9-item-9", "PHQ-9 item 9", item9 === null ? "not asked"
      : item9.value + " of 3" + (item9.date ? " on " + formatDateTime(item9.date) : ""),
    item9 === null ? "watch" : item9.value > 0 ? "high" : "ok", "PHQ-9 item 9", item9 === null ? "not asked" : item9.value + "/3"),
    chip("trend", "Episodes", t === null ? "not available" : trendText(t), t && t.direction === "rising" ? "high" : "ok",
      "Episodes", t === null ? "n/a" : t.direction + ", " + t.recent + " in " + (t.windowDays % 7 === 0 ? t.windowDays / 7 + " wk" : t.windowDays + " d")),
    chip("overdue", "Overdue actions", total === 0 ? "none" : [late ? late + " past due" : null,
      waiting ? waiting + " support request(s) waiting" : null].filter(Boolean).join(", "), total ? "high" : "ok",
      "Overdue", total === 0 ? "none" : String(total)));
  list.hidden = false;
}
