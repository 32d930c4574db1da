// The person's app's FHIR client: the shared one (/shared/js/fhir-core.js) telling a network failure (offline)
// apart from an answer of the server, so that entries can wait on the phone instead of being lost.

import { FhirClient } from "/shared/js/fhir-core.js";

export { FhirError, conceptText } from "/shared/js/fhir-core.js";

export const CS = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
export const VS = "https://nssi-fhir.org/fhir/ValueSet/";
export const APP_IDENTIFIER = "urn:nssi-fhir:patient-app";
export const HTEST = { system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "HTEST" };

/** The request never reached the server (offline, or the connection dropped). */
export class OfflineError extends Error {}

export class Fhir extends FhirClient {
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

  async send(url, init) {
    try {
      return await fetch(url, init);
    } catch (networkError) {
      throw new OfflineError(networkError.message);
    }
  }

  /** The resources of a search (its first pages). */
  search(path, maxPages = 5) {
    return this.pages(path, maxPages);
  }
}

/** A random UUID, made on the phone: the identifier that makes an entry's creation happen once. */
export function uuid() {
  return crypto.randomUUID();
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
