// "My plan": the person's relapse-prevention / safety plan from the record, grouped by what each step is, with its
// contacts as call links. Kept on the phone so it can be read offline; printable. The person (not a parent: the
// access policy refuses a proxy's writes, and RelapsePlanEditRule lets a patient edit this plan and no other) adds,
// changes and removes steps online, each change sent with If-Match so a change made meanwhile is never overwritten.
import { t } from "./i18n.js";
import { CS, h, conceptText, FhirError, OfflineError, uuid, plainError, sayError } from "./fhir.js";
import { formatDateTime } from "/shared/js/dates.js";

const GROUPS = [
  ["personal-trigger", "planTriggers"], ["warning-sign", "planWarningSigns"], ["coping-strategy", "planCoping"],
  ["support-contact", "planContacts"], ["other", "planOther"]];

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

/**
 * The sentences a new plan starts with (the server's CarePlanAssembler.relapsePlan, kept identical): placeholders for
 * the care team to fill in with the person, not the person's own words, so never shown as theirs.
 */
const TEMPLATE_TEXTS = new Set([
  "Situations that have led to self-injury before: none recorded yet, to write with the person in their own words.",
  "Signs that an urge is building: to write with the person in their own words.",
  "What helps instead of self-injury: to write with the person (for example a skill from therapy).",
  "People and services to contact when coping strategies are not enough, including a crisis line."]);

/** A step still as the template wrote it. */
function isTemplate(activity) {
  return TEMPLATE_TEXTS.has(stepText(activity).trim());
}

/**
 * A step the care team does with the person: the check-ins after self-harm, the plan's review (SNOMED CT 88848003
 * Psychiatric follow-up, as the server writes it), or one a clinician or service of the record performs. Listed under
 * "Also in my plan", never among the person's own coping steps ("Things I can do", "While you wait").
 */
const TEAM_STEPS = ["increased-check-ins", "88848003"];

function isTeamStep(activity) {
  const d = activity.detail || {};
  const codes = ((d.code && d.code.coding) || []).map(c => c.code);
  if (codes.some(c => TEAM_STEPS.includes(c))) return true;
  return (d.performer || []).some(p => /^(Practitioner|PractitionerRole|CareTeam|Organization)\//.test(p.reference || ""));
}

function groupOf(activity) {
  const codes = ((activity.detail && activity.detail.code && activity.detail.code.coding) || []).map(c => c.code);
  const kind = ((activity.detail && activity.detail.kind) || "");
  const found = GROUPS.find(([code]) => codes.includes(code));
  if (found && found[0] !== "other") return found[0];
  if (kind === "CommunicationRequest") return "support-contact";
  return isTeamStep(activity) ? "other" : "coping-strategy";
}

function phoneOf(resource) {
  const tel = (resource.telecom || []).find(x => x.system === "phone");
  return tel ? tel.value : null;
}

function nameOf(resource) {
  if (resource.name && typeof resource.name === "string") return resource.name;
  const n = (resource.name || [])[0];
  return n ? n.text || [...(n.given || []), n.family].filter(Boolean).join(" ") : "";
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
    if (await sendPlan(fhir, current, changed, body, printButton, result, t("planAdded"))) input.value = "";
  });
  return h("div", {}, form, contactEditor(fhir, body, printButton));
}

/**
 * "Add someone I can contact": a name and a phone number, kept in the plan as a contained RelatedPerson (the
 * person's own contact, not a record of its own) that a "support-contact" step names as its performer, so it is
 * shown with the plan's people and places, as a call link.
 */
function contactEditor(fhir, body, printButton) {
  const name = h("input", { type: "text", id: "plan-contact-name", maxlength: "100", autocomplete: "off" });
  const phone = h("input", { type: "tel", id: "plan-contact-phone", maxlength: "30", autocomplete: "off" });
  const result = h("p", { id: "plan-contact-result", role: "status", "aria-live": "polite" });
  const form = h("form", { id: "plan-contact", novalidate: true },
    h("h3", { text: t("planContactHeading") }),
    h("p", {}, h("label", { for: "plan-contact-name", text: t("planContactName") }), name),
    h("p", {}, h("label", { for: "plan-contact-phone", text: t("planContactPhone") }), phone),
    h("button", { type: "submit", id: "plan-contact-button", className: "secondary", text: t("planContactButton") }), result);
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const who = name.value.trim();
    const number = phone.value.trim();
    if (!who || !/[0-9]/.test(number)) {
      result.textContent = t("planContactMissing");
      return;
    }
    const current = cachedPlan(fhir);
    if (!current) return;
    const changed = JSON.parse(JSON.stringify(current));
    const id = "contact-" + uuid().slice(0, 8);
    changed.contained = [...(changed.contained || []), { resourceType: "RelatedPerson", id,
      patient: { reference: "Patient/" + fhir.patientId }, name: [{ text: who }], telecom: [{ system: "phone", value: number }] }];
    changed.activity = [...(changed.activity || []), { detail: {
      code: { coding: [{ system: CS, code: "support-contact", display: "Support contact" }] },
      status: "not-started", performer: [{ reference: "#" + id, display: who }], description: who } }];
    if (await sendPlan(fhir, current, changed, body, printButton, result, t("planContactAdded"))) {
      name.value = "";
      phone.value = "";
    }
  });
  return form;
}

