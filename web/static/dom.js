// dom.js — small helpers to build the page safely and to talk to the API.
//
// Everything shown comes from scraped, untrusted text: it goes into the page
// through textContent and attributes only, never through innerHTML, and only
// http(s) URLs become links.

/**
 * h builds an element. attrs: "class", "text" (textContent), "on<event>"
 * (listener), boolean true/false (present/absent attribute), anything else
 * a string attribute. Children are nodes or strings (as text); null skips.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") el.textContent = String(v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "href" || k === "src") throw new Error("use link() for URLs");
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** safeURL returns url as an absolute http(s) URL, or "" for anything else. */
export function safeURL(url) {
  if (typeof url !== "string" || url === "") return "";
  try {
    const u = new URL(url, location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : "";
  } catch {
    return "";
  }
}

/** link is an external link to url, or plain text when url is not http(s). */
export function link(url, text, attrs = {}) {
  const href = safeURL(url);
  if (!href) return h("span", attrs, text);
  const a = h("a", { ...attrs, target: "_blank", rel: "noopener noreferrer nofollow" }, text);
  a.href = href;
  return a;
}

/** clear removes all children of el. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

/** show toggles the hidden attribute. */
export function show(el, on = true) {
  el.hidden = !on;
  return el;
}

/** $ is getElementById. */
export const $ = (id) => document.getElementById(id);

/** APIError is a failed API call; message is the server's error text. */
export class APIError extends Error {
  constructor(status, message, retryAfter = 0) {
    super(message);
    this.status = status;
    /** retryAfter: seconds the server asked to wait (503), else 0. */
    this.retryAfter = retryAfter;
  }
}

/**
 * api calls the JSON API. It resolves to the decoded body (null for 204)
 * and rejects with an APIError carrying the server's {"error": "…"}.
 */
export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new APIError(0, "the server cannot be reached; check your connection");
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const msg = data && typeof data.error === "string" ? data.error : `${method} ${path} answered ${res.status}`;
    throw new APIError(res.status, msg, Number(res.headers.get("Retry-After")) || 0);
  }
  return data;
}

/** errorText is the message to show for a failed call. */
export function errorText(err) {
  return err instanceof APIError ? err.message : `unexpected error: ${err?.message || err}`;
}

/** status puts a message (or nothing) into a status element. */
export function status(el, message, kind = "error") {
  if (!el) return;
  el.textContent = message || "";
  el.className = `status ${kind}`;
  el.hidden = !message;
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
// Signs every common font has; other currencies (₼ is missing from many
// fonts) are shown by their code.
const CURRENCY_SIGNS = { USD: "$", EUR: "€", GBP: "£" };

/** formatSalary renders {min,max,currency,period} or "" when unknown. */
export function formatSalary(s) {
  if (!s || typeof s !== "object") return "";
  const min = Number(s.min) || 0;
  const max = Number(s.max) || 0;
  if (!min && !max) return "";
  const cur = typeof s.currency === "string" ? s.currency : "";
  const sign = CURRENCY_SIGNS[cur] || "";
  const n = (v) => sign + numberFormat.format(v);
  let out = min && max && min !== max ? `${n(min)}–${n(max)}` : min ? (max ? n(min) : `from ${n(min)}`) : `up to ${n(max)}`;
  if (!sign && cur) out += ` ${cur}`;
  if (typeof s.period === "string" && s.period) out += ` / ${s.period}`;
  return out;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** ago renders a timestamp as "3 hours ago", or "" when invalid. */
export function ago(ts) {
  if (!ts) return "";
  const t = new Date(ts).getTime();
  if (!Number.isFinite(t)) return "";
  const sec = Math.round((t - Date.now()) / 1000);
  const abs = Math.abs(sec);
  if (abs < 60) return relative.format(sec, "second");
  if (abs < 3600) return relative.format(Math.round(sec / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(sec / 3600), "hour");
  if (abs < 86400 * 60) return relative.format(Math.round(sec / 86400), "day");
  return new Date(t).toLocaleDateString();
}

/** dateTime renders a timestamp as local date and time, or "". */
export function dateTime(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  return Number.isFinite(d.getTime()) ? d.toLocaleString() : "";
}

/** str returns v when it is a string, else "" (data from the wire is untrusted). */
export const str = (v) => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));

/** list splits "a, b ,c" into ["a","b","c"]. */
export function splitList(s) {
  return String(s || "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
}

/** field is a labelled form control: a <label> wrapping its text and the control. */
export function field(labelText, control, hint) {
  return h("label", { class: "field" }, h("span", { class: "label" }, labelText), control, hint ? h("small", { class: "hint" }, hint) : null);
}
