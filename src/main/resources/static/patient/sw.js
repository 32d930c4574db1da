// The person's app offline: this service worker keeps the app itself (its page, styles and scripts, and the
// deployment's public client.json and config.json) so that /patient/ opens without a connection. The person's own
// data offline is the app's business, not this worker's: the last plan and the entries waiting to be sent are kept
// by the app in localStorage under the signed-in fhirUser and removed at sign-out. This worker never stores an
// answer of the FHIR API, the authorization server or anything else outside the list below, so no person's record
// and no token ever lands in its cache (they are not even passed through it: it answers only for the app's files).
//
// Network first: online, the person always gets the app as deployed now (and the copy is renewed); the kept copy
// is used only when the network fails. A new version of this file replaces the cache on activation.
const CACHE = "nssi-patient-shell-v2";

const APP = new URL("./", self.location).pathname; // /patient/
const SHELL = [
  APP, APP + "index.html", APP + "launch.html", APP + "patient.css", APP + "client.json", APP + "config.json",
  ...["main", "launch", "i18n", "text-en", "fhir", "queue", "crisis", "diary", "support", "plan", "progress", "proxy"]
    .map(name => APP + "js/" + name + ".js"),
  "/shared/js/fhir-core.js",
  "/shared/js/dates.js",
  "/vendor/fhirclient-2.6.3/fhir-client.min.js",
];
const KEPT = new Set(SHELL);

/** Where the browser can skip this worker altogether (static routing): the FHIR API and the authorization server. */
const STRAIGHT_TO_NETWORK = ["/fhir/*", "/oauth2/*", "/connect/*", "/login*", "/logout*"];

self.addEventListener("install", event => {
  const routed = typeof event.addRoutes === "function" && typeof URLPattern === "function"
    ? event.addRoutes(STRAIGHT_TO_NETWORK.map(pathname => ({ condition: { urlPattern: new URLPattern({ pathname }) }, source: "network" })))
      .catch(() => null) // a browser without static routing still sends these past the fetch handler below
    : Promise.resolve();
  // cache: "reload" skips the browser's HTTP cache, so the kept copy is the server's current one
  event.waitUntil(routed.then(() => caches.open(CACHE))
    .then(cache => cache.addAll(SHELL.map(path => new Request(path, { cache: "reload" }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", event => {
  event.waitUntil(caches.keys()
    .then(names => Promise.all(names.filter(name => name !== CACHE).map(name => caches.delete(name))))
    .then(() => self.clients.claim()));
});

/** The cache key of an app file, or null for anything else (FHIR, sign-in, tokens: never answered here). */
function keptPath(request) {
  if (request.method !== "GET") return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  // the page itself arrives with the sign-in's ?code=&state= once: the same page, kept without them
  const path = request.mode === "navigate" && url.pathname === APP + "index.html" ? APP : url.pathname;
  return KEPT.has(path) && (url.search === "" || path === APP) ? path : null;
}

self.addEventListener("fetch", event => {
  const path = keptPath(event.request);
  if (!path) return; // the browser fetches it as if there were no worker
  event.respondWith(fetch(event.request).then(response => {
    if (response.ok && response.type === "basic" && !response.redirected) {
      const copy = response.clone();
      event.waitUntil(caches.open(CACHE).then(cache => cache.put(path, copy)));
    }
    return response;
  }).catch(() => caches.match(path).then(kept => kept || Response.error())));
});
