// sourceform.js — the admin's form for a scrape source: every field and
// setting the source API accepts (scraper/validate.go), each with an
// example, so an admin can write a source without reading the code.

import { h, clear, str, field } from "./dom.js";

export const KINDS = ["html", "jsonld", "rss", "json"];

const KIND_TEXT = {
  html: "HTML list pages, read with CSS selectors",
  jsonld: "pages with schema.org JobPosting JSON-LD (no selectors needed)",
  rss: "an RSS or Atom feed (no selectors needed)",
  json: "a JSON API, read with dotted paths",
};

// Selectors by kind: [key, example, hint]. "sel@attr" reads an attribute.
const SELECTORS = {
  html: [
    ["item", "article.job", "each posting of a list page (required)"],
    ["title", "h2", "inside the item (required)"],
    ["url", "a@href", "the posting's link (required); sel@attr reads an attribute"],
    ["company", ".company", ""],
    ["location", ".location", ""],
    ["salary", ".salary", "text such as “1500–2000 AZN”"],
    ["postedAt", "time@datetime", "a date, absolute or relative (“2 days ago”)"],
    ["validThrough", ".deadline time@datetime", "the posting expires after this date"],
    ["description", ".description", "turned into plain text"],
    ["externalId", "@data-id", "the board's own id; @attr reads the item's attribute"],
    ["employmentType", ".type", "full-time, part-time, contract…"],
    ["remote", ".remote", "any text here marks the job remote"],
    ["next", "a.next@href", "the next list page"],
  ],
  jsonld: [
    ["links", "a.job@href", "detail pages to read JobPostings from (optional)"],
    ["next", "a[rel=next]@href", "the next list page (optional)"],
  ],
  json: [
    ["items", "data.items", "dotted path of the array; empty when the document is the array"],
    ["title", "title", "inside each item (required)"],
    ["url", "links.html", "inside each item (required)"],
    ["company", "company.name", ""],
    ["location", "location", ""],
    ["salary", "salary", "text, or an object {min, max, currency, period}"],
    ["salaryMin", "salary_from", ""],
    ["salaryMax", "salary_to", ""],
    ["salaryCurrency", "currency", ""],
    ["salaryPeriod", "period", "month, year, hour…"],
    ["postedAt", "published_at", ""],
    ["validThrough", "expires_at", ""],
    ["description", "description", ""],
    ["externalId", "id", ""],
    ["employmentType", "type", ""],
    ["remote", "is_remote", ""],
    ["next", "links.next", "path of the next page's URL"],
  ],
};

// Settings: [key, type, example, hint]; empty takes the default.
const SETTINGS = [
  ["maxPages", "number", "50", "list (or feed, API) pages one run follows; default 50"],
  ["maxDetailPages", "number", "1000", "detail pages one run visits; default 1000"],
  ["delay", "duration", "1s", "least time between two requests; at most 1m (e.g. 500ms, 2s)"],
  ["parallelism", "number", "2", "requests at once to this source, 1–32; default 2"],
  ["requestTimeout", "duration", "20s", "bound on one request; at most 10m; default 20s"],
  ["runTimeout", "duration", "5m", "bound on a whole run; at most 6h; default 5m"],
  ["expireAfterMissing", "number", "2", "a job expires after missing from this many healthy runs in a row"],
  ["suspectRatio", "ratio", "0.5", "a run finding fewer than this share of the usual count is suspect (expires nothing); 0–1"],
  ["maxBodyBytes", "number", "5242880", "largest response body read, in bytes (at most 200 MiB); default 5 MiB"],
];

let uid = 0;

/**
 * sourceForm builds the form of source s (null: a new source) and returns
 * {form, read()}. actions are the form's buttons. read() gives the body
 * for POST or PUT /api/sources: unknown selector and setting keys of the
 * stored source are kept.
 */
