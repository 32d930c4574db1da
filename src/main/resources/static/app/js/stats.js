// The figures next to the timeline: from Patient/$nssi-summary, and the urge trend from the episodes themselves.
import { params, part, value, codingText } from "./fhir.js";
import { daysAgo, fmt } from "./timeline.js";
import { trend, trendText } from "./risk.js";
import { formatDateTime } from "/shared/js/dates.js";

const SVG = "http://www.w3.org/2000/svg";
const PHQ9_TOTAL = "44261-6";

function set(id, text) {
  document.getElementById(id).textContent = text;
}

function average(list) {
  return list.length ? list.reduce((a, b) => a + b, 0) / list.length : null;
}

export function renderStats(summary, episodes) {
  // from the episodes, in the browser's time zone (the server counts UTC days: an evening episode in New York
  // would read as the next day)
  const last = episodes.reduce((a, e) => (!a || e.date > a ? e.date : a), null);
  set("days-since", last === null ? "No episodes recorded"
    : `${daysAgo(last)} (last on ${fmt(last)})`);

  const t = trend(summary);
  if (t) {
    // said as the banner says it (risk.js): the same figure, the same window
    set("frequency-trend", trendText(t));
  }

  const urges = episodes.filter(e => e.urge !== null).sort((a, b) => a.date - b.date).map(e => e.urge);
  if (urges.length === 0) {
    set("urge-trend", "Not recorded");
    document.getElementById("urge-spark").replaceChildren();
  } else {
    const recent = average(urges.slice(-5));
    const before = average(urges.slice(-10, -5));
    const direction = before === null ? "" : recent > before + 0.5 ? " ↑ rising" : recent < before - 0.5 ? " ↓ falling" : " → stable";
    set("urge-trend", `average ${recent.toFixed(1)} over the last ${Math.min(5, urges.length)} episode(s)`
      + (before === null ? "" : `, before ${before.toFixed(1)}`) + direction);
    document.getElementById("urge-spark").replaceChildren(sparkline(urges.slice(-20)));
  }

  const phq9 = params(summary, "score").find(p => (part(p, "code") || {}).code === PHQ9_TOTAL);
  if (phq9) {
    const band = part(phq9, "band");
    const date = part(phq9, "date");
    set("latest-phq9", `${quantity(part(phq9, "value"))}${band ? " (" + codingText(band) + ")" : ""}${date ? " on " + formatDateTime(date) : ""}`);
  } else {
    set("latest-phq9", "None recorded");
  }
}

function quantity(v) {
  return v && typeof v === "object" ? String(v.value) : String(v);
}

function sparkline(values) {
  const w = 160, h = 32;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Urge intensity of the last " + values.length + " episodes: " + values.join(", "));
  const step = values.length > 1 ? (w - 4) / (values.length - 1) : 0;
  const points = values.map((v, i) => `${2 + i * step},${h - 2 - (v / 10) * (h - 4)}`).join(" ");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points);
  line.setAttribute("class", "spark");
  svg.appendChild(line);
  return svg;
}
