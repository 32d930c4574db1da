// The person's own app: after the SMART launch, everything comes from the FHIR API with their token, and what
// they may see and do is the server's access policy's decision. A patient gets the diary card, support, their
// plan and progress; a parent (a RelatedPerson proxy) gets what the young person's Consent releases.
import { t, translatePage } from "./i18n.js";
import { Fhir, FhirError, h, plainError, sayError } from "./fhir.js";
import { Queue } from "./queue.js";
import { loadContacts, renderContacts } from "./crisis.js";
import { DiaryCard } from "./diary.js";
import { Support } from "./support.js";
import { loadPlan, renderPlan, planEditor, planChanger } from "./plan.js";
import { loadProgress, renderProgress } from "./progress.js";
import { releasedLabels, renderProxy } from "./proxy.js";

const status = document.getElementById("status");
const $ = id => document.getElementById(id);

function say(text) {
  status.textContent = text;
}

function signInAgain() {
  say(t("signInAgain"));
  status.append(" ", h("a", { href: "launch.html", className: "button", text: t("signInAgainButton") }));
}

function personName(resource) {
  const n = (resource && resource.name || [])[0];
  return n ? (n.given || [])[0] || n.text || n.family || "" : "";
}

async function readPatient(fhir) {
  const key = "nssi-patient-self:" + fhir.fhirUser;
  try {
    const patient = await fhir.request("Patient/" + fhir.patientId);
    localStorage.setItem(key, JSON.stringify({ name: patient.name, meta: { security: (patient.meta && patient.meta.security) || [] } }));
    return patient;
  } catch (error) {
    const cached = localStorage.getItem(key);
    if (cached) return JSON.parse(cached);
    throw error;
  }
}

function queueStatus(items) {
  $("queue-status").textContent = items.length ? t("waitingCount", { count: items.length }) : t("waitingNone");
  $("queue-status").dataset.waiting = String(items.length);
  $("sync-now").hidden = items.length === 0;
}

/**
 * Ends the sign-in on the server too, not only on the phone: the refresh token is revoked (RFC 7009, the app's
 * client_id alone, as for its refresh) and the browser's sign-in session ends (POST /logout with the CSRF token of the
 * server's own sign-in page), so the next launch asks for the password. Best effort: offline, the phone is still
 * cleared, and the refresh token dies with the account's next password or its expiry.
 */
async function endServerSignIn(fhir) {
  const state = fhir.client.state || {};
  const refreshToken = state.tokenResponse && state.tokenResponse.refresh_token;
  const origin = location.origin;
  try {
    if (refreshToken) {
      await fetch(origin + "/oauth2/revoke", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: refreshToken, token_type_hint: "refresh_token", client_id: state.clientId || "nssi-patient-app" }),
        credentials: "omit"
      });
    }
    const page = await fetch(origin + "/login", { credentials: "same-origin", cache: "no-store" });
    const csrf = new DOMParser().parseFromString(await page.text(), "text/html").querySelector("input[name=_csrf]");
    if (csrf) {
      await fetch(origin + "/logout", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf.value }),
        credentials: "same-origin",
        redirect: "manual"
      });
    }
  } catch (error) {
    // offline: what is on the phone is removed anyway
  }
}

async function signOut(fhir) {
  await endServerSignIn(fhir);
  Object.keys(localStorage).filter(k => k.startsWith("nssi-patient")).forEach(k => localStorage.removeItem(k));
  sessionStorage.clear();
  document.querySelectorAll("main section").forEach(s => { s.hidden = s.id !== "crisis"; });
  say(t("signedOut"));
  $("sign-out").hidden = true;
}

/**
 * What the app keeps on the phone is the signed-in person's only: when someone else signs in here, the copies of the
 * previous person's record (their plan, name, support request) are removed first. Entries still waiting to be sent
 * stay (they are that person's own, sent when they sign in again).
 */
