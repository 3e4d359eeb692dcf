// admin.js — the admin tab, in four parts with their own URLs:
// #admin/sources (scrape sources at a glance: health, last and next run;
// edit with every setting, preview, run now, run history), #admin/stats
// (the cluster's statistics over time, charts.js), #admin/feeds (public
// feeds) and #admin/mail (the outbox: the mail kept instead of sent when
// no SMTP server is configured). Each part loads on its own, so an
// endpoint that is missing or failing shows its error and leaves the
// others working.

import { h, clear, show, api, errorText, status, str, field, dateTime, ago, $ } from "./dom.js";
import { criteriaFields, summary } from "./criteria.js";
import { renderJob } from "./jobs.js";
import { toast } from "./toast.js";
import { sourceForm } from "./sourceform.js";
import { statsCharts } from "./charts.js";

const STATS_MS = 10000;
const PARTS = ["sources", "stats", "feeds", "mail"];

// The kinds of mail the outbox names (api: courier.ReadOutboxMail).
const MAIL_KINDS = { alert: "alert", digest: "daily digest", account: "account mail" };

// A public feed's name: the server's rule (model.ValidFeedName), written
// for the browser's pattern attribute, which is compiled with the "v"
// flag (so "-" is escaped inside a class).
const FEED_NAME_PATTERN = "(?!(?:jobs|me)$)[a-z0-9][a-z0-9_\\-]{0,62}";
const FEED_NAME_HINT = "1–63 lower-case letters, digits, '-' or '_', starting with a letter or digit; not “jobs” or “me”";

/** Admin is the admin tab. */
export class Admin {
  constructor() {
    this.sources = $("sources-list");
    this.sourcesErr = $("sources-error");
    this.sourcesSummary = $("sources-summary");
    this.sourceForm = $("source-form");
    // One output panel (preview, run, runs), shown next to what asked for it.
    this.sourceOut = h("div", { id: "source-output", class: "card output", role: "region", "aria-label": "Source output", hidden: true });
    this.outRow = null;
    this.feeds = $("feeds-list");
    this.feedsErr = $("feeds-error");
    this.feedForm = $("feed-form");
    this.stats = $("stats");
    this.statsErr = $("stats-error");
    this.statsRange = $("stats-range");
    this.statsTimer = null;
    this.mails = $("mail-list");
    this.mailErr = $("mail-error");
    this.mailMore = $("mail-more");
    this.mailNext = 0; // the "before" of the outbox's next page, 0: none
    this.part = "sources";
    this.on = false;
    $("source-new").addEventListener("click", () => this.editSource(null));
    $("feed-new").addEventListener("click", () => this.editFeed(null));
    this.statsRange.addEventListener("change", () => this.loadStats());
    $("mail-refresh").addEventListener("click", () => this.loadMail());
    this.mailMore.addEventListener("click", () => this.loadMail(this.mailNext));
  }

  /** load fetches all parts; each failure stays in its part. */
  load() {
    this.loadSources();
    this.loadFeeds();
    this.loadStats();
    this.loadMail();
  }

  /**
   * active says whether the tab is shown, and which part (the URL's
   * "#admin/<part>"); the stats refresh while they are on screen.
   */
  active(on, part) {
    const was = this.on ? this.part : "";
    this.on = on;
    if (on) {
      this.part = PARTS.includes(part) ? part : "sources";
      // Coming to the outbox from another part shows the mail sent since.
      if (was && was !== "mail" && this.part === "mail") this.loadMail();
      for (const p of PARTS) show($(`admin-${p}`), p === this.part);
      for (const a of document.querySelectorAll("#admin-nav a")) {
        if (a.dataset.admin === this.part) a.setAttribute("aria-current", "page");
        else a.removeAttribute("aria-current");
      }
    }
    clearInterval(this.statsTimer);
    this.statsTimer = on && this.part === "stats" ? setInterval(() => this.loadStats(), STATS_MS) : null;
  }

  // ---- sources ----

