// "My plan": the person's relapse-prevention / safety plan from the record, grouped by what each step is, with its
// contacts as call links. Kept on the phone so it can be read offline; printable. The person (not a parent: the
// access policy refuses a proxy's writes, and RelapsePlanEditRule lets a patient edit this plan and no other) adds,
// changes and removes steps online, each change sent with If-Match so a change made meanwhile is never overwritten.
import { t } from "./i18n.js";
import { CS, h, conceptText, FhirError, OfflineError } from "./fhir.js";

const GROUPS = [
  ["personal-trigger", "planTriggers"], ["warning-sign", "planWarningSigns"], ["coping-strategy", "planCoping"],
  ["support-contact", "planContacts"]];

export async function loadPlan(fhir) {
  const key = planKey(fhir);
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
    const key = planKey(fhir);
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

// per signed-in person (a parent and their young person may share a phone and see different plans)
const planKey = fhir => "nssi-patient-plan:" + fhir.fhirUser;

function cachedPlan(fhir) {
  return (JSON.parse(localStorage.getItem(planKey(fhir)) || "null") || {}).plan;
}

function stepText(activity) {
  return (activity.detail && (activity.detail.description || conceptText(activity.detail.code))) || "";
}

/**
 * "Change my plan": every step as a text field (grouped as shown; emptied = removed), saved as one update of the
 * plan with If-Match. A 412 (the care team changed the plan meanwhile) shows the latest version and says so.
 */
export function planChanger(fhir, body, printButton) {
  const result = h("p", { id: "plan-change-result", role: "status", "aria-live": "polite" });
  const area = h("div", { id: "plan-change-area" });
  const button = h("button", { type: "button", id: "plan-change", className: "secondary", text: t("planChange") });
  const close = () => {
    area.replaceChildren();
    button.hidden = false;
  };
  const reload = async () => renderPlan(body, printButton, await loadPlan(fhir));
  button.addEventListener("click", () => {
    const current = cachedPlan(fhir);
    if (!current) return;
    if (!navigator.onLine) {
      result.textContent = t("planChangeOffline");
      return;
    }
    result.textContent = "";
    const steps = (current.activity || []).map((a, i) => ({ a, i })).filter(({ a }) => stepText(a));
    const counts = {};
    const fields = steps.map(({ a, i }) => {
      const key = GROUPS.find(([code]) => code === groupOf(a))[1];
      counts[key] = (counts[key] || 0) + 1;
      return h("p", { className: "plan-step" },
        h("label", { for: "plan-step-" + i, text: t("planStepLabel", { group: t(key), n: counts[key] }) }),
        h("input", { type: "text", id: "plan-step-" + i, maxlength: "500", value: stepText(a), dataset: { index: String(i) } }));
    });
    const form = h("form", { id: "plan-change-form", novalidate: true },
      h("p", { className: "hint", id: "plan-change-hint", text: t("planChangeHint") }), fields,
      h("button", { type: "submit", id: "plan-change-save", text: t("planChangeSave") }), " ",
      h("button", { type: "button", id: "plan-change-cancel", className: "secondary", text: t("planChangeCancel"),
        onClick: () => { close(); button.focus(); } }));
    form.addEventListener("submit", async event => {
      event.preventDefault();
      const changed = JSON.parse(JSON.stringify(current));
      const removed = new Set();
      form.querySelectorAll("input[data-index]").forEach(input => {
        const i = Number(input.dataset.index);
        const text = input.value.trim();
        if (!text) removed.add(i);
        else if (text !== stepText(current.activity[i])) changed.activity[i].detail.description = text;
      });
      changed.activity = (changed.activity || []).filter((_, i) => !removed.has(i));
      try {
        const version = current.meta && current.meta.versionId;
        await fhir.request("CarePlan/" + current.id, { method: "PUT", body: changed, headers: version ? { "If-Match": 'W/"' + version + '"' } : {} });
        close();
        await reload();
        result.textContent = t("planChangesSaved");
        button.focus();
      } catch (error) {
        if (error instanceof OfflineError) result.textContent = t("planChangeOffline");
        else if (error instanceof FhirError && error.status === 412) {
          close();
          await reload();
          result.textContent = t("planChangedMeanwhile");
          button.focus();
        } else result.textContent = t("planAddFailed", { message: error.message });
      }
    });
    area.replaceChildren(form);
    button.hidden = true;
    form.querySelector("input")?.focus();
  });
  return h("div", { id: "plan-changer" }, button, area, result);
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
