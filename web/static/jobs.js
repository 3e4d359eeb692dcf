// jobs.js — the live job list: loaded from GET /api/jobs, kept current by
// new-job and job-expired events of the "jobs" channel; its search and
// filters (kept in the URL), a job's details, saving and hiding jobs, and
// turning a search into an alert.
//
// Rows are keyed by job id, and events are applied only above the list's
// cursor, so a job the API listed and an event announced (or an event
// replayed after a reconnect) shows once.

import { h, link, clear, show, api, errorText, status, formatSalary, str, $, dateTime, safeURL } from "./dom.js";
import { newer } from "./live.js";
import { summary } from "./criteria.js";

// ---- "… ago" labels ----

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/**
 * agoLabel renders how long before now (ms) the time at (ms) was, rounded
 * down, so that of two times the older never reads newer: "just now" under
 * 10 s (jobs found seconds apart read alike, and a clock a little ahead of
 * this browser's reads "just now", never "in 2 seconds"), then tens of
 * seconds, minutes, hours, days, then the date.
 */
export function agoLabel(at, now = Date.now()) {
  const sec = Math.max(0, Math.floor((now - at) / 1000));
  if (sec < 10) return "just now";
  if (sec < 60) return relative.format(-Math.floor(sec / 10) * 10, "second");
  if (sec < 3600) return relative.format(-Math.floor(sec / 60), "minute");
  if (sec < 86400) return relative.format(-Math.floor(sec / 3600), "hour");
  if (sec < 86400 * 60) return relative.format(-Math.floor(sec / 86400), "day");
  return new Date(at).toLocaleDateString();
}

/**
 * refreshAgo renders every "… ago" label of the page's job lists against
 * one clock reading. A list is newest first, so a row's time is taken as
 * no later than the row's above it: the labels read in the list's order.
 */
export function refreshAgo(now = Date.now()) {
  // Every list of job rows: the job list, each alert's matches.
  const lists = new Set([...document.querySelectorAll("li.job")].map((li) => li.parentElement));
  for (const list of lists) {
    let above = Infinity;
    for (const t of list.querySelectorAll(":scope > li.job time[data-at]")) {
      const at = Math.min(Number(t.dataset.at), above);
      above = at;
      const text = agoLabel(at, now);
      if (t.textContent !== text) t.textContent = text;
    }
  }
}

let agoTimer = 0;

/**
 * startAgoClock starts the page's one timer that keeps the labels current
 * (every 5 s; window.birjobAgoInterval, in ms, overrides it, for tests).
 */
export function startAgoClock() {
  if (agoTimer) return;
  const every = Number(window.birjobAgoInterval) > 0 ? Number(window.birjobAgoInterval) : 5000;
  agoTimer = setInterval(() => refreshAgo(), every);
}

/** timeOf is when birjob found a job (ms), else fallback, else its posting date. */
function timeOf(job, fallback) {
  for (const v of [job.firstSeenAt, fallback, job.postedAt]) {
    const t = typeof v === "number" ? v : v ? new Date(v).getTime() : NaN;
    if (Number.isFinite(t)) return t;
  }
  return NaN;
}

// ---- rows ----

/**
 * sourcesLabel is the row's "where": every source the posting was seen on
 * (one job per posting), the primary one first, each once; null when none.
 */
function sourcesLabel(job) {
  const names = [str(job.source), ...(Array.isArray(job.sources) ? job.sources.map((s) => str(s && s.name)) : [])].filter(Boolean);
  const unique = [...new Set(names)];
  if (unique.length === 0) return null;
  return h("span", { class: "source", title: unique.length > 1 ? `Seen on ${unique.join(", ")}` : null, text: unique.join(" · ") });
}

/**
 * renderJob builds one job row (also used for alert matches and previews).
 * With open, the title is a button that calls open(job) (the details);
 * otherwise a link to the posting. receivedAt stands for the time the job
 * was found when the job does not say (an event's job).
 */
