// The daily diary card (profile nssi-diary-card): urges to self-harm and to die (0-10), whether the person hurt
// themselves (then how, from nssi-method-vs, and the intent question, asked gently: that makes an nssi-episode
// Observation), emotions, skills (nssi-dbt-skill-vs) and a note. Saved through the offline queue as one transaction.
import { t } from "./i18n.js";
import { CS, VS, APP_IDENTIFIER, HTEST, FhirError, h, uuid, plainError, sayError } from "./fhir.js";
import { transaction } from "./queue.js";
import { showCrisisNear, hideCrisisNear } from "./crisis.js";
import { formatDate } from "/shared/js/dates.js";

export const URGE_TO_DIE_HIGH = 5; // the server's EscalationSignals.DIARY_URGE_TO_DIE_HIGH
const DIARY_PROFILE = "https://nssi-fhir.org/fhir/StructureDefinition/nssi-diary-card";
const EPISODE_PROFILE = "https://nssi-fhir.org/fhir/StructureDefinition/nssi-episode";
const INTENTS = [["intent-none", "intentNone"], ["intent-present", "intentPresent"], ["intent-unsure", "intentUnsure"]];

/**
 * The plain-language labels of a ValueSet's concepts (designations with use plain-label, in the page's language, else
 * English): words for the person, never the clinical display (a UK-edition SNOMED CT term such as "Cutting self").
 * Read from the ValueSet itself: HAPI's $expand does not return these designations.
 */
async function plainLabels(fhir, name) {
  const labels = new Map();
  try {
    const bundle = await fhir.request("ValueSet?url=" + encodeURIComponent(VS + name));
    const vs = ((bundle.entry || [])[0] || {}).resource;
    const lang = (document.documentElement.lang || "en").slice(0, 2);
    for (const include of ((vs && vs.compose && vs.compose.include) || [])) {
      for (const concept of include.concept || []) {
        const plain = (concept.designation || []).filter(d => d.use && d.use.system === CS && d.use.code === "plain-label");
        const label = plain.find(d => (d.language || "en").slice(0, 2) === lang) || plain.find(d => (d.language || "en").startsWith("en"));
        if (label) labels.set(include.system + "|" + concept.code, label.value);
      }
    }
  } catch (error) {
    if (!(error instanceof FhirError)) throw error; // offline: the caller keeps the copy on the phone
  }
  return labels;
}

/**
 * A ValueSet's codes, from the server ($expand), each with the label the person sees (its plain-language label
 * when the ValueSet has one), kept on the phone for when it is offline.
 */
export async function expand(fhir, name) {
  const key = "nssi-patient-vs:" + name;
  try {
    const vs = await fhir.request("ValueSet/$expand?url=" + encodeURIComponent(VS + name));
    const labels = await plainLabels(fhir, name);
    const codes = ((vs.expansion && vs.expansion.contains) || []).map(c => ({
      system: c.system, code: c.code, display: c.display || c.code, label: labels.get(c.system + "|" + c.code) || c.display || c.code }));
    localStorage.setItem(key, JSON.stringify(codes));
    return codes;
  } catch {
    return JSON.parse(localStorage.getItem(key) || "[]");
  }
}

const SKILLS_GROUP = "dbt-skills-group"; // the DBT skills training group the modules are part of (nssi-concepts-cs)

/**
 * The skills grouped by their DBT module, as the terminology says (each skill's part-of property in nssi-concepts-cs
 * names its module): the modules are headings, never choices (a module is not a skill the person used). Kept on the
 * phone for offline use. A skill whose module is unknown (a server holding an older copy of the CodeSystem) is
 * listed after the groups, still a choice; a module code (part of the skills training group) is never one.
 */
