// Record an episode: a form following the nssi-episode profile (slices and their ValueSets, expanded by the
// server). The server validates against the profile; each OperationOutcome issue is shown next to its field.
import { CS, EPISODE_PROFILE } from "./config.js";
import { FhirError } from "./fhir.js";
import { expand } from "./terminology.js";
import { announceRaised } from "./alerts.js";
import { h, field, choices, checked, select, selected, clearErrors, showError } from "./form-kit.js";

// which field an issue belongs to: its expression/location or the profile's constraint key in the message
const ISSUE_FIELDS = [
  ["urge", [/nssi-ep-2/, /urge/i]],
  ["when", [/nssi-ep-[13]/, /effective/i, /future/i]],
  ["method", [/method/i]],
  ["intent", [/suicidal-?intent/i, /intent/i]],
  ["care", [/care-?level/i]],
  ["site", [/body-?site/i]],
  ["trigger", [/trigger/i]],
  ["function", [/function/i]],
  ["substance", [/substance/i]],
  ["context", [/social-?context/i]],
  ["disclosed", [/disclosed/i]],
];

export function fieldForIssue(issue) {
  const text = [...(issue.expression || []), ...(issue.location || []), issue.diagnostics || ""].join(" ");
  const match = ISSUE_FIELDS.find(([, patterns]) => patterns.some(p => p.test(text)));
  return match ? match[0] : null;
}

function component(code, value) {
  return { code: { coding: [{ system: CS, code }] }, ...value };
}

function concept(option) {
  return { valueCodeableConcept: { coding: [{ system: option.system, code: option.code, display: option.display }] } };
}

export class EpisodeForm {
  constructor(fhir, patient, form, result, refresh) {
    this.fhir = fhir;
    this.patient = patient;
    this.form = form;
    this.result = result;
    this.refresh = refresh;
    this.build().catch(error => { this.result.textContent = "The form could not be loaded: " + error.message; });
  }

  async build() {
    const [methods, intents, care, sites, triggers, functions, substances, contexts] = await Promise.all(
      ["nssi-method-vs", "nssi-intent-vs", "nssi-care-level-vs", "nssi-body-site-vs", "nssi-trigger-vs",
        "nssi-function-vs", "nssi-substance-use-vs", "nssi-social-context-vs"].map(name => expand(this.fhir, name)));
    const when = h("input", { type: "datetime-local", name: "when", id: "episode-when", required: true });
    const urge = h("input", { type: "number", name: "urge", id: "episode-urge", inputmode: "numeric", min: 0, max: 10, step: 1 });
    this.controls = {
      when,
      method: choices("method", "Method(s)", methods, { multiple: true, required: true }),
      intent: choices("intent", "Any intent to die", intents, { required: true }),
      care: select("care", care),
      urge,
      site: choices("site", "Body site(s)", sites, { multiple: true }),
      trigger: choices("trigger", "Trigger(s)", triggers, { multiple: true }),
      function: choices("function", "Function(s): why", functions, { multiple: true }),
      substance: select("substance", substances),
      context: select("context", contexts),
      disclosed: select("disclosed", [{ display: "Yes", value: true }, { display: "No", value: false }]),
    };
    this.controls.care.id = "episode-care";
    this.controls.method.id = "episode-method";
    this.controls.intent.id = "episode-intent";
    const c = this.controls;
    this.form.replaceChildren(
      h("div", { className: "form-grid" },
        field("when", "When it happened (required)", when),
        field("urge", "Urge intensity before (0–10)", urge),
        field("care", "Severity: highest level of care needed", c.care),
        field("substance", "Alcohol or drugs at the time", c.substance),
        field("context", "Alone or with others", c.context),
        field("disclosed", "Told anyone about it", c.disclosed)),
      field("method", "", c.method),
      field("intent", "", c.intent),
      h("div", { id: "intent-follow-up", className: "follow-up", "aria-live": "polite", hidden: true }),
      h("details", {}, h("summary", { text: "Body sites, triggers and functions" }),
        field("site", "", c.site), field("trigger", "", c.trigger), field("function", "", c.function)),
      h("div", { className: "form-errors", id: "episode-errors", role: "alert", hidden: true }),
      h("button", { type: "submit", id: "episode-submit", text: "Record episode" }));
    this.form.addEventListener("change", () => this.intentFollowUp());
    this.form.addEventListener("submit", event => {
      event.preventDefault();
      this.submit();
    });
  }