export function renderJob(job, { compact = false, open = null, receivedAt = undefined } = {}) {
  const id = str(job.id);
  const title = str(job.title) || "(untitled)";
  const salary = formatSalary(job.salary);
  const at = timeOf(job, receivedAt);
  const meta = [
    job.company ? h("span", { class: "company", text: str(job.company) }) : null,
    job.location ? h("span", { class: "location", text: str(job.location) }) : null,
    job.remote === true ? h("span", { class: "badge remote", text: "remote" }) : null,
    job.employmentType ? h("span", { class: "badge", text: str(job.employmentType) }) : null,
    salary ? h("span", { class: "salary", text: salary }) : null,
    sourcesLabel(job),
    Number.isFinite(at) ? h("time", { datetime: new Date(at).toISOString(), "data-at": String(at), title: new Date(at).toLocaleString(), text: agoLabel(at) }) : null,
  ];
  const head = open ? h("button", { type: "button", class: "title job-open", text: title, onclick: () => open(job) }) : link(job.url, title, { class: "title" });
  // Beside the details button, the posting itself (only an http(s) one).
  const posting = open && safeURL(job.url) ? link(job.url, "posting", { class: "posting", "aria-label": `posting of ${title}, on its site` }) : null;
  const li = h(
    "li",
    { class: compact ? "job compact" : "job", "data-id": id },
    h("div", { class: "job-title" }, head, posting, h("span", { class: "badge saved-badge", text: "saved" }), h("span", { class: "badge expired-badge", text: "expired" })),
    h("div", { class: "meta" }, meta),
  );
  if (job.saved === true) li.classList.add("saved");
  if (job.expiredAt) markExpired(li);
  return li;
}

/** markExpired greys a job row out and shows its "expired" badge. */
export function markExpired(li) {
  li.classList.add("expired");
  li.dataset.expired = "true";
}

// ---- filters ----

/** FILTERS are the list's parameters, in the URL as in GET /api/jobs. */
const FILTERS = ["q", "location", "remote", "salaryMin", "type", "source", "sort", "saved"];
const CONTROLS = { q: "q", location: "f-location", remote: "f-remote", salaryMin: "f-salary", type: "f-type", source: "f-source", sort: "f-sort" };

/** filtersFrom reads the list's filters from a query string (only those set). */
export function filtersFrom(search) {
  const p = new URLSearchParams(search);
  const f = {};
  for (const k of FILTERS) {
    const v = (p.get(k) || "").trim();
    if (v && !(k === "sort" && v === "newest") && !(k === "saved" && v !== "1")) f[k] = v;
  }
  return f;
}

const sameFilters = (a, b) => FILTERS.every((k) => (a[k] || "") === (b[k] || ""));

/** criteriaOf is the alert a list's filters amount to (as the API states it in "criteria"). */
function criteriaOf(f) {
  const amount = Number(f.salaryMin);
  return {
    query: f.q || "",
    location: f.location || "",
    remote: f.remote === "true" ? true : f.remote === "false" ? false : null,
    salaryMin: amount > 0 ? { amount, currency: "AZN", period: "month" } : null,
    employmentTypes: f.type ? [f.type] : [],
    sources: f.source ? [f.source] : [],
  };
}

/**
 * JobList is the job list of the Jobs tab.
 *
 * Its first page comes with the event id it reflects (lastEventId), its
 * cursor: an event at or below it is already in the list, one above it is
 * applied. Events that arrive while a first page loads wait, and are then
 * applied against the new cursor. hooks.loading() and hooks.loaded(cursor)
 * tell the page's stream (tabs.js) about each first-page load;
 * hooks.alertCreated(alert) that a search became an alert.
 *
 * While the list is a search (a query, a filter, the salary order or the
 * saved jobs) it stays as loaded; the new jobs that match it are counted
 * (the server is asked which of them do) and offered in a banner.
 */