export async function skillGroups(fhir, codes) {
  const key = "nssi-patient-skill-modules";
  let partOf;
  try {
    const bundle = await fhir.request("CodeSystem?url=" + encodeURIComponent(CS) + "&_elements=concept");
    partOf = {};
    const walk = concepts => (concepts || []).forEach(c => {
      const p = (c.property || []).find(x => x.code === "part-of");
      if (p && p.valueCode) partOf[c.code] = p.valueCode;
      walk(c.concept);
    });
    walk((((bundle.entry || [])[0] || {}).resource || {}).concept);
    localStorage.setItem(key, JSON.stringify(partOf));
  } catch {
    partOf = JSON.parse(localStorage.getItem(key) || "{}");
  }
  const ours = codes.filter(c => (c.system || CS) === CS);
  // a module: part of the skills training group, or the whole a skill is part of
  const modules = ours.filter(c => partOf[c.code] === SKILLS_GROUP || ours.some(s => partOf[s.code] === c.code));
  const skills = codes.filter(c => !modules.includes(c));
  const groups = modules.map(m => ({ module: m, skills: skills.filter(s => partOf[s.code] === m.code) })).filter(g => g.skills.length);
  const other = skills.filter(s => !modules.some(m => partOf[s.code] === m.code));
  return { groups, other };
}

function skillChoices({ groups, other }) {
  let i = 0;
  const choice = c => {
    const id = "skill-" + i++;
    return h("span", { className: "choice" },
      h("input", { type: "checkbox", name: "skill", id, value: c.code, dataset: { system: c.system || CS, display: c.display } }),
      h("label", { for: id, text: c.label || c.display }));
  };
  return h("fieldset", { className: "choices skills", id: "skill-field" },
    h("legend", { text: t("skillsLegend") }),
    groups.map((g, n) => h("fieldset", { className: "skill-module", id: "skill-module-" + n },
      h("legend", { className: "skill-module-name", text: g.module.label || g.module.display }), g.skills.map(choice))),
    other.length ? h("fieldset", { className: "skill-module", id: "skill-module-other" },
      h("legend", { className: "skill-module-name", text: t(groups.length ? "skillsOther" : "skillsAll") }), other.map(choice)) : null);
}

function scale(name, legendKey) {
  const options = [];
  for (let i = 0; i <= 10; i++) {
    const id = name + "-" + i;
    options.push(h("span", { className: "scale-option" },
      h("input", { type: "radio", name, id, value: String(i), required: true }), h("label", { for: id, text: String(i) })));
  }
  return h("fieldset", { className: "scale", id: name + "-field", "aria-describedby": name + "-hint " + name + "-error" },
    h("legend", { text: t(legendKey) }), h("p", { className: "hint", id: name + "-hint", text: t("scaleHint") }),
    h("div", { className: "scale-options" }, options), h("p", { className: "field-error", id: name + "-error", hidden: true }));
}

function choices(name, legendKey, codes, type = "checkbox", hintKey) {
  return h("fieldset", { className: "choices", id: name + "-field", "aria-describedby": (hintKey ? name + "-hint " : "") + name + "-error" },
    h("legend", { text: t(legendKey) }), hintKey ? h("p", { className: "hint", id: name + "-hint", text: t(hintKey) }) : null,
    codes.map((c, i) => h("span", { className: "choice" },
      h("input", { type, name, id: name + "-" + i, value: c.code, dataset: { system: c.system || CS, display: c.display } }),
      h("label", { for: name + "-" + i, text: c.label || c.display }))),
    h("p", { className: "field-error", id: name + "-error", hidden: true }));
}

function checked(form, name) {
  return [...form.querySelectorAll("input[name='" + name + "']:checked")];
}

function coding(input) {
  return { system: input.dataset.system, code: input.value, display: input.dataset.display };
}

function component(code, value) {
  return { code: { coding: [{ system: CS, code }] }, ...value };
}

function today(offsetDays = 0) {
  const d = new Date(Date.now() - offsetDays * 864e5);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().substring(0, 10);
}

export class DiaryCard {
  constructor(fhir, queue, form, result, contacts, testData, onSaved) {
    this.fhir = fhir;
    this.queue = queue;
    this.form = form;
    this.result = result;
    this.contacts = contacts;
    this.testData = testData;
    this.onSaved = onSaved;
  }

