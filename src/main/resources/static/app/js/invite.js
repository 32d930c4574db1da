// Inviting the person to their own app: Patient/[id]/$nssi-invite answers a one-time link (shown once, to give to
// the person: it is not stored anywhere readable) and when it expires; $nssi-revoke-invitation withdraws open
// links; $nssi-disable-account ends the person's sign-in (asked first, in the page). Who may do any of it is the
// server's access policy (a clinician treating the patient).
import { formatDateTime } from "/shared/js/dates.js";
import { h } from "./form-kit.js";
import { FhirError, params, value } from "./fhir.js";
import { ask } from "./confirm-dialog.js";

export class Invitation {
  constructor(fhir, button, revoke, result, family, disable) {
    this.fhir = fhir;
    this.result = result;
    button.addEventListener("click", () => this.run("Patient/" + fhir.patientId, "$nssi-invite"));
    revoke.addEventListener("click", () => this.run("Patient/" + fhir.patientId, "$nssi-revoke-invitation"));
    if (disable) disable.addEventListener("click", () => this.disable("Patient/" + fhir.patientId, "this person"));
    if (family) this.listFamily(family);
  }

  /** The patient's family members on record (RelatedPerson), each with its own invitation button. */
  async listFamily(list) {
    try {
      const people = await this.fhir.search("RelatedPerson?patient=" + this.fhir.patientId);
      list.replaceChildren(...people.filter(p => p.active !== false).map(p => {
        const name = ((p.name || [])[0] || {});
        const label = [...(name.given || []), name.family].filter(Boolean).join(" ") || "Family member";
        const relation = ((p.relationship || [])[0] || {});
        const relationText = relation.text || ((relation.coding || [])[0] || {}).display || "";
        const button = h("button", { type: "button", className: "secondary invite-proxy", "data-person": "RelatedPerson/" + p.id,
          text: "Invite " + label });
        button.addEventListener("click", () => this.run("RelatedPerson/" + p.id, "$nssi-invite"));
        const disable = h("button", { type: "button", className: "secondary disable-proxy", "data-person": "RelatedPerson/" + p.id,
          text: "Disable " + label + "'s sign-in" });
        disable.addEventListener("click", () => this.disable("RelatedPerson/" + p.id, label));
        return h("li", {}, h("span", { text: label + (relationText ? " (" + relationText + ")" : "") + " " }), button, " ", disable);
      }));
    } catch {
      list.replaceChildren();
    }
    // no family member on record (an adult, often): no heading over an empty list (clinician review s8)
    const intro = document.getElementById("invite-family-intro");
    list.hidden = list.children.length === 0;
    if (intro) intro.hidden = list.hidden;
  }

  /**
   * Ends a person's sign-in ($nssi-disable-account): asked first in the page, the safe choice focused. The server
   * refuses sign-in at once, revokes the tokens the app holds and any open invitation; a new invitation gives access
   * back.
   */
  async disable(person, who) {
    const sure = await ask({
      title: "Disable the sign-in of " + who + "?",
      text: "They will no longer be able to sign in to their app, and the app signs them out at its next request. Nothing in "
        + "the record changes. A new invitation link gives them access again.",
      confirm: "Disable the sign-in", cancel: "Keep the sign-in" });
    if (!sure) {
      this.result.textContent = "The sign-in was not changed.";
      return;
    }
    this.result.textContent = "Working…";
    try {
      const answer = await this.fhir.request(person + "/$nssi-disable-account", { method: "POST", body: { resourceType: "Parameters" } });
      const had = value(params(answer, "disabled")[0]);
      const username = params(answer, "username")[0];
      this.result.textContent = had
        ? "The sign-in " + (username ? value(username) + " " : "") + "is disabled. A new invitation link gives access again."
        : "This person has no sign-in yet; any open invitation is revoked.";
      this.result.dataset.state = had ? "disabled" : "none";
    } catch (error) {
      this.result.textContent = error instanceof FhirError && error.status === 403
        ? "You cannot disable this person's sign-in: " + error.message
        : "The sign-in could not be disabled: " + error.message;
      this.result.dataset.state = "failed";
    }
  }

  async run(person, operation) {
    this.result.textContent = "Working…";
    delete this.result.dataset.state;
    try {
      const answer = await this.fhir.request(person + "/" + operation, { method: "POST", body: { resourceType: "Parameters" } });
      if (operation === "$nssi-revoke-invitation") {
        this.result.textContent = "Open invitations revoked: " + value(params(answer, "revoked")[0]) + ".";
        return;
      }
      const link = value(params(answer, "link")[0]);
      const expires = new Date(value(params(answer, "expires")[0]));
      const username = params(answer, "username")[0];
      const field = h("input", { id: "invite-link", type: "text", readonly: true, value: link, "aria-label": "Invitation link" });
      this.result.replaceChildren(
        h("p", { text: "Give this link to the person (in person, or by a channel only they read). It works once, until "
          + formatDateTime(expires) + "." + (username ? " They already have the username " + value(username) + ": the link sets a new password." : "") }),
        field);
      field.focus();
      field.select();
    } catch (error) {
      this.result.textContent = error instanceof FhirError && error.status === 403
        ? "You cannot invite this person: " + error.message
        : "The invitation could not be created: " + error.message;
    }
  }
}
