// Runs a Questionnaire from the server (NSSI assessment or PHQ-9): renders its items, honours enableWhen,
// submits the QuestionnaireResponse, asks the server to $extract the scores, and shows them.
import { ask } from "./confirm-dialog.js";
import { QUESTIONNAIRE } from "./config.js";
import { FhirError, conceptText } from "./fhir.js";
import { expand, plainLabels } from "./terminology.js";
import { h, field, clearErrors, showError } from "./form-kit.js";
import { announceRaised } from "./alerts.js";

// SDC's calculatedExpression, under its published canonical (…/uv/sdc/…) or the older core-style one
const CALCULATED = /\/sdc-questionnaire-calculatedExpression$/;
// answers that call for the clinician to follow up at once: thoughts of ending their life
const FOLLOW_UP = {
  "suicidal-ideation": v => v === true,
  "phq9-item-9": v => score(v) > 0,
};
const FOLLOW_UP_TEXT = "Thoughts of ending their life reported. Follow up now, before the person leaves: ask how often and "
  + "how recently, whether they have a plan or have made preparations, and what means they have access to; review their "
  + "safety plan. Submitting raises a suicide-risk alert for the care team.";
const MIN = "http://hl7.org/fhir/StructureDefinition/minValue";
const ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue";

/** The score of an answer: an integer, or a coding's ordinalValue (the PHQ-9's LOINC answers); else undefined. */
export function score(value) {
  if (typeof value === "number") return value;
  const ordinal = value && typeof value === "object" && (value.extension || []).find(e => e.url === ORDINAL);
  return ordinal ? ordinal.valueDecimal : undefined;
}
const MAX = "http://hl7.org/fhir/StructureDefinition/maxValue";

function ext(item, url) {
  return (item.extension || []).find(e => (url instanceof RegExp ? url.test(e.url) : e.url === url));
}

/**
 * The linkIds a calculated total sums, from its FHIRPath (the forms used here: items whose linkId matches a
 * regular expression, or is one of those listed, summed with sum() or aggregate($this + $total, 0), possibly of
 * their ordinal() values and inside iif(…, sum, {}) for "no total until all are answered"); null for an
 * expression of another shape (then the item is left to the server).
 */
export function summedItems(expression) {
  if (!/(\.sum\(\)|aggregate\(\s*\$this\s*\+\s*\$total\s*,\s*0\s*\))\s*(,\s*\{\s*\}\s*\))?\s*$/.test(expression || "")) return null;
  const regex = /linkId\.matches\('([^']+)'\)/.exec(expression);
  if (regex) return id => new RegExp(regex[1]).test(id);
  const list = /linkId\s+in\s+\(([^)]*)\)/.exec(expression);
  if (list) {
    const ids = [...list[1].matchAll(/'([^']+)'/g)].map(m => m[1]);
    return id => ids.includes(id);
  }
  return null;
}

/** "0 = Not at all, 1 = Several days, …" in a display item: the words for an integer scale's answers. */
export function scaleWords(text) {
  const words = new Map();
  for (const m of (text || "").matchAll(/(\d+)\s*=\s*([^,.;]+)/g)) words.set(Number(m[1]), m[2].trim());
  return words;
}

function optionValue(option) {
  const key = Object.keys(option).find(k => k.startsWith("value"));
  return { key, value: option[key] };
}

function optionLabel({ value, label }) {
  if (label) return label; // the ValueSet's plain-language designation: the words shown, never stored as the display
  if (value && typeof value === "object") return value.display || value.code;
  return String(value);
}

function same(a, b) {
  if (a && typeof a === "object" && b && typeof b === "object") return a.system === b.system && a.code === b.code;
  return a === b;
}

/** Is the enableWhen condition met by the given answers (values of the question, possibly several)? */
export function conditionMet(condition, answers) {
  const key = Object.keys(condition).find(k => k.startsWith("answer"));
  const expected = condition[key];
  if (condition.operator === "exists") return (answers.length > 0) === expected;
  return answers.some(a => {
    switch (condition.operator) {
      case "=": return same(a, expected);
      case "!=": return !same(a, expected);
      case ">": return a > expected;
      case "<": return a < expected;
      case ">=": return a >= expected;
      case "<=": return a <= expected;
      default: return false;
    }
  });
}

