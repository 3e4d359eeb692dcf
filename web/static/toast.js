// toast.js — in-page notifications: toasts in the #toasts live region, and
// the unread count in the document's title and on its favicon.
//
// Toasts. At most MAX_TOASTS are on screen, newest on top; older ones
// collapse into one line ("3 earlier notifications", with "Clear all").
// A toast given a key replaces the toast of that key still on screen
// (one toast per alert for a burst of matches). clearToasts removes them
// all: a sign-out or another user must not see the previous user's.
//
// Unread. unread.add(n) counts matches that arrived while the user was not
// looking (the page hidden or without focus); the title reads "(5) birjob"
// and the favicon (static/favicon.svg drawn on a canvas) gets a badge with
// the count. Both clear when the user looks: the page becomes visible with
// focus, or gets focus. <html data-unread> carries the count for tests.

import { h, link } from "./dom.js";

const MAX_TOASTS = 3;
// TOAST_MS: how long a toast stays (window.birjobToastMs, in ms, overrides
// it, for tests that read a toast some steps after it came).
const TOAST_MS = 8000;

let collapsed = 0; // toasts pushed out by newer ones since the last clear

function box() {
  return document.getElementById("toasts");
}

/** liveToasts lists the toasts on screen, newest first. */
function liveToasts(b) {
  return [...b.querySelectorAll(":scope > .toast")];
}

/**
 * toast shows a short message for a few seconds and returns its element.
 * options: url (a link to open, http(s) only), kind ("info", "match",
 * "expired", "error"), key (replace the toast of that key still on screen),
 * action ({text, onclick}: a button beside the message), sticky (no timeout).
 */
export function toast(message, { url = "", kind = "info", key = "", action = null, sticky = false } = {}) {
  const b = box();
  if (!b) return null;
  if (key) b.querySelector(`:scope > .toast[data-key="${CSS.escape(key)}"]`)?.remove();
  const close = h("button", { type: "button", class: "close", "aria-label": "Dismiss", text: "×" });
  const el = h(
    "div",
    { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status", "data-key": key || null },
    url ? link(url, message) : h("span", { text: message }),
    action ? h("button", { type: "button", class: "toast-action", text: action.text, onclick: () => (action.onclick(), el.remove()) }) : null,
    close,
  );
  let timer = 0;
  const remove = () => {
    clearTimeout(timer);
    el.remove();
    if (!liveToasts(b).length) resetCollapsed(b);
  };
  close.addEventListener("click", remove);
  if (!sticky) timer = setTimeout(remove, Number(window.birjobToastMs) > 0 ? Number(window.birjobToastMs) : TOAST_MS);
  b.prepend(el);
  const all = liveToasts(b);
  for (const old of all.slice(MAX_TOASTS)) {
    old.remove();
    collapsed++;
  }
  showCollapsed(b);
  return el;
}

/** showCollapsed renders the line that stands for the toasts pushed out. */
function showCollapsed(b) {
  let more = b.querySelector(":scope > .toast-more");
  if (!collapsed) {
    more?.remove();
    return;
  }
  if (!more) {
    more = h("div", { class: "toast-more" }, h("span"), h("button", { type: "button", text: "Clear all", onclick: () => clearToasts() }));
  }
  more.firstChild.textContent = collapsed === 1 ? "1 earlier notification" : `${collapsed} earlier notifications`;
  b.append(more);
}

function resetCollapsed(b) {
  collapsed = 0;
  showCollapsed(b);
}

/** clearToasts removes every toast (sign-out, another user). */
export function clearToasts() {
  const b = box();
  if (!b) return;
  collapsed = 0;
  b.replaceChildren();
}

// ---- unread count ----

const ICON_PX = 64;

class Unread {
  constructor() {
    this.count = 0;
    this.title = document.title.replace(/^\(\d+\+?\) /, "");
    this.icon = document.querySelector('link[rel="icon"]');
    this.iconHref = this.icon?.href || "";
    this.iconType = this.icon?.type || "";
    this.image = null; // Promise<HTMLImageElement|null> of the favicon
    this.drawn = 0; // draws started; a later one wins
    const look = () => {
      if (this.looking()) this.clear();
    };
    document.addEventListener("visibilitychange", look);
    window.addEventListener("focus", look);
  }

  /** looking tells whether the user sees the page now. */
  looking() {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  /** add counts n matches unless the user is looking at the page. */
  add(n = 1) {
    if (n <= 0 || this.looking()) return;
    this.set(this.count + n);
  }

  clear() {
    if (this.count) this.set(0);
  }

  set(n) {
    this.count = n;
    const label = n > 99 ? "99+" : String(n);
    document.title = n ? `(${label}) ${this.title}` : this.title;
    if (n) document.documentElement.dataset.unread = String(n);
    else delete document.documentElement.dataset.unread;
    this.drawIcon(n ? label : "");
  }

  /** drawIcon puts the favicon with a badge reading label ("" for none). */
  async drawIcon(label) {
    const n = ++this.drawn;
    if (!this.icon || !this.iconHref) return;
    if (!label) {
      this.icon.type = this.iconType;
      this.icon.href = this.iconHref;
      delete this.icon.dataset.badge;
      return;
    }
    this.image ??= new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => resolve(null);
      img.src = this.iconHref;
    });
    const img = await this.image;
    if (n !== this.drawn) return;
    const c = document.createElement("canvas");
    c.width = c.height = ICON_PX;
    const g = c.getContext("2d");
    if (!g) return;
    if (img) g.drawImage(img, 0, 0, ICON_PX, ICON_PX);
    const r = label.length > 1 ? 22 : 18;
    g.fillStyle = "#cf222e";
    g.beginPath();
    g.arc(ICON_PX - r, r, r, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = "#fff";
    g.font = `bold ${label.length > 2 ? 18 : label.length > 1 ? 24 : 28}px system-ui, sans-serif`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(label, ICON_PX - r, r + 1);
    this.icon.type = "image/png";
    this.icon.href = c.toDataURL("image/png");
    this.icon.dataset.badge = label;
  }
}

/** unread is the page's unread count (title and favicon). */
export const unread = new Unread();