function keepOnlyFor(fhirUser) {
  const owner = "nssi-patient-user";
  if (localStorage.getItem(owner) !== fhirUser) {
    Object.keys(localStorage).filter(k => k.startsWith("nssi-patient") && !k.startsWith("nssi-patient-queue:") && k !== "nssi-patient-config")
      .forEach(k => localStorage.removeItem(k));
    localStorage.setItem(owner, fhirUser);
  }
}

async function start(client) {
  const fhir = new Fhir(client);
  keepOnlyFor(fhir.fhirUser);
  fhir.keepSignedIn();
  const contacts = await loadContacts();
  renderContacts($("crisis-contacts"), contacts);
  const patient = await readPatient(fhir);
  const testData = ((patient.meta && patient.meta.security) || []).some(s => s.code === "HTEST");
  const name = personName(patient);
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  $("sign-out").addEventListener("click", () => signOut(fhir));
  $("plan-print").addEventListener("click", () => window.print());

  if (fhir.isProxy) {
    document.body.dataset.role = "proxy";
    $("hello").textContent = t("helloProxy", { name });
    $("nav-today").hidden = true;
    $("nav-support").hidden = true;
    const released = await releasedLabels(fhir);
    renderProxy($("proxy"), name, released);
    $("plan").hidden = false;
    $("progress").hidden = false;
    renderPlan($("plan-body"), $("plan-print"), await loadPlan(fhir), released !== null);
    renderProgress($("progress-body"), await loadProgress(fhir), released !== null);
    return;
  }

  document.body.dataset.role = "patient";
  $("hello").textContent = t("hello", { name });
  ["diary", "support", "plan", "progress"].forEach(id => { $(id).hidden = false; });
  const refreshProgress = async () => {
    try {
      renderProgress($("progress-body"), await loadProgress(fhir));
    } catch {
      // offline: the last view stays
    }
  };
  const queue = new Queue(fhir, queueStatus, (entry, error) => {
    // an entry the server refused (it would be refused again): said where the queue is, never silently dropped
    sayError($("queue-refused"), t("sendFailed", { message: plainError(error) }), error);
    $("queue-refused").hidden = false;
  });
  queue.onSignedOut = signInAgain;
  queueStatus(queue.items());
  $("sync-now").addEventListener("click", async () => {
    await queue.flush();
    refreshProgress();
  });
  const diary = new DiaryCard(fhir, queue, $("diary-form"), $("diary-result"), contacts, testData, refreshProgress);
  await diary.render();
  const support = new Support(fhir, queue, $("support-button"), $("support-status"), $("crisis"), testData);
  support.poll();
  try {
    const loaded = await loadPlan(fhir);
    renderPlan($("plan-body"), $("plan-print"), loaded);
    if (loaded.plan) $("plan-edit").replaceChildren(planChanger(fhir, $("plan-body"), $("plan-print")), planEditor(fhir, $("plan-body"), $("plan-print")));
  } catch {
    renderPlan($("plan-body"), $("plan-print"), { plan: null, offlineSince: null });
  }
  await refreshProgress();
  // entries left from an earlier visit, then every half minute while the app is open
  queue.flush().then(refreshProgress);
  setInterval(() => queue.items().length && queue.flush(), 30000);
}

translatePage();
// the app's own files kept for opening it offline (sw.js; it never keeps FHIR answers or tokens)
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch(() => {
    // no worker (e.g. a private window): the app works online, and entries still wait on the phone
  });
}
// a public client identifies itself by its client_id when it refreshes (it has no secret)
FHIR.oauth2.settings.refreshTokenWithClientId = true;
FHIR.oauth2.ready()
  .catch(() => {
    // no sign-in in this tab yet: start one
    location.replace("launch.html");
    return null;
  })
  .then(async client => {
    if (!client) return;
    try {
      await start(client);
      say(t("ready"));
      document.body.dataset.ready = "true";
    } catch (error) {
      if (error instanceof FhirError && error.status === 401) signInAgain();
      else sayError($("status"), plainError(error), error);
      document.body.dataset.ready = "error";
    }
  });
