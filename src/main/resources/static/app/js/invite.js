// Inviting the person to their own app: Patient/[id]/$nssi-invite answers a one-time link (shown once, to give to
// the person: it is not stored anywhere readable) and when it expires; $nssi-revoke-invitation withdraws open
// links. Who may invite is the server's access policy (a clinician treating the patient).
import { h } from "./form-kit.js";
import { FhirError, params, value } from "./fhir.js";

export class Invitation {
  constructor(fhir, button, revoke, result) {
    this.fhir = fhir;
    this.result = result;
    button.addEventListener("click", () => this.run("$nssi-invite"));
    revoke.addEventListener("click", () => this.run("$nssi-revoke-invitation"));
  }

  async run(operation) {
    this.result.textContent = "Working…";
    try {
      const answer = await this.fhir.request("Patient/" + this.fhir.patientId + "/" + operation, { method: "POST", body: { resourceType: "Parameters" } });
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
          + expires.toLocaleString() + "." + (username ? " They already have the username " + value(username) + ": the link sets a new password." : "") }),
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
