// SMART App Launch: an EHR launch (iss + launch from the EHR) or, without them, a standalone launch against
// this server that asks the clinician to pick a patient (launch/patient). fhirclient does discovery, PKCE
// (S256) and the authorization request; the scopes are the ones the app uses, nothing more.
import { SCOPES, CLIENT_ID } from "./config.js";

const params = new URLSearchParams(location.search);
const ehrLaunch = params.has("launch");
const options = {
  clientId: CLIENT_ID,
  scope: [ehrLaunch ? "launch" : "launch/patient", ...SCOPES].join(" "),
  redirectUri: "./",
  pkceMode: "required",
};
if (!params.has("iss")) {
  // standalone: this server (fhirclient's fhirServiceUrl would skip authorization, as for an open server)
  options.iss = new URL("/fhir", location.origin).href;
}
FHIR.oauth2.authorize(options).catch(error => {
  document.getElementById("status").textContent = "Could not start the sign-in: " + error.message;
});
