// What both SMART apps (the clinician app at /app/, the person's app at /patient/) need to talk to this server:
// a FHIR REST client over fetch with the SMART access token fhirclient obtained, errors that keep the server's
// OperationOutcome, and the text of a concept. Each app's own fhir.js adds what only it needs (break-the-glass for
// clinicians; offline entries for the person) and re-exports these.

export class FhirError extends Error {
  constructor(status, outcome) {
    super(outcomeText(outcome) || "The server answered " + status);
    this.status = status;
    this.outcome = outcome;
  }
  get issues() {
    return (this.outcome && this.outcome.issue) || [];
  }
  /** Whether the server answered with this NSSI error code (e.g. NSSI-0304), wherever the outcome carries it. */
  hasCode(code) {
    return JSON.stringify(this.outcome || {}).includes(code);
  }
}

export function outcomeText(outcome) {
  return ((outcome && outcome.issue) || []).map(i => i.diagnostics || (i.details && i.details.text) || i.code).join("; ");
}

export class FhirClient {
  constructor(client) {
    this.client = client;
    this.base = client.state.serverUrl.replace(/\/$/, "");
  }

  get patientId() {
    return this.client.patient.id;
  }

  /** Sends one request; an app may wrap it (the person's app tells a network failure apart). */
  send(url, init) {
    return fetch(url, init);
  }

  async request(path, { method = "GET", body, headers = {} } = {}) {
    const url = path.startsWith("http") ? path : this.base + "/" + path;
    const all = { Accept: "application/fhir+json", Authorization: "Bearer " + this.client.state.tokenResponse.access_token, ...headers };
    if (body !== undefined) {
      all["Content-Type"] = "application/fhir+json";
    }
    const response = await this.send(url, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    const json = text ? safeJson(text) : null;
    if (!response.ok) {
      throw new FhirError(response.status, json && json.resourceType === "OperationOutcome" ? json : null);
    }
    return json;
  }

  /** All resources of a search, following the next links (at most `maxPages` pages). */
  async pages(path, maxPages) {
    const out = [];
    let next = path;
    for (let page = 0; next && page < maxPages; page++) {
      const bundle = await this.request(next);
      entries(bundle, out);
      const link = (bundle.link || []).find(l => l.relation === "next");
      next = link ? link.url : null;
    }
    return out;
  }
}

/** The resources of a search bundle (not its OperationOutcome entries), added to `out`. */
export function entries(bundle, out) {
  (bundle.entry || []).forEach(e => e.resource && (!e.search || e.search.mode !== "outcome") && out.push(e.resource));
  return out;
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function codingText(coding) {
  if (!coding) return "";
  return coding.display || coding.code || "";
}

export function conceptText(concept) {
  if (!concept) return "";
  return concept.text || (concept.coding || []).map(codingText).find(Boolean) || "";
}
