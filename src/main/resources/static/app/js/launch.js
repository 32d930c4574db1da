// SMART App Launch: an EHR launch (iss + launch from the EHR) or, without them, a standalone launch against
// this server that asks the clinician to pick a patient (launch/patient). fhirclient does discovery, PKCE
// (S256) and the authorization request; the scopes are the ones the app uses, nothing more, as the server
// registered them for the app (client.json, from ClinicianApp.java).
async function launch() {
  const response = await fetch("client.json");
  if (!response.ok) {
    throw new Error("the app's registration could not be read (" + response.status + ")");
  }
  const client = await response.json();
  const params = new URLSearchParams(location.search);
  const options = {
    clientId: client.clientId,
    scope: [params.has("launch") ? "launch" : "launch/patient", ...client.scopes].join(" "),
    redirectUri: "./",
    pkceMode: "required",
  };
  if (!params.has("iss")) {
    // standalone: this server (fhirclient's fhirServiceUrl would skip authorization, as for an open server)
    options.iss = new URL("/fhir", location.origin).href;
  }
  // "sign in again" after the sign-in ended: back to the patient this tab had open, not to the patient picker. The id
  // comes only from this tab's session storage (set by the app itself, read once), never from the URL, so a link from
  // elsewhere cannot choose a patient; the server honours it only for this app (LaunchPages.RELAUNCH_PATIENT)
  const relaunch = params.has("launch") ? null : sessionStorage.getItem(RELAUNCH_KEY);
  sessionStorage.removeItem(RELAUNCH_KEY);
  if (relaunch) {
    const url = await FHIR.oauth2.authorize({ ...options, noRedirect: true });
    location.href = url + "&nssi_patient=" + encodeURIComponent(relaunch);
    return;
  }
  await FHIR.oauth2.authorize(options);
}

const RELAUNCH_KEY = "nssi-relaunch-patient";

launch().catch(error => {
  document.getElementById("status").textContent = "Could not start the sign-in: " + error.message;
});
