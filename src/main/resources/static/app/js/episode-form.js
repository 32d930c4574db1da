// Record an episode: a form following the nssi-episode profile (slices and their ValueSets, expanded by the
// server). The server validates against the profile; each OperationOutcome issue is shown next to its field.
import { CS, EPISODE_PROFILE } from "./config.js";
import { FhirError } from "./fhir.js";
import { expand } from "./terminology.js";
import { announceRaised } from "./alerts.js";
import { episodeWhen } from "./timeline.js";
import { formatDateTime } from "/shared/js/dates.js";
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

/** A date as the value of a datetime-local input, in the browser's own time zone (to the minute). */
export function localInputValue(date) {
  const d = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return d.toISOString().substring(0, 16);
}

function codingOf(component) {
  return component && component.valueCodeableConcept && (component.valueCodeableConcept.coding || [])[0];
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
    const note = h("textarea", { name: "note", id: "episode-note", rows: 3 });
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
      note,
    };
    this.controls.care.id = "episode-care";
    this.controls.method.id = "episode-method";
    this.controls.intent.id = "episode-intent";
    const c = this.controls;
    this.form.replaceChildren(
      h("div", { id: "episode-editing", className: "editing-note", hidden: true },
        h("p", { id: "episode-editing-text" }),
        h("button", { type: "button", id: "episode-cancel-edit", className: "secondary", text: "Cancel editing" })),
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
      field("note", "Note (free text: what happened, what helped)", note),
      h("div", { className: "form-errors", id: "episode-errors", role: "alert", hidden: true }),
      h("button", { type: "submit", id: "episode-submit", text: "Record episode" }));
    this.form.addEventListener("change", () => this.intentFollowUp());
    this.form.querySelector("#episode-cancel-edit").addEventListener("click", () => this.newEpisode(true));
    // "Edit" on an episode of the table (timeline.js)
    // "Correct a recorded episode": one list above the form (not a button per episode in the timeline's tab order)
    const pick = document.getElementById("episode-pick");
    document.getElementById("episode-pick-open").addEventListener("click", () => {
      if (pick.value) this.edit(pick.value);
      else pick.focus();
    });
    this.newEpisode(false);
    this.form.addEventListener("submit", event => {
      event.preventDefault();
      this.submit();
    });
  }

  /** The recorded episodes offered for correction, newest first. */
  setEpisodes(episodes) {
    const pick = document.getElementById("episode-pick");
    if (!pick) return;
    const current = pick.value;
    pick.replaceChildren(new Option("Choose an episode…", ""), ...[...episodes].sort((a, b) => b.date - a.date).slice(0, 50)
      .map(e => new Option(episodeWhen(e) + " · " + e.methods.map(m => m.label).join(", "), e.id)));
    pick.value = current;
  }

  /** An empty form for a new episode, its date today, now (the usual case: recorded the day it is told). */
  newEpisode(focus) {
    this.editing = null;
    this.form.reset();
    clearErrors(this.form);
    this.controls.when.value = localInputValue(new Date());
    this.form.querySelector("#episode-editing").hidden = true;
    this.form.querySelector("#episode-submit").textContent = "Record episode";
    this.intentFollowUp();
    if (focus) this.controls.when.focus();
  }

  /** Loads a recorded episode into the form; saving then updates it (PUT with If-Match on the version read). */
  async edit(id) {
    this.result.textContent = "";
    let obs;
    try {
      obs = await this.fhir.request("Observation/" + encodeURIComponent(id));
    } catch (error) {
      this.result.textContent = "The episode could not be opened: " + error.message;
      return;
    }
    this.newEpisode(false);
    this.editing = obs;
    const c = this.controls;
    const when = obs.effectiveDateTime || (obs.effectivePeriod && obs.effectivePeriod.start);
    c.when.value = when ? localInputValue(new Date(when)) : "";
    const comps = code => (obs.component || []).filter(x => ((x.code && x.code.coding) || []).some(k => k.system === CS && k.code === code));
    const sameCoding = (option, coding) => coding && option.code === coding.code && (!coding.system || option.system === coding.system);
    const tick = (name, code) => {
      const codings = comps(code).map(codingOf);
      this.form.querySelectorAll(`input[name="${name}"]`).forEach(input => {
        input.checked = codings.some(k => sameCoding(input.option, k));
      });
    };
    const choose = (selectEl, code) => {
      const coding = codingOf(comps(code)[0]);
      const opt = [...selectEl.options].find(o => o.option && sameCoding(o.option, coding));
      selectEl.value = opt ? opt.value : "";
    };
    tick("method", "method");
    tick("intent", "suicidal-intent");
    tick("site", "body-site");
    tick("trigger", "trigger");
    tick("function", "function");
    choose(c.care, "care-level");
    choose(c.substance, "substance-use");
    choose(c.context, "social-context");
    const urge = comps("urge-intensity")[0];
    c.urge.value = urge && urge.valueInteger !== undefined ? String(urge.valueInteger) : "";
    const disclosed = comps("disclosed")[0];
    const yesNo = [...c.disclosed.options].find(o => o.option && disclosed && o.option.value === disclosed.valueBoolean);
    c.disclosed.value = yesNo ? yesNo.value : "";
    c.note.value = (obs.note || []).map(n => n.text).filter(Boolean).join("\n");
    if (comps("body-site").length || comps("trigger").length || comps("function").length) this.form.querySelector("details").open = true;
    this.form.querySelector("#episode-editing-text").textContent = "Editing the episode of "
      + (when ? formatDateTime(when) : "an unknown date")
      + ". Saving replaces it; a colleague's change made meanwhile is never overwritten.";
    this.form.querySelector("#episode-editing").hidden = false;
    this.form.querySelector("#episode-submit").textContent = "Save changes";
    this.intentFollowUp();
    this.form.scrollIntoView({ block: "start" });
    c.when.focus();
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
    if (this.editing) {
      // the episode as read (id, version for If-Match, labels, anything this form does not show), its answers replaced
      const obs = JSON.parse(JSON.stringify(this.editing));
      const fresh = this.newObservation();
      obs.component = fresh.component;
      delete obs.effectivePeriod;
      obs.effectiveDateTime = fresh.effectiveDateTime;
      if (fresh.note) obs.note = fresh.note;
      else delete obs.note;
      return obs;
    }
    return this.newObservation();
  }

  newObservation() {
    const c = this.controls;
    const obs = {
      resourceType: "Observation",
      meta: { profile: [EPISODE_PROFILE] },
      status: "final",
      category: [{ coding: [{ system: CS, code: "nssi", display: "Non-suicidal self-injury" }] }],
      code: { coding: [{ system: CS, code: "nssi-episode", display: "Self-harm episode (legacy code)" }] },
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
    if (c.note.value.trim()) obs.note = [{ text: c.note.value.trim(), time: new Date().toISOString() }];
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
      const editing = Boolean(this.editing);
      if (editing) await this.fhir.update(observation);
      else await this.fhir.create(observation);
      const when = formatDateTime(observation.effectiveDateTime);
      const methods = checked(this.form, "method").map(o => o.display).join(", ");
      this.result.textContent = (editing ? "Episode updated: " : "Episode recorded: ") + methods + (when ? ", " + when : "") + ".";
      this.newEpisode(false);
      const { newAlerts = [] } = (await this.refresh()) || {};
      const raised = document.getElementById("episode-raised");
      // shown here, where the clinician acted, not only in the list far above; else focus stays in this section,
      // on what saving did (not lost to the top of the page when the form is redrawn)
      if (announceRaised(raised, newAlerts)) raised.focus();
      else this.result.focus();
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      if (error.status === 412 && this.editing) {
        // a colleague changed the episode since it was opened: theirs is shown, nothing of it overwritten
        await this.edit(this.editing.id);
        this.result.textContent = "A colleague changed this episode after you opened it. It has been reloaded with "
          + "their changes; make yours again and save.";
        this.result.focus();
        return;
      }
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
