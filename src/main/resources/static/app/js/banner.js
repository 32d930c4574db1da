// Patient banner: name, age, sex, and a notice when the record carries sensitivity labels.
import { formatDate } from "/shared/js/dates.js";
const LABELS = {
  "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R": "restricted (R)",
  "http://terminology.hl7.org/CodeSystem/v3-ActCode|ADOL": "adolescent information (ADOL)",
};

/** Age in whole years on the browser's own calendar day (not UTC's: in New York at 21:00 UTC is already tomorrow). */
export function age(birthDate, today = new Date()) {
  if (!birthDate) return null;
  const [y, m, d] = birthDate.split("-").map(Number);
  let years = today.getFullYear() - y;
  if (m && (today.getMonth() + 1 < m || (today.getMonth() + 1 === m && d && today.getDate() < d))) {
    years--;
  }
  return years;
}

function labels(resources) {
  const found = new Set();
  for (const r of resources) {
    for (const s of (r.meta && r.meta.security) || []) {
      const label = LABELS[s.system + "|" + s.code];
      if (label) found.add(label);
    }
  }
  return [...found];
}

export function renderBanner(patient, episodes) {
  const name = (patient.name || [])[0] || {};
  const text = name.text || [...(name.given || []), name.family].filter(Boolean).join(" ") || "(no name)";
  document.getElementById("patient-name").textContent = text;
  const years = age(patient.birthDate);
  const details = [];
  if (years !== null) details.push(years + " years");
  if (patient.gender) details.push(patient.gender);
  if (patient.birthDate) details.push("born " + formatDate(patient.birthDate));
  const ageEl = document.getElementById("patient-details");
  ageEl.textContent = details.join(" · ");
  ageEl.dataset.age = years === null ? "" : String(years);
  const sensitive = labels([patient, ...episodes.map(e => e.resource)]);
  const notice = document.getElementById("sensitivity");
  notice.hidden = sensitive.length === 0;
  notice.textContent = sensitive.length === 0 ? "" :
    "Sensitive record: " + sensitive.join(", ") + ". Share only with people involved in this person's care.";
}
