// "My progress", in plain words: urges and skills over the last weeks from the diary cards, and whether self-harm
// is less frequent than before (the person's own episodes). Never a score, never a judgement.
import { t } from "./i18n.js";
import { CS, h } from "./fhir.js";
import { formatDate, toDate } from "/shared/js/dates.js";

const DAY = 864e5;

function value(obs, code) {
  const c = (obs.component || []).find(x => (x.code.coding || []).some(k => k.code === code));
  return c ? (c.valueInteger !== undefined ? c.valueInteger : c.valueBoolean) : undefined;
}

/** When the entry was, in ms; a diary card's bare day ("2026-12-06") is that local day, not UTC midnight. */
function time(obs) {
  const when = obs.effectiveDateTime || (obs.effectivePeriod && obs.effectivePeriod.start);
  return when ? toDate(when).getTime() : 0;
}

function average(values) {
  return values.length ? Math.round(values.reduce((a, b) => a + b, 0) / values.length * 10) / 10 : null;
}

export async function loadProgress(fhir) {
  const since = new Date(Date.now() - 8 * 7 * DAY).toISOString().substring(0, 10);
  const [cards, episodes] = await Promise.all([
    fhir.search("Observation?patient=" + fhir.patientId + "&code=" + encodeURIComponent(CS + "|diary-card") + "&date=ge" + since + "&_count=100"),
    fhir.search("Observation?patient=" + fhir.patientId + "&code=" + encodeURIComponent(CS + "|nssi-episode") + "&date=ge" + since + "&_count=100"),
  ]);
  return { cards, episodes };
}

export function renderProgress(body, { cards, episodes }, shared = true) {
  if (!shared) {
    body.replaceChildren(h("p", { className: "hidden-note", text: t("proxyHiddenSection") }));
    return;
  }
  if (!cards.length && !episodes.length) {
    body.replaceChildren(h("p", { text: t("progressNone") }));
    return;
  }
  const now = Date.now();
  const within = (list, from, to) => list.filter(o => time(o) > now - from * DAY && time(o) <= now - to * DAY);
  const lines = [];
  const urgeNow = average(within(cards, 7, 0).map(c => value(c, "urge-intensity")).filter(v => v !== undefined));
  const urgeBefore = average(within(cards, 14, 7).map(c => value(c, "urge-intensity")).filter(v => v !== undefined));
  if (urgeNow !== null) lines.push(urgeBefore !== null ? t("progressUrge", { now: urgeNow, before: urgeBefore }) : t("progressUrgeNoBefore", { now: urgeNow }));
  const lastWeek = within(cards, 7, 0);
  if (lastWeek.length) lines.push(t("progressSkills", { days: lastWeek.filter(c => (value(c, "skills-used") || 0) > 0).length }));
  const epNow = within(episodes, 28, 0).length;
  const epBefore = within(episodes, 56, 28).length;
  const times = n => (n === 1 ? t("once") : t("times", { n }));
  lines.push(epNow === 0 ? t("progressEpisodesNone") : epNow < epBefore ? t("progressEpisodesFewer", { now: times(epNow), before: times(epBefore) })
    : t("progressEpisodesSame", { now: times(epNow), before: epBefore === 0 ? t("never") : times(epBefore) }));

  const rows = [];
  for (let w = 0; w < 6; w++) {
    const week = within(cards, (w + 1) * 7, w * 7);
    const start = new Date(now - (w + 1) * 7 * DAY + DAY);
    rows.push(h("tr", {},
      h("th", { scope: "row", text: formatDate(start) }),
      h("td", { text: String(average(week.map(c => value(c, "urge-intensity")).filter(v => v !== undefined)) ?? "–") }),
      // days, not cards: a day can hold two entries (review s7: "8 cards" in a 7-day week)
      h("td", { text: String(days(week.filter(c => (value(c, "skills-used") || 0) > 0))) }),
      h("td", { text: String(days(week)) })));
  }
  body.replaceChildren(
    h("ul", { className: "progress-lines", id: "progress-lines" }, lines.map(l => h("li", { text: l }))),
    h("table", { className: "progress-table" },
      h("caption", { text: t("progressTableCaption") }),
      h("thead", {}, h("tr", {}, ["progressWeek", "progressAvgUrge", "progressSkillDays", "progressCards"].map(k => h("th", { scope: "col", text: t(k) })))),
      h("tbody", {}, rows)));
}

/** How many different days these cards are for. */
function days(cards) {
  return new Set(cards.map(c => String(c.effectiveDateTime || (c.effectivePeriod && c.effectivePeriod.start) || "").slice(0, 10))).size;
}