  async render() {
    const [methods, emotions, skills] = await Promise.all([
      expand(this.fhir, "nssi-method-vs"), expand(this.fhir, "nssi-emotion-vs"),
      expand(this.fhir, "nssi-dbt-skill-vs").then(codes => skillGroups(this.fhir, codes))]);
    const day = h("p", {}, h("label", { for: "diary-day", text: t("diaryDay") }),
      h("input", { type: "date", id: "diary-day", value: today(), max: today(), required: true }));
    // a card already sent for the day is said, not silently doubled (review s7): saving again adds a second entry
    this.already = h("p", { id: "diary-already", className: "hint", role: "status", hidden: true });
    const urgeDie = scale("urge-die", "urgeDieLegend");
    this.urgeDieNote = h("div", { id: "urge-die-note" });
    const harm = choices("self-harm", "selfHarmLegend", [{ code: "no", display: t("no") }, { code: "yes", display: t("yes") }], "radio");
    this.details = h("div", { id: "self-harm-details", hidden: true },
      choices("method", "methodLegend", methods),
      choices("intent", "intentLegend", INTENTS.map(([code, key]) => ({ code, display: t(key) })), "radio", "intentHint"),
      h("div", { id: "intent-note" }));
    this.form.replaceChildren(
      day, this.already, scale("urge-harm", "urgeHarmLegend"), urgeDie, this.urgeDieNote, harm, this.details,
      choices("emotion", "emotionsLegend", emotions), skillChoices(skills),
      h("p", {}, h("label", { for: "diary-note", text: t("noteLabel") }), h("textarea", { id: "diary-note", rows: "3", maxlength: "2000" })),
      h("button", { type: "submit", id: "diary-submit", className: "big", text: t("saveDiary") }));
    this.form.addEventListener("change", event => this.changed(event));
    this.checkDay(today());
    this.form.addEventListener("submit", event => { event.preventDefault(); this.save(); });
  }

  /** Says whether a card for this day is already on record (offline or on error: says nothing). */
  async checkDay(day) {
    this.already.hidden = true;
    try {
      const cards = await this.fhir.search("Observation?patient=" + this.fhir.patientId + "&code="
        + encodeURIComponent(CS + "|diary-card") + "&date=" + day + "&_count=5", 1);
      if (cards.length && this.form.querySelector("#diary-day").value === day) {
        this.already.textContent = t("diaryAlready", { day: formatDate(day) });
        this.already.hidden = false;
      }
    } catch {
      // offline or refused: the card can still be filled in and sent later
    }
  }

  changed(event) {
    if (event.target.id === "diary-day") this.checkDay(event.target.value);
    const name = event.target.name;
    if (name === "urge-die") {
      // at once, before anything is saved: who to call
      if (Number(event.target.value) >= URGE_TO_DIE_HIGH) showCrisisNear(this.urgeDieNote, this.contacts, "urgeDieHighNote");
      else hideCrisisNear(this.urgeDieNote);
    }
    if (name === "self-harm") this.details.hidden = event.target.value !== "yes";
    if (name === "intent") {
      const note = this.form.querySelector("#intent-note");
      if (event.target.value !== "intent-none") showCrisisNear(note, this.contacts, "intentSupportNote");
      else hideCrisisNear(note);
    }
    const error = this.form.querySelector("#" + name + "-error");
    if (error) error.hidden = true;
  }

  /** The unanswered required questions, marked next to them; the first is focused. */
  validate() {
    const missing = [];
    const need = (name, key = "required") => {
      if (checked(this.form, name).length === 0) missing.push([name, key]);
    };
    need("urge-harm");
    need("urge-die");
    need("self-harm");
    if (checked(this.form, "self-harm")[0]?.value === "yes") {
      need("method", "chooseMethod");
      need("intent");
    }
    this.form.querySelectorAll(".field-error").forEach(e => { e.hidden = true; });
    for (const [name, key] of missing) {
      const error = this.form.querySelector("#" + name + "-error");
      error.textContent = t(key);
      error.hidden = false;
    }
    if (missing.length) this.form.querySelector("#" + missing[0][0] + "-field input").focus();
    return missing.length === 0;
  }

