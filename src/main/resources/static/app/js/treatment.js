// Treatment: start DBT or CBT (PlanDefinition/$apply with persist=true), then the active CarePlan with its
// activities and goals and their progress (CarePlan/$nssi-progress), and the relapse-prevention plan (partOf it).
import { FhirError, params, part, value, codingText, conceptText, outcomeText } from "./fhir.js";
import { h } from "./form-kit.js";
import { displays } from "./terminology.js";
import { formatDate, formatDateTime, toDate } from "/shared/js/dates.js";
import { openActions, isSuicideRisk, dueWords, taskTitle } from "./due.js";
import { person, persons } from "./person.js";

const RELAPSE = "relapse-prevention-plan-category";
/** The window a goal's status is judged over, in words (TreatmentProgress: the last 30 days against the 30 before). */
const GOAL_WINDOW = { "goal-fewer-episodes": "last 30 days against the 30 days before" };
const STATUS_TEXT = { achieved: "achieved", improving: "improving", worsening: "worsening", "no-change": "no change", "in-progress": "in progress" };
// how many days of a plan a goal's status needs before it can say anything (as $nssi-progress judges them): the
// episodes goal compares 30-day windows, the diary goals the last week with the plan's first week
const JUDGED_AFTER_DAYS = { "goal-fewer-episodes": 30, "goal-lower-urge-intensity": 14, "goal-more-skills-use": 14 };

function hasCategory(plan, code) {
  return (plan.category || []).some(c => (c.coding || []).some(k => k.code === code));
}

function ref(resource) {
  return resource.resourceType + "/" + resource.id;
}

export class Treatment {
  constructor(fhir, container, refresh, { readOnly = false } = {}) {
    this.fhir = fhir;
    this.container = container;
    this.refresh = refresh;
    this.readOnly = readOnly;
    this.alerts = [];
    this.progress = null;
    this.byRef = new Map();
  }

  /** The open alerts the page shows (alerts.js's ordered items): "What is due" lists the suicide-risk ones first. */
  setAlerts(items) {
    this.alerts = items || [];
  }

  async plansWithParts() {
    const patient = encodeURIComponent(this.fhir.patientId);
    if (!this.fhir.glassBroken) {
      return this.fhir.search("CarePlan?patient=" + patient
        + "&status=active&_include=CarePlan:goal&_include=CarePlan:activity-reference&_sort=-date");
    }
    // break-the-glass covers searches about one patient, never widened by _include: the parts are searched by patient
    const [plans, goals, requests] = await Promise.all(["CarePlan?patient=" + patient + "&status=active&_sort=-date",
      "Goal?patient=" + patient, "ServiceRequest?patient=" + patient].map(q => this.fhir.search(q)));
    return [...plans, ...goals, ...requests];
  }

  /**
   * Reloads the plan's figures (after a new episode, say) unless the clinician is editing the safety plan: their
   * unsaved words are never dropped for fresher numbers.
   */
  async reload() {
    const current = this.container.querySelector("#relapse-plan");
    if (current && current.tagName === "FORM") return;
    if (this.container.querySelector("#plan-options")) return; // choosing a plan's options: nothing to refresh
    await this.load();
  }

  /** Loads the plan; `force` when the safety plan's editor itself asks (saved, cancelled, reloaded after a 412). */
  async load(force = false) {
    const found = await this.plansWithParts();
    const plans = found.filter(r => r.resourceType === "CarePlan");
    const byRef = new Map(found.map(r => [ref(r), r]));
    const main = plans.find(p => !hasCategory(p, RELAPSE));
    if (!main) {
      this.renderStart();
      return;
    }
    const progress = await this.fhir.request("CarePlan/" + main.id + "/$nssi-progress").catch(() => null);
    this.progress = progress;
    this.byRef = byRef;
    // the relapse-prevention plan is part of the treatment plan: ask for exactly that, in this patient's record
    let relapse;
    let relapsePlan = null;
    try {
      const parts = await this.fhir.search("CarePlan?patient=" + encodeURIComponent(this.fhir.patientId)
        + "&part-of=" + encodeURIComponent(ref(main)) + "&status=active");
      const words = await displays(this.fhir, "nssi-trigger-vs").catch(() => new Map());
      relapsePlan = parts.find(p => p.resourceType === "CarePlan" && hasCategory(p, RELAPSE));
      relapse = this.relapseView(relapsePlan, words);
    } catch (e) {
      // said, not hidden: a clinician must not take a missing panel for a missing plan
      relapse = h("p", { id: "relapse-plan-error", className: "error", role: "alert",
        text: "The relapse-prevention plan could not be loaded: " + e.message });
    }
    // the safety plan may have been opened for editing while this loaded: unsaved words are never replaced
    const editing = this.container.querySelector("#relapse-plan");
    if (!force && editing && editing.tagName === "FORM") return;
    this.container.replaceChildren(this.planView(main, byRef, progress, relapse.tagName === "ARTICLE", relapseMade(relapsePlan, progress)), relapse);
  }

