// Episode timeline: episodes per week as stacked squares coloured by method, a mark above weeks with an episode
// needing medical or emergency care, details on hover or keyboard focus, filters by period and method.
// Plain SVG drawn here (no chart library).
import { CS } from "./config.js";
import { displays } from "./terminology.js";
import { formatDate, formatDateTime, formatMonth, isDateOnly, toDate } from "/shared/js/dates.js";

const SVG = "http://www.w3.org/2000/svg";
const DAY = 86400000;
// colour-blind-safe palette (Okabe-Ito), then a few more; method colours follow their order of appearance
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#6a3d9a", "#8c564b", "#444444", "#b15928"];
const SEVERE = new Set(["care-medical", "care-emergency"]);
const CARE = { "care-none": "No care needed", "care-self": "Self-care", "care-first-aid": "First aid", "care-medical": "Medical care", "care-emergency": "Emergency care" };
const INTENT_RISK = new Set(["intent-present", "intent-unsure"]);
const INTENT = { "intent-none": "no intent to die", "intent-present": "some intent to die", "intent-unsure": "unsure about intent to die" };

const SNOMED = "http://snomed.info/sct";
const SNOMED_OID = "urn:oid:2.16.840.1.113883.6.96";
const RECORDED_ELSEWHERE = "recorded by another system, intent not recorded";
let inbound = null;

/**
 * The codes another system (an EHR) records a self-harm act with, from the server's ConceptMap
 * nssi-inbound-episode (the same map the server's $nssi-summary reads), each with the intent its map target
 * states (suicide attempt: intent-present) or none. Read once; if the map cannot be read, only our own episodes show.
 */
export function inboundEpisodeCodes(fhir) {
  if (!inbound) {
    inbound = fhir.request("ConceptMap/nssi-inbound-episode").then(map => {
      const codes = new Map();
      for (const group of map.group || []) {
        if (group.target !== CS) continue;
        for (const element of group.element || []) {
          for (const target of element.target || []) {
            if (target.code !== "nssi-episode" || ["disjoint", "unmatched"].includes(target.equivalence)) continue;
            const product = (target.product || []).find(p => (p.property || "").endsWith(":suicidal-intent"));
            codes.set(group.source + "|" + element.code, { display: element.display || element.code, intent: product ? product.value : null });
          }
        }
      }
      return codes;
    }).catch(() => new Map());
  }
  return inbound;
}

export async function loadEpisodes(fhir) {
  const mapped = await inboundEpisodeCodes(fhir);
  // our code, and each mapped code in the canonical and OID forms of SNOMED CT (as the server matches them)
  const tokens = [CS + "|nssi-episode"];
  for (const key of mapped.keys()) {
    tokens.push(key);
    if (key.startsWith(SNOMED + "|")) tokens.push(SNOMED_OID + key.slice(SNOMED.length));
  }
  const observations = await fhir.search("Observation?patient=" + encodeURIComponent(fhir.patientId)
    + "&code=" + tokens.map(encodeURIComponent).join(",") + "&_sort=date&_count=200");
  const labels = await displays(fhir, "nssi-method-vs");
  const episodes = observations.filter(o => o.status !== "entered-in-error").map(o => parseEpisode(o, mapped)).filter(e => e.date);
  // the ValueSet's display wins over whatever (or nothing) the recording system wrote
  episodes.forEach(e => e.methods.forEach(m => { m.label = labels.get(m.key) || m.label; }));
  return episodes;
}

function components(obs, code) {
  return (obs.component || []).filter(c => ((c.code && c.code.coding) || []).some(k => k.system === CS && k.code === code));
}

function firstCoding(component) {
  return component && component.valueCodeableConcept && (component.valueCodeableConcept.coding || [])[0];
}

