// The clinician app's FHIR client: the shared one (/shared/js/fhir-core.js: errors keep the server's
// OperationOutcome, so forms can show each issue next to its field) with break-the-glass, and Parameters helpers.

import { FhirClient, FhirError, entries } from "/shared/js/fhir-core.js";

export { FhirError, outcomeText, codingText, conceptText } from "/shared/js/fhir-core.js";

/**
 * Whether a request is about exactly one patient in the way the server accepts break-the-glass for: a GET of
 * Patient/{id} or one of its operations, or a search naming that one patient (patient= or subject=) without
 * _include/_revinclude. Anything else (terminology, Questionnaires, paging links, writes) is sent without it.
 */
export function aboutOnePatient(method, path, patientId) {
  if (method !== "GET" || !patientId || /^https?:/.test(path)) return false;
  const [resourcePath, query = ""] = path.split("?");
  const parts = resourcePath.split("/");
  const q = new URLSearchParams(query);
  if ([...q.keys()].some(k => k.startsWith("_include") || k.startsWith("_revinclude") || k.startsWith("_getpages") || k.startsWith("_has"))) {
    return false;
  }
  if (parts[0] === "Patient" && parts[1] === patientId && (parts.length === 2 || (parts.length === 3 && parts[2].startsWith("$")))) {
    return true;
  }
  if (parts.length !== 1 || !/^[A-Z][A-Za-z]+$/.test(parts[0])) return false;
  for (const name of ["patient", "subject"]) {
    const values = q.getAll(name);
    if (values.length === 1 && (values[0] === patientId || values[0] === "Patient/" + patientId)) return true;
  }
  return false;
}

export class Fhir extends FhirClient {
  /**
   * Break the glass for the patient in context: from now on, and in this page only, the reads about that one
   * patient carry X-Purpose-Of-Use: BTG (and the reason, for the audit record); nothing else does.
   */
  breakGlass(reason) {
    this.glass = { patientId: this.patientId, reason };
  }

  get glassBroken() {
    return Boolean(this.glass);
  }

  async request(path, { method = "GET", body, ifMatch, retried = false } = {}) {
    const headers = {};
    if (ifMatch) {
      headers["If-Match"] = ifMatch;
    }
    if (this.glass && aboutOnePatient(method, path, this.glass.patientId)) {
      headers["X-Purpose-Of-Use"] = "BTG";
      headers["X-Purpose-Of-Use-Reason"] = encodeURIComponent(this.glass.reason);
    }
    try {
      return await super.request(path, { method, body, headers });
    } catch (e) {
      if (e instanceof FhirError && e.status === 401 && !retried) {
        // the sign-in has ended (access tokens last an hour): refresh silently when the app holds a refresh token,
        // otherwise tell the page once, which offers "sign in again" instead of every later action failing
        if (this.client.state.tokenResponse.refresh_token) {
          await this.client.refresh();
          return this.request(path, { method, body, ifMatch, retried: true });
        }
        window.dispatchEvent(new CustomEvent("nssi:signed-out"));
      }
      throw e;
    }
  }

  /** All resources of a search, following the next links (at most `maxPages` pages). */
  async search(path, maxPages = 50) {
    if (this.glass && aboutOnePatient("GET", path, this.glass.patientId)) {
      return this.searchByOffset(path, maxPages);
    }
    return this.pages(path, maxPages);
  }

  /**
   * Under break-the-glass a search's next link (a stored-search page, not about one patient) cannot carry BTG, and
   * without it the restricted records of later pages would be hidden: the same search is asked again with _offset.
   */
  async searchByOffset(path, maxPages) {
    const [resourcePath, query = ""] = path.split("?");
    const q = new URLSearchParams(query);
    const count = Number(q.get("_count")) || 200;
    q.set("_count", String(count));
    const out = [];
    for (let page = 0; page < maxPages; page++) {
      q.set("_offset", String(page * count));
      const bundle = await this.request(resourcePath + "?" + q.toString());
      entries(bundle, out);
      if (!(bundle.link || []).some(l => l.relation === "next")) break;
    }
    return out;
  }

  create(resource) {
    return this.request(resource.resourceType, { method: "POST", body: resource });
  }

  /** Updates the resource only if it is still the version read (If-Match); a 412 means someone changed it since. */
  update(resource) {
    const version = resource.meta && resource.meta.versionId;
    return this.request(resource.resourceType + "/" + resource.id,
      { method: "PUT", body: resource, ifMatch: version ? 'W/"' + version + '"' : undefined });
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