  async loadSources() {
    try {
      const body = await api("GET", "/api/sources");
      const list = Array.isArray(body) ? body : Array.isArray(body?.sources) ? body.sources : [];
      clear(this.sources);
      this.outRow = null;
      if (!list.length) this.sources.append(h("tr", {}, h("td", { colspan: "5", class: "empty", text: "No sources yet. “New source” adds a job board to scrape." })));
      for (const s of list) this.sources.append(this.sourceRow(s));
      this.sourcesSummary.textContent = sourcesSummary(list);
      status(this.sourcesErr, "");
    } catch (err) {
      status(this.sourcesErr, `Sources: ${errorText(err)}`);
    }
  }

  sourceRow(s) {
    const id = encodeURIComponent(str(s.id));
    const row = h("tr", { "data-id": str(s.id) });
    const btn = (text, fn, cls) => h("button", { type: "button", class: cls || null, text, onclick: fn });
    const dot = healthDot(s);
    if (s.kind === "manual") {
      // Jobs an admin posts with POST /api/jobs: nothing to schedule or run.
      row.append(
        h("td", { class: "source-name" }, h("div", { class: "name-line" }, dot, h("strong", { text: str(s.name) })), h("div", { class: "muted small", text: "jobs posted through POST /api/jobs" })),
        h("td"),
        h("td"),
        h("td"),
        h("td"),
      );
      return row;
    }
    row.append(
      h(
        "td",
        { class: "source-name" },
        h("div", { class: "name-line" }, dot, h("strong", { text: str(s.name) }), " ", h("span", { class: s.enabled ? "badge ok" : "badge", text: s.enabled ? "enabled" : "disabled" })),
        h("div", { class: "muted small url", text: `${str(s.kind)} · ${str(s.url)}` }),
        // Health in words when something is wrong (the dot says "healthy").
        ["ok", "new"].includes(s.health?.state) ? null : sourceHealth(s.health),
      ),
      h("td", { class: "schedule", "data-label": "Schedule" }, h("code", { text: str(s.schedule) })),
      h("td", { "data-label": "Last run", class: "last-run" }, lastRun(s.lastRun)),
      h("td", { "data-label": "Next run", class: "small" }, nextRun(s)),
      h(
        "td",
        { class: "actions-cell" },
        h(
          "div",
          { class: "actions" },
          btn("Edit", () => this.editSource(s)),
          btn("Preview", () => this.preview(s, id, row)),
          // A disabled source does not run (its jobs expired when it was
          // disabled): Preview tries it, Enable/Resume brings it back.
          s.enabled ? btn("Run now", () => this.run(s, id, row)) : null,
          btn("Runs", () => this.runs(s, id, row)),
          // Resuming a paused source is enabling it: the server forgets the
          // pause and the failure streak.
          btn(s.enabled ? "Disable" : s.health?.paused ? "Resume" : "Enable", () => this.saveSource(s, { enabled: !s.enabled }), s.health?.paused && !s.enabled ? "primary" : null),
          // Delete is in the edit form: rare, and one button fewer per row.
        ),
      ),
    );
    return row;
  }

