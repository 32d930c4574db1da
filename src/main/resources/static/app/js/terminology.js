// Codes and their displays, from the server's ValueSets ($expand): the forms offer exactly what the profiles allow.
import { VS } from "./config.js";

const cache = new Map();

export function expand(fhir, name) {
  if (!cache.has(name)) {
    const url = name.startsWith("http") ? name : VS + name;
    cache.set(name, fhir.request("ValueSet/$expand?url=" + encodeURIComponent(url))
      .then(vs => ((vs.expansion && vs.expansion.contains) || []).map(c => ({ system: c.system, code: c.code, display: c.display || c.code }))));
  }
  return cache.get(name);
}

const PLAIN_LABEL_USE = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
const plainCache = new Map();

/**
 * The plain-language labels of a ValueSet's concepts ("system|code" → words for the person: designations with use
 * plain-label, in English), read from the ValueSet itself because HAPI's $expand does not return them. A form shows
 * them and stores the code with its real display (a SNOMED CT term is never replaced by our wording in the data).
 */
export function plainLabels(fhir, name) {
  if (!plainCache.has(name)) {
    const url = name.startsWith("http") ? name : VS + name;
    plainCache.set(name, fhir.request("ValueSet?url=" + encodeURIComponent(url)).then(bundle => {
      const labels = new Map();
      const vs = ((bundle.entry || [])[0] || {}).resource;
      for (const include of ((vs && vs.compose && vs.compose.include) || [])) {
        for (const concept of include.concept || []) {
          const plain = (concept.designation || []).find(d => d.use && d.use.system === PLAIN_LABEL_USE && d.use.code === "plain-label"
            && (d.language || "en").startsWith("en"));
          if (plain) labels.set(include.system + "|" + concept.code, plain.value);
        }
      }
      return labels;
    }).catch(() => new Map()));
  }
  return plainCache.get(name);
}

export async function displays(fhir, name) {
  const map = new Map();
  for (const c of await expand(fhir, name)) map.set(c.system + "|" + c.code, c.display);
  return map;
}
