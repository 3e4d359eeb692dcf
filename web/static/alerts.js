// alerts.js — "My alerts": the signed-in user's saved criteria with their
// recent matches (GET/POST /api/alerts, PUT/DELETE /api/alerts/{id}), and
// the reaction to events of the "me" channel: toasts, browser
// notifications, the unread count, and new matches shown under their
// alerts.
//
// A burst of matches is one toast per alert, updated in place with the
// count ("5 new jobs for “Go developer”"), and one browser notification per
// alert (tag "alert-<id>", the tag of the courier's push, so the two
// replace each other) shown NOTIFY_BURST_MS after the first match of the
// burst, by the tab that holds the browser's stream only. A browser
// notification is shown only while the user is not looking at that tab,
// and not when this browser receives push (the service worker shows the
// courier's push then). Expired matches are
// marked in the lists, never toasted. A muted alert ("muted") lists its
// matches but tells no one. The notification switch (#notify-btn) is kept
// per browser in localStorage (NOTIFY_PREF): off means no match toasts and
// no browser notifications from the page (the lists and the unread count
// still follow; push has its own switch).

import { h, clear, show, api, errorText, status, str, field, safeURL, $ } from "./dom.js";
import { confirmFirst } from "./account.js";
import { criteriaFields, summary } from "./criteria.js";
import { renderJob, markExpired } from "./jobs.js";
import { toast, unread } from "./toast.js";
import { newer } from "./live.js";
import { registerWorker } from "./push.js";

/** NOTIFY_BURST_MS: matches of one alert this close together are one browser notification. */
export const NOTIFY_BURST_MS = 1500;
/** NOTIFY_PREF is the localStorage key of the notification switch ("off" or absent). */
export const NOTIFY_PREF = "birjob-notifications";

const MAX_MATCHES = 10;
const EMAIL_MODES = [
  ["off", "No mail"],
  ["instant", "A mail for each match"],
  ["daily", "A daily digest"],
];

/**
 * Alerts is the "My alerts" tab. Like the job list it keeps the cursor its
 * load came with (lastEventId) and applies only "me" events above it;
 * events that arrive while it loads wait for the answer.
 */
export class Alerts {
  constructor(hooks = {}) {
    // pushHere: this browser receives the courier's push (no page notifications then);
    // leader: this tab holds the browser's stream (the one tab that shows notifications).
    this.hooks = { loading: () => {}, loaded: () => {}, pushHere: () => false, leader: () => true, ...hooks };
    this.seen = ""; // the last event id the list reflects
    this.waiting = null; // events that came during a load
    this.loads = 0; // loads started; a reset ends the ones in flight
    this.list = $("alerts-list");
    this.err = $("alerts-error");
    this.formBox = $("alert-form");
    this.alerts = new Map(); // id → {alert, li, matches <ul>}
    this.bursts = new Map(); // alert id → {count, el}: the toast of a burst
    this.pending = new Map(); // alert id → {count, job, name, timer}: a notification to show
    this.shown = new Set(); // the page's browser notifications on screen
    $("alert-new").addEventListener("click", () => this.edit(null));
  }

  /** load fetches the alerts and their matches. */
  async load() {
    const n = ++this.loads;
    this.waiting ??= [];
    this.hooks.loading();
    let cursor = "";
    try {
      const body = await api("GET", "/api/alerts");
      if (n !== this.loads) return; // a newer load, or a sign-out, won
      cursor = str(body?.lastEventId);
      clear(this.list);
      this.alerts.clear();
      const alerts = Array.isArray(body?.alerts) ? body.alerts : [];
      for (const a of alerts) this.list.append(this.render(a));
      if (!alerts.length) this.list.append(this.emptyState());
      this.showLinked();
      status(this.err, "");
    } catch (err) {
      if (n !== this.loads) return;
      status(this.err, `Could not load your alerts: ${errorText(err)}`);
    }
    // The new cursor, then the events that waited for it.
    if (cursor) this.seen = cursor;
    const waiting = this.waiting ?? [];
    this.waiting = null;
    for (const ev of waiting) this.apply(ev);
    this.hooks.loaded(this.seen);
  }

  /**
   * showLinked scrolls to the alert the page's URL names (?alert=<id>, the
   * page a push for several matches opens) and marks it (data-linked).
   */
  showLinked() {
    const id = new URLSearchParams(location.search).get("alert");
    const entry = id ? this.alerts.get(id) : null;
    if (!entry) return;
    entry.li.dataset.linked = "true";
    entry.matches.parentElement.open = true;
    entry.li.scrollIntoView({ block: "start" });
  }