export class JobList {
  constructor(hooks = {}) {
    this.hooks = { loading: () => {}, loaded: () => {}, alertCreated: () => {}, ...hooks };
    this.ul = $("jobs");
    this.more = $("more");
    this.err = $("jobs-error");
    this.notice = $("jobs-notice");
    this.empty = $("jobs-empty");
    this.status = $("jobs-status");
    this.dialog = $("job-details");
    this.rows = new Map(); // job id → <li>
    this.jobs = new Map(); // job id → the job as listed
    this.expired = new Set(); // ids expired by an event before their row came
    this.hiddenHere = new Set(); // ids the user hid in this page (an event may announce one again)
    this.next = ""; // the API's cursor of the next page
    this.seen = ""; // the last event id the list reflects
    this.waiting = null; // events that came during a first-page load
    this.f = filtersFrom(location.search); // the filters of the list shown
    this.criteria = null; // the API's criteria for this.f
    this.user = undefined; // {id} signed in, null signed out, undefined not known yet
    this.newIds = new Set(); // new jobs while searching, not yet checked
    this.newMatching = new Set(); // those of them that match the search
    this.checkTimer = 0;
    this.loading = null;
    this.fillForm();
    this.more.addEventListener("click", () => this.load({ more: true }));
    $("search").addEventListener("submit", (e) => {
      e.preventDefault();
      this.applyFilters(this.readForm());
    });
    // A choice in a list applies at once; text applies on Enter.
    for (const id of ["f-remote", "f-type", "f-sort"]) $(id).addEventListener("change", () => this.applyFilters(this.readForm()));
    // On a phone the filters fold behind "Filters" (see style.css).
    $("filters-toggle").addEventListener("click", (e) => {
      const open = e.currentTarget.getAttribute("aria-expanded") !== "true";
      e.currentTarget.setAttribute("aria-expanded", String(open));
      $("search").classList.toggle("open", open);
    });
    this.notice.addEventListener("click", () => this.load());
    $("jobs-clear").addEventListener("click", () => this.clearSearch());
    $("jobs-saved").addEventListener("click", () => this.toggleSaved());
    $("alert-from-search").addEventListener("click", () => this.createAlert());
    window.addEventListener("popstate", () => {
      const f = filtersFrom(location.search);
      if (sameFilters(f, this.f)) return;
      this.f = f;
      this.fillForm();
      this.load();
    });
    this.dialog.addEventListener("close", () => this.returnFocus?.focus());
    startAgoClock();
  }

  /** searching: the list is not simply every job, newest first. */
  get searching() {
    return Object.keys(this.f).length > 0;
  }

  /** hasCriteria: the filters say what to look for (an alert can be made of them). */
  get hasCriteria() {
    return ["q", "location", "remote", "salaryMin", "type", "source"].some((k) => this.f[k]);
  }

  /** setUser tells the list who is signed in (null: nobody); the list reloads when that changes. */
  setUser(user) {
    const id = user ? str(user.id) : "";
    const before = this.user === undefined ? undefined : this.user ? str(this.user.id) : "";
    this.user = user || null;
    if (before !== undefined && before !== id) {
      this.hiddenHere.clear();
      this.load();
    }
  }

  fillForm() {
    for (const [k, id] of Object.entries(CONTROLS)) $(id).value = this.f[k] || "";
    $("jobs-saved").setAttribute("aria-pressed", this.f.saved ? "true" : "false");
    // The folded filters say how many are in use.
    const n = Object.keys(CONTROLS).filter((k) => k !== "q" && this.f[k]).length;
    $("filters-toggle").textContent = n ? `Filters (${n})` : "Filters";
  }

  readForm() {
    const f = {};
    for (const [k, id] of Object.entries(CONTROLS)) {
      const v = $(id).value.trim();
      if (v) f[k] = v;
    }
    if (this.f.saved) f.saved = "1";
    return f;
  }

  /** applyFilters shows the list of filters f, as a new entry of the browser's history. */
  applyFilters(f) {
    if (sameFilters(f, this.f)) return this.load();
    this.f = f;
    this.fillForm();
    const p = new URLSearchParams(location.search);
    for (const k of FILTERS) p.delete(k);
    for (const k of FILTERS) if (f[k]) p.set(k, f[k]);
    const qs = p.toString();
    history.pushState(null, "", location.pathname + (qs ? "?" + qs : "") + location.hash);
    return this.load();
  }

  /** search reloads the list for query q ("" for all), keeping the other filters. */
  search(q) {
    const f = { ...this.f };
    if (q) f.q = q;
    else delete f.q;
    return this.applyFilters(f);
  }

  clearSearch() {
    return this.applyFilters({});
  }

  toggleSaved() {
    if (!this.f.saved && !this.user) return this.askSignIn("Sign in to keep a list of saved jobs.");
    const f = { ...this.f };
    if (f.saved) delete f.saved;
    else f.saved = "1";
    return this.applyFilters(f);
  }

