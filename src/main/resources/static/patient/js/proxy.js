// A parent's (proxy's) view: only what the young person's Consent releases to them, and the app says so. The
// server decides what comes back (the access policy); this only explains it.
import { t } from "./i18n.js";

const LABELS = { R: "labelRestricted", ADOL: "labelAdolescent", BH: "labelBehavioral" };

/** The labels the patient's active Consent releases to this proxy (an empty list: every label), or null: no Consent. */
export async function releasedLabels(fhir) {
  const consents = await fhir.search("Consent?patient=" + fhir.patientId + "&status=active", 1);
  const mine = consents.filter(c => c.provision && c.provision.type === "permit"
    && (c.provision.actor || []).some(a => a.reference && a.reference.reference === fhir.fhirUser));
  if (!mine.length) return null;
  return mine.flatMap(c => (c.provision.securityLabel || []).map(l => l.code));
}

export function renderProxy(section, name, released) {
  section.hidden = false;
  section.querySelector("#proxy-heading").textContent = t("proxyHeading", { name });
  const shared = section.querySelector("#proxy-shared");
  if (released === null) {
    shared.textContent = t("proxyNotShared", { name });
  } else {
    const words = released.length === 0 ? [t("labelAll")] : [...new Set(released.map(code => LABELS[code] ? t(LABELS[code]) : code))];
    shared.textContent = t("proxyShared", { name, labels: words.join(", ") });
  }
  section.querySelector("#proxy-hidden").textContent = t("proxyHiddenNote", { name });
}
