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
  await FHIR.oauth2.authorize(options);
}

launch().catch(error => {
  document.getElementById("status").textContent = "Could not start the sign-in: " + error.message;
});