  renderStart() {
    if (this.readOnly) {
      this.container.replaceChildren(h("p", { id: "no-plan", text: "No active treatment plan." }));
      return;
    }
    // the plan's options are asked before anything is stored: which therapy, whether the family takes part, and
    // for CBT which approach ($apply's familyInvolvement and cbtVariant); nothing is pre-chosen
    const radio = (name, value, label) => {
      const input = h("input", { type: "radio", name, id: "plan-" + name + "-" + value, value });
      return h("div", { className: "choice" }, input, h("label", { for: input.id, text: label }));
    };
    const therapy = h("fieldset", { className: "choices", id: "plan-therapy" }, h("legend", { text: "Therapy (required)" }),
      radio("therapy", "nssi-dbt", "Dialectical behaviour therapy (DBT)"), radio("therapy", "nssi-cbt", "Cognitive behavioural therapy (CBT)"));
    const family = h("fieldset", { className: "choices", id: "plan-family" }, h("legend", { text: "Family involvement (required)" }),
      radio("family", "yes", "Yes: parents or carers take part (family sessions, lethal-means counselling; DBT: parent coaching, multi-family group)"),
      radio("family", "no", "No"));
    const variant = h("fieldset", { className: "choices", id: "plan-variant", hidden: true }, h("legend", { text: "CBT approach" }),
      radio("variant", "standard", "Standard CBT (with cognitive restructuring)"), radio("variant", "act", "Acceptance and commitment therapy (ACT)"));
    const error = h("p", { className: "field-error", id: "plan-options-error", role: "alert", hidden: true });
    const result = h("div", { id: "treatment-result", role: "status", "aria-live": "polite" });
    const button = h("button", { type: "submit", id: "start-plan", text: "Start the plan" });
    const form = h("form", { id: "plan-options", novalidate: true, "aria-labelledby": "plan-options-title" },
      h("h3", { id: "plan-options-title", text: "Start a treatment plan" }),
      h("p", { text: "No active treatment plan. Starting one stores the plan, its goals and requests, and a relapse-prevention plan." }),
      therapy, family, variant, error, h("p", { className: "actions" }, button), result);
    const chosen = name => (form.querySelector(`input[name="${name}"]:checked`) || {}).value;
    form.addEventListener("change", () => {
      variant.hidden = chosen("therapy") !== "nssi-cbt";
    });
    form.addEventListener("submit", event => {
      event.preventDefault();
      const missing = [!chosen("therapy") && "the therapy", !chosen("family") && "whether the family takes part",
        chosen("therapy") === "nssi-cbt" && !chosen("variant") && "the CBT approach"].filter(Boolean);
      error.hidden = missing.length === 0;
      if (missing.length) {
        error.textContent = "Choose " + missing.join(", ") + ".";
        (form.querySelector("fieldset:not([hidden]) input:not(:checked)") || button).focus();
        return;
      }
      this.start(chosen("therapy"), { family: chosen("family") === "yes", variant: chosen("variant") }, [button], result);
    });
    this.container.replaceChildren(form);
  }

  async start(planDefinition, options, buttons, result) {
    buttons.forEach(b => { b.disabled = true; });
    result.textContent = "Starting the plan…";
    const parameter = [
      { name: "subject", valueString: "Patient/" + this.fhir.patientId },
      { name: "familyInvolvement", valueBoolean: options.family },
      { name: "persist", valueBoolean: true },
    ];
    if (planDefinition === "nssi-cbt" && options.variant) parameter.push({ name: "cbtVariant", valueCode: options.variant });
    try {
      await this.fhir.request("PlanDefinition/" + planDefinition + "/$apply", {
        method: "POST",
        body: { resourceType: "Parameters", parameter },
      });
      // the page's refresh reloads this plan too (once, not a second load racing the first)
      this.container.replaceChildren();
      await this.refresh();
      // the form the focus was in is gone: to the treatment heading, with the plan now under it (review s7)
      const heading = document.getElementById("treatment-heading");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    } catch (error) {
      result.textContent = "The plan was not started: " + (error instanceof FhirError ? outcomeText(error.outcome) || error.message : error.message);
      buttons.forEach(b => { b.disabled = false; });
    }
  }