export function parseEpisode(obs, mapped = new Map()) {
  const when = obs.effectiveDateTime || (obs.effectivePeriod && obs.effectivePeriod.start);
  const codings = (obs.code && obs.code.coding) || [];
  const ours = codings.some(c => c.system === CS && c.code === "nssi-episode");
  // an EHR's act code (e.g. SNOMED CT "Cutting self"): shown as the method, keyed like our method codes
  const act = ours ? null : codings.map(c => ({ c, m: mapped.get((c.system === SNOMED_OID ? SNOMED : c.system) + "|" + c.code) })).find(x => x.m);
  const methods = act
    ? [{ key: SNOMED + "|" + act.c.code, label: act.c.display || act.m.display }]
    : components(obs, "method").map(firstCoding).filter(Boolean).map(c => ({ key: c.system + "|" + c.code, label: c.display || c.code }));
  const care = firstCoding(components(obs, "care-level")[0]);
  const intent = firstCoding(components(obs, "suicidal-intent")[0]);
  const urge = components(obs, "urge-intensity")[0];
  return {
    id: obs.id,
    resource: obs,
    date: when ? toDate(when) : null,
    // a date without a time (an EHR's, a diary card's): shown as that day only, never with an invented 00:00
    dateOnly: when ? isDateOnly(when) : false,
    methods: methods.length ? methods : [{ key: "unknown", label: "Method not recorded" }],
    care: care ? care.code : null,
    // another system's episode: intent only when its code states it (suicide attempt), never NSSI by default
    intent: intent ? intent.code : act ? act.m.intent : null,
    external: !ours,
    urge: urge && Number.isInteger(urge.valueInteger) ? urge.valueInteger : null,
  };
}

// Days, weeks and times are the browser's own (its time zone): an evening episode belongs to its own day.

/** Monday 00:00 local time of the date's week. */
function weekStart(date) {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return d;
}

/** Whole calendar days (local) from the date to today: 0 = today, even when it was 11 pm. */
export function daysAgo(date, now = new Date()) {
  const day = d => Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  return Math.round((day(now) - day(date)) / DAY);
}

export function fmtTime(date) {
  return formatDateTime(date);
}

export function fmt(date) {
  return formatDate(date);
}

/** When an episode happened, as everywhere in the app: date and time, or the date only when no time was recorded. */
export function episodeWhen(e) {
  return e.dateOnly ? fmt(e.date) : fmtTime(e.date);
}

export function describe(e) {
  const parts = [episodeWhen(e), e.methods.map(m => m.label).join(", ")];
  if (e.care) parts.push(CARE[e.care] || e.care);
  if (e.urge !== null) parts.push("urge " + e.urge + "/10");
  if (e.intent) parts.push(INTENT[e.intent] || e.intent);
  if (e.external) parts.push(e.intent ? "recorded by another system" : RECORDED_ELSEWHERE);
  return parts.join(" · ");
}

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

export class Timeline {
  constructor(container, tooltip, legend) {
    this.container = container;
    this.tooltip = tooltip;
    this.legend = legend;
    this.episodes = [];
    this.colours = new Map();
    this.period = document.getElementById("filter-period");
    this.method = document.getElementById("filter-method");
    this.count = document.getElementById("episode-count");
    this.period.addEventListener("change", () => this.draw());
    this.method.addEventListener("change", () => this.draw());
    window.addEventListener("resize", () => this.draw());
    document.addEventListener("keydown", ev => { if (ev.key === "Escape") this.hideTip(); });
  }

  setEpisodes(episodes) {
    this.episodes = episodes;
    for (const e of episodes) {
      for (const m of e.methods) {
        if (!this.colours.has(m.key)) this.colours.set(m.key, { label: m.label, colour: PALETTE[this.colours.size % PALETTE.length] });
      }
    }
    const selected = this.method.value;
    this.method.replaceChildren(new Option("All methods", ""));
    for (const [key, m] of this.colours) this.method.appendChild(new Option(m.label, key));
    this.method.value = this.colours.has(selected) ? selected : "";
    this.draw();
  }

  visible() {
    const days = Number(this.period.value);
    const from = days > 0 ? new Date(Date.now() - days * DAY) : null;
    const method = this.method.value;
    return this.episodes.filter(e => (!from || e.date >= from) && (!method || e.methods.some(m => m.key === method)));
  }