  editSource(s) {
    const msg = h("p", { class: "status", role: "alert", hidden: true });
    let read = null;
    const close = () => {
      show(clear(this.sourceForm), false);
      this.hideOutput();
    };
    const buttons = h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary", text: s ? "Save" : "Create source" }),
      h("button", { type: "button", text: "Preview these settings", onclick: () => this.showPreview(read().name || "new source", "/api/sources/preview", read(), this.sourceForm) }),
      h("button", { type: "button", text: "Cancel", onclick: close }),
      s ? h("button", { type: "button", class: "danger push-right", text: "Delete source", onclick: () => this.deleteSource(s, encodeURIComponent(str(s.id))).then((gone) => gone && close()) }) : null,
    );
    const f = sourceForm(s, [msg, buttons]);
    read = f.read;
    f.form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = read();
      try {
        if (s) await api("PUT", `/api/sources/${encodeURIComponent(s.id)}`, body);
        else await api("POST", "/api/sources", body);
        close();
        toast(s ? "Source saved." : "Source created.");
        this.loadSources();
      } catch (err) {
        status(msg, errorText(err));
      }
    });
    clear(this.sourceForm).append(f.form);
    show(this.sourceForm, true);
    this.sourceForm.scrollIntoView({ block: "start" });
    f.focus();
  }
  async saveSource(s, change) {
    try {
      await api("PUT", `/api/sources/${encodeURIComponent(s.id)}`, change);
      this.loadSources();
    } catch (err) {
      status(this.sourcesErr, errorText(err));
    }
  }

  async deleteSource(s, id) {
    if (!confirm(`Delete the source “${str(s.name)}”? Its jobs that no other source lists expire.`)) return false;
    try {
      await api("DELETE", `/api/sources/${id}`);
      this.loadSources();
      return true;
    } catch (err) {
      status(this.sourcesErr, errorText(err));
      return false;
    }
  }

  /**
   * output shows title and nodes in the output panel, placed next to what
   * asked for it (after the source's row, or after the form), scrolled
   * into view and focused, so the answer is seen where the click was.
   */
  output(title, at, ...nodes) {
    nodes = nodes.filter((n) => n !== null && n !== undefined);
    const heading = h("h3", { text: title, tabindex: "-1" });
    clear(this.sourceOut).append(h("div", { class: "card-head" }, heading, h("button", { type: "button", text: "Close", onclick: () => this.hideOutput(at) })), ...nodes);
    if (at instanceof HTMLTableRowElement) {
      if (!this.outRow) this.outRow = h("tr", { class: "output-row" }, h("td", { colspan: "5" }));
      this.outRow.firstChild.append(this.sourceOut);
      at.after(this.outRow);
    } else {
      this.outRow?.remove();
      (at || this.sourceForm).after(this.sourceOut);
    }
    show(this.sourceOut, true);
    // (At once, not smoothly: a click that follows must land where it aims.)
    this.sourceOut.scrollIntoView({ block: "nearest" });
    heading.focus({ preventScroll: true });
  }

  /** hideOutput closes the output panel; the focus goes back to its row. */
  hideOutput(at) {
    const wasOpen = !this.sourceOut.hidden;
    show(clear(this.sourceOut), false);
    this.outRow?.remove();
    if (wasOpen && at instanceof HTMLElement) at.querySelector("button")?.focus();
  }

  preview(s, id, row) {
    return this.showPreview(str(s.name), `/api/sources/${id}/preview`, undefined, row);
  }

  /** showPreview asks path (with the unsaved source def, if any) what it extracts. */
  async showPreview(name, path, def, at) {
    const title = `Preview of “${str(name)}”`;
    this.output(title, at, h("p", { class: "muted", text: "Fetching… (nothing is saved)" }));
    try {
      const body = await api("POST", path, def);
      const jobs = Array.isArray(body?.jobs) ? body.jobs : [];
      const errors = Array.isArray(body?.errors) ? body.errors : [];
      this.output(
        title,
        at,
        h("p", { text: `${jobs.length} job${jobs.length === 1 ? "" : "s"} from ${Number(body?.pages) || 0} page(s)` }),
        errors.length ? h("ul", { class: "errors" }, errors.map((e) => h("li", { text: typeof e === "string" ? e : JSON.stringify(e) }))) : null,
        h("ul", { class: "jobs" }, jobs.map((j, i) => renderJob({ ...j, id: j.id ?? `preview-${i}` }, { compact: true }))),
      );
    } catch (err) {
      this.output(title, at, h("p", { class: "status error", text: errorText(err) }));
    }
  }

  async run(s, id, row) {
    try {
      await api("POST", `/api/sources/${id}/run`);
      toast(`Run of “${str(s.name)}” started.`);
      this.runs(s, id, row);
    } catch (err) {
      this.output(`Run of “${str(s.name)}”`, row, h("p", { class: "status error", text: `Run now: ${errorText(err)}` }));
    }
  }

  async runs(s, id, row) {
    try {
      const body = await api("GET", `/api/sources/${id}/runs`);
      const runs = Array.isArray(body) ? body : Array.isArray(body?.runs) ? body.runs : [];
      const num = (v) => h("td", { class: "num", text: Number.isFinite(Number(v)) ? String(Number(v)) : "" });
      this.output(
        `Runs of “${str(s.name)}”`,
        row,
        runs.length
          ? h(
              "div",
              // Scrolls sideways on a phone: focusable, so a keyboard can scroll it.
              { class: "scroll", tabindex: "0", role: "region", "aria-label": `Runs of ${str(s.name)}` },
              h(
                "table",
                { class: "runs" },
                h("thead", {}, h("tr", {}, ["Started", "Finished", "Status", "Pages", "Found", "New", "Updated", "Expired", "Errors"].map((t) => h("th", { scope: "col", text: t })))),
                h(
                  "tbody",
                  {},
                  runs.map((r) =>
                    h(
                      "tr",
                      { class: `run ${str(r.status)}` },
                      h("td", { text: dateTime(r.startedAt) }),
                      h("td", { text: dateTime(r.finishedAt) || "running" }),
                      h("td", {}, h("span", { class: `badge ${str(r.status)}`, text: str(r.status) })),
                      num(r.pages),
                      num(r.found),
                      num(r.new),
                      num(r.updated),
                      num(r.expired),
                      h("td", {}, Array.isArray(r.errors) && r.errors.length ? h("ul", { class: "errors" }, r.errors.map((e) => h("li", { text: typeof e === "string" ? e : JSON.stringify(e) }))) : ""),
                    ),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted", text: "No runs yet." }),
      );
    } catch (err) {
      this.output(`Runs of “${str(s.name)}”`, row, h("p", { class: "status error", text: errorText(err) }));
    }
  }

  // ---- feeds ----

  async loadFeeds() {
    try {
      const body = await api("GET", "/api/feeds");
      const list = Array.isArray(body) ? body : Array.isArray(body?.feeds) ? body.feeds : [];
      clear(this.feeds);
      if (!list.length) this.feeds.append(h("li", { class: "empty", text: "No public feeds yet." }));
      for (const f of list) {
        this.feeds.append(
          h(
            "li",
            { class: "card", "data-id": str(f.id) },
            h(
              "div",
              { class: "card-head" },
              h("h3", { text: str(f.title) || str(f.name) }),
              h("code", { text: `/api/events/${str(f.name)}` }),
              h(
                "div",
                { class: "actions" },
                h("button", { type: "button", text: "Edit", onclick: () => this.editFeed(f) }),
                h("button", { type: "button", class: "danger", text: "Delete", onclick: () => this.deleteFeed(f) }),
              ),
            ),
            h("p", { class: "summary", text: summary(f) }),
          ),
        );
      }
      status(this.feedsErr, "");
    } catch (err) {
      status(this.feedsErr, `Feeds: ${errorText(err)}`);
    }
  }

  editFeed(f) {
    const name = h("input", { type: "text", name: "name", required: true, value: str(f?.name), placeholder: "job-alerts-baku", pattern: FEED_NAME_PATTERN, autocomplete: "off", spellcheck: "false" });
    const title = h("input", { type: "text", name: "title", value: str(f?.title), placeholder: "Jobs in Baku" });
    const crit = criteriaFields(f || {});
    const msg = h("p", { class: "status", role: "alert", hidden: true });
    const form = h(
      "form",
      { class: "card", "aria-label": f ? "Edit feed" : "New feed" },
      h("h3", { text: f ? `Edit feed “${str(f.name)}”` : "New public feed" }),
      h("div", { class: "row" }, field("Channel name", name, FEED_NAME_HINT), field("Title", title)),
      crit.node,
      msg,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: f ? "Save" : "Create feed" }), h("button", { type: "button", text: "Cancel", onclick: () => show(clear(this.feedForm), false) })),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { name: name.value.trim(), title: title.value.trim(), ...crit.read() };
      try {
        if (f) await api("PUT", `/api/feeds/${encodeURIComponent(f.id)}`, body);
        else await api("POST", "/api/feeds", body);
        show(clear(this.feedForm), false);
        toast(f ? "Feed saved." : "Feed created.");
        this.loadFeeds();
      } catch (err) {
        status(msg, errorText(err));
      }
    });
    clear(this.feedForm).append(form);
    show(this.feedForm, true);
    name.focus();
  }

  async deleteFeed(f) {
    if (!confirm(`Delete the feed “${str(f.name)}”? Its subscribers stop getting events.`)) return;
    try {
      await api("DELETE", `/api/feeds/${encodeURIComponent(f.id)}`);
      this.loadFeeds();
    } catch (err) {
      status(this.feedsErr, errorText(err));
    }
  }

  // ---- outbox ----

  /**
   * loadMail shows the outbox, newest first: the first page, or with
   * before the next older one after those shown.
   */
  async loadMail(before = 0) {
    try {
      const body = await api("GET", before ? `/api/admin/mail?before=${encodeURIComponent(before)}` : "/api/admin/mail");
      const list = Array.isArray(body?.mails) ? body.mails : [];
      const smtp = $("mail-smtp");
      smtp.textContent =
        body?.smtp === false
          ? "SMTP is not configured (BIRJOB_SMTP_URL): mail is kept here instead of sent."
          : "This node sends mail over SMTP (BIRJOB_SMTP_URL); the outbox holds only what was kept while it was not configured.";
      show(smtp, typeof body?.smtp === "boolean");
      if (!before) clear(this.mails);
      if (!before && !list.length) this.mails.append(h("li", { class: "empty", text: "The outbox is empty: no mail has been kept yet. Alerts set to mail their matches, and sign-ups, put mail here." }));
      for (const m of list) this.mails.append(mailCard(m));
      this.mailNext = Number.isSafeInteger(body?.next) ? body.next : 0;
      show(this.mailMore, this.mailNext > 0);
      status(this.mailErr, "");
    } catch (err) {
      status(this.mailErr, `Outbox: ${errorText(err)}`);
    }
  }

  // ---- stats ----

  async loadStats() {
    try {
      const body = await api("GET", `/api/admin/stats?range=${encodeURIComponent(this.statsRange.value || "1h")}`);
      const { summary: line, figures } = statsCharts(body);
      $("stats-summary").textContent = line;
      clear($("stats-charts")).append(...figures);
      const rows = [];
      for (const k of ["notify", "matcher"]) if (body && k in body) flatten(body[k], k, rows);
      clear(this.stats);
      if (!rows.length) this.stats.append(h("p", { class: "muted", text: "No numbers reported." }));
      for (const [k, v] of rows) this.stats.append(h("div", { class: "stat" }, h("dt", { text: k }), h("dd", { text: v })));
      status(this.statsErr, "");
    } catch (err) {
      status(this.statsErr, `Statistics: ${errorText(err)}`);
    }
  }
}

