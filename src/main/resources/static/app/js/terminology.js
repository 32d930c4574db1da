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

export async function displays(fhir, name) {
  const map = new Map();
  for (const c of await expand(fhir, name)) map.set(c.system + "|" + c.code, c.display);
  return map;
}
