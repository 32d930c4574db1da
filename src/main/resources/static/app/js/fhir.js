// A small FHIR REST wrapper over fetch with the SMART access token fhirclient obtained. Errors keep the
// server's OperationOutcome, so forms can show each issue next to its field.

export class FhirError extends Error {
  constructor(status, outcome) {
    super(outcomeText(outcome) || "The server answered " + status);
    this.status = status;
    this.outcome = outcome;
  }
  get issues() {
    return (this.outcome && this.outcome.issue) || [];
  }
}

export function outcomeText(outcome) {
  return ((outcome && outcome.issue) || []).map(i => i.diagnostics || (i.details && i.details.text) || i.code).join("; ");
}

export class Fhir {
  constructor(client) {
    this.client = client;
    this.base = client.state.serverUrl.replace(/\/$/, "");
  }

  get patientId() {
    return this.client.patient.id;
  }

  async request(path, { method = "GET", body } = {}) {
    const url = path.startsWith("http") ? path : this.base + "/" + path;
    const headers = { Accept: "application/fhir+json", Authorization: "Bearer " + this.client.state.tokenResponse.access_token };
    if (body !== undefined) {
      headers["Content-Type"] = "application/fhir+json";
    }
    const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    const json = text ? safeJson(text) : null;
    if (!response.ok) {
      throw new FhirError(response.status, json && json.resourceType === "OperationOutcome" ? json : null);
    }
    return json;
  }

  /** All resources of a search, following the next links (at most `maxPages` pages). */
  async search(path, maxPages = 50) {
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

  create(resource) {
    return this.request(resource.resourceType, { method: "POST", body: resource });
  }

  update(resource) {
    return this.request(resource.resourceType + "/" + resource.id, { method: "PUT", body: resource });
  }
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Parameters helpers: the value of a parameter or part (value[x], whatever its type). */
export function value(param) {
  if (!param) return undefined;
  const key = Object.keys(param).find(k => k.startsWith("value"));
  return key ? param[key] : undefined;
}

export function params(parameters, name) {
  return ((parameters && parameters.parameter) || []).filter(p => p.name === name);
}

export function part(param, name) {
  return value(((param && param.part) || []).find(p => p.name === name));
}

export function codingText(coding) {
  if (!coding) return "";
  return coding.display || coding.code || "";
}

export function conceptText(concept) {
  if (!concept) return "";
  return concept.text || (concept.coding || []).map(codingText).find(Boolean) || "";
}
