// alerts.js — "My alerts": the signed-in user's saved criteria with their
// recent matches (GET/POST /api/alerts, PUT/DELETE /api/alerts/{id}), and
// the reaction to events of the "me" channel: toasts, browser
// notifications, and new matches shown under their alerts.

import { h, clear, show, api, errorText, status, str, field, safeURL, $ } from "./dom.js";
import { criteriaFields, summary } from "./criteria.js";
import { renderJob, markExpired } from "./jobs.js";
import { toast } from "./toast.js";
import { newer } from "./live.js";

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
    this.hooks = { loading: () => {}, loaded: () => {}, ...hooks };
    this.seen = ""; // the last event id the list reflects
    this.waiting = null; // events that came during a load
    this.loads = 0; // loads started; a reset ends the ones in flight
    this.list = $("alerts-list");
    this.err = $("alerts-error");
    this.formBox = $("alert-form");
    this.alerts = new Map(); // id → {alert, li, matches <ul>}
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
      if (!alerts.length) this.list.append(h("li", { class: "empty", text: "No alerts yet. Create one to be told the moment a matching job appears." }));
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

  /** reset forgets everything (sign-out). */
  reset() {
    this.loads++;
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
      { class: a.paused ? "alert card paused" : "alert card", "data-id": id },
      h(
        "div",
        { class: "card-head" },
        h("h3", { text: str(a.name) || "(unnamed alert)" }),
        a.paused ? h("span", { class: "badge", text: "paused" }) : null,
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", text: "Edit", onclick: () => this.edit(a) }),
          h("button", { type: "button", text: a.paused ? "Resume" : "Pause", onclick: () => this.setPaused(a, !a.paused) }),
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
    const msg = h("p", { class: "status", role: "alert", hidden: true });
    const form = h(
      "form",
      { class: "card", "aria-label": a ? "Edit alert" : "New alert" },
      h("h3", { text: a ? `Edit “${str(a.name)}”` : "New alert" }),
      field("Name", name),
      crit.node,
      h("label", { class: "check" }, paused, "Paused"),
      msg,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: a ? "Save" : "Create alert" }), h("button", { type: "button", text: "Cancel", onclick: () => show(clear(this.formBox), false) })),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { name: name.value.trim(), ...crit.read(), paused: paused.checked };
      try {
        if (a) await api("PUT", `/api/alerts/${encodeURIComponent(a.id)}`, body);
        else await api("POST", "/api/alerts", body);
        show(clear(this.formBox), false);
        toast(a ? "Alert saved." : "Alert created.");
        await this.load();
      } catch (err) {
        status(msg, errorText(err));
      }
    });
    clear(this.formBox).append(form);
    show(this.formBox, true);
    name.focus();
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
   * returns the names of those alerts. */
  placeMatch(job) {
    const ids = Array.isArray(job.alerts) ? job.alerts.map(str) : [];
    const names = [];
    for (const id of ids) {
      const entry = this.alerts.get(id);
      if (!entry) continue;
      if (!names.includes(str(entry.alert.name))) names.push(str(entry.alert.name));
      if (!entry.matches.querySelector(`li[data-id="${CSS.escape(str(job.id))}"]`)) {
        entry.matches.prepend(renderJob(job, { compact: true }));
        while (entry.matches.children.length > MAX_MATCHES) entry.matches.lastElementChild.remove();
        entry.matches.parentElement.open = true;
      }
    }
    return names;
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
    const title = str(job.title) || "(untitled)";
    if (ev.type === "new-job") {
      const names = this.placeMatch(job);
      const what = job.company ? `${title} — ${str(job.company)}` : title;
      const why = names.length ? `New match for “${names.join("”, “")}”` : "New match for your alerts";
      toast(`${why}: ${what}`, { url: job.url, kind: "match" });
      notify(why, what, job.url);
    } else if (ev.type === "job-expired") {
      for (const { matches } of this.alerts.values()) {
        const li = matches.querySelector(`li[data-id="${CSS.escape(str(job.id))}"]`);
        if (li) markExpired(li);
      }
      toast(`A job you matched has expired: ${title}`, { kind: "expired" });
      notify("Job expired", title, "");
    }
  }
}

/** notify shows a browser notification when the user allowed them. */
function notify(title, body, url) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const n = new Notification(title, { body, tag: `birjob-${title}-${body}`.slice(0, 120) });
    n.onclick = () => {
      window.focus();
      const href = safeURL(url);
      if (href) window.open(href, "_blank", "noopener,noreferrer");
      n.close();
    };
  } catch {
    // some browsers only allow notifications from a service worker
  }
}

/** askNotifications asks for permission; call it from a click only. */
export async function askNotifications() {
  if (!("Notification" in window)) return "unsupported";
  if (Notification.permission !== "default") return Notification.permission;
  return Notification.requestPermission();
}
