// The person's app's FHIR client: the shared one (/shared/js/fhir-core.js) telling a network failure (offline)
// apart from an answer of the server, so that entries can wait on the phone instead of being lost.

import { FhirClient, FhirError } from "/shared/js/fhir-core.js";

export { FhirError, conceptText } from "/shared/js/fhir-core.js";

export const CS = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
export const VS = "https://nssi-fhir.org/fhir/ValueSet/";
export const APP_IDENTIFIER = "urn:nssi-fhir:patient-app";
export const HTEST = { system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "HTEST" };

/** How long before the access token expires the app renews it. */
const REFRESH_BEFORE_MS = 60000;

const ERROR_CODE = /\b(?:NSSI|HAPI)-\d{4}\b/g;

/** A server's error in plain words for the person: its error codes (NSSI-…, HAPI-…) taken out. */
export function plainError(error) {
  return String((error && error.message) || "").replace(/\b(?:NSSI|HAPI)-\d{4}:?\s*/g, "").trim();
}

/**
 * Shows a message about a failure: plain words only; the server's error codes, which support may ask for, are kept
 * in the element's data-error-code attribute, never in the words.
 */
export function sayError(element, text, error) {
  element.textContent = text;
  const codes = String((error && error.message) || "").match(ERROR_CODE);
  if (codes) element.dataset.errorCode = [...new Set(codes)].join(" ");
  else delete element.dataset.errorCode;
}

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

  /** Whether the sign-in can be renewed without the person (a refresh token, from offline_access). */
  get canRefresh() {
    return Boolean(this.client.state.tokenResponse && this.client.state.tokenResponse.refresh_token);
  }

  /**
   * Every request first renews an access token that expires within a minute, and a 401 once more after a renewal:
   * the person is asked to sign in again only when the refresh token itself is refused (e.g. the account was
   * disabled, or the token was used twice).
   */
  async request(path, options = {}) {
    await this.freshToken();
    try {
      return await super.request(path, options);
    } catch (error) {
      if (error instanceof FhirError && error.status === 401 && !options.retried && this.canRefresh) {
        await this.refreshNow();
        return this.request(path, { ...options, retried: true });
      }
      throw error;
    }
  }

  async freshToken() {
    const expiresAt = this.client.state.expiresAt;
    if (this.canRefresh && expiresAt && expiresAt * 1000 - Date.now() < REFRESH_BEFORE_MS) {
      await this.refreshNow();
    }
  }

  /** Renews the tokens (the refresh token rotates); a network failure keeps the old one for a later try. */
  async refreshNow() {
    if (!this.refreshing) {
      const kept = this.client.state.tokenResponse.refresh_token;
      this.refreshing = this.client.refresh().catch(error => {
        if (!navigator.onLine || error instanceof TypeError) {
          // offline: fhirclient drops the refresh token on any failure; it is still good, keep it
          this.client.state.tokenResponse.refresh_token = kept;
          this.client.environment.getStorage().set(this.client.state.key, this.client.state);
          throw new OfflineError(error.message);
        }
        throw new FhirError(401, null);
      }).finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  /** While the app is open, renews the sign-in a minute before it would end, so that nothing waits on it. */
  keepSignedIn() {
    clearTimeout(this.renewal);
    const expiresAt = this.client.state.expiresAt;
    if (!this.canRefresh || !expiresAt) return;
    const wait = Math.max(5000, expiresAt * 1000 - Date.now() - REFRESH_BEFORE_MS);
    this.renewal = setTimeout(async () => {
      try {
        await this.freshToken();
      } catch {
        // offline, or refused: the next request says so
      }
      this.keepSignedIn();
    }, wait);
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