  /**
   * What is due, from the plan's progress: scheduled sessions behind their schedule, a regular activity with no
   * session for over two weeks, safety planning not done, no relapse-prevention plan.
   */
  dueItems(plan, byRef, progress, hasRelapsePlan, relapseMade = true) {
    const due = alertsDue(this.alerts);
    const overdue = new Set();
    let safetyPlanningDue = false;
    const today = new Date();
    const days = Number(value(params(progress, "daysInPlan")[0])) || 0;
    for (const c of params(progress, "component")) {
      const reference = (part(c, "request") || {}).reference;
      const request = byRef.get(reference);
      const name = request ? conceptText(request.code) : codingText(part(c, "code")) || "An activity";
      const code = (part(c, "code") || {}).code;
      const delivered = Number(part(c, "delivered") || 0);
      const expected = part(c, "expected");
      const last = part(c, "lastDelivered");
      if (code === "safety-plan" && delivered === 0) {
        // one line, not two: saving the plan made with the person is this session too (recordSafetyPlanning)
        safetyPlanningDue = true;
        due.push(["critical", "Safety planning not done yet (" + name + ")" + (relapseMade ? "." : ": the safety plan is not yet made with "
          + "the person; make it with them now (use “Edit with " + person() + "” below).")]);
        overdue.add(reference);
      } else if (expected !== undefined && expected !== null && delivered < Number(expected)) {
        const since = last ? Math.round((today - toDate(last)) / 86400000) : days;
        due.push(["urgent", name + ": " + delivered + " of " + expected + " sessions expected by now; "
          + (last ? "last session " + since + " days ago." : "no session yet.")]);
        overdue.add(reference);
      }
    }
    if (!hasRelapsePlan) due.push(["urgent", "No relapse-prevention (safety) plan: make one with " + person() + "."]);
    // the plan $apply made is a template (placeholders to write with the person): until it has been made with them
    // (saved since, or a safety-planning session recorded), it is due now, not "nothing overdue" (review s8, item 4a)
    else if (!relapseMade && !safetyPlanningDue) due.push(["critical", "Safety plan not yet made with the person: due now (use “Edit with " + person() + "” below)."]);
    return { due, overdue };
  }