/**
 * Sends a changed plan with If-Match (never over a change the care team made meanwhile) and shows the latest
 * version; says in {@code result} what happened: saved, changed meanwhile (412), offline, or refused. Whether saved.
 */
async function sendPlan(fhir, current, changed, body, printButton, result, savedText) {
  try {
    const version = current.meta && current.meta.versionId;
    await fhir.request("CarePlan/" + current.id, { method: "PUT", body: changed, headers: version ? { "If-Match": 'W/"' + version + '"' } : {} });
    renderPlan(body, printButton, await loadPlan(fhir));
    result.textContent = savedText;
    return true;
  } catch (error) {
    if (error instanceof OfflineError) result.textContent = t("planAddOffline");
    else if (error instanceof FhirError && error.status === 412) {
      renderPlan(body, printButton, await loadPlan(fhir));
      result.textContent = t("planChanged");
    } else sayError(result, t("planAddFailed", { message: plainError(error) }), error);
    return false;
  }
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
        } else sayError(result, t("planAddFailed", { message: plainError(error) }), error);
      }
    });
    area.replaceChildren(form);
    button.hidden = true;
    form.querySelector("input")?.focus();
  });
  return h("div", { id: "plan-changer" }, button, area, result);
}

export function renderPlan(body, printButton, { plan, offlineSince }, shared = true) {
  renderCoping(shared ? plan : null);
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
  if (offlineSince) parts.push(h("p", { className: "hint", text: t("planOffline", { time: formatDateTime(offlineSince) }) }));
  const contained = plan.contained || [];
  const callLink = r => h("a", { className: "call", href: "tel:" + phoneOf(r).replace(/[^0-9+]/g, "") },
    h("span", { className: "call-name", text: nameOf(r) }), h("span", { className: "call-phone", text: phoneOf(r) }));
  // a contact step names its person (a contained resource with a phone): shown as that person's call link, once
  const contactOf = a => {
    const ref = ((a.detail && a.detail.performer) || []).map(p => p.reference).find(r => r && r.startsWith("#"));
    return ref ? contained.find(r => "#" + r.id === ref && phoneOf(r)) : null;
  };
  for (const [code, key] of GROUPS) {
    const all = (plan.activity || []).filter(a => groupOf(a) === code);
    // the template's placeholder sentences are not the person's: a part with nothing else says it is still to do
    const items = all.filter(a => !isTemplate(a));
    const linked = code === "support-contact" ? items.map(contactOf).filter(Boolean) : [];
    const contacts = code === "support-contact" ? contained.filter(r => phoneOf(r) && !linked.includes(r)) : [];
    if (!items.length && !contacts.length) {
      if (all.length) parts.push(h("h4", { text: t(key) }), h("p", { className: "hint not-filled", text: t("planNotFilledIn") }));
      continue;
    }
    parts.push(h("h4", { text: t(key) }), h("ul", { className: "plan-list" },
      items.map(a => {
        const contact = code === "support-contact" ? contactOf(a) : null;
        return contact ? h("li", {}, callLink(contact)) : h("li", { text: stepText(a) });
      }),
      contacts.map(r => h("li", {}, callLink(r)))));
  }
  body.replaceChildren(...parts);
  printButton.hidden = false;
}

/**
 * "While you wait, these can help right away": the person's own coping steps from their plan, on the support page;
 * hidden when the plan has none (or is not theirs to see).
 */
function renderCoping(plan) {
  const list = document.getElementById("support-coping");
  const intro = document.getElementById("support-coping-intro");
  if (!list || !intro) return;
  // the person's own coping steps only: not the template's placeholders, not the team's check-ins (groupOf)
  const steps = ((plan && plan.activity) || []).filter(a => groupOf(a) === "coping-strategy" && !isTemplate(a)).map(stepText).filter(Boolean);
  list.replaceChildren(...steps.map(text => h("li", { text })));
  list.hidden = intro.hidden = steps.length === 0;
}