  /** load fetches the first page (or, with more, the next one). */
  async load({ more = false } = {}) {
    const params = new URLSearchParams();
    for (const k of FILTERS) if (this.f[k]) params.set(k, this.f[k]);
    if (more && this.next) params.set("cursor", this.next);
    const qs = params.toString();
    if (!more) {
      this.waiting ??= [];
      this.hooks.loading();
    }
    const req = api("GET", "/api/jobs" + (qs ? "?" + qs : ""));
    const f = this.f;
    const user = this.user ? str(this.user.id) : "";
    this.loading = req;
    this.more.disabled = true;
    try {
      const body = await req;
      if (this.loading !== req) return; // a newer load won
      if (!more) {
        clear(this.ul);
        this.rows.clear();
        this.jobs.clear();
        this.newIds.clear();
        this.newMatching.clear();
        this.showNotice();
        this.criteria = body?.criteria && typeof body.criteria === "object" ? body.criteria : null;
        this.criteriaFor = f;
        this.ul.dataset.user = user; // whose list this is ("": nobody's, or not known yet)
        this.ul.dataset.query = qs; // which list this is (the API's query string)
      }
      for (const job of Array.isArray(body?.jobs) ? body.jobs : []) this.add(job, { append: true });
      if (!more) this.settle(str(body?.lastEventId));
      this.next = str(body?.nextCursor);
      show(this.more, !!this.next);
      status(this.err, "");
    } catch (err) {
      if (this.loading !== req) return;
      if (!more) this.settle(""); // the list was not replaced: keep its cursor
      status(this.err, `Could not load jobs: ${errorText(err)}`);
    } finally {
      if (this.loading === req) this.more.disabled = false;
      this.updateTools();
      this.updateEmpty();
      refreshAgo();
    }
  }

  /** settle ends a first-page load: the new cursor, then the events that waited. */
  settle(cursor) {
    if (cursor) this.seen = cursor;
    const waiting = this.waiting ?? [];
    this.waiting = null;
    for (const ev of waiting) this.apply(ev);
    this.hooks.loaded(this.seen);
  }

  /** add puts a job in the list unless its id is there already. */
  add(job, { append = false, receivedAt = undefined } = {}) {
    if (!job || typeof job !== "object" || job.id === undefined || job.id === null) return null;
    const id = str(job.id);
    if (this.rows.has(id)) return null;
    const li = renderJob(job, { open: (j) => this.open(j), receivedAt });
    if (this.expired.has(id)) markExpired(li);
    this.rows.set(id, li);
    this.jobs.set(id, job);
    if (append) this.ul.append(li);
    else this.ul.prepend(li);
    this.updateEmpty();
    return li;
  }

