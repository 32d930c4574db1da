// How the app speaks of the person in care: "the young person" only for someone under 18 (a child and adolescent
// service's word), "the person" for an adult or when the age is not recorded (clinician review s8: "Edit with the
// young person" showed for adults).
import { age } from "./banner.js";

let minor = false;

export function setPerson(patient) {
  const years = age(patient && patient.birthDate);
  minor = years !== null && years < 18;
}

/** "the young person" (under 18) or "the person" */
export function person() {
  return minor ? "the young person" : "the person";
}

/** "the young person's" or "the person's" */
export function persons() {
  return person() + "'s";
}