  draw() {
    const shown = this.visible();
    this.count.textContent = String(shown.length);
    const days = Number(this.period.value);
    const now = new Date();
    const first = days > 0 ? new Date(now.getTime() - days * DAY)
      : (this.episodes.length ? this.episodes.reduce((a, e) => (e.date < a ? e.date : a), now) : new Date(now.getTime() - 84 * DAY));
    const start = weekStart(first);
    const weeks = Math.max(1, Math.round((weekStart(now) - start) / (7 * DAY)) + 1);
    const byWeek = new Map();
    for (const e of shown) {
      const i = Math.round((weekStart(e.date) - start) / (7 * DAY));
      if (!byWeek.has(i)) byWeek.set(i, []);
      byWeek.get(i).push(e);
    }
    const max = Math.max(3, ...[...byWeek.values()].map(list => list.length));

    const width = Math.max(320, this.container.clientWidth || 640);
    const height = 240;
    const m = { left: 36, right: 8, top: 18, bottom: 34 };
    const plotW = width - m.left - m.right;
    const plotH = height - m.top - m.bottom;
    const colW = plotW / weeks;
    const unit = plotH / max;
    const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "group", id: "timeline-chart",
      "aria-label": `Episodes per week, ${shown.length} episode(s) shown`, "data-count": shown.length });

    // y axis: whole numbers of episodes
    const step = Math.max(1, Math.ceil(max / 5));
    for (let v = 0; v <= max; v += step) {
      const y = m.top + plotH - v * unit;
      el("line", { x1: m.left, x2: width - m.right, y1: y, y2: y, class: "grid" }, svg);
      el("text", { x: m.left - 6, y: y + 4, class: "tick", "text-anchor": "end" }, svg).textContent = String(v);
    }
    // x axis: month labels, thinned to fit
    let lastLabelX = -Infinity;
    for (let w = 0; w < weeks; w++) {
      const d = new Date(start.getTime() + w * 7 * DAY);
      const prev = new Date(d.getTime() - 7 * DAY);
      if (w === 0 || d.getMonth() !== prev.getMonth()) {
        const x = m.left + w * colW;
        if (x - lastLabelX > 48) {
          el("text", { x, y: height - 12, class: "tick" }, svg).textContent =
            formatMonth(d);
          lastLabelX = x;
        }
      }
    }
    // one square per episode, stacked in its week
    for (const [w, list] of byWeek) {
      const x = m.left + w * colW + Math.min(1, colW * 0.1);
      const barW = Math.max(2, colW - Math.min(2, colW * 0.2));
      list.sort((a, b) => a.date - b.date).forEach((e, i) => {
        const y = m.top + plotH - (i + 1) * unit;
        const rect = el("rect", {
          x, y: y + 0.5, width: barW, height: Math.max(1, unit - 1),
          fill: this.colours.get(e.methods[0].key).colour, class: "episode", tabindex: -1, role: "img",
          "aria-label": describe(e), "data-episode": e.id, "data-time": e.date.getTime(),
        }, svg);
        rect.addEventListener("mouseenter", () => this.showTip(e, rect));
        rect.addEventListener("focus", () => this.showTip(e, rect));
        rect.addEventListener("mouseleave", () => this.hideTip());
        rect.addEventListener("blur", () => this.hideTip());
        if (INTENT_RISK.has(e.intent)) {
          // intent to die present or unsure: a ring mark on the square, so it never looks like any other episode
          el("circle", { cx: x + barW / 2, cy: y + 0.5 + Math.max(1, unit - 1) / 2, r: Math.max(2.5, Math.min(6, barW / 3, unit / 3)),
            class: "intent-mark", "data-episode": e.id, "aria-hidden": "true" }, svg);
        }
      });
      if (list.some(e => SEVERE.has(e.care))) {
        const cx = x + barW / 2;
        const top = m.top + plotH - list.length * unit - 4;
        el("path", { d: `M${cx - 5},${top - 8} L${cx + 5},${top - 8} L${cx},${top} Z`, class: "severe-mark",
          "aria-label": "Medical or emergency care that week", role: "img" }, svg);
      }
    }
    el("line", { x1: m.left, x2: width - m.right, y1: m.top + plotH, y2: m.top + plotH, class: "axis" }, svg);
    this.rovingFocus(svg);
    this.container.replaceChildren(svg);
    this.drawLegend(shown);
    this.drawTable(shown);
  }

  /**
   * The chart is one tab stop (dozens of squares were dozens of stops on the way through the page): the latest
   * episode takes focus, the arrow keys (and Home/End) move between episodes in time order.
   */
  rovingFocus(svg) {
    const rects = [...svg.querySelectorAll("rect.episode")]
      .sort((a, b) => Number(a.dataset.time) - Number(b.dataset.time));
    if (rects.length === 0) return;
    rects[rects.length - 1].setAttribute("tabindex", "0");
    svg.addEventListener("keydown", ev => {
      const i = rects.indexOf(document.activeElement);
      if (i < 0) return;
      const next = { ArrowLeft: i - 1, ArrowDown: i - 1, ArrowRight: i + 1, ArrowUp: i + 1, Home: 0, End: rects.length - 1 }[ev.key];
      if (next === undefined || next < 0 || next >= rects.length) return;
      ev.preventDefault();
      rects[i].setAttribute("tabindex", "-1");
      rects[next].setAttribute("tabindex", "0");
      rects[next].focus();
    });
  }

  /** The chart's text alternative: the same episodes as a table, newest first, behind a disclosure. */
  drawTable(shown) {
    const body = document.getElementById("episode-table-body");
    if (!body) return;
    body.replaceChildren(...[...shown].sort((a, b) => b.date - a.date).map(e => {
      const tr = document.createElement("tr");
      tr.dataset.episode = e.id;
      for (const text of [episodeWhen(e), e.methods.map(m => m.label).join(", "), e.care ? CARE[e.care] || e.care : "–",
        e.intent ? INTENT[e.intent] || e.intent : e.external ? RECORDED_ELSEWHERE : "not recorded", e.urge === null ? "–" : e.urge + "/10"]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      }
      if (e.intent === "intent-present" || e.intent === "intent-unsure") tr.className = "intent-row";
      return tr;
    }));
  }

  drawLegend(shown) {
    const used = new Set(shown.flatMap(e => e.methods.map(m => m.key)));
    this.legend.replaceChildren();
    for (const [key, m] of this.colours) {
      if (!used.has(key)) continue;
      const li = document.createElement("li");
      const swatch = el("svg", { width: 14, height: 14, "aria-hidden": "true" });
      el("rect", { width: 14, height: 14, fill: m.colour }, swatch);
      li.append(swatch, " " + m.label);
      this.legend.appendChild(li);
    }
    const li = document.createElement("li");
    const mark = el("svg", { width: 14, height: 14, "aria-hidden": "true" });
    el("path", { d: "M2,3 L12,3 L7,11 Z", class: "severe-mark" }, mark);
    li.append(mark, " Medical or emergency care");
    this.legend.appendChild(li);
    const ring = document.createElement("li");
    const ringMark = el("svg", { width: 14, height: 14, "aria-hidden": "true" });
    el("circle", { cx: 7, cy: 7, r: 4.5, class: "intent-mark" }, ringMark);
    ring.append(ringMark, " Intent to die present or unsure");
    this.legend.appendChild(ring);
  }

  showTip(e, rect) {
    this.tooltip.textContent = describe(e);
    this.tooltip.hidden = false;
    const box = rect.getBoundingClientRect();
    const parent = this.tooltip.offsetParent ? this.tooltip.offsetParent.getBoundingClientRect() : { left: 0, top: 0 };
    this.tooltip.style.left = Math.max(0, box.left - parent.left - 60) + "px";
    this.tooltip.style.top = Math.max(0, box.top - parent.top - 44) + "px";
  }

  hideTip() {
    this.tooltip.hidden = true;
  }
}