  /** Intent to die present or unsure: say at once what saving will do and what to ask before the person leaves. */
  intentFollowUp() {
    const box = this.form.querySelector("#intent-follow-up");
    const intent = checked(this.form, "intent")[0];
    const risky = intent && (intent.code === "intent-present" || intent.code === "intent-unsure");
    box.hidden = !risky;
    box.textContent = risky ? "Intent to die " + (intent.code === "intent-present" ? "reported" : "not ruled out")
      + ": saving raises a suicide-risk alert for the care team. Ask now about current thoughts of suicide, plans and access "
      + "to means, and review the safety plan." : "";
  }

  observation() {
    const c = this.controls;
    const obs = {
      resourceType: "Observation",
      meta: { profile: [EPISODE_PROFILE] },
      status: "final",
      category: [{ coding: [{ system: CS, code: "nssi", display: "Non-suicidal self-injury" }] }],
      code: { coding: [{ system: CS, code: "nssi-episode", display: "Non-suicidal self-injury episode" }] },
      subject: { reference: "Patient/" + this.fhir.patientId },
      component: [],
    };
    // synthetic patients' data stays recognisable as synthetic
    const test = ((this.patient.meta && this.patient.meta.security) || []).find(s => s.code === "HTEST");
    if (test) obs.meta.security = [{ system: test.system, code: test.code }];
    if (c.when.value) obs.effectiveDateTime = new Date(c.when.value).toISOString();
    checked(this.form, "method").forEach(o => obs.component.push(component("method", concept(o))));
    checked(this.form, "intent").forEach(o => obs.component.push(component("suicidal-intent", concept(o))));
    if (selected(c.care)) obs.component.push(component("care-level", concept(selected(c.care))));
    if (c.urge.value !== "") obs.component.push(component("urge-intensity", { valueInteger: Number(c.urge.value) }));
    checked(this.form, "site").forEach(o => obs.component.push(component("body-site", concept(o))));
    checked(this.form, "trigger").forEach(o => obs.component.push(component("trigger", concept(o))));
    checked(this.form, "function").forEach(o => obs.component.push(component("function", concept(o))));
    if (selected(c.substance)) obs.component.push(component("substance-use", concept(selected(c.substance))));
    if (selected(c.context)) obs.component.push(component("social-context", concept(selected(c.context))));
    if (selected(c.disclosed)) obs.component.push(component("disclosed", { valueBoolean: selected(c.disclosed).value }));
    return obs;
  }

  /** Only what the browser can tell at once (required answers); everything else is the server's to judge. */
  missing() {
    const problems = [];
    if (!this.controls.when.value) problems.push(["when", "Enter when the episode happened."]);
    if (checked(this.form, "method").length === 0) problems.push(["method", "Choose at least one method."]);
    if (checked(this.form, "intent").length === 0) problems.push(["intent", "Answer whether there was any intent to die."]);
    return problems;
  }

  async submit() {
    clearErrors(this.form);
    const general = this.form.querySelector("#episode-errors");
    general.hidden = true;
    general.replaceChildren();
    this.result.textContent = "";
    announceRaised(document.getElementById("episode-raised"), []);
    const problems = this.missing();
    if (problems.length) {
      problems.forEach(([name, message]) => showError(this.form, name, message));
      this.focusFirstError();
      return;
    }
    const button = this.form.querySelector("#episode-submit");
    button.disabled = true;
    try {
      const observation = this.observation();
      await this.fhir.create(observation);
      const when = observation.effectiveDateTime ? new Date(observation.effectiveDateTime).toLocaleString(undefined,
        { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }) : "";
      const methods = checked(this.form, "method").map(o => o.display).join(", ");
      this.result.textContent = "Episode recorded: " + methods + (when ? ", " + when : "") + ".";
      this.form.reset();
      this.intentFollowUp();
      const { newAlerts = [] } = (await this.refresh()) || {};
      const raised = document.getElementById("episode-raised");
      // shown here, where the clinician acted, not only in the list far above
      if (announceRaised(raised, newAlerts)) raised.focus();
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      const errors = error.issues.filter(i => i.severity === "error" || i.severity === "fatal");
      for (const issue of errors.length ? errors : error.issues) {
        const name = fieldForIssue(issue);
        const message = issue.diagnostics || (issue.details && issue.details.text) || issue.code;
        if (!name || !showError(this.form, name, message)) {
          general.append(h("p", { text: message }));
          general.hidden = false;
        }
      }
      if (error.issues.length === 0) {
        general.append(h("p", { text: error.message }));
        general.hidden = false;
      }
      this.result.textContent = "The server did not accept the episode (" + error.status + "). See the messages above.";
      this.focusFirstError();
    } finally {
      button.disabled = false;
    }
  }

  focusFirstError() {
    const invalid = this.form.querySelector("[aria-invalid=true]");
    if (invalid) (invalid.tagName === "FIELDSET" ? invalid.querySelector("input") : invalid).focus();
  }
}
