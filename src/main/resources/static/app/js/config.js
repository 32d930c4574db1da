// Code systems, value sets and profiles the app writes and reads. (Its client id and scopes come from the
// server: client.json.)
export const CS = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
export const VS = "https://nssi-fhir.org/fhir/ValueSet/";
export const EPISODE_PROFILE = "https://nssi-fhir.org/fhir/StructureDefinition/nssi-episode";
export const QUESTIONNAIRE = "https://nssi-fhir.org/fhir/Questionnaire/";
export const HTEST = { system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "HTEST" };
