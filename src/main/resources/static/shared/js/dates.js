// One way of writing dates and times in both apps (the clinician app and the person's app load this same file, same
// origin, allowed by their strict CSP's script-src 'self'): the browser's own language (navigator.languages, so a
// browser set to English (UK) reads "6 Dec 2026, 14:05") and its own time zone. A FHIR date without a time
// ("2026-12-06": a birth date, a diary card's day) is that calendar day, shown as a date only: no invented "00:00",
// never shifted a day by UTC (new Date("2011-03-04") is UTC midnight, the 3rd in New York: a birth date read so was a
// day early). A year or a month alone ("2011", "2011-03") is written as just that, not as an invented first day.

const DATE = { day: "numeric", month: "short", year: "numeric" };
const DATE_TIME = { ...DATE, hour: "2-digit", minute: "2-digit" };
const DATE_ONLY = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

function locales() {
  return navigator.languages && navigator.languages.length ? navigator.languages : undefined;
}

/** A FHIR date, dateTime or instant (or a Date) as a Date; a date without a time is that local day, at its start. */
export function toDate(value) {
  if (value instanceof Date) return value;
  const m = DATE_ONLY.exec(String(value));
  return m ? new Date(Number(m[1]), Number(m[2] || 1) - 1, Number(m[3] || 1)) : new Date(value);
}

/** Whether a FHIR value has no time of day (a date, "2026-12-06"). */
export function isDateOnly(value) {
  return !(value instanceof Date) && DATE_ONLY.test(String(value));
}

/** "6 Dec 2026"; a FHIR year or year-month as written: "2011", "Mar 2011". */
export function formatDate(value) {
  if (value === null || value === undefined || value === "") return "";
  const m = value instanceof Date ? null : DATE_ONLY.exec(String(value));
  if (m && !m[2]) return m[1];
  if (m && !m[3]) return new Intl.DateTimeFormat(locales(), { month: "short", year: "numeric" }).format(toDate(value));
  return new Intl.DateTimeFormat(locales(), DATE).format(toDate(value));
}

/** "6 Dec 2026, 14:05"; a FHIR date without a time is written as a date only. */
export function formatDateTime(value) {
  if (value === null || value === undefined || value === "") return "";
  if (isDateOnly(value)) return formatDate(value);
  return new Intl.DateTimeFormat(locales(), DATE_TIME).format(toDate(value));
}

/** The calendar day a FHIR value is on in the browser's time zone (a date as written): "2026-12-06". */
export function localDay(value) {
  const d = toDate(value);
  return [d.getFullYear(), String(d.getMonth() + 1).padStart(2, "0"), String(d.getDate()).padStart(2, "0")].join("-");
}

/** A month on the chart's axis: "Dec 26". */
export function formatMonth(value) {
  return new Intl.DateTimeFormat(locales(), { month: "short", year: "2-digit" }).format(toDate(value));
}