export class QuestionnaireRunner {
  constructor(fhir, patient, form, scores, refresh) {
    this.fhir = fhir;
    this.patient = patient;
    this.form = form;
    this.scores = scores;
    this.refresh = refresh;
    this.items = []; // { item, wrapper, read: () => [{key, value}] }
    this.dirty = false; // answers given (by the user, not the pre-filling) and not yet submitted
    for (const button of document.querySelectorAll("[data-questionnaire]")) {
      button.addEventListener("click", async () => {
        if (!(await this.mayLeave(button.textContent))) return;
        this.start(button.dataset.questionnaire).catch(error => {
          this.scores.textContent = "The questionnaire could not be loaded: " + error.message;
        });
      });
    }
    const touched = () => { this.dirty = true; this.applyEnableWhen(); };
    form.addEventListener("input", touched);
    form.addEventListener("change", touched);
    form.addEventListener("submit", event => {
      event.preventDefault();
      this.submit();
    });
  }

  /** Opening another form (or this one again) drops the answers given: asked first (in-page dialog), never silently. */
  async mayLeave(next) {
    if (!this.dirty || this.form.hidden) return true;
    const current = (this.questionnaire && (this.questionnaire.title || this.questionnaire.name)) || "this questionnaire";
    return ask({ title: "Discard the answers?", text: "The answers to " + current + " are not submitted yet. Discard them and open " + next + "?",
      confirm: "Discard and open " + next, cancel: "Keep my answers" });
  }

  async start(name) {
    const found = await this.fhir.search("Questionnaire?url=" + encodeURIComponent(QUESTIONNAIRE + name), 1);
    if (found.length === 0) throw new Error("Questionnaire " + name + " is not on this server");
    this.questionnaire = found.sort((a, b) => String(b.version || "").localeCompare(String(a.version || "")))[0];
    this.items = [];
    this.calculated = [];
    this.scores.replaceChildren();
    announceRaised(document.getElementById("assessment-raised"), []);
    this.scale = new Map();
    const collect = items => (items || []).forEach(i => {
      if (i.type === "display") scaleWords(i.text).forEach((v, k) => this.scale.set(k, v));
      collect(i.item);
    });
    collect(this.questionnaire.item);
    const body = await this.renderItems(this.questionnaire.item || []);
    this.form.replaceChildren(
      h("h3", { id: "questionnaire-title", text: this.questionnaire.title || this.questionnaire.name }),
      ...body,
      h("div", { className: "form-errors", id: "questionnaire-errors", role: "alert", hidden: true }),
      h("button", { type: "submit", id: "questionnaire-submit", text: "Submit and score" }));
    this.form.hidden = false;
    this.form.dataset.questionnaire = name;
    this.dirty = false;
    // questions not enabled yet stay hidden while $populate is asked (it is a network round trip)
    this.applyEnableWhen();
    const prefilled = await this.prefill();
    if (prefilled) {
      this.form.querySelector("#questionnaire-title").after(h("p", { className: "prefill-note", id: "prefill-note",
        text: prefilled + " answer(s) pre-filled from the record. Check each one with the person; they can be changed." }));
    }
    this.applyEnableWhen();
    this.form.querySelector("#questionnaire-title").setAttribute("tabindex", "-1");
    this.form.querySelector("#questionnaire-title").focus();
  }

  /**
   * SDC $populate: the server's draft answers from what it holds about the person (never the suicide questions).
   * Returns how many items were filled; a refusal or failure leaves the form blank (it is only a help).
   */
  async prefill() {
    let parameters;
    try {
      parameters = await this.fhir.request("Questionnaire/$populate", { method: "POST", body: { resourceType: "Parameters", parameter: [
        { name: "canonical", valueUri: this.questionnaire.url },
        { name: "subject", valueReference: { reference: "Patient/" + this.fhir.patientId } }] } });
    } catch (error) {
      return 0;
    }
    const response = ((parameters && parameters.parameter) || []).find(p => p.name === "response");
    let filled = 0;
    const walk = items => (items || []).forEach(item => {
      const entry = this.items.find(e => e.item.linkId === item.linkId);
      const values = (item.answer || []).map(a => a[Object.keys(a).find(k => k.startsWith("value"))]).filter(v => v !== undefined);
      if (entry && entry.write && values.length && entry.write(values)) filled++;
      walk(item.item);
      (item.answer || []).forEach(a => walk(a.item));
    });
    walk(response && response.resource && response.resource.item);
    return filled;
  }

