// admin.js — the admin tab: scrape sources (edit, preview, run now, run
// history), public feeds, and live stats of the notification hub. Each part
// loads on its own, so an endpoint that is missing or failing shows its
// error and leaves the others working.

import { h, clear, show, api, errorText, status, str, field, dateTime, ago, $ } from "./dom.js";
import { criteriaFields, summary } from "./criteria.js";
import { renderJob } from "./jobs.js";
import { toast } from "./toast.js";

const KINDS = ["html", "jsonld", "rss", "json"];
const HTML_SELECTORS = ["item", "title", "url", "company", "location", "salary", "postedAt", "description", "externalId", "employmentType", "next", "detail"];
const JSON_SELECTORS = ["items", ...HTML_SELECTORS.filter((k) => k !== "item" && k !== "next" && k !== "detail"), "next"];
const STATS_MS = 5000;

/** Admin is the admin tab. */
export class Admin {
  constructor() {
    this.sources = $("sources-list");
    this.sourcesErr = $("sources-error");
    this.sourceForm = $("source-form");
    this.sourceOut = $("source-output");
    this.feeds = $("feeds-list");
    this.feedsErr = $("feeds-error");
    this.feedForm = $("feed-form");
    this.stats = $("stats");
    this.statsErr = $("stats-error");
    this.statsTimer = null;
    $("source-new").addEventListener("click", () => this.editSource(null));
    $("feed-new").addEventListener("click", () => this.editFeed(null));
  }

  /** load fetches all parts; each failure stays in its part. */
  load() {
    this.loadSources();
    this.loadFeeds();
    this.loadStats();
  }

  /** active starts or stops the stats refresh (while the tab is shown). */
  active(on) {
    clearInterval(this.statsTimer);
    this.statsTimer = on ? setInterval(() => this.loadStats(), STATS_MS) : null;
  }

  // ---- sources ----

  async loadSources() {
    try {
      const body = await api("GET", "/api/sources");
      const list = Array.isArray(body) ? body : Array.isArray(body?.sources) ? body.sources : [];
      clear(this.sources);
      if (!list.length) this.sources.append(h("tr", {}, h("td", { colspan: "5", class: "empty", text: "No sources yet." })));
      for (const s of list) this.sources.append(this.sourceRow(s));
      status(this.sourcesErr, "");
    } catch (err) {
      status(this.sourcesErr, `Sources: ${errorText(err)}`);
    }
  }

  sourceRow(s) {
    const id = encodeURIComponent(str(s.id));
    const btn = (text, fn, cls) => h("button", { type: "button", class: cls || null, text, onclick: fn });
    return h(
      "tr",
      { "data-id": str(s.id) },
      h("td", {}, h("strong", { text: str(s.name) }), h("div", { class: "muted small", text: str(s.url) })),
      h("td", { text: str(s.kind) }),
      h("td", { text: str(s.schedule) }),
      h("td", {}, h("span", { class: s.enabled ? "badge ok" : "badge", text: s.enabled ? "enabled" : "disabled" }), health(s.lastRun), sourceHealth(s.health)),
      h(
        "td",
        { class: "actions" },
        btn("Edit", () => this.editSource(s)),
        btn("Preview", () => this.preview(s, id)),
        btn("Run now", () => this.run(s, id)),
        btn("Runs", () => this.runs(s, id)),
        // Resuming a paused source is enabling it: the server forgets the
        // pause and the failure streak.
        btn(s.enabled ? "Disable" : s.health?.paused ? "Resume" : "Enable", () => this.saveSource(s, { enabled: !s.enabled }), s.health?.paused && !s.enabled ? "primary" : null),
        btn("Delete", () => this.deleteSource(s, id), "danger"),
      ),
    );
  }