/**
 * mailCard is one mail of the outbox: subject, recipient, kind and time;
 * opened, its plain-text part as text, and its HTML part (if any) in a
 * frame sandboxed to nothing (no script, no same origin, no navigation).
 */
function mailCard(m) {
  const kind = MAIL_KINDS[str(m.kind)] || str(m.kind);
  const when = h("time", { datetime: str(m.createdAt), title: dateTime(m.createdAt), text: ago(m.createdAt) });
  const head = h(
    "summary",
    {},
    h("span", { class: "mail-subject", text: str(m.subject) || "(no subject)" }),
    h("span", { class: "meta" }, h("span", { class: "to", text: `to ${str(m.to)}` }), kind ? h("span", { class: "badge", text: kind }) : null, when),
  );
  const text = str(m.text);
  const body = text ? h("pre", { class: "mail-text", text }) : h("p", { class: "muted", text: "No plain-text part." });
  const html = str(m.html);
  const details = h("details", {}, head, body);
  if (html) {
    const part = h("details", {}, h("summary", { text: "HTML part" }));
    // The frame is made when first opened: a closed card holds no document.
    part.addEventListener("toggle", () => {
      if (part.open && !part.querySelector("iframe")) part.append(h("iframe", { class: "mail-html", sandbox: "", srcdoc: html, title: `HTML part of “${str(m.subject)}”` }));
    });
    details.append(part);
  }
  return h("li", { class: "card mail", "data-id": str(m.id) }, details);
}

