// "You are not on this person's care team": shown when the server refuses the patient's restricted record
// (Patient/$nssi-summary answers 403 NSSI-0304; restricted records are answered as missing). It says plainly what
// is hidden and why, and offers break-the-glass: a reason is required, the clinician is told it is audited, and only
// then do the reads about this one patient carry X-Purpose-Of-Use: BTG (see Fhir.breakGlass).
import { h } from "./form-kit.js";

const MIN_REASON = 10;

export function showCareTeamPanel(fhir, panel, onOpened) {
  const reason = h("textarea", { id: "break-glass-reason", name: "reason", rows: 3, required: true,
    "aria-describedby": "break-glass-hint break-glass-error" });
  const error = h("p", { className: "field-error", id: "break-glass-error", role: "alert", hidden: true });
  const confirm = h("button", { type: "submit", id: "break-glass-confirm", text: "Open the record (audited)" });
  const cancel = h("button", { type: "button", id: "break-glass-cancel", className: "secondary", text: "Cancel" });
  const form = h("form", { id: "break-glass-form", hidden: true, novalidate: true },
    h("div", { className: "field" },
      h("label", { for: "break-glass-reason", text: "Why do you need this record now? (required)" }),
      h("p", { className: "hint", id: "break-glass-hint",
        text: "For example: seen in the emergency department after self-harm, their own clinician cannot be reached." }),
      reason, error),
    h("p", {}, confirm, " ", cancel));
  const start = h("button", { type: "button", id: "break-glass-start", text: "Break the glass…" });
  const heading = h("h2", { id: "care-team-heading", tabindex: "-1", text: "You are not on this person's care team" });
  panel.replaceChildren(
    heading,
    h("p", { text: "Their self-injury record (episodes, assessments, alerts and treatment) is shown only to the clinicians "
      + "who treat them, so none of it is shown here. This does not mean there is nothing to see." }),
    h("p", { text: "If you do treat them, ask your service's administrator to add you to their care team." }),
    h("h3", { text: "Emergency access: break the glass" }),
    h("p", { id: "break-glass-audit", text: "Only if you need this record now to keep them safe. You will be asked for a reason. "
      + "Your name, your reason and every record you open are audited and reviewed by the privacy team. "
      + "Access is read-only, for this person only, and ends when you leave or reload this page." }),
    start, form);
  panel.hidden = false;
  heading.focus();

  start.addEventListener("click", () => {
    start.hidden = true;
    form.hidden = false;
    reason.focus();
  });
  cancel.addEventListener("click", () => {
    form.hidden = true;
    start.hidden = false;
    error.hidden = true;
    reason.removeAttribute("aria-invalid");
    start.focus();
  });
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const text = reason.value.trim();
    if (text.length < MIN_REASON) {
      error.textContent = "Give the reason in a few words (at least " + MIN_REASON + " characters): it is kept in the audit record.";
      error.hidden = false;
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    error.hidden = true;
    reason.removeAttribute("aria-invalid");
    confirm.disabled = true;
    fhir.breakGlass(text);
    try {
      await onOpened(text);
      panel.hidden = true;
    } catch (e) {
      fhir.glass = null;
      error.textContent = "The record could not be opened: " + e.message;
      error.hidden = false;
      confirm.disabled = false;
    }
  });
}