  /** emptyState says what an alert is and how to make the first one. */
  emptyState() {
    return h(
      "li",
      { class: "empty card", id: "alerts-empty" },
      h("h3", { text: "No alerts yet" }),
      h("p", {
        text: "An alert is a saved search: words to look for (golang -php), a place, a minimum salary. birjob tells you the moment a matching job is found: here, as a browser notification, or by mail.",
      }),
      h("button", { type: "button", class: "primary", text: "Create your first alert", onclick: () => this.edit(null) }),
    );
  }

  /** reveal shows alert id's card in the alerts tab. */
  reveal(id) {
    const entry = this.alerts.get(str(id));
    if (location.hash !== "#alerts") location.hash = "#alerts";
    if (!entry) return;
    entry.matches.parentElement.open = true;
    entry.li.scrollIntoView({ block: "start" });
  }

  /** reset forgets everything (sign-out): lists, bursts, and the browser notifications it showed. */
  reset() {
    this.loads++;
    this.bursts.clear();
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    for (const n of this.shown) n.close?.();
    this.shown.clear();
    this.seen = "";
    this.waiting = null;
    clear(this.list);
    this.alerts.clear();
    clear(this.formBox);
    show(this.formBox, false);
    status(this.err, "");
  }

  render(a) {
    const id = str(a.id);
    const matches = h("ul", { class: "jobs matches" });
    for (const j of Array.isArray(a.matches) ? a.matches : []) matches.append(renderJob(j, { compact: true }));
    const li = h(
      "li",
      { class: ["alert", "card", a.paused ? "paused" : "", a.muted ? "muted" : ""].filter(Boolean).join(" "), "data-id": id },
      h(
        "div",
        { class: "card-head" },
        h("h3", { text: str(a.name) || "(unnamed alert)" }),
        a.paused ? h("span", { class: "badge", text: "paused" }) : null,
        a.muted ? h("span", { class: "badge muted-badge", title: "Matches are listed here, but nobody is told: no toast, notification, push or mail", text: "muted" }) : null,
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", text: "Edit", onclick: () => this.edit(a) }),
          h("button", { type: "button", text: a.paused ? "Resume" : "Pause", onclick: () => this.setPaused(a, !a.paused) }),
          h("button", {
            type: "button",
            class: "mute",
            "aria-pressed": a.muted ? "true" : "false",
            title: a.muted ? "Tell me about this alert's matches again" : "Keep listing matches, but no toast, notification, push or mail",
            text: a.muted ? "Unmute" : "Mute",
            onclick: () => this.setMuted(a, !a.muted),
          }),
          h("button", { type: "button", class: "danger", text: "Delete", onclick: () => this.remove(a) }),
        ),
      ),
      h("p", { class: "summary", text: summary(a) }),
      this.emailControl(a),
      h("details", { open: matches.children.length > 0 }, h("summary", { text: "Recent matches" }), matches),
    );
    this.alerts.set(id, { alert: a, li, matches });
    return li;
  }

  /**
   * emailControl is the alert's mail mode (its "email": off, instant or
   * daily), saved as soon as it changes.
   */
  emailControl(a) {
    const select = h("select", { name: "email", class: "email-mode", "aria-label": `Mail for “${str(a.name) || "this alert"}”` });
    for (const [value, text] of EMAIL_MODES) select.append(h("option", { value, text }));
    const mode = str(a.email) || "off";
    select.value = EMAIL_MODES.some(([v]) => v === mode) ? mode : "off";
    const msg = h("span", { class: "status", role: "status", hidden: true });
    select.addEventListener("change", async () => {
      const want = select.value;
      select.disabled = true;
      try {
        const out = await api("PUT", `/api/alerts/${encodeURIComponent(a.id)}`, { email: want });
        a.email = str(out?.email) || want;
        select.value = a.email;
        status(msg, "Saved.", "ok");
      } catch (err) {
        select.value = str(a.email) || "off";
        status(msg, `Not saved: ${errorText(err)}`);
      } finally {
        select.disabled = false;
      }
    });
    return h("div", { class: "email" }, field("Email", select), msg);
  }

  /** edit shows the form for alert a (null: a new one). */
  edit(a) {
    const name = h("input", { type: "text", name: "name", required: true, maxlength: "200", value: str(a?.name), placeholder: "Go jobs in Baku" });
    const crit = criteriaFields(a || {});
    const paused = h("input", { type: "checkbox", name: "paused" });
    paused.checked = !!a?.paused;
    const muted = h("input", { type: "checkbox", name: "muted" });
    muted.checked = !!a?.muted;
    const msg = h("p", { class: "status", role: "alert", hidden: true });
    const form = h(
      "form",
      { class: "card", "aria-label": a ? "Edit alert" : "New alert" },
      h("h3", { text: a ? `Edit “${str(a.name)}”` : "New alert" }),
      field("Name", name),
      crit.node,
      h("label", { class: "check" }, paused, "Paused"),
      h("label", { class: "check" }, muted, "Muted (matches are listed, nobody is told)"),
      msg,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: a ? "Save" : "Create alert" }), h("button", { type: "button", text: "Cancel", onclick: () => show(clear(this.formBox), false) })),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { name: name.value.trim(), ...crit.read(), paused: paused.checked, muted: muted.checked };
      try {
        if (a) await api("PUT", `/api/alerts/${encodeURIComponent(a.id)}`, body);
        else await api("POST", "/api/alerts", body);
        show(clear(this.formBox), false);
        toast(a ? "Alert saved." : "Alert created.");
        await this.load();
      } catch (err) {
        const unconfirmed = confirmFirst(err);
        status(msg, unconfirmed ? " " : errorText(err));
        if (unconfirmed) msg.replaceChildren(unconfirmed);
      }
    });
    clear(this.formBox).append(form);
    show(this.formBox, true);
    name.focus();
  }

  async setMuted(a, muted) {
    try {
      await api("PUT", `/api/alerts/${encodeURIComponent(a.id)}`, { muted });
      await this.load();
    } catch (err) {
      status(this.err, `Could not ${muted ? "mute" : "unmute"} “${str(a.name)}”: ${errorText(err)}`);
    }
  }

  async setPaused(a, paused) {
    try {
      await api("PUT", `/api/alerts/${encodeURIComponent(a.id)}`, { paused });
      await this.load();
    } catch (err) {
      status(this.err, errorText(err));
    }
  }

  async remove(a) {
    if (!confirm(`Delete the alert “${str(a.name)}”?`)) return;
    try {
      await api("DELETE", `/api/alerts/${encodeURIComponent(a.id)}`);
      await this.load();
    } catch (err) {
      status(this.err, errorText(err));
    }
  }

  /** placeMatch shows a matched job under each of its alerts (once) and
   * returns those alerts ({id, name, muted}); known: whether any of the
   * job's alerts is on the list. */
  placeMatch(job) {
    const ids = Array.isArray(job.alerts) ? job.alerts.map(str) : [];
    const out = [];
    for (const id of [...new Set(ids)]) {
      const entry = this.alerts.get(id);
      if (!entry) continue;
      out.push({ id, name: str(entry.alert.name), muted: entry.alert.muted === true });
      if (!entry.matches.querySelector(`li[data-id="${CSS.escape(str(job.id))}"]`)) {
        entry.matches.prepend(renderJob(job, { compact: true }));
        while (entry.matches.children.length > MAX_MATCHES) entry.matches.lastElementChild.remove();
        entry.matches.parentElement.open = true;
      }
    }
    return out;
  }

  /** onEvent takes an event of the "me" channel. */
  onEvent(ev) {
    if (this.waiting) this.waiting.push(ev);
    else this.apply(ev);
  }

  /** apply applies an event unless the list reflects it already. */
  apply(ev) {
    if (ev.id) {
      if (!newer(str(ev.id), this.seen)) return;
      this.seen = str(ev.id);
    }
    const job = ev.data && typeof ev.data === "object" ? ev.data : null;
    if (!job) return;
    if (ev.type === "new-job") {
      const matched = this.placeMatch(job);
      // Alerts not on the list (not loaded yet) count as one, unnamed.
      const loud = matched.length ? matched.filter((m) => !m.muted) : [{ id: "", name: "", muted: false }];
      if (!loud.length) return; // only muted alerts: listed, nobody told
      unread.add(1);
      for (const m of loud) this.announce(m, job);
    } else if (ev.type === "job-expired") {
      // Marked where it is listed; an expiry is not worth an interruption.
      for (const { matches } of this.alerts.values()) {
        const li = matches.querySelector(`li[data-id="${CSS.escape(str(job.id))}"]`);
        if (li) markExpired(li);
      }
    }
  }

  /** announce tells of a match of alert m: one toast per alert and burst, one browser notification. */
  announce(m, job) {
    if (!notificationsWanted()) return;
    const title = str(job.title) || "(untitled)";
    const what = job.company ? `${title} — ${str(job.company)}` : title;
    const key = m.id ? `alert-${m.id}` : "alerts";
    let b = this.bursts.get(key);
    if (!b?.el?.isConnected) b = { count: 0, el: null };
    b.count++;
    const whose = m.name ? `“${m.name}”` : "your alerts";
    b.el =
      b.count === 1
        ? toast(`New job for ${whose}: ${what}`, { url: job.url, kind: "match", key })
        : toast(`${b.count} new jobs for ${whose}`, { kind: "match", key, action: { text: "Show", onclick: () => this.reveal(m.id) } });
    this.bursts.set(key, b);
    if (typeof Notification === "undefined" || Notification.permission !== "granted" || this.hooks.pushHere() || !this.hooks.leader()) return;
    let p = this.pending.get(key);
    if (!p) {
      p = { count: 0, job: null, name: m.name, id: m.id, timer: setTimeout(() => this.flush(key), NOTIFY_BURST_MS) };
      this.pending.set(key, p);
    }
    p.count++;
    p.job = job;
  }

  /** flush shows the browser notification of a burst, unless the user is looking. */
  flush(key) {
    const p = this.pending.get(key);
    this.pending.delete(key);
    if (!p || unread.looking() || !notificationsWanted()) return;
    const whose = p.name ? `“${p.name}”` : "your alerts";
    const title = p.count === 1 ? `New job for ${whose}` : `${p.count} new jobs for ${whose}`;
    const latest = str(p.job.title) || "(untitled)";
    const body = p.count === 1 ? (p.job.company ? `${latest} — ${str(p.job.company)}` : latest) : `Latest: ${latest}`;
    const url = p.count === 1 ? safeURL(p.job.url) : "";
    this.show(title, { body, tag: key, data: { url: url || (p.id ? `/?alert=${encodeURIComponent(p.id)}` : "/#alerts") } }, p.id);
  }

  /** show puts up a browser notification (or asks the service worker where the page may not). */
  show(title, options, alertID) {
    try {
      const n = new Notification(title, options);
      this.shown.add(n);
      n.onclose = () => this.shown.delete(n);
      n.onclick = () => {
        window.focus();
        const url = options.data.url;
        if (url.startsWith("/")) this.reveal(alertID);
        else window.open(url, "_blank", "noopener,noreferrer");
        n.close();
      };
    } catch {
      // Some browsers (Chrome on Android) allow notifications only from a service worker.
      registerWorker().then((reg) => reg?.showNotification(title, options).catch(() => {}));
    }
  }
}

