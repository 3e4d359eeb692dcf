// jobs.js — the live job list: loaded from GET /api/jobs, kept current by
// new-job and job-expired events of the "jobs" channel.
//
// Rows are keyed by job id, and events are applied only above the list's
// cursor, so a job the API listed and an event announced (or an event
// replayed after a reconnect) shows once.

import { h, link, clear, show, api, errorText, status, formatSalary, ago, str, $ } from "./dom.js";
import { newer } from "./live.js";

/** renderJob builds one job row (also used for alert matches and previews). */
export function renderJob(job, { compact = false } = {}) {
  const id = str(job.id);
  const title = str(job.title) || "(untitled)";
  const salary = formatSalary(job.salary);
  const when = job.postedAt || job.firstSeenAt;
  const meta = [
    job.company ? h("span", { class: "company", text: str(job.company) }) : null,
    job.location ? h("span", { class: "location", text: str(job.location) }) : null,
    job.remote === true ? h("span", { class: "badge remote", text: "remote" }) : null,
    job.employmentType ? h("span", { class: "badge", text: str(job.employmentType) }) : null,
    salary ? h("span", { class: "salary", text: salary }) : null,
    job.source ? h("span", { class: "source", text: str(job.source) }) : null,
    when ? h("time", { datetime: str(when), title: new Date(when).toLocaleString(), text: ago(when) }) : null,
  ];
  const li = h(
    "li",
    { class: compact ? "job compact" : "job", "data-id": id },
    h("div", { class: "job-title" }, link(job.url, title, { class: "title" }), h("span", { class: "badge expired-badge", text: "expired" })),
    h("div", { class: "meta" }, meta),
  );
  if (job.expiredAt) markExpired(li);
  return li;
}

/** markExpired greys a job row out and shows its "expired" badge. */
export function markExpired(li) {
  li.classList.add("expired");
  li.dataset.expired = "true";
}

/**
 * JobList is the job list of the Jobs tab.
 *
 * Its first page comes with the event id it reflects (lastEventId), its
 * cursor: an event at or below it is already in the list, one above it is
 * applied. Events that arrive while a first page loads wait, and are then
 * applied against the new cursor. hooks.loading() and hooks.loaded(cursor)
 * tell the page's stream (tabs.js) about each first-page load.
 */
export class JobList {
  constructor(hooks = {}) {
    this.hooks = { loading: () => {}, loaded: () => {}, ...hooks };
    this.ul = $("jobs");
    this.more = $("more");
    this.err = $("jobs-error");
    this.notice = $("jobs-notice");
    this.empty = $("jobs-empty");
    this.rows = new Map(); // job id → <li>
    this.expired = new Set(); // ids expired by an event before their row came
    this.next = ""; // the API's cursor of the next page
    this.seen = ""; // the last event id the list reflects
    this.waiting = null; // events that came during a first-page load
    this.q = "";
    this.pendingWhileSearching = 0;
    this.loading = null;
    this.more.addEventListener("click", () => this.load({ more: true }));
    $("search").addEventListener("submit", (e) => {
      e.preventDefault();
      this.search($("q").value.trim());
    });
    this.notice.addEventListener("click", () => {
      $("q").value = "";
      this.search("");
    });
  }

  /** search reloads the list for query q ("" for all). */
  search(q) {
    this.q = q;
    this.pendingWhileSearching = 0;
    show(this.notice, false);
    return this.load();
  }

  /** load fetches the first page (or, with more, the next one). */
  async load({ more = false } = {}) {
    const params = new URLSearchParams();
    if (this.q) params.set("q", this.q);
    if (more && this.next) params.set("cursor", this.next);
    const qs = params.toString();
    if (!more) {
      this.waiting ??= [];
      this.hooks.loading();
    }
    const req = api("GET", "/api/jobs" + (qs ? "?" + qs : ""));
    this.loading = req;
    this.more.disabled = true;
    try {
      const body = await req;
      if (this.loading !== req) return; // a newer load won
      if (!more) {
        clear(this.ul);
        this.rows.clear();
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
      this.updateEmpty();
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
  add(job, { append = false } = {}) {
    if (!job || typeof job !== "object" || job.id === undefined || job.id === null) return null;
    const id = str(job.id);
    if (this.rows.has(id)) return null;
    const li = renderJob(job);
    if (this.expired.has(id)) markExpired(li);
    this.rows.set(id, li);
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
      if (this.q) {
        // The search results stay as they are; offer the new ones.
        if (!this.rows.has(str(data.id))) {
          this.pendingWhileSearching++;
          this.notice.textContent = `${this.pendingWhileSearching} new job${this.pendingWhileSearching === 1 ? "" : "s"} — clear the search to see them`;
          show(this.notice, true);
        }
        return;
      }
      const li = this.add(data);
      if (li) {
        li.classList.add("fresh");
        li.addEventListener("animationend", () => li.classList.remove("fresh"), { once: true });
      }
    } else if (ev.type === "job-expired") {
      const id = str(data.id);
      if (!id) return;
      this.expired.add(id);
      const li = this.rows.get(id);
      if (li) markExpired(li);
    }
  }

  updateEmpty() {
    show(this.empty, this.rows.size === 0 && !this.err.textContent);
  }
}
