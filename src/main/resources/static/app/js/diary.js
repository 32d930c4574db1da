// The person's diary cards (from their own app), compact and newest first: the day, urges, whether they self-harmed,
// the feelings that were strong, the skills they used and their note, in clinical words (each ValueSet's display,
// never a code). The latest few show; the rest are one click away.
import { CS } from "./config.js";
import { displays } from "./terminology.js";
import { h } from "./form-kit.js";
import { formatDate, formatDateTime, isDateOnly, toDate } from "/shared/js/dates.js";

/** How many cards show before "Show all": about a week of them. */
export const SHOWN_CARDS = 7;
let expanded = false;

function components(obs, code) {
  return (obs.component || []).filter(c => ((c.code && c.code.coding) || []).some(k => k.system === CS && k.code === code));
}

function integer(obs, code) {
  const c = components(obs, code)[0];
  return c && Number.isInteger(c.valueInteger) ? c.valueInteger : null;
}

/** The words of each coded answer: the ValueSet's display, else the one written with it; a bare code is not shown as such. */
function words(obs, code, labels) {
  return components(obs, code).map(c => ((c.valueCodeableConcept && c.valueCodeableConcept.coding) || [])[0]
    || (c.valueCodeableConcept && c.valueCodeableConcept.text ? { display: c.valueCodeableConcept.text } : null))
    .filter(Boolean).map(k => labels.get(k.system + "|" + k.code) || k.display || "an entry not in the list");
}

/** A card as the page shows it (exported for tests of the wording). */
export function parseCard(obs, emotionLabels = new Map(), skillLabels = new Map()) {
  const when = obs.effectiveDateTime || (obs.effectivePeriod && obs.effectivePeriod.start) || obs.issued;
  const harm = components(obs, "self-harm-today")[0];
  const skills = words(obs, "skill-practised", skillLabels);
  return {
    id: obs.id,
    when,
    time: when ? toDate(when).getTime() : 0,
    // when it was recorded (issued, else when the server stored it): two cards of one day are ordered by it
    recorded: obs.issued || (obs.meta && obs.meta.lastUpdated) ? new Date(obs.issued || obs.meta.lastUpdated).getTime() : 0,
    urge: integer(obs, "urge-intensity"),
    urgeToDie: integer(obs, "urge-to-die"),
    selfHarm: harm && typeof harm.valueBoolean === "boolean" ? harm.valueBoolean : null,
    feelings: words(obs, "emotion", emotionLabels),
    skills,
    skillCount: skills.length ? skills.length : integer(obs, "skills-used"),
    note: (obs.note || []).map(n => (n.text || "").trim()).filter(Boolean).join(" "),
  };
}

export async function loadDiary(fhir) {
  const [cards, emotions, skills] = await Promise.all([
    fhir.search("Observation?patient=" + encodeURIComponent(fhir.patientId) + "&code=" + encodeURIComponent(CS + "|diary-card")
      + "&_sort=-date&_count=50", 1),
    displays(fhir, "nssi-emotion-vs").catch(() => new Map()),
    displays(fhir, "nssi-dbt-skill-vs").catch(() => new Map()),
  ]);
  return cards.filter(o => o.status !== "entered-in-error").map(o => parseCard(o, emotions, skills))
    // newest first: by the day (effective), then by when each was recorded; the server's order for equal dates is
    // not by when they were written, and listed two cards of one day the wrong way round (clinician review s8)
    .sort(byNewest);
}

/** Latest first: effective time, then the time recorded (exported for tests of the order). */
export function byNewest(a, b) {
  return b.time - a.time || b.recorded - a.recorded;
}

function cardItem(card) {
  const facts = [
    card.urge !== null ? "urge to self-harm " + card.urge + " of 10" : null,
    card.urgeToDie !== null ? "urge to die " + card.urgeToDie + " of 10" : null,
    card.selfHarm === null ? null : card.selfHarm ? "self-harmed" : "no self-harm",
  ].filter(Boolean).join(" · ");
  const high = card.urgeToDie !== null && card.urgeToDie >= 5;
  return h("li", { className: "diary-card" + (high || card.selfHarm ? " diary-flag" : ""), "data-card": card.id },
    h("p", { className: "diary-day" }, h("strong", { text: card.when ? (isDateOnly(card.when) ? formatDate(card.when) : formatDateTime(card.when)) : "Undated" }),
      facts ? " · " + facts : null),
    h("p", { className: "diary-feelings" }, h("span", { className: "diary-label", text: "Feelings: " }),
      card.feelings.length ? card.feelings.join(", ") : "none recorded"),
    h("p", { className: "diary-skills" }, h("span", { className: "diary-label", text: "Skills used: " }),
      card.skills.length ? card.skills.join(", ") : card.skillCount ? String(card.skillCount) + " (not named)" : "none"),
    card.note ? h("p", { className: "diary-note" }, h("span", { className: "diary-label", text: "Note: " }), "“" + card.note + "”") : null);
}

export function renderDiary(list, more, empty, cards) {
  list.replaceChildren(...cards.map(cardItem));
  empty.hidden = cards.length > 0;
  const hidden = [...list.children].slice(SHOWN_CARDS);
  more.hidden = hidden.length === 0;
  if (hidden.length === 0) return;
  const render = () => {
    hidden.forEach(li => { li.hidden = !expanded; });
    more.setAttribute("aria-expanded", String(expanded));
    more.textContent = expanded ? "Show only the latest " + SHOWN_CARDS : "Show all diary cards (" + hidden.length + " more)";
  };
  more.onclick = () => {
    expanded = !expanded;
    render();
    if (expanded) {
      hidden[0].setAttribute("tabindex", "-1");
      hidden[0].focus();
    }
  };
  render();
}
