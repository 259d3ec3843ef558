// Inputs and exits around the scanning page: a hand-held scanner typing like a keyboard, and
// warnings before leaving with actions not yet sent.

import { fmt } from "./view.js";

const TEXT_FIELD = 'textarea, select, [contenteditable], input:not([type="radio"]):not([type="checkbox"])'
  + ':not([type="button"]):not([type="submit"])';

/** A hand-held scanner types the code and presses Enter: outside text fields the keys are
 * gathered here and `onCode(text)` is called on Enter. Text fields handle their own Enter. */
export function listenForScanner(onCode, target = document) {
  let typed = "";
  let typedAt = 0;
  target.addEventListener("keydown", (event) => {
    if (event.target.closest?.(TEXT_FIELD) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (Date.now() - typedAt > 2000) typed = "";
    typedAt = Date.now();
    if (event.key === "Enter") {
      if (!typed) return; // a plain Enter still presses the focused button
      event.preventDefault(); // a scanner's Enter must not press the focused button
      onCode(typed);
      typed = "";
    } else if (event.key.length === 1) {
      typed += event.key;
      if (event.key === " ") event.preventDefault();
    }
  });
}

/** Warn before the page is closed or reloaded, or the sampler logs out, with unsent actions. */
export function guardUnsent(pendingCount, T) {
  let leaving = false;
  window.addEventListener("beforeunload", (event) => {
    if (leaving || !pendingCount()) return;
    event.preventDefault();
    event.returnValue = T.leave_warning;
  });
  for (const form of document.querySelectorAll('form[action$="/logout"]')) {
    form.addEventListener("submit", (event) => {
      const n = pendingCount();
      if (n && !window.confirm(fmt(T.confirm_logout, { n }))) {
        event.preventDefault();
        return;
      }
      leaving = true;
    });
  }
  // Switching the language keeps the work on this phone: no warning.
  for (const link of document.querySelectorAll("a[hreflang]")) link.addEventListener("click", () => { leaving = true; });
}