  async renderItems(items) {
    const out = [];
    for (const item of items) {
      const node = await this.renderItem(item);
      if (node) out.push(node);
    }
    return out;
  }

  async renderItem(item) {
    const calculated = ext(item, CALCULATED);
    if (calculated) {
      const sums = summedItems(calculated.valueExpression && calculated.valueExpression.expression);
      if (!sums) return null; // a calculation this app cannot do: the server computes it on $extract
      // read-only and computed from the items, never typed; blank while any of them is unanswered
      const output = h("output", { id: "q-" + item.linkId, className: "computed", "data-link-id": item.linkId, "aria-live": "polite" });
      const wrapper = h("div", { className: "field", "data-field": item.linkId },
        h("label", { for: output.id, text: (item.text || item.linkId) + " (calculated)" }), output,
        h("p", { className: "hint", text: "Calculated from the answers above; shown once every item is answered." }));
      this.calculated.push({ item, output, sums });
      this.items.push({ item, wrapper, read: () => (output.value === "" ? [] : [{ key: "valueInteger", value: Number(output.value) }]) });
      return wrapper;
    }
    const label = (item.prefix ? item.prefix + " " : "") + (item.text || item.linkId) + (item.required ? " (required)" : "");
    let wrapper;
    let read = () => [];
    let write = null;
    if (item.type === "group") {
      wrapper = h("fieldset", { className: "q-group", "data-link-id": item.linkId }, h("legend", { text: item.text || "" }),
        ...(await this.renderItems(item.item || [])));
    } else if (item.type === "display") {
      wrapper = h("p", { className: "q-display", "data-link-id": item.linkId, text: item.text || "" });
    } else if (item.answerOption || item.answerValueSet) {
      const plain = item.answerValueSet ? await plainLabels(this.fhir, item.answerValueSet) : new Map();
      const options = item.answerOption
        ? item.answerOption.map(optionValue)
        : (await expand(this.fhir, item.answerValueSet)).map(c => ({ key: "valueCoding", value: { system: c.system, code: c.code, display: c.display },
          label: plain.get(c.system + "|" + c.code) }));
      const set = h("fieldset", { className: "choices", id: "q-" + item.linkId });
      set.append(h("legend", { text: label }));
      options.forEach((o, i) => {
        const id = "q-" + item.linkId + "-" + i;
        const input = h("input", { type: item.repeats ? "checkbox" : "radio", name: item.linkId, id, value: i });
        input.option = o;
        const words = o.key === "valueInteger" ? this.scale.get(o.value) : null;
        const ordinal = o.key === "valueCoding" ? score(o.value) : undefined; // a scored answer shows its score
        const text = words ? o.value + " · " + words : ordinal !== undefined ? ordinal + " · " + optionLabel(o) : optionLabel(o);
        set.append(h("div", { className: "choice" }, input, h("label", { for: id, text })));
      });
      read = () => [...set.querySelectorAll("input:checked")].map(i => i.option);
      write = values => {
        let any = false;
        set.querySelectorAll("input").forEach(i => { i.checked = values.some(v => same(v, i.option.value) || (v && i.option.value && v.code === i.option.value.code && v.system === i.option.value.system)); any = any || i.checked; });
        return any;
      };
      wrapper = field(item.linkId, "", set);
    } else if (item.type === "boolean") {
      const set = h("fieldset", { className: "choices inline", id: "q-" + item.linkId });
      set.append(h("legend", { text: label }));
      [["Yes", true], ["No", false]].forEach(([text, v]) => {
        const input = h("input", { type: "radio", name: item.linkId, id: "q-" + item.linkId + "-" + v, value: String(v) });
        set.append(h("div", { className: "choice" }, input, h("label", { for: input.id, text })));
      });
      read = () => [...set.querySelectorAll("input:checked")].map(i => ({ key: "valueBoolean", value: i.value === "true" }));
      write = values => {
        set.querySelectorAll("input").forEach(i => { i.checked = i.value === String(values[0]); });
        return typeof values[0] === "boolean";
      };
      wrapper = field(item.linkId, "", set);
    } else {
      const types = { integer: "number", decimal: "number", date: "date", dateTime: "datetime-local", string: "text", text: "textarea" };
      const min = ext(item, MIN);
      const max = ext(item, MAX);
      const input = item.type === "text"
        ? h("textarea", { id: "q-" + item.linkId, name: item.linkId, rows: 3 })
        : h("input", { id: "q-" + item.linkId, name: item.linkId, type: types[item.type] || "text",
          min: min && (min.valueInteger ?? min.valueDecimal), max: max && (max.valueInteger ?? max.valueDecimal) });
      read = () => {
        if (input.value === "") return [];
        switch (item.type) {
          case "integer": return [{ key: "valueInteger", value: Number(input.value) }];
          case "decimal": return [{ key: "valueDecimal", value: Number(input.value) }];
          case "date": return [{ key: "valueDate", value: input.value }];
          case "dateTime": return [{ key: "valueDateTime", value: new Date(input.value).toISOString() }];
          default: return [{ key: "valueString", value: input.value }];
        }
      };
      write = values => {
        const v = values[0];
        if (v === null || typeof v === "object") return false;
        if (item.type === "dateTime") {
          const d = new Date(v);
          input.value = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().substring(0, 16);
        } else {
          input.value = String(v);
        }
        return true;
      };
      wrapper = field(item.linkId, label, input);
    }
    this.items.push({ item, wrapper, read, write });
    return wrapper;
  }

