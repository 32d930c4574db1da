// A small FHIR REST client over fetch with the SMART access token. A network failure (offline) is told apart
// from an answer of the server, so that entries can wait on the phone instead of being lost.

export const CS = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
export const VS = "https://nssi-fhir.org/fhir/ValueSet/";
export const APP_IDENTIFIER = "urn:nssi-fhir:patient-app";
export const HTEST = { system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "HTEST" };

export class FhirError extends Error {
  constructor(status, outcome) {
    super(((outcome && outcome.issue) || []).map(i => i.diagnostics || i.code).join("; ") || "The server answered " + status);
    this.status = status;
    this.outcome = outcome;
  }
}

/** The request never reached the server (offline, or the connection dropped). */
export class OfflineError extends Error {}

export class Fhir {
  constructor(client) {
    this.client = client;
    this.base = client.state.serverUrl.replace(/\/$/, "");
  }

  get patientId() {
    return this.client.patient.id;
  }

  /** The signed-in person's own resource (Patient/x or RelatedPerson/y), from the ID token. */
  get fhirUser() {
    const claims = this.client.getIdToken && this.client.getIdToken();
    const user = claims && claims.fhirUser ? String(claims.fhirUser) : "";
    const parts = user.split("/");
    return parts.length >= 2 ? parts.slice(-2).join("/") : "Patient/" + this.patientId;
  }

  get isProxy() {
    return this.fhirUser.startsWith("RelatedPerson/");
  }

  get expired() {
    const expiresAt = this.client.state.expiresAt;
    return expiresAt && expiresAt * 1000 < Date.now();
  }

  async request(path, { method = "GET", body, headers = {} } = {}) {
    const url = path.startsWith("http") ? path : this.base + "/" + path;
    const all = { Accept: "application/fhir+json", Authorization: "Bearer " + this.client.state.tokenResponse.access_token, ...headers };
    if (body !== undefined) all["Content-Type"] = "application/fhir+json";
    let response;
    try {
      response = await fetch(url, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (networkError) {
      throw new OfflineError(networkError.message);
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) throw new FhirError(response.status, json && json.resourceType === "OperationOutcome" ? json : null);
    return json;
  }

  /** The resources of a search (its first pages). */
  async search(path, maxPages = 5) {
    const out = [];
    let next = path;
    for (let page = 0; next && page < maxPages; page++) {
      const bundle = await this.request(next);
      (bundle.entry || []).forEach(e => e.resource && (!e.search || e.search.mode !== "outcome") && out.push(e.resource));
      const link = (bundle.link || []).find(l => l.relation === "next");
      next = link ? link.url : null;
    }
    return out;
  }
}

/** A random UUID, made on the phone: the identifier that makes an entry's creation happen once. */
export function uuid() {
  return crypto.randomUUID();
}

export function conceptText(concept) {
  if (!concept) return "";
  return concept.text || (concept.coding || []).map(c => c.display || c.code).find(Boolean) || "";
}

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") el.textContent = v;
    else if (k === "className") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  children.flat().forEach(c => c !== null && c !== undefined && el.append(c));
  return el;
}
