// The words of the app: one file per language (text-<lang>.js, same keys). English is the only one so far.
import en from "./text-en.js";

const LANGUAGES = { en };
const lang = (document.documentElement.lang || "en").slice(0, 2);
const TEXT = LANGUAGES[lang] || en;

/** The text for a key, with {placeholders} filled in (as text: never HTML). */
export function t(key, vars = {}) {
  const text = TEXT[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (vars[name] !== undefined ? String(vars[name]) : m));
}

/** Fills every element with a data-t attribute from the language file. */
export function translatePage(root = document) {
  root.querySelectorAll("[data-t]").forEach(el => { el.textContent = t(el.dataset.t); });
  document.title = t("appName");
}