  planView(plan, byRef, progress, hasRelapsePlan = true, relapseMade = true) {
    // (without the plan's figures, the open alerts and requests are still listed: they come from the alerts)
    const { due, overdue } = progress ? this.dueItems(plan, byRef, progress, hasRelapsePlan, relapseMade) : { due: alertsDue(this.alerts), overdue: new Set() };
    const components = new Map(params(progress, "component").map(c => [(part(c, "request") || {}).reference, c]));
    const goals = new Map(params(progress, "goal").map(g => [(part(g, "goal") || {}).reference, g]));
    let figures = null;
    if (progress) {
      const num = name => { const v = value(params(progress, name)[0]); return v === undefined ? "–" : v; };
      // NSSI only (intent to die recorded as none), as the goal counts them: other self-harm is said by the goal
      figures = h("p", { id: "plan-figures", text: `Day ${num("daysInPlan")} of the plan. NSSI episodes (intent to die recorded as none): ${num("episodesBefore")} in the same `
        + `time before the start, ${num("episodesSince")} since (${num("episodesLast30Days")} in the last 30 days). `
        + `Sessions delivered: ${num("sessionsDelivered")}.` });
    }

    const rows = (plan.activity || []).map(a => {
      const request = a.reference ? byRef.get(a.reference.reference) : null;
      const name = request ? conceptText(request.code) : a.reference ? a.reference.display || a.reference.reference
        : conceptText(a.detail && a.detail.code) || (a.detail && a.detail.description) || "Activity";
      const c = a.reference ? components.get(a.reference.reference) : null;
      const delivered = c ? part(c, "delivered") : null;
      const expected = c ? part(c, "expected") : null;
      const last = c ? part(c, "lastDelivered") : null;
      const who = a.reference ? "Sessions" : "The person's own practice";
      return h("tr", { className: a.reference && overdue.has(a.reference.reference) ? "overdue" : null },
        h("th", { scope: "row", text: name }),
        h("td", { text: who === "Sessions" ? sessionsText(delivered, expected) : who }),
        h("td", { text: last ? formatDate(last) : "–" }),
        h("td", { text: String(request ? request.status : (a.detail && a.detail.status) || "").replace(/-/g, " ") }));
    });
    const table = h("table", { id: "plan-activities" },
      h("thead", {}, h("tr", {}, ...["Activity", "Sessions delivered", "Last session", "Status"].map(t => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...rows));

    const goalItems = (plan.goal || []).map(g => {
      const goal = byRef.get(g.reference);
      const p = goals.get(g.reference);
      const status = p ? part(p, "achievementStatus") : goal && goal.achievementStatus && (goal.achievementStatus.coding || [])[0];
      const code = status ? status.code : "";
      // the status as the server computes it from the record today ($nssi-progress), with the figures behind it, so
      // the clinician can see why (a stored Goal read without progress may be older: its own reason and date say so)
      const reason = p ? part(p, "reason") : goal && goal.statusReason
        ? goal.statusReason + (goal.statusDate ? " (as of " + formatDate(goal.statusDate) + ")" : "") : null;
      const goalCode = (((goal && goal.description && goal.description.coding) || [])[0] || {}).code;
      // too little of the plan has passed to judge this goal: said so, with the start, instead of "no change" on day one
      const days = Number(value(params(progress, "daysInPlan")[0]));
      const early = progress && Number.isFinite(days) && days < (JUDGED_AFTER_DAYS[goalCode] || 0) && (code === "in-progress" || code === "no-change");
      const statusText = early ? "too early to tell, started " + formatDate(plan.period && plan.period.start || value(params(progress, "start")[0]))
        : STATUS_TEXT[code] || codingText(status) || "not judged yet";
      // the goal's own window in words: the banner's trend is the last 4 weeks against the weeks before, this the last
      // 30 days against the 30 before; unlabelled, "falling" above and "worsening" here read as a contradiction
      const judgedOver = !early && code && code !== "in-progress" && GOAL_WINDOW[goalCode] ? " (" + GOAL_WINDOW[goalCode] + ")" : "";
      return h("li", { "data-status": code, "data-goal": goalCode, "data-early": early ? "true" : null },
        h("strong", { text: goal ? conceptText(goal.description) : g.reference }),
        h("span", { className: "goal-status goal-" + (early ? "early" : code), text: " — " + statusText + judgedOver }),
        reason ? h("p", { className: "hint goal-reason", text: reason }) : null);
    });

    return h("article", { className: "plan", id: "treatment-plan", "data-plan": plan.id, "aria-labelledby": "plan-title" },
      h("h3", { id: "plan-title", text: plan.title || "Treatment plan" }),
      // clinical words only: the plan's description is its definition's (how the content was built, its draft and
      // experimental status, internal ids), written for implementers, not for the clinician at the point of care
      plan.period && plan.period.start ? h("p", { id: "plan-started", text: "Started " + formatDate(plan.period.start) }) : null,
      h("section", { className: due.length ? "due due-on" : "due", id: "plan-due", "aria-labelledby": "plan-due-title" },
        h("h4", { id: "plan-due-title", text: due.length ? "What is due (" + due.length + ")" : "What is due" }),
        due.length ? h("ul", {}, ...due.map(([level, text]) => h("li", { className: "due-" + level, text })))
          : h("p", { text: "Nothing overdue: sessions are on schedule." })),
      figures,
      h("h4", { id: "plan-activities-title", text: "Activities" }),
      // on a phone (390 px) the table was wider than the page and the whole page scrolled sideways: the cells wrap, and
      // what still does not fit scrolls inside this box only (focusable, so it scrolls by keyboard too)
      h("div", { className: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": "plan-activities-title" }, table),
      h("h4", { text: "Goals" }), h("ul", { id: "plan-goals" }, ...goalItems));
  }

  relapseView(plan, words = new Map()) {
    if (!plan) {
      return h("p", { id: "relapse-plan", text: "This plan has no active relapse-prevention plan." });
    }
    const items = (plan.activity || []).map(a => h("li", { text: clinicalWords(a.detail, words) }));
    const contacts = h("ul", { id: "crisis-contacts" }, h("li", { text: "Loading…" }));
    crisisContacts().then(list => contacts.replaceChildren(...list.map(c => h("li", {},
      h("strong", { text: c.name }), c.phone ? " " : null, c.phone ? h("a", { href: "tel:" + c.phone.replace(/\s/g, ""), text: c.phone }) : null,
      c.text ? " (" + c.text + ")" : null))));
    const status = h("p", { id: "relapse-status", role: "status", "aria-live": "polite" });
    const actions = h("p", { className: "no-print" });
    if (!this.readOnly) {
      const edit = h("button", { type: "button", id: "relapse-edit", text: "Edit with " + person() });
      edit.addEventListener("click", () => article.replaceWith(this.relapseEditor(plan, words)));
      actions.append(edit, " ");
    }
    const print = h("button", { type: "button", id: "relapse-print", className: "secondary", text: "Print the plan" });
    print.addEventListener("click", () => window.print());
    actions.append(print);
    const article = h("article", { className: "plan", id: "relapse-plan", "data-plan": plan.id, "aria-labelledby": "relapse-title" },
      h("h3", { id: "relapse-title", text: "Relapse-prevention plan: " + (plan.title || "") }),
      plan.description ? h("p", { text: plan.description }) : null,
      h("ul", { id: "relapse-steps" }, ...items),
      h("h4", { text: "If you are in crisis, call" }), contacts,
      // printed and handed over, a plan needs its date: which version the person holds (clinician review s8)
      plan.meta && plan.meta.lastUpdated ? h("p", { id: "relapse-updated", text: "Last updated " + formatDate(plan.meta.lastUpdated) }) : null,
      status, actions);
    return article;
  }

  /**
   * Saving the safety plan with the young person is a safety-planning session: when the plan orders safety planning
   * (the suicide-risk pathway's ServiceRequest) it is recorded as a completed Procedure based on that order, so
   * $nssi-progress counts it delivered and "What is due" stops asking for it. Once a day at most: saving twice in one
   * sitting is one session.
   */
  async recordSafetyPlanning() {
    const component = params(this.progress, "component").find(c => (part(c, "code") || {}).code === "safety-plan");
    if (!component) return;
    const reference = (part(component, "request") || {}).reference;
    const last = part(component, "lastDelivered");
    const now = new Date();
    const today = [now.getFullYear(), String(now.getMonth() + 1).padStart(2, "0"), String(now.getDate()).padStart(2, "0")].join("-");
    if (!reference || last === today) return;
    const request = this.byRef.get(reference);
    await this.fhir.create({
      resourceType: "Procedure",
      status: "completed",
      code: request && request.code ? request.code : { text: "Safety planning" },
      subject: { reference: "Patient/" + this.fhir.patientId },
      basedOn: [{ reference }],
      performedDateTime: now.toISOString(),
      note: [{ text: "Safety plan made or reviewed with " + person() + " and saved in the clinician app." }],
    });
  }

  /**
   * The plan's steps as text fields (a step emptied is removed, one more can be added); saved with If-Match, so a
   * colleague's change made meanwhile is never overwritten (a 412 reloads the plan and says so).
   */
  relapseEditor(plan, words) {
    const steps = (plan.activity || []).map((a, i) => ({ activity: a, area: h("textarea", { id: "relapse-step-" + i, rows: 2 }) }));
    steps.forEach(s => { s.area.value = clinicalWords(s.activity.detail, words); });
    const extra = h("textarea", { id: "relapse-step-new", rows: 2 });
    const error = h("p", { className: "field-error", role: "alert", hidden: true });
    const save = h("button", { type: "submit", id: "relapse-save", text: "Save the plan" });
    const cancel = h("button", { type: "button", className: "secondary", text: "Cancel" });
    const form = h("form", { className: "plan", id: "relapse-plan", "data-plan": plan.id, novalidate: true, "aria-labelledby": "relapse-title" },
      h("h3", { id: "relapse-title", text: "Editing the relapse-prevention plan: " + (plan.title || "") }),
      h("p", { className: "hint", text: "Use " + persons() + " own words. Empty a step to remove it." }),
      ...steps.map((s, i) => h("div", { className: "field" }, h("label", { for: s.area.id, text: "Step " + (i + 1) }), s.area)),
      h("div", { className: "field" }, h("label", { for: extra.id, text: "Add a step (optional)" }), extra),
      error, h("p", {}, save, " ", cancel));
    cancel.addEventListener("click", () => this.load(true));
    form.addEventListener("submit", async event => {
      event.preventDefault();
      const activity = steps.filter(s => s.area.value.trim()).map(s => ({ ...s.activity,
        detail: { ...s.activity.detail, description: s.area.value.trim() } }));
      if (extra.value.trim()) activity.push({ detail: { status: "not-started", description: extra.value.trim() } });
      save.disabled = true;
      try {
        await this.fhir.update({ ...plan, activity });
        const session = await this.recordSafetyPlanning().then(() => "", e => " The safety-planning session could not be recorded: " + e.message);
        await this.load(true);
        const saved = document.getElementById("relapse-status");
        if (saved) { saved.textContent = "Plan saved." + session; saved.setAttribute("tabindex", "-1"); saved.focus(); }
      } catch (e) {
        if (e instanceof FhirError && e.status === 412) {
          await this.load(true);
          const saved = document.getElementById("relapse-status");
          if (saved) saved.textContent = "Not saved: a colleague changed the plan after you opened it. It has been reloaded with their changes.";
          return;
        }
        error.textContent = "Could not save the plan: " + e.message;
        error.hidden = false;
        save.disabled = false;
      }
    });
    queueMicrotask(() => steps.length ? steps[0].area.focus() : extra.focus());
    return form;
  }
}

/** A component's sessions: "3 of 4 expected"; none expected yet is said in words, never "0 of 0 expected". */
function sessionsText(delivered, expected) {
  const n = Number(delivered || 0);
  if (expected === undefined || expected === null) return String(n);
  if (Number(expected) === 0) return n > 0 ? String(n) : "nothing due yet";
  return n + " of " + expected + " expected";
}

/**
 * Whether the relapse-prevention (safety) plan has been made with the person: saved since $apply made it from the
 * template (a version after the first), or a safety-planning session recorded. Unknown (no plan read): not said.
 */
export function relapseMade(plan, progress) {
  if (!plan) return true;
  const session = params(progress, "component").some(c => (part(c, "code") || {}).code === "safety-plan" && Number(part(c, "delivered") || 0) > 0);
  return session || Number((plan.meta && plan.meta.versionId) || 1) > 1;
}

/**
 * The open alerts and requests in "What is due", from the same list the banner's "Overdue actions" counts
 * (due.js openActions): suicide-risk reviews first, each with its due time ("overdue since" once past), a
 * suicide-risk Flag without an open Task of its own, then the person's requests for support, then any other Task
 * past its due time.
 */
export function alertsDue(alerts, now = new Date()) {
  const actions = openActions(alerts, now);
  const when = task => { const w = dueWords(task, now); return w ? w.charAt(0).toLowerCase() + w.slice(1) : null; };
  const due = actions.filter(a => a.kind === "suicide-risk").map(a => ["critical",
    "Open suicide-risk alert: " + (when(a.task) ? "review " + when(a.task) : "review now (no due time set)") + "."]);
  const withTask = new Set(actions.filter(a => a.kind === "suicide-risk").map(a => a.task.focus && a.task.focus.reference).filter(Boolean));
  for (const a of alerts) {
    if (a.kind === "flag" && isSuicideRisk(a.resource) && !withTask.has("Flag/" + a.resource.id)) {
      const since = a.resource.period && a.resource.period.start;
      due.push(["critical", "Open suicide-risk alert" + (since ? " since " + formatDateTime(since) : "") + ": review it with the person."]);
    }
  }
  for (const a of actions.filter(x => x.kind === "support")) {
    due.push([a.overdue ? "critical" : "urgent", "Request for support from the person's app"
      + (a.task.authoredOn ? " (asked " + formatDateTime(a.task.authoredOn) + ")" : "") + ": " + (when(a.task) || "answer it now") + "."]);
  }
  for (const a of actions.filter(x => x.kind === "other")) {
    due.push(["urgent", (taskTitle(a.task) || "An alert task").replace(/[.\s]+$/, "") + ": " + when(a.task) + "."]);
  }
  return due;
}

let contactsCache;

/** This service's crisis contacts (the same list the person's app shows; public, no one's data). */
function crisisContacts() {
  contactsCache = contactsCache || fetch("/patient/config.json").then(r => (r.ok ? r.json() : { crisisContacts: [] }))
    .then(c => c.crisisContacts || []).catch(() => []);
  return contactsCache.then(list => (list.length ? list
    : [{ name: "Emergency services", text: "if you are in danger now, call your local emergency number" }]));
}

/**
 * An activity's text with any trigger code it quotes (a recording system may store codes without their display)
 * replaced by the ValueSet's words: "…before: trigger-trauma-reminder" reads "…before: Reminder of trauma".
 */
export function clinicalWords(detail, words) {
  if (!detail) return "";
  let text = detail.description || conceptText(detail.code) || "";
  for (const concept of detail.reasonCode || []) {
    for (const c of concept.coding || []) {
      const display = c.display || words.get(c.system + "|" + c.code);
      if (c.code && display) text = text.split(c.code).join(display);
    }
  }
  return text;
}