/** notificationsWanted reads this browser's notification switch. */
export function notificationsWanted() {
  try {
    return localStorage.getItem(NOTIFY_PREF) !== "off";
  } catch {
    return true;
  }
}

function setNotificationsWanted(on) {
  try {
    if (on) localStorage.removeItem(NOTIFY_PREF);
    else localStorage.setItem(NOTIFY_PREF, "off");
  } catch {
    // storage refused (private mode): the switch lasts for this page only
  }
}

/** BLOCKED_HELP says how to allow notifications again once the browser blocks them. */
export const BLOCKED_HELP =
  "Your browser blocks notifications from this site. To allow them: click the icon left of the address (a lock or sliders), open Site settings, set Notifications to Allow, then reload this page.";

/**
 * notificationButton is the header's switch (#notify-btn): "Enable
 * notifications" asks the browser, "Notifications on"/"off" toggles this
 * browser's switch (aria-pressed), "Notifications blocked" explains how to
 * allow them again. null when the browser has no notifications.
 */
export function notificationButton() {
  if (typeof Notification === "undefined") return null;
  const btn = h("button", { type: "button", id: "notify-btn" });
  const render = () => {
    const perm = Notification.permission;
    const on = notificationsWanted();
    btn.dataset.state = !on ? "off" : perm === "granted" ? "on" : perm === "denied" ? "blocked" : "ask";
    btn.textContent = { off: "Notifications off", on: "Notifications on", blocked: "Notifications blocked", ask: "Enable notifications" }[btn.dataset.state];
    if (btn.dataset.state === "on" || btn.dataset.state === "off") btn.setAttribute("aria-pressed", String(on));
    else btn.removeAttribute("aria-pressed");
    btn.title = btn.dataset.state === "blocked" ? "How to allow notifications again" : "Notifications from this page, on this browser";
  };
  btn.addEventListener("click", async () => {
    const state = btn.dataset.state;
    if (state === "on") setNotificationsWanted(false);
    else if (state === "off") setNotificationsWanted(true);
    if (state === "ask" || (state === "off" && Notification.permission === "default")) await askNotifications();
    if (Notification.permission === "denied" && notificationsWanted()) toast(BLOCKED_HELP, { key: "notify-help", kind: "info", sticky: true });
    else $("toasts")?.querySelector('[data-key="notify-help"]')?.remove();
    render();
  });
  renderButton = render;
  render();
  return btn;
}

let renderButton = () => {}; // renders the newest #notify-btn
// Another tab flipped the switch.
window.addEventListener("storage", (e) => {
  if (e.key === NOTIFY_PREF) renderButton();
});

/** askNotifications asks for permission; call it from a click only. */
export async function askNotifications() {
  if (typeof Notification === "undefined") return "unsupported";
  if (Notification.permission !== "default") return Notification.permission;
  return Notification.requestPermission();
}
