// toast.js — in-page notifications in the #toasts live region.

import { h, link } from "./dom.js";

const MAX_TOASTS = 5;
const TOAST_MS = 8000;

/**
 * toast shows a short message for a few seconds. options: url (a link to
 * open, http(s) only), kind ("info", "match", "expired", "error").
 */
export function toast(message, { url = "", kind = "info" } = {}) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const close = h("button", { type: "button", class: "close", "aria-label": "Dismiss", text: "×" });
  const el = h("div", { class: `toast ${kind}`, role: "status" }, url ? link(url, message) : h("span", { text: message }), close);
  const remove = () => el.remove();
  close.addEventListener("click", remove);
  setTimeout(remove, TOAST_MS);
  box.prepend(el);
  while (box.children.length > MAX_TOASTS) box.lastElementChild.remove();
}
