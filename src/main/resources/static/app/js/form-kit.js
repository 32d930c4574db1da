// Small, accessible form building blocks (label + control + error message tied with aria-describedby).
let counter = 0;

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === "text") node.textContent = v;
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  node.append(...children.filter(c => c !== null && c !== undefined));
  return node;
}

/** A field wrapper with an error slot; `control` is an input/select or a fieldset. */
export function field(name, labelText, control, { hint } = {}) {
  const id = control.id || (control.id = "f-" + name + "-" + ++counter);
  const error = h("p", { className: "field-error", id: id + "-error", hidden: true });
  const hintEl = hint ? h("p", { className: "hint", id: id + "-hint", text: hint }) : null;
  control.setAttribute("aria-describedby", [hintEl && hintEl.id, error.id].filter(Boolean).join(" "));
  const wrapper = control.tagName === "FIELDSET"
    ? h("div", { className: "field", "data-field": name }, control, hintEl, error)
    : h("div", { className: "field", "data-field": name }, h("label", { for: id, text: labelText }), hintEl, control, error);
  return wrapper;
}

/** A group of checkboxes or radios in a fieldset with a legend. */
export function choices(name, legend, options, { multiple = false, required = false } = {}) {
  const set = h("fieldset", { className: "choices", id: "f-" + name + "-" + ++counter });
  set.append(h("legend", { text: legend + (required ? " (required)" : "") }));
  options.forEach((o, i) => {
    const id = set.id + "-" + i;
    const input = h("input", { type: multiple ? "checkbox" : "radio", name, id, value: i });
    input.option = o;
    set.append(h("div", { className: "choice" }, input, h("label", { for: id, text: o.display })));
  });
  return set;
}

export function checked(container, name) {
  return [...container.querySelectorAll(`input[name="${name}"]:checked`)].map(i => i.option);
}

export function select(name, options, { empty = "—" } = {}) {
  const s = h("select", { name });
  s.append(new Option(empty, ""));
  options.forEach((o, i) => {
    const opt = new Option(o.display, String(i));
    opt.option = o;
    s.append(opt);
  });
  return s;
}

export function selected(selectEl) {
  const opt = selectEl.selectedOptions[0];
  return opt && opt.option ? opt.option : null;
}

export function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach(e => { e.hidden = true; e.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach(e => e.removeAttribute("aria-invalid"));
}

export function showError(form, name, message) {
  const wrapper = form.querySelector(`.field[data-field="${name}"]`);
  if (!wrapper) return false;
  const error = wrapper.querySelector(".field-error");
  error.textContent = error.textContent ? error.textContent + " " + message : message;
  error.hidden = false;
  const control = wrapper.querySelector("input, select, textarea, fieldset");
  if (control) control.setAttribute("aria-invalid", "true");
  return true;
}