  editSource(s) {
    const kind = h("select", { name: "kind" }, KINDS.map((k) => h("option", { value: k, text: k })));
    kind.value = KINDS.includes(s?.kind) ? s.kind : "html";
    const name = h("input", { type: "text", name: "name", required: true, value: str(s?.name) });
    const url = h("input", { type: "url", name: "url", required: true, value: str(s?.url), placeholder: "https://jobs.example.com/" });
    const schedule = h("input", { type: "text", name: "schedule", value: str(s?.schedule || "@every 10m"), placeholder: "@every 10m or */15 * * * *" });
    const enabled = h("input", { type: "checkbox", name: "enabled" });
    enabled.checked = s ? !!s.enabled : true;
    const robots = h("input", { type: "checkbox", name: "respectRobots" });
    robots.checked = s ? s.respectRobots !== false : true;
    const existing = s?.selectors && typeof s.selectors === "object" ? s.selectors : {};
    const selBox = h("fieldset", { class: "selectors" });
    let selInputs = {};
    const drawSelectors = () => {
      const keys = kind.value === "json" ? JSON_SELECTORS : kind.value === "html" ? HTML_SELECTORS : [];
      // Keep what was typed when the kind changes.
      const typed = Object.fromEntries(Object.entries(selInputs).map(([k, el]) => [k, el.value]));
      selInputs = {};
      clear(selBox).append(h("legend", { text: kind.value === "json" ? "JSON paths (dotted)" : kind.value === "html" ? "CSS selectors" : "Selectors" }));
      if (!keys.length) selBox.append(h("p", { class: "muted", text: `A source of kind ${kind.value} needs no selectors.` }));
      for (const k of keys) {
        selInputs[k] = h("input", { type: "text", name: `sel-${k}`, value: str(typed[k] ?? existing[k] ?? "") });
        selBox.append(field(k, selInputs[k]));
      }
    };
    kind.addEventListener("change", drawSelectors);
    drawSelectors();
    const msg = h("p", { class: "status", role: "alert", hidden: true });
    const form = h(
      "form",
      { class: "card", "aria-label": s ? "Edit source" : "New source" },
      h("h3", { text: s ? `Edit source “${str(s.name)}”` : "New source" }),
      h("div", { class: "row" }, field("Name", name), field("Kind", kind)),
      field("URL", url),
      field("Schedule", schedule, "cron spec (5 fields) or @every 10m"),
      h("div", { class: "row" }, h("label", { class: "check" }, enabled, "Enabled"), h("label", { class: "check" }, robots, "Respect robots.txt")),
      selBox,
      msg,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: s ? "Save" : "Create source" }), h("button", { type: "button", text: "Cancel", onclick: () => show(clear(this.sourceForm), false) })),
    );
    const read = () => {
      // Unknown selector keys of the stored source are kept.
      const selectors = { ...existing };
      for (const [k, el] of Object.entries(selInputs)) {
        if (el.value.trim()) selectors[k] = el.value.trim();
        else delete selectors[k];
      }
      return { name: name.value.trim(), kind: kind.value, url: url.value.trim(), schedule: schedule.value.trim(), enabled: enabled.checked, respectRobots: robots.checked, selectors };
    };
    // Try the form's settings without saving them.
    form.querySelector(".actions").append(
      h("button", { type: "button", text: "Preview these settings", onclick: () => this.showPreview(read().name || "new source", "/api/sources/preview", read()) }),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = read();
      try {
        if (s) await api("PUT", `/api/sources/${encodeURIComponent(s.id)}`, body);
        else await api("POST", "/api/sources", body);
        show(clear(this.sourceForm), false);
        toast(s ? "Source saved." : "Source created.");
        this.loadSources();
      } catch (err) {
        status(msg, errorText(err));
      }
    });
    clear(this.sourceForm).append(form);
    show(this.sourceForm, true);
    name.focus();
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
    if (!confirm(`Delete the source “${str(s.name)}”? Its jobs stay.`)) return;
    try {
      await api("DELETE", `/api/sources/${id}`);
      this.loadSources();
    } catch (err) {
      status(this.sourcesErr, errorText(err));
    }
  }

  output(title, ...nodes) {
    nodes = nodes.filter((n) => n !== null && n !== undefined);
    clear(this.sourceOut).append(
      h("div", { class: "card-head" }, h("h3", { text: title }), h("button", { type: "button", text: "Close", onclick: () => show(clear(this.sourceOut), false) })),
      ...nodes,
    );
    show(this.sourceOut, true);
  }

  preview(s, id) {
    return this.showPreview(str(s.name), `/api/sources/${id}/preview`);
  }

  /** showPreview asks path (with the unsaved source def, if any) what it extracts. */
  async showPreview(name, path, def) {
    const s = { name };
    this.output(`Preview of “${str(s.name)}”`, h("p", { class: "muted", text: "Fetching… (nothing is saved)" }));
    try {
      const body = await api("POST", path, def);
      const jobs = Array.isArray(body?.jobs) ? body.jobs : [];
      const errors = Array.isArray(body?.errors) ? body.errors : [];
      this.output(
        `Preview of “${str(s.name)}”`,
        h("p", { text: `${jobs.length} job${jobs.length === 1 ? "" : "s"} from ${Number(body?.pages) || 0} page(s)` }),
        errors.length ? h("ul", { class: "errors" }, errors.map((e) => h("li", { text: typeof e === "string" ? e : JSON.stringify(e) }))) : null,
        h("ul", { class: "jobs" }, jobs.map((j, i) => renderJob({ ...j, id: j.id ?? `preview-${i}` }, { compact: true }))),
      );
    } catch (err) {
      this.output(`Preview of “${str(s.name)}”`, h("p", { class: "status error", text: errorText(err) }));
    }
  }

  async run(s, id) {
    try {
      await api("POST", `/api/sources/${id}/run`);
      toast(`Run of “${str(s.name)}” started.`);
      this.runs(s, id);
    } catch (err) {
      status(this.sourcesErr, `Run now: ${errorText(err)}`);
    }
  }

  async runs(s, id) {
    try {
      const body = await api("GET", `/api/sources/${id}/runs`);
      const runs = Array.isArray(body) ? body : Array.isArray(body?.runs) ? body.runs : [];
      const num = (v) => h("td", { class: "num", text: Number.isFinite(Number(v)) ? String(Number(v)) : "" });
      this.output(
        `Runs of “${str(s.name)}”`,
        runs.length
          ? h(
              "div",
              { class: "scroll" },
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
      this.output(`Runs of “${str(s.name)}”`, h("p", { class: "status error", text: errorText(err) }));
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
    const name = h("input", { type: "text", name: "name", required: true, value: str(f?.name), placeholder: "job-alerts-baku", pattern: "[a-z0-9][a-z0-9-]*" });
    const title = h("input", { type: "text", name: "title", value: str(f?.title), placeholder: "Jobs in Baku" });
    const crit = criteriaFields(f || {});
    const msg = h("p", { class: "status", role: "alert", hidden: true });
    const form = h(
      "form",
      { class: "card", "aria-label": f ? "Edit feed" : "New feed" },
      h("h3", { text: f ? `Edit feed “${str(f.name)}”` : "New public feed" }),
      h("div", { class: "row" }, field("Channel name", name, "lower-case letters, digits and dashes"), field("Title", title)),
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

  // ---- stats ----

  async loadStats() {
    try {
      const body = await api("GET", "/api/admin/stats");
      const rows = [];
      flatten(body, "", rows);
      clear(this.stats);
      if (!rows.length) this.stats.append(h("p", { class: "muted", text: "No numbers reported." }));
      for (const [k, v] of rows) this.stats.append(h("div", { class: "stat" }, h("dt", { text: k }), h("dd", { text: v })));
      status(this.statsErr, "");
    } catch (err) {
      status(this.statsErr, `Stats: ${errorText(err)}`);
    }
  }
}

/** health summarises a source's last run, when the API gives it. */
function health(run) {
  if (!run || typeof run !== "object") return null;
  const st = str(run.status);
  const errs = Number(run.errorCount) || (Array.isArray(run.errors) ? run.errors.length : 0);
  const when = ago(run.finishedAt || run.startedAt);
  return h(
    "div",
    { class: "health small" },
    h("span", { class: `badge ${st}`, text: st || "?" }),
    " ",
    h("span", { class: "muted", text: [when, Number.isFinite(Number(run.found)) ? `${Number(run.found)} found` : "", errs ? `${errs} error${errs === 1 ? "" : "s"}` : ""].filter(Boolean).join(" · ") }),
  );
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
    streak && hl.lastError && !hl.paused ? h("div", { class: "muted", text: `last error: ${str(hl.lastError)}` }) : null,
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