  build() {
    const patient = "Patient/" + this.fhir.patientId;
    const effective = this.form.querySelector("#diary-day").value || today();
    // an episode today is dated now (a bare date of today cannot be shown not to lie in the future: nssi-ep-3)
    const episodeTime = effective === today() ? new Date(Date.now() - 60000).toISOString() : effective;
    const security = this.testData ? [HTEST] : undefined;
    const cardId = uuid();
    const entries = [];
    const card = {
      resourceType: "Observation",
      meta: { profile: [DIARY_PROFILE], security },
      identifier: [{ system: APP_IDENTIFIER, value: cardId }],
      status: "final",
      category: [{ coding: [{ system: CS, code: "nssi", display: "Non-suicidal self-injury" }] }],
      code: { coding: [{ system: CS, code: "diary-card", display: "Diary card entry" }] },
      subject: { reference: patient },
      effectiveDateTime: effective,
      component: [],
    };
    const skills = checked(this.form, "skill");
    card.component.push(component("urge-intensity", { valueInteger: Number(checked(this.form, "urge-harm")[0].value) }));
    card.component.push(component("urge-to-die", { valueInteger: Number(checked(this.form, "urge-die")[0].value) }));
    const harmed = checked(this.form, "self-harm")[0].value === "yes";
    card.component.push(component("self-harm-today", { valueBoolean: harmed }));
    checked(this.form, "emotion").forEach(i => card.component.push(component("emotion", { valueCodeableConcept: { coding: [coding(i)] } })));
    card.component.push(component("skills-used", { valueInteger: skills.length }));
    skills.forEach(i => card.component.push(component("skill-practised", { valueCodeableConcept: { coding: [coding(i)] } })));
    const note = this.form.querySelector("#diary-note").value.trim();
    if (note) card.note = [{ text: note }];
    if (harmed) {
      const episodeId = uuid();
      const intent = checked(this.form, "intent")[0].value;
      entries.push({
        fullUrl: "urn:uuid:" + episodeId,
        identifier: { system: APP_IDENTIFIER, value: episodeId },
        resource: {
          resourceType: "Observation",
          meta: { profile: [EPISODE_PROFILE], security },
          identifier: [{ system: APP_IDENTIFIER, value: episodeId }],
          status: "final",
          category: [{ coding: [{ system: CS, code: "nssi", display: "Non-suicidal self-injury" }] }],
          code: { coding: [{ system: CS, code: "nssi-episode", display: "Self-harm episode (legacy code)" }] },
          subject: { reference: patient },
          performer: [{ reference: patient }], // self-reported: the person recorded it (nssi-episode must-support)
          effectiveDateTime: episodeTime,
          component: [
            ...checked(this.form, "method").map(i => component("method", { valueCodeableConcept: { coding: [coding(i)] } })),
            component("suicidal-intent", { valueCodeableConcept: { coding: [{ system: CS, code: intent }] } }),
          ],
        },
      });
      card.hasMember = [{ reference: "urn:uuid:" + episodeId }];
    }
    entries.push({ fullUrl: "urn:uuid:" + cardId, identifier: { system: APP_IDENTIFIER, value: cardId }, resource: card });
    return { id: cardId, kind: "diary", createdAt: new Date().toISOString(), urgeToDie: Number(checked(this.form, "urge-die")[0].value),
      bundle: transaction(this.fhir.patientId, entries) };
  }

  async save() {
    if (!this.validate()) return;
    const button = this.form.querySelector("#diary-submit");
    button.disabled = true;
    this.result.textContent = t("saving");
    try {
      const entry = this.build();
      localStorage.setItem("nssi-patient-last-urge-to-die:" + this.fhir.patientId, String(entry.urgeToDie));
      const outcome = await this.queue.add(entry);
      if (outcome && !outcome.ok) {
        sayError(this.result, t("sendFailed", { message: plainError(outcome.error) }), outcome.error);
        return;
      }
      this.result.textContent = outcome ? t("savedOnline") : t("savedOffline");
      this.result.dataset.state = outcome ? "sent" : "queued";
      // the crisis box shown for a high urge to die stays (who to call still matters), now saying the card was sent
      const crisisNow = this.urgeDieNote.querySelector(":scope > .crisis-now");
      if (crisisNow && !crisisNow.hidden) showCrisisNear(this.urgeDieNote, this.contacts, outcome ? "urgeDieHighSent" : "urgeDieHighQueued");
      this.form.reset();
      this.form.querySelector("#diary-day").value = today();
      this.details.hidden = true;
      // the focus goes to what happened (the form was emptied), not to the page's body
      this.result.focus();
      if (outcome) this.onSaved();
      if (outcome) this.checkDay(today());
    } finally {
      button.disabled = false;
    }
  }
}
