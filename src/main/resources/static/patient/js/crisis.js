// Crisis contacts, configured per deployment (nssi.patient-app.crisis-contacts, served as config.json): always on
// the page, and brought into view and announced when the person's answers say they may not be safe.
import { t } from "./i18n.js";
import { h } from "./fhir.js";

export async function loadContacts() {
  try {
    const response = await fetch("config.json");
    const config = await response.json();
    localStorage.setItem("nssi-patient-config", JSON.stringify(config));
    return config.crisisContacts || [];
  } catch {
    const cached = localStorage.getItem("nssi-patient-config");
    return cached ? JSON.parse(cached).crisisContacts || [] : [];
  }
}

/** One contact as a large call link (tel:), with what it is for. */
export function contactItem(contact) {
  const phone = String(contact.phone || "").replace(/[^0-9+]/g, "");
  return h("li", {},
    // the link's name is its visible text (WCAG 2.5.3: a voice user says what they see), with "Call" before it for
    // screen readers only
    h("a", { className: "call", href: "tel:" + phone },
      h("span", { className: "visually-hidden", text: t("callPrefix") + " " }),
      h("span", { className: "call-name", text: contact.name }), h("span", { className: "call-phone", text: contact.phone })),
    contact.text ? h("span", { className: "call-text", text: contact.text }) : null);
}

export function renderContacts(list, contacts) {
  list.replaceChildren(...contacts.map(contactItem));
}

/** Brings the crisis section into view and announces it (a role=alert copy next to where the person is). */
export function showCrisisNear(anchor, contacts, messageKey) {
  let box = anchor.querySelector(":scope > .crisis-now");
  if (!box) {
    box = h("div", { className: "crisis-now", role: "alert" });
    anchor.append(box);
  }
  box.replaceChildren(h("p", { text: t(messageKey) }), h("ul", { className: "contacts" }, contacts.map(contactItem)));
  box.hidden = false;
  return box;
}

export function hideCrisisNear(anchor) {
  const box = anchor.querySelector(":scope > .crisis-now");
  if (box) box.hidden = true;
}