  /** onEvent takes a "jobs" channel event. */
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
    const data = ev.data && typeof ev.data === "object" ? ev.data : {};
    if (ev.type === "new-job") {
      if (this.searching) {
        // The search results stay as they are; count the new ones that match.
        const id = str(data.id);
        if (id && !this.rows.has(id) && !this.f.saved && /^\d+$/.test(id)) {
          this.newIds.add(id);
          this.scheduleCheck();
        }
        return;
      }
      if (this.hiddenHere.has(str(data.id))) return;
      const li = this.add(data, { receivedAt: Date.now() });
      if (li) {
        li.classList.add("fresh");
        li.addEventListener("animationend", () => li.classList.remove("fresh"), { once: true });
        refreshAgo();
      }
    } else if (ev.type === "job-expired") {
      const id = str(data.id);
      if (!id) return;
      this.expired.add(id);
      const li = this.rows.get(id);
      if (li) markExpired(li);
    }
  }

  /** scheduleCheck asks the server, once for a burst, which new jobs match the search. */
  scheduleCheck() {
    if (this.checkTimer) return;
    this.checkTimer = setTimeout(() => {
      this.checkTimer = 0;
      this.checkNew();
    }, 250);
  }

  async checkNew() {
    const ids = [...this.newIds].slice(0, 200);
    if (!ids.length) return;
    for (const id of ids) this.newIds.delete(id);
    const f = this.f;
    const params = new URLSearchParams();
    for (const k of FILTERS) if (f[k] && k !== "sort") params.set(k, f[k]);
    params.set("ids", ids.join(","));
    params.set("limit", "200");
    try {
      const body = await api("GET", "/api/jobs?" + params.toString());
      if (f !== this.f) return; // the search changed meanwhile
      for (const job of Array.isArray(body?.jobs) ? body.jobs : []) if (!this.rows.has(str(job.id))) this.newMatching.add(str(job.id));
      this.showNotice();
    } catch (err) {
      console.warn("birjob: checking new jobs against the search:", errorText(err));
    }
    if (this.newIds.size) this.scheduleCheck();
  }

  showNotice() {
    const n = this.newMatching.size;
    this.notice.textContent = n ? `${n} new job${n === 1 ? "" : "s"} match${n === 1 ? "es" : ""} this search — show ${n === 1 ? "it" : "them"}` : "";
    this.notice.dataset.count = String(n);
    show(this.notice, n > 0);
  }

  updateTools() {
    show($("jobs-clear"), this.searching && !(Object.keys(this.f).length === 1 && this.f.saved));
    show($("alert-from-search"), this.hasCriteria && !this.f.saved);
  }

  updateEmpty() {
    const empty = this.rows.size === 0 && !this.err.textContent;
    show(this.empty, empty);
    if (!empty) return;
    let content;
    if (this.f.saved) {
      content = [h("p", { text: "You have saved no jobs yet. Open a job and press Save to keep it here." })];
    } else if (this.searching) {
      const what = this.criteria ? summary(this.criteria) : summary(criteriaOf(this.f));
      content = [
        h("p", { class: "empty-search", text: `No job listed now matches ${what}.` }),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", id: "jobs-empty-clear", text: "Clear the search", onclick: () => this.clearSearch() }),
          this.hasCriteria ? h("button", { type: "button", id: "jobs-empty-alert", class: "primary", text: "Create an alert: be told when one appears", onclick: () => this.createAlert() }) : null,
        ),
      ];
    } else {
      content = [h("p", { text: "No jobs yet. New ones appear here the moment they are found." })];
    }
    this.empty.replaceChildren(...content);
  }

  /**
   * askSignIn says what needs an account, with a button that opens the
   * sign-in form: in the details when they are open, else above the list.
   */
  askSignIn(why) {
    const slot = this.dialog.open ? this.dialog.querySelector(".details-status") : this.status;
    slot.className = this.dialog.open ? "status details-status" : "status";
    const signIn = () => {
      if (this.dialog.open) this.dialog.close();
      $("signin-open")?.click();
    };
    slot.replaceChildren(h("span", { text: why + " " }), h("button", { type: "button", class: "primary sign-in-prompt", text: "Sign in", onclick: signIn }));
    show(slot, true);
  }

  /** say puts a message (and nodes after it) into the list's status line. */
  say(message, ...after) {
    this.status.className = "status";
    this.status.replaceChildren(h("span", { text: message }), ...after);
    show(this.status, true);
  }

  // ---- create an alert from the search ----

  async createAlert() {
    if (!this.user) return this.askSignIn("Sign in to be told the moment a job like these is found.");
    const c = this.criteria && this.criteriaFor === this.f ? this.criteria : criteriaOf(this.f);
    const name = summary(c).slice(0, 190);
    const btn = $("alert-from-search");
    btn.disabled = true;
    try {
      const alert = await api("POST", "/api/alerts", { name, ...c });
      const n = Number(alert?.currentMatches);
      const count = Number.isFinite(n)
        ? ` It matches ${n}${alert.currentMatchesPartial ? " or more" : ""} job${n === 1 ? "" : "s"} listed now, and tells you the moment a new one is found.`
        : "";
      const see = h("a", { id: "alert-from-search-see", text: "See it in My alerts" });
      see.href = "#alerts";
      this.say(`Alert “${str(alert?.name) || name}” saved.${count} `, see);
      this.status.dataset.matches = Number.isFinite(n) ? String(n) : "";
      this.hooks.alertCreated(alert);
    } catch (err) {
      this.say(`The alert was not saved: ${errorText(err)}`);
      this.status.className = "status error";
    } finally {
      btn.disabled = false;
    }
  }

  // ---- details ----

  /** open shows a job's details: what the list knows at once, then the API's full answer. */
  async open(job) {
    this.returnFocus = document.activeElement;
    this.renderDetails(job);
    if (!this.dialog.open) this.dialog.showModal();
    try {
      const full = await api("GET", `/api/jobs/${encodeURIComponent(str(job.id))}`);
      if (this.dialog.open && this.dialog.dataset.id === str(job.id) && full && typeof full === "object") this.renderDetails(full, { complete: true });
    } catch (err) {
      const slot = this.dialog.querySelector(".details-status");
      if (slot) status(slot, `Could not load the details: ${errorText(err)}`);
    }
  }

  renderDetails(job, { complete = false } = {}) {
    const d = this.dialog;
    d.dataset.id = str(job.id);
    d.setAttribute("aria-labelledby", "job-details-title");
    d.dataset.complete = complete ? "true" : "false";
    const salary = formatSalary(job.salary);
    const facts = [
      ["Company", str(job.company)],
      ["Place", [str(job.location), job.remote === true ? "remote" : ""].filter(Boolean).join(" · ")],
      ["Type", str(job.employmentType)],
      ["Salary", salary || "not stated"],
      ["Posted", dateTime(job.postedAt) || "not stated"],
      ["Valid through", dateTime(job.validThrough) || "not stated"],
      ["Found by birjob", dateTime(job.firstSeenAt)],
      ["Expired", dateTime(job.expiredAt)],
    ].filter(([, v]) => v);
    const sources = Array.isArray(job.sources) ? job.sources : [];
    const saveBtn = h("button", { type: "button", id: "job-save", "aria-pressed": job.saved === true ? "true" : "false", text: job.saved === true ? "Saved ✓" : "Save" });
    saveBtn.addEventListener("click", () => this.mark(job, "saved", job.saved !== true));
    const hideBtn = h("button", { type: "button", id: "job-hide", "aria-pressed": job.hidden === true ? "true" : "false", text: job.hidden === true ? "Hidden (show again)" : "Hide this job" });
    hideBtn.addEventListener("click", () => this.mark(job, "hidden", job.hidden !== true));
    const apply = link(job.url, "Apply on the job's page", { id: "job-apply", class: "button primary" });
    d.replaceChildren(
      h(
        "div",
        { class: "details-head" },
        h("h2", { id: "job-details-title", text: str(job.title) || "(untitled)" }),
        h("button", { type: "button", id: "job-close", class: "close", "aria-label": "Close the details", text: "×", onclick: () => d.close() }),
      ),
      h("dl", { class: "facts" }, facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
      h("div", { class: "actions" }, apply, saveBtn, hideBtn),
      h("p", { class: "status details-status", role: "status", hidden: true }),
      h("h3", { text: "Seen on" }),
      sources.length
        ? h(
            "ul",
            { class: "job-sources" },
            sources.map((s) => h("li", {}, link(s.url, str(s.name) || "source"), s.live === false ? h("span", { class: "muted", text: " (no longer listed)" }) : null)),
          )
        : h("p", { class: "muted", text: complete ? "No source lists it any more." : str(job.source) || "…" }),
      h("h3", { text: "Description" }),
      job.description ? h("div", { class: "description", text: str(job.description) }) : h("p", { class: "muted", text: complete ? "The source gave no description." : "…" }),
    );
  }

  /** mark sets or clears the user's saved or hidden mark on a job. */
  async mark(job, mark, on) {
    if (!this.user) return this.askSignIn(mark === "saved" ? "Sign in to save jobs." : "Sign in to hide jobs you do not want to see.");
    const id = str(job.id);
    try {
      const res = await api(on ? "PUT" : "DELETE", `/api/jobs/${encodeURIComponent(id)}/${mark}`);
      job.saved = res?.saved === true;
      job.hidden = res?.hidden === true;
    } catch (err) {
      if (err.status === 401) return this.askSignIn("Your session ended: sign in again to mark jobs.");
      const slot = this.dialog.querySelector(".details-status");
      if (slot) status(slot, `Could not ${on ? "" : "un"}${mark === "saved" ? "save" : "hide"} the job: ${errorText(err)}`);
      return;
    }
    const li = this.rows.get(id);
    if (li) li.classList.toggle("saved", job.saved);
    if (job.hidden) this.hiddenHere.add(id);
    else this.hiddenHere.delete(id);
    if (this.jobs.has(id)) Object.assign(this.jobs.get(id), { saved: job.saved, hidden: job.hidden });
    if (mark === "hidden" && job.hidden && !this.f.saved) {
      if (this.dialog.open) this.dialog.close();
      if (li) li.remove();
      this.rows.delete(id);
      this.jobs.delete(id);
      const undo = h("button", { type: "button", id: "jobs-undo-hide", text: "Undo", onclick: async () => {
        await this.mark(job, "hidden", false);
        this.load();
      } });
      this.say(`Hidden: “${str(job.title)}”. It stays out of your list. `, undo);
      this.updateEmpty();
      return;
    }
    if (this.dialog.open && this.dialog.dataset.id === id) this.renderDetails(job, { complete: this.dialog.dataset.complete === "true" });
  }
}
