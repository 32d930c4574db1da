// Standalone SMART launch against this server: the person signs in and the authorization server puts them in
// their own record (a parent: in their young person's). fhirclient does discovery, PKCE (S256) and the request;
// the scopes are exactly the ones the server registered for the app (client.json, from PatientApp.java).
import { t, translatePage } from "./i18n.js";

async function launch() {
  translatePage();
  const response = await fetch("client.json");
  if (!response.ok) throw new Error("client.json " + response.status);
  const client = await response.json();
  await FHIR.oauth2.authorize({
    clientId: client.clientId,
    scope: ["launch/patient", ...client.scopes].join(" "),
    redirectUri: "./",
    pkceMode: "required",
    iss: new URL("/fhir", location.origin).href,
  });
}

launch().catch(error => {
  document.getElementById("status").textContent = t("launchFailed", { message: error.message });
});
