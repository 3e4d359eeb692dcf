// push.js — alerts that reach the user when the page is closed: the
// service worker (/sw.js, scope "/"), Web Push on this browser (the
// courier sends each match as a push, see courier/doc.go), the list of
// browsers receiving push, and the time zone of the daily mail digest.
//
// API: GET /api/push/key → {publicKey} (VAPID, base64url);
// GET/POST /api/push/subscriptions, DELETE /api/push/subscriptions/{id};
// GET/PUT /api/me/notifications {timeZone}.

import { h, clear, show, api, errorText, status, str, dateTime, $ } from "./dom.js";

let registration = null; // Promise<ServiceWorkerRegistration|null>

/**
 * registerWorker registers /sw.js at scope "/" once per page; it resolves
 * to the registration, or null when the browser has no service workers
 * (or refuses them: private mode, an insecure origin).
 */
export function registerWorker() {
  if (!registration) {
    registration = !("serviceWorker" in navigator)
      ? Promise.resolve(null)
      : navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((err) => {
          console.warn("birjob: service worker:", err?.message || err);
          return null;
        });
  }
  return registration;
}

/** pushSupported tells whether this browser can receive Web Push. */
function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** keyBytes decodes a base64url VAPID key for applicationServerKey. */
function keyBytes(b64url) {
  const b64 = str(b64url).replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** zones lists the IANA time zones the browser knows, or []. */
export function zones() {
  try {
    return typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  } catch {
    return [];
  }
}

/** browserZone is this browser's time zone, or "UTC". */
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/**
 * PushSettings is the "When the page is closed" panel of the alerts tab.
 * Its controls are stable for tests: #push-toggle (checkbox),
 * #push-status, #push-list (li[data-id] with a "Remove" button), #tz
 * (select) in #tz-form, #tz-status.
 */
export class PushSettings {
  constructor() {
    this.toggle = $("push-toggle");
    this.pushStatus = $("push-status");
    this.list = $("push-list");
    this.tz = $("tz");
    this.tzStatus = $("tz-status");
    this.loads = 0;
    this.busy = false;
    this.here = false; // this browser receives push
    this.mirrors = []; // other lists of the browsers (the account page's)
    this.toggle.addEventListener("change", () => this.onToggle());
    $("tz-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.saveZone();
    });
  }

  /** load reads the user's browsers and time zone. */
  async load() {
    const n = ++this.loads;
    if (!pushSupported()) {
      this.toggle.disabled = true;
      status(this.pushStatus, "This browser cannot receive push notifications.", "muted");
    }
    await Promise.all([this.loadList(n), this.loadZone(n)]);
  }

  /** reset forgets the user (sign-out). */
  reset() {
    this.loads++;
    clear(this.list);
    for (const m of this.mirrors) clear(m);
    this.here = false;
    this.toggle.checked = false;
    status(this.pushStatus, "");
    status(this.tzStatus, "");
  }

  /** current is this browser's push subscription, or null. */
  async current() {
    if (!pushSupported()) return null;
    const reg = await registerWorker();
    return reg ? reg.pushManager.getSubscription().catch(() => null) : null;
  }

  /** loadList reads the user's browsers; it resolves to the answer's status. */
  async loadList(n = this.loads) {
    let subs;
    try {
      const body = await api("GET", "/api/push/subscriptions");
      subs = Array.isArray(body?.subscriptions) ? body.subscriptions : [];
    } catch (err) {
      if (n === this.loads) status(this.pushStatus, `Could not load your browsers: ${errorText(err)}`);
      return err?.status ?? 0;
    }
    const mine = await this.current();
    if (n !== this.loads) return 0;
    const here = mine ? subs.find((s) => str(s.endpoint) === mine.endpoint) : null;
    this.here = !!here;
    if (!this.busy) this.toggle.checked = !!here;
    for (const list of [this.list, ...this.mirrors]) {
      clear(list);
      for (const s of subs) list.append(this.renderSub(s, s === here));
      if (!subs.length) list.append(h("li", { class: "empty", text: "No browser receives push yet. Turn it on with “Push on this browser” in My alerts." }));
    }
    return 200;
  }

  /** mirror makes list show the browsers too (the account page), from the next load on. */
  mirror(list) {
    if (!this.mirrors.includes(list)) this.mirrors.push(list);
  }

  /** pushHere tells whether this browser receives the courier's push. */
  pushHere() {
    return this.here;
  }

  renderSub(s, here) {
    const what = str(s.userAgent) || "A browser";
    const since = dateTime(s.createdAt);
    return h(
      "li",
      { "data-id": str(s.id), class: here ? "push-sub here" : "push-sub" },
      h("span", { class: "who", text: what }),
      here ? h("span", { class: "badge", text: "this browser" }) : null,
      since ? h("small", { class: "muted", text: ` since ${since}` }) : null,
      " ",
      h("button", {
        type: "button",
        class: "danger",
        text: "Remove",
        "aria-label": `Stop push to ${what}${here ? " (this browser)" : ""}`,
        onclick: () => this.remove(s, here),
      }),
    );
  }

  async remove(s, here) {
    try {
      await api("DELETE", `/api/push/subscriptions/${encodeURIComponent(str(s.id))}`);
      if (here) await (await this.current())?.unsubscribe().catch(() => false);
      status(this.pushStatus, "");
    } catch (err) {
      if (err?.status !== 404) status(this.pushStatus, `Could not remove that browser: ${errorText(err)}`);
    }
    await this.loadList();
  }

  async onToggle() {
    const on = this.toggle.checked;
    this.busy = true;
    this.toggle.disabled = true;
    status(this.pushStatus, on ? "Turning push on…" : "Turning push off…", "muted");
    try {
      if (on) await this.subscribe();
      else await this.unsubscribe();
      status(this.pushStatus, on ? "Push is on: matches reach this browser when birjob is closed." : "Push is off for this browser.", "ok");
    } catch (err) {
      this.toggle.checked = !on;
      status(this.pushStatus, `Push could not be turned ${on ? "on" : "off"}: ${err?.status !== undefined ? errorText(err) : str(err?.message || err)}`);
    } finally {
      this.busy = false;
      this.toggle.disabled = !pushSupported();
    }
    await this.loadList();
  }

  async subscribe() {
    const perm = await Notification.requestPermission();
    if (perm !== "granted") throw new Error(perm === "denied" ? "notifications are blocked for this site; allow them in the browser's site settings" : "notifications were not allowed");
    const reg = await registerWorker();
    if (!reg) throw new Error("the service worker could not be registered");
    const { publicKey } = (await api("GET", "/api/push/key")) || {};
    let sub = await reg.pushManager.getSubscription();
    if (sub && !sameKey(sub, publicKey)) {
      await sub.unsubscribe(); // made for another server key
      sub = null;
    }
    sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
    try {
      await api("POST", "/api/push/subscriptions", sub.toJSON());
    } catch (err) {
      await sub.unsubscribe().catch(() => false);
      throw err;
    }
  }

  async unsubscribe() {
    const sub = await this.current();
    if (!sub) return;
    const body = await api("GET", "/api/push/subscriptions");
    const row = (Array.isArray(body?.subscriptions) ? body.subscriptions : []).find((s) => str(s.endpoint) === sub.endpoint);
    if (row) await api("DELETE", `/api/push/subscriptions/${encodeURIComponent(str(row.id))}`).catch((err) => {
      if (err?.status !== 404) throw err;
    });
    await sub.unsubscribe();
  }

  async loadZone(n = this.loads) {
    let tz = "";
    try {
      tz = str((await api("GET", "/api/me/notifications"))?.timeZone);
    } catch (err) {
      if (n === this.loads) status(this.tzStatus, `Could not load your time zone: ${errorText(err)}`);
      return;
    }
    if (n !== this.loads) return;
    const guess = browserZone();
    const shown = !tz || (tz === "UTC" && guess !== "UTC") ? guess : tz;
    const names = new Set(zones());
    names.add(shown).add(tz || "UTC").add("UTC");
    clear(this.tz);
    for (const z of [...names].sort()) this.tz.append(h("option", { value: z, text: z }));
    this.tz.value = shown;
    if (shown !== tz) status(this.tzStatus, `Not saved yet: the digest follows ${tz || "UTC"} until you save ${shown}.`, "muted");
    else status(this.tzStatus, "");
  }

  async saveZone() {
    try {
      const out = await api("PUT", "/api/me/notifications", { timeZone: this.tz.value });
      status(this.tzStatus, `Saved: the daily digest follows ${str(out?.timeZone)}.`, "ok");
    } catch (err) {
      status(this.tzStatus, `Could not save the time zone: ${errorText(err)}`);
    }
  }
}

/** sameKey tells whether sub was made for the server key publicKey. */
function sameKey(sub, publicKey) {
  const k = sub.options?.applicationServerKey;
  if (!k) return true; // the browser does not say: keep it
  const a = new Uint8Array(k);
  const b = keyBytes(publicKey);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