  answers(linkId) {
    const entry = this.items.find(e => e.item.linkId === linkId);
    return entry && this.enabled(entry) ? entry.read().map(a => a.value) : [];
  }

  enabled(entry) {
    return !entry.wrapper.hidden && !entry.wrapper.closest("[hidden]");
  }

  /** Recomputes the calculated totals: the sum when every summed item is answered, else blank. */
  calculate() {
    for (const { item, output, sums } of this.calculated || []) {
      const parts = this.items.filter(e => e.item !== item && sums(e.item.linkId) && this.enabled(e));
      const values = parts.map(e => score(e.read().map(a => a.value)[0]));
      output.value = parts.length && values.every(v => typeof v === "number") ? String(values.reduce((a, b) => a + b, 0)) : "";
    }
  }

  /** A prompt right under an answer that needs following up at once (thoughts of ending their life). */
  followUps() {
    for (const entry of this.items) {
      const rule = FOLLOW_UP[entry.item.linkId];
      if (!rule) continue;
      let box = entry.wrapper.querySelector(".follow-up");
      const on = this.enabled(entry) && entry.read().some(a => rule(a.value));
      if (on && !box) {
        box = h("div", { className: "follow-up", role: "alert", id: "follow-up-" + entry.item.linkId, text: FOLLOW_UP_TEXT });
        entry.wrapper.append(box);
      } else if (!on && box) {
        box.remove();
      }
    }
  }

  /** Shows or hides each item by its enableWhen (any/all), until nothing changes (conditions can chain). */
  applyEnableWhen() {
    this.applyConditions();
    this.calculate();
    this.followUps();
  }

  applyConditions() {
    for (let pass = 0; pass < 5; pass++) {
      let changed = false;
      for (const entry of this.items) {
        const conditions = entry.item.enableWhen;
        if (!conditions) continue;
        const results = conditions.map(c => conditionMet(c, this.answers(c.question)));
        const on = entry.item.enableBehavior === "any" ? results.some(Boolean) : results.every(Boolean);
        if (entry.wrapper.hidden === on) {
          entry.wrapper.hidden = !on;
          changed = true;
        }
      }
      if (!changed) return;
    }
  }

  responseItems(items) {
    const out = [];
    for (const item of items || []) {
      const entry = this.items.find(e => e.item.linkId === item.linkId);
      if (!entry || !this.enabled(entry)) continue;
      if (item.type === "group") {
        const children = this.responseItems(item.item);
        if (children.length) out.push({ linkId: item.linkId, text: item.text, item: children });
      } else if (item.type !== "display") {
        const answers = entry.read();
        if (answers.length) out.push({ linkId: item.linkId, text: item.text, answer: answers.map(a => ({ [a.key]: a.value })) });
      }
    }
    return out;
  }

  missing() {
    return this.items.filter(e => e.item.required && e.item.type !== "group" && e.item.type !== "display" && this.enabled(e) && e.read().length === 0);
  }

