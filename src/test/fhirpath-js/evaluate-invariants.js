// Evaluates FHIRPath invariants with HL7's fhirpath.js and its R4 model, for FhirPathEnginesAgreeTest.
// Usage: node evaluate-invariants.js <cases.json> <results.json>
// cases.json: { "resources": [<FHIR JSON>...], "tasks": [{ "resource": <index>, "path": "Observation.component",
//   "expression": "..." }...] }
// results.json: one entry per task, in order: { "nodes": [ { "result": [...] } | { "error": "..." } ] } or
//   { "error": "..." } when the element path itself cannot be evaluated. Each node is an instance of the element
//   the invariant sits on, in document order, evaluated as a validator does: that node as the focus, %resource and
//   %rootResource the whole resource.
'use strict';
const fs = require('fs');
const fhirpath = require('fhirpath');
const r4 = require('fhirpath/fhir-context/r4');

const [casesFile, resultsFile] = process.argv.slice(2);
const { resources, tasks } = JSON.parse(fs.readFileSync(casesFile, 'utf8'));

// a result item as plain text, the same way the Java side writes HAPI's: primitives by value, anything else by kind
function normalise(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean' || typeof value === 'string') return String(value);
  if (typeof value === 'number') return String(value);
  return 'complex';
}

const compiledPaths = new Map();
const compiled = new Map();
// element paths are kept as fhirpath.js's internal nodes (resolveInternalTypes: false), so each node keeps its
// type and place in the resource when it becomes the focus of an invariant
function compile(cache, expression) {
  if (!cache.has(expression)) {
    cache.set(expression, fhirpath.compile(expression, r4, { resolveInternalTypes: cache !== compiledPaths }));
  }
  return cache.get(expression);
}

const results = tasks.map((task) => {
  const resource = resources[task.resource];
  const env = { resource, rootResource: resource };
  let nodes;
  try {
    nodes = task.path.includes('.')
      ? compile(compiledPaths, task.path)(resource, env)
      : [resource];
  } catch (e) {
    return { error: 'path: ' + e.message };
  }
  return {
    nodes: nodes.map((node) => {
      try {
        return { result: compile(compiled, task.expression)(node, env).map(normalise) };
      } catch (e) {
        return { error: e.message };
      }
    }),
  };
});
fs.writeFileSync(resultsFile, JSON.stringify(results));