// Health states at a glance: the dot's class and words.
const DOT = {
  ok: ["ok", "healthy"],
  new: ["idle", "not run yet"],
  disabled: ["idle", "disabled"],
  failing: ["bad", "failing"],
  paused: ["bad", "paused after failures"],
  empty: ["warn", "finding nothing"],
  backoff: ["warn", "host backing off"],
  manual: ["idle", "posted by hand"],
};

/** healthDot is a source's state as a coloured dot with its words for screen readers. */
function healthDot(s) {
  const state = s.kind === "manual" ? "manual" : str(s.health?.state) || (s.enabled ? "ok" : "disabled");
  const [cls, words] = DOT[state] || ["warn", state];
  return h("span", { class: `dot ${cls}`, role: "img", "aria-label": words, title: words, "data-state": state });
}

/** sourcesSummary says in words how the sources are doing. */
function sourcesSummary(list) {
  if (!list.length) return "";
  const by = {};
  for (const s of list) {
    const state = s.kind === "manual" ? "manual" : str(s.health?.state) || (s.enabled ? "ok" : "disabled");
    const words = (DOT[state] || [null, state])[1];
    by[words] = (by[words] || 0) + 1;
  }
  const parts = Object.entries(by).map(([w, n]) => `${n} ${w}`);
  return `${list.length} source${list.length === 1 ? "" : "s"}: ${parts.join(", ")}.`;
}

