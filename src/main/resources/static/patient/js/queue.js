// Offline first: every entry (a diary card, an episode with it, a request for support) is a FHIR transaction made
// on the phone, kept in localStorage until the server has answered it. Each resource carries an identifier made
// here and is sent as a conditional create on it (If-None-Exist: identifier + the person's own patient): however
// often an entry is sent (a lost answer, two tabs, a retry after a crash), the server stores it once.
import { Fhir, FhirError, OfflineError } from "./fhir.js";

export class Queue {
  /** @param {Fhir} fhir */
  constructor(fhir, onChange, onRefused = () => {}) {
    this.fhir = fhir;
    this.key = "nssi-patient-queue:" + fhir.patientId;
    this.onChange = onChange;
    this.onRefused = onRefused;
    this.onSignedOut = () => {};
    this.sending = null;
    window.addEventListener("online", () => this.flush());
  }

  items() {
    try {
      return JSON.parse(localStorage.getItem(this.key) || "[]");
    } catch {
      return [];
    }
  }

  save(items) {
    localStorage.setItem(this.key, JSON.stringify(items));
    this.onChange(items);
  }

  /** Keeps the entry on the phone, then tries to send everything waiting; the entry's result, or null if it waits. */
  async add(entry) {
    this.save([...this.items(), entry]);
    const results = await this.flush();
    return results.get(entry.id) || null;
  }

  /** Sends what waits, oldest first, one at a time; stops at the first network failure. Runs after any run in progress. */
  flush() {
    const run = (this.sending || Promise.resolve()).catch(() => null).then(() => this.sendAll());
    this.sending = run;
    return run;
  }

  async sendAll() {
    const results = new Map();
    for (const entry of this.items()) {
      try {
        const answer = await this.fhir.request("", { method: "POST", body: entry.bundle });
        results.set(entry.id, { ok: true, answer });
        this.remove(entry.id);
      } catch (error) {
        if (error instanceof OfflineError) break;
        if (error instanceof FhirError && error.status === 401) {
          // the sign-in has ended (tokens live an hour): the entries wait on the phone for the next sign-in
          this.onSignedOut();
          break;
        }
        if (error instanceof FhirError && error.status >= 500) break; // try again later
        // the server refused it (a mistake that would fail again): shown, and taken off the queue
        results.set(entry.id, { ok: false, error });
        this.remove(entry.id);
        this.onRefused(entry, error);
      }
    }
    this.onChange(this.items());
    return results;
  }

  remove(id) {
    this.save(this.items().filter(e => e.id !== id));
  }
}

/** A transaction of conditional creates, each matched on its own phone-made identifier within the person's record. */
export function transaction(patientId, entries) {
  return {
    resourceType: "Bundle",
    type: "transaction",
    entry: entries.map(({ fullUrl, resource, identifier }) => ({
      fullUrl,
      resource,
      request: {
        method: "POST",
        url: resource.resourceType,
        ifNoneExist: "identifier=" + encodeURIComponent(identifier.system + "|" + identifier.value) + "&patient=Patient/" + patientId,
      },
    })),
  };
}

/** The stored location (Type/id) of each entry of a transaction answer. */
export function locations(answer) {
  return ((answer && answer.entry) || []).map(e => ((e.response && e.response.location) || "").split("/_history")[0]);
}