export function sourceForm(s, actions) {
  const n = ++uid;
  const input = (name, attrs = {}) => h("input", { type: "text", name, id: `src-${name}-${n}`, ...attrs });
  const kind = h("select", { name: "kind" }, KINDS.map((k) => h("option", { value: k, text: k })));
  kind.value = KINDS.includes(s?.kind) ? s.kind : "html";
  const kindHint = h("small", { class: "hint" });
  const name = input("name", { required: true, value: str(s?.name), placeholder: "boss.az", autocomplete: "off" });
  const url = input("url", { type: "url", required: true, value: str(s?.url), placeholder: "https://jobs.example.com/it?page=1" });
  const schedule = input("schedule", { required: true, value: str(s?.schedule || "@every 10m"), placeholder: "@every 10m" });
  const check = (name, on, label) => {
    const el = h("input", { type: "checkbox", name });
    el.checked = on;
    return [el, h("label", { class: "check" }, el, label)];
  };
  const [enabled, enabledBox] = check("enabled", s ? !!s.enabled : true, "Enabled");
  const [robots, robotsBox] = check("respectRobots", s ? s.respectRobots !== false : true, "Respect robots.txt");
  const existing = s?.selectors && typeof s.selectors === "object" ? { ...s.selectors } : {};
  const [detail, detailBox] = check("detail", existing.detail === "true", "Open each posting's detail page (reads its JSON-LD over the list's fields; a page answering 404 or 410 expires the job)");
  const selBox = h("fieldset", { class: "selectors" });
  let selInputs = {};
  const drawSelectors = () => {
    const keys = SELECTORS[kind.value] || [];
    const typed = Object.fromEntries(Object.entries(selInputs).map(([k, el]) => [k, el.value]));
    selInputs = {};
    kindHint.textContent = KIND_TEXT[kind.value] || "";
    clear(selBox).append(h("legend", { text: kind.value === "json" ? "JSON paths (dotted)" : "CSS selectors" }));
    if (!keys.length) selBox.append(h("p", { class: "muted", text: `A source of kind ${kind.value} needs no selectors.` }));
    const grid = h("div", { class: "grid" });
    for (const [k, example, hint] of keys) {
      selInputs[k] = input(`sel-${k}`, { value: str(typed[k] ?? existing[k] ?? ""), placeholder: example, autocomplete: "off", spellcheck: "false" });
      grid.append(field(k, selInputs[k], hint ? `${hint}; e.g. ${example}` : `e.g. ${example}`));
    }
    if (keys.length) selBox.append(grid);
    if (kind.value === "html") selBox.append(detailBox);
  };
  kind.addEventListener("change", drawSelectors);
  drawSelectors();

  const settings = s?.settings && typeof s.settings === "object" ? { ...s.settings } : {};
  const setInputs = {};
  const setGrid = h("div", { class: "grid" });
  for (const [k, type, example, hint] of SETTINGS) {
    const attrs = type === "duration" ? { inputmode: "text", pattern: "([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+" } : { type: "number", min: "0", step: type === "ratio" ? "0.05" : "1", max: type === "ratio" ? "1" : null };
    const v = settings[k];
    setInputs[k] = input(`set-${k}`, { ...attrs, value: v === undefined || v === null ? "" : str(v), placeholder: example });
    setGrid.append(field(k, setInputs[k], hint));
  }
  const setBox = h("details", { class: "settings", open: Object.keys(settings).length > 0 }, h("summary", { text: "Limits, delays and timeouts (empty: the defaults)" }), setGrid);

  const kindField = field("Kind", kind);
  kindField.append(kindHint);
  const form = h(
    "form",
    { class: "card", "aria-label": s ? "Edit source" : "New source" },
    h("h3", { text: s ? `Edit source “${str(s.name)}”` : "New source" }),
    h("div", { class: "row" }, field("Name", name), kindField),
    field("URL", url, "the first list page, feed or API URL (http or https)"),
    field("Schedule", schedule, "@every 10m, or a cron spec such as */15 * * * * or 0 8-18 * * 1-5 (at most every second)"),
    h("div", { class: "row" }, enabledBox, robotsBox),
    selBox,
    setBox,
    actions,
  );
  const read = () => {
    const selectors = { ...existing };
    delete selectors.detail;
    for (const [k, el] of Object.entries(selInputs)) {
      if (el.value.trim()) selectors[k] = el.value.trim();
      else delete selectors[k];
    }
    if (kind.value === "html" && detail.checked) selectors.detail = "true";
    const outSettings = { ...settings };
    for (const [k, type] of SETTINGS) {
      const v = setInputs[k].value.trim();
      if (!v) delete outSettings[k];
      else outSettings[k] = type === "duration" ? v : Number(v);
    }
    return {
      name: name.value.trim(),
      kind: kind.value,
      url: url.value.trim(),
      schedule: schedule.value.trim(),
      enabled: enabled.checked,
      respectRobots: robots.checked,
      selectors,
      settings: outSettings,
    };
  };
  return { form, read, focus: () => name.focus() };
}
