// The registered client (ClinicianApp.java) and the scopes this app uses: read the patient, read and record
// episodes and scores (Observation), answer questionnaires, read alerts, close Tasks, follow care plans.
export const CLIENT_ID = "nssi-clinician-app";
export const SCOPES = [
  "openid", "fhirUser",
  "patient/Patient.r",
  "patient/Observation.crs",
  "patient/QuestionnaireResponse.crs",
  "patient/Flag.rs",
  "patient/CarePlan.rs",
  "patient/Goal.rs",
  "patient/ServiceRequest.rs",
  // Task is not in the R4 Patient compartment: the Tasks this user may see, searched by patient
  "user/Task.rus",
  // starting a treatment (PlanDefinition/$apply) is refused to patient-context scopes; it stores these
  "user/CarePlan.cr",
  "user/Goal.c",
  "user/ServiceRequest.c",
];
export const CS = "https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs";
export const VS = "https://nssi-fhir.org/fhir/ValueSet/";
export const EPISODE_PROFILE = "https://nssi-fhir.org/fhir/StructureDefinition/nssi-episode";
export const QUESTIONNAIRE = "https://nssi-fhir.org/fhir/Questionnaire/";
export const HTEST = { system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "HTEST" };
