// An in-page confirmation dialog instead of window.confirm(): it carries the app's words and look, is a modal
// <dialog> (focus kept inside, Escape cancels, focus returned to the button that asked), and can be checked by
// axe-core like every other screen. The safe choice (keep what was typed) has the focus first.
import { h } from "./form-kit.js";

/** Asks; resolves to true when the clinician confirms, false when they cancel (button or Escape). */
export function ask({ title, text, confirm, cancel }) {
  const opener = document.activeElement;
  const dialog = h("dialog", { id: "confirm-dialog", className: "confirm-dialog", "aria-labelledby": "confirm-dialog-title",
    "aria-describedby": "confirm-dialog-text" });
  const yes = h("button", { type: "button", id: "confirm-dialog-yes", text: confirm });
  const no = h("button", { type: "button", id: "confirm-dialog-no", className: "secondary", text: cancel });
  dialog.append(h("h2", { id: "confirm-dialog-title", text: title }), h("p", { id: "confirm-dialog-text", text }),
    h("p", { className: "dialog-actions" }, no, " ", yes));
  document.body.append(dialog);
  return new Promise(resolve => {
    const done = answer => {
      dialog.close();
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(answer);
    };
    yes.addEventListener("click", () => done(true));
    no.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", event => { event.preventDefault(); done(false); });
    dialog.showModal();
    no.focus();
  });
}