/** lastRun is a source's last run: its status, when, and what it found. */
function lastRun(run) {
  if (!run || typeof run !== "object") return h("span", { class: "muted small", text: "never ran" });
  const st = str(run.status);
  const errs = Number(run.errorCount) || (Array.isArray(run.errors) ? run.errors.length : 0);
  const facts = [ago(run.finishedAt || run.startedAt), Number.isFinite(Number(run.found)) ? `${Number(run.found)} found` : "", Number(run.new) ? `${Number(run.new)} new` : "", errs ? `${errs} error${errs === 1 ? "" : "s"}` : ""];
  return h("div", { class: "health small" }, h("span", { class: `badge ${st}`, text: st || "?" }), " ", h("span", { class: "muted", text: facts.filter(Boolean).join(" · ") }));
}

/** nextRun is when a source runs next, or why it does not. */
function nextRun(s) {
  if (!s.enabled) return h("span", { class: "muted", text: s.health?.paused ? "paused" : "disabled" });
  if (s.health?.running) return h("span", { text: "running now" });
  if (s.health?.resumesAt && new Date(s.health.resumesAt) > new Date()) return h("span", { text: `after the back-off, ${ago(s.health.resumesAt)}` });
  if (!s.nextRunAt) return h("span", { class: "muted", text: "—" });
  return h("time", { datetime: str(s.nextRunAt), title: dateTime(s.nextRunAt), text: ago(s.nextRunAt) });
}

// Badge classes for health states; the rest look like a suspect run.
const HEALTH_CLASS = { ok: "ok", new: "", disabled: "", failing: "failed", paused: "failed" };

/** sourceHealth renders a source's health: its state, failure streak, last
 * success, why it was paused, and when its host's back-off ends. */
function sourceHealth(hl) {
  if (!hl || typeof hl !== "object") return null;
  const state = str(hl.state);
  const streak = Number(hl.failureStreak) || 0;
  const empty = Number(hl.emptyStreak) || 0;
  const pauseAfter = Number(hl.pauseAfterFailures) || 0;
  const facts = [
    streak ? `${streak} failed run${streak === 1 ? "" : "s"} in a row${pauseAfter ? ` (pauses at ${pauseAfter})` : ""}` : "",
    empty ? `${empty} empty run${empty === 1 ? "" : "s"} in a row` : "",
    hl.lastSuccessAt ? `last success ${ago(hl.lastSuccessAt)}` : "never succeeded yet",
    hl.running ? "running now" : "",
  ].filter(Boolean);
  const cls = state in HEALTH_CLASS ? HEALTH_CLASS[state] : "suspect";
  return h(
    "div",
    { class: "health small", "data-health": state },
    h("span", { class: `badge ${cls}`, text: state || "?" }),
    " ",
    h("span", { class: "muted", text: facts.join(" · ") }),
    hl.paused && hl.pausedReason ? h("div", { class: "status error", text: str(hl.pausedReason) }) : null,
    hl.resumesAt
      ? h("div", { class: "muted", text: `host ${str(hl.host?.host)} is backing off until ${dateTime(hl.resumesAt)} (${ago(hl.resumesAt)})${hl.host?.reason ? `: ${str(hl.host.reason)}` : ""}` })
      : null,
    streak && hl.lastError && !hl.paused ? h("div", { class: "muted last-error", title: str(hl.lastError), text: `last error: ${str(hl.lastError)}` }) : null,
  );
}

const statNumber = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** flatten collects the numeric leaves of v as ["a.b", "12"] pairs. */
function flatten(v, prefix, out, depth = 0) {
  if (depth > 4 || out.length > 200) return;
  if (typeof v === "number" && Number.isFinite(v)) {
    out.push([prefix || "value", statNumber.format(v)]);
  } else if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out, depth + 1);
  }
}