  async submit() {
    clearErrors(this.form);
    const general = this.form.querySelector("#questionnaire-errors");
    general.hidden = true;
    general.replaceChildren();
    const missing = this.missing();
    if (missing.length) {
      missing.forEach(e => showError(this.form, e.item.linkId, "Please answer this question."));
      const first = this.form.querySelector("[aria-invalid=true]");
      (first.tagName === "FIELDSET" ? first.querySelector("input") : first).focus();
      return;
    }
    const response = {
      resourceType: "QuestionnaireResponse",
      questionnaire: this.questionnaire.url,
      status: "completed",
      subject: { reference: "Patient/" + this.fhir.patientId },
      // the person gives the answers, the clinician records them (source: must-support in the response profiles)
      source: { reference: "Patient/" + this.fhir.patientId },
      authored: new Date().toISOString(),
      item: this.responseItems(this.questionnaire.item),
    };
    // this app is the clinician's, filling in with the person: say so unless the clinician answered it, or the
    // server reads the person (the source) as the respondent and refuses the clinician sections
    const respondent = (this.questionnaire.item || []).find(i => i.linkId === "respondent");
    const clinician = respondent && (respondent.answerOption || []).map(o => o.valueCoding).find(c => c && c.code === "respondent-clinician");
    if (clinician && !response.item.some(i => i.linkId === "respondent")) {
      response.item.unshift({ linkId: "respondent", text: respondent.text, answer: [{ valueCoding: clinician }] });
    }
    const test = ((this.patient.meta && this.patient.meta.security) || []).find(s => s.code === "HTEST");
    if (test) response.meta = { security: [{ system: test.system, code: test.code }] };
    const button = this.form.querySelector("#questionnaire-submit");
    button.disabled = true;
    this.scores.textContent = "Submitting…";
    try {
      const saved = await this.fhir.create(response);
      const extracted = await this.fhir.request("QuestionnaireResponse/" + saved.id + "/$extract",
        { method: "POST", body: { resourceType: "Parameters" } });
      await this.showScores(saved, extracted);
      this.form.hidden = true;
      this.dirty = false;
      const { newAlerts = [] } = (await this.refresh()) || {};
      const raised = document.getElementById("assessment-raised");
      if (announceRaised(raised, newAlerts)) raised.focus();
    } catch (error) {
      this.scores.textContent = "";
      const issues = error instanceof FhirError ? error.issues : [];
      for (const issue of issues) {
        const linkId = this.items.map(e => e.item.linkId).find(id => [...(issue.expression || []), issue.diagnostics || ""].join(" ").includes(id));
        const message = issue.diagnostics || issue.code;
        if (!linkId || !showError(this.form, linkId, message)) general.append(h("p", { text: message }));
      }
      if (issues.length === 0) general.append(h("p", { text: error.message }));
      general.hidden = general.childElementCount === 0;
    } finally {
      button.disabled = false;
    }
  }

  async showScores(saved, bundle) {
    const locations = ((bundle && bundle.entry) || []).map(e => e.response && e.response.location).filter(l => l && l.startsWith("Observation/"));
    const observations = await Promise.all(locations.map(l => this.fhir.request(l.split("/_history")[0])));
    const list = h("dl", { className: "score-list", id: "score-list" });
    for (const obs of observations) {
      const band = (obs.component || []).find(c => (c.code.coding || []).some(k => k.code === "phq9-severity"));
      list.append(h("div", { className: "score" },
        h("dt", { text: conceptText(obs.code) }),
        h("dd", { text: display(obs) + (band ? " (" + conceptText(band.valueCodeableConcept) + ")" : ""), "data-code": (obs.code.coding || [])[0]?.code || "" })));
    }
    this.scores.replaceChildren(
      h("p", { text: (this.questionnaire.title || "Questionnaire") + " saved; " + observations.length + " result(s) scored." }), list);
  }
}

function display(obs) {
  if (obs.valueInteger !== undefined) return String(obs.valueInteger);
  // UCUM annotations such as {score} are not units to show
  if (obs.valueQuantity) return obs.valueQuantity.value + (obs.valueQuantity.unit && !/^\{.*\}$/.test(obs.valueQuantity.unit) ? " " + obs.valueQuantity.unit : "");
  if (obs.valueBoolean !== undefined) return obs.valueBoolean ? "yes" : "no";
  if (obs.valueCodeableConcept) return conceptText(obs.valueCodeableConcept);
  if (obs.valueString) return obs.valueString;
  return "";
}
