// "My plan": the person's relapse-prevention / safety plan from the record (read-only here), grouped by what each
// step is, with its contacts as call links. Kept on the phone so it can be read offline; printable.
import { t } from "./i18n.js";
import { CS, h, conceptText, FhirError, OfflineError } from "./fhir.js";

const GROUPS = [
  ["personal-trigger", "planTriggers"], ["warning-sign", "planWarningSigns"], ["coping-strategy", "planCoping"],
  ["support-contact", "planContacts"]];

export async function loadPlan(fhir) {
  const key = "nssi-patient-plan:" + fhir.patientId;
  try {
    const plans = await fhir.search("CarePlan?patient=" + fhir.patientId + "&category=" + encodeURIComponent(CS + "|relapse-prevention-plan-category")
      + "&status=active&_sort=-_lastUpdated", 1);
    const plan = plans[0] || null;
    localStorage.setItem(key, JSON.stringify({ plan, at: new Date().toISOString() }));
    return { plan, offlineSince: null };
  } catch (error) {
    const cached = JSON.parse(localStorage.getItem(key) || "null");
    if (cached) return { plan: cached.plan, offlineSince: cached.at };
    throw error;
  }
}

function groupOf(activity) {
  const codes = ((activity.detail && activity.detail.code && activity.detail.code.coding) || []).map(c => c.code);
  const kind = ((activity.detail && activity.detail.kind) || "");
  const found = GROUPS.find(([code]) => codes.includes(code));
  return found ? found[0] : kind === "CommunicationRequest" ? "support-contact" : "coping-strategy";
}

function phoneOf(resource) {
  const tel = (resource.telecom || []).find(x => x.system === "phone");
  return tel ? tel.value : null;
}

function nameOf(resource) {
  if (resource.name && typeof resource.name === "string") return resource.name;
  const n = (resource.name || [])[0];
  return n ? [...(n.given || []), n.family].filter(Boolean).join(" ") : "";
}

/**
 * Lets the person add a step to their own plan (online only: the update is sent with If-Match, so a change made
 * meanwhile by their care team is never overwritten; the server allows a patient to edit this plan and no other).
 */
export function planEditor(fhir, body, printButton) {
  const input = h("input", { type: "text", id: "plan-add-text", maxlength: "500" });
  const result = h("p", { id: "plan-add-result", role: "status", "aria-live": "polite" });
  const form = h("form", { id: "plan-add", novalidate: true },
    h("label", { for: "plan-add-text", text: t("planAddLabel") }), input,
    h("button", { type: "submit", id: "plan-add-button", className: "secondary", text: t("planAddButton") }), result);
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const key = "nssi-patient-plan:" + fhir.patientId;
    const current = (JSON.parse(localStorage.getItem(key) || "null") || {}).plan;
    if (!current) return;
    const changed = JSON.parse(JSON.stringify(current));
    changed.activity = [...(changed.activity || []), { detail: {
      code: { coding: [{ system: CS, code: "coping-strategy", display: "Coping strategy" }] },
      status: "not-started", description: text } }];
    try {
      const version = current.meta && current.meta.versionId;
      await fhir.request("CarePlan/" + current.id, { method: "PUT", body: changed, headers: version ? { "If-Match": 'W/"' + version + '"' } : {} });
      input.value = "";
      renderPlan(body, printButton, await loadPlan(fhir));
      result.textContent = t("planAdded");
    } catch (error) {
      if (error instanceof OfflineError) result.textContent = t("planAddOffline");
      else if (error instanceof FhirError && error.status === 412) {
        renderPlan(body, printButton, await loadPlan(fhir));
        result.textContent = t("planChanged");
      } else result.textContent = t("planAddFailed", { message: error.message });
    }
  });
  return form;
}

export function renderPlan(body, printButton, { plan, offlineSince }, shared = true) {
  if (!shared) {
    body.replaceChildren(h("p", { className: "hidden-note", text: t("proxyHiddenSection") }));
    return;
  }
  if (!plan) {
    body.replaceChildren(h("p", { text: t("planNone") }));
    return;
  }
  const parts = [h("h3", { text: plan.title || t("planHeading") })];
  if (plan.description) parts.push(h("p", { text: plan.description }));
  if (offlineSince) parts.push(h("p", { className: "hint", text: t("planOffline", { time: new Date(offlineSince).toLocaleString() }) }));
  for (const [code, key] of GROUPS) {
    const items = (plan.activity || []).filter(a => groupOf(a) === code);
    const contacts = code === "support-contact" ? (plan.contained || []).filter(r => phoneOf(r)) : [];
    if (!items.length && !contacts.length) continue;
    parts.push(h("h4", { text: t(key) }), h("ul", { className: "plan-list" },
      items.map(a => h("li", { text: (a.detail && (a.detail.description || conceptText(a.detail.code))) || "" })),
      contacts.map(r => h("li", {}, h("a", { className: "call", href: "tel:" + phoneOf(r).replace(/[^0-9+]/g, "") },
        h("span", { className: "call-name", text: nameOf(r) }), h("span", { className: "call-phone", text: phoneOf(r) }))))));
  }
  body.replaceChildren(...parts);
  printButton.hidden = false;
}
