// charts.js — the admin's statistics: the cluster's numbers over time
// (GET /api/admin/stats), each chart an inline SVG with a sentence that
// says what it shows, so the page reads at a glance and to a screen reader.

import { h, str } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 600;
const H = 170;
const PAD = { left: 64, right: 10, top: 12, bottom: 24 };

const RANGE_TEXT = { "1h": "the last hour", "6h": "the last 6 hours", "24h": "the last day" };
const TRANSPORTS = [
  ["sse", "SSE"],
  ["ws", "WebSocket"],
  ["poll", "long poll"],
];
const RUN_STATUSES = ["ok", "not-modified", "suspect", "failed", "backoff", "running"];

const num = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const num2 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c);
  return el;
}

const plural = (n, one, many = `${one}s`) => `${num.format(n)} ${n === 1 ? one : many}`;

/** perTime says a rate of events per second in words: per second, or per minute when below one. */
const perTime = (perSec) => (perSec >= 1 ? `${num2.format(perSec)} events/s` : `${num.format(perSec * 60)} events/min`);

/**
 * chart draws series (each {name, cls, values: number|null per bucket})
 * over the buckets at (Date per bucket) as lines, or as stacked bars when
 * stacked; sentence is its caption and its accessible name.
 */
export function chart({ title, sentence, at, series, stacked = false, unit = "" }) {
  const n = at.length;
  const totals = at.map((_, i) => series.reduce((a, s) => a + (Number(s.values[i]) || 0), 0));
  const peak = stacked ? Math.max(0, ...totals) : Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null).map(Number)));
  const top = niceMax(peak);
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (n <= 1 ? 0 : (i / (n - 1)) * iw);
  const y = (v) => PAD.top + ih - (v / top) * ih;
  const g = svg("g", { class: "plot" });
  if (stacked) {
    const bw = Math.max(1, iw / Math.max(n, 1) - 1);
    const base = new Array(n).fill(0);
    for (const s of series) {
      s.values.forEach((v, i) => {
        v = Number(v) || 0;
        if (!v) return;
        const x0 = PAD.left + (i / Math.max(n, 1)) * iw;
        g.append(svg("rect", { class: s.cls, x: x0.toFixed(1), y: y(base[i] + v).toFixed(1), width: bw.toFixed(1), height: (y(base[i]) - y(base[i] + v)).toFixed(1) }));
        base[i] += v;
      });
    }
  } else {
    for (const s of series) {
      // A gap (null) breaks the line: no sample then.
      let d = "";
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return void (pen = false);
        d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(Number(v)).toFixed(1)}`;
        pen = true;
      });
      if (d) g.append(svg("path", { class: `line ${s.cls}`, d }));
      // A lone sample between gaps is a dot (a path of one point shows nothing).
      s.values.forEach((v, i) => {
        const lone = v !== null && v !== undefined && (s.values[i - 1] ?? null) === null && (s.values[i + 1] ?? null) === null;
        if (lone) g.append(svg("circle", { class: `point ${s.cls}`, cx: x(i).toFixed(1), cy: y(Number(v)).toFixed(1), r: 3 }));
      });
    }
  }
  const label = (tx, ty, text, anchor = "start") => svg("text", { x: tx, y: ty, "text-anchor": anchor }, document.createTextNode(text));
  const axis = svg(
    "g",
    { class: "axis", "aria-hidden": "true" },
    svg("line", { x1: PAD.left, x2: W - PAD.right, y1: PAD.top + ih, y2: PAD.top + ih }),
    svg("line", { x1: PAD.left, x2: W - PAD.right, y1: PAD.top, y2: PAD.top, class: "grid" }),
    label(PAD.left - 6, PAD.top + 4, `${num2.format(top)}${unit}`, "end"),
    label(PAD.left - 6, PAD.top + ih + 4, "0", "end"),
    n ? label(PAD.left, H - 4, clock.format(at[0])) : null,
    n ? label(W - PAD.right, H - 4, "now", "end") : null,
  );
  const id = `chart-${title.replace(/\W+/g, "-").toLowerCase()}`;
  const pic = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${id}-cap`, class: "chart" }, axis, g);
  const legend =
    series.length > 1
      ? h(
          "ul",
          { class: "legend" },
          series.map((s) => h("li", {}, h("span", { class: `swatch ${s.cls}`, "aria-hidden": "true" }), s.name)),
        )
      : null;
  return h("figure", { class: "chart-card", id }, h("h3", { text: title }), h("figcaption", { id: `${id}-cap`, text: sentence }), pic, legend);
}

/** niceMax rounds v up to 1, 2 or 5 times a power of ten (at least 1). */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * bucketSeconds is how long each bucket covers: step, except the current
 * one, which covers only until now.
 */
function bucketSeconds(at, step, now) {
  return at.map((t) => Math.max(1, Math.min(step, (now - t) / 1000)));
}

/** statsCharts turns an answer of GET /api/admin/stats into the summary and the charts. */
export function statsCharts(body) {
  const s = body?.series || {};
  const at = (Array.isArray(s.at) ? s.at : []).map((t) => new Date(t));
  const step = Number(body?.step) || 60;
  const now = new Date(body?.now || Date.now());
  const over = RANGE_TEXT[str(body?.range)] || "the last hour";
  const secs = bucketSeconds(at, step, now);
  const span = secs.reduce((a, b) => a + b, 0) || 1;
  const arr = (v) => (Array.isArray(v) ? v : at.map(() => null));
  const figs = [];

  // Events per second.
  const events = arr(s.events).map((v) => Number(v) || 0);
  const rate = events.map((v, i) => v / secs[i]);
  const total = events.reduce((a, b) => a + b, 0);
  const peakAt = rate.indexOf(Math.max(...rate));
  figs.push(
    chart({
      title: "Events per second",
      unit: "/s",
      at,
      series: [{ name: "events", cls: "s1", values: rate }],
      sentence: total
        ? `${perTime(total / span)} over ${over} (${plural(total, "event")}), peak ${perTime(rate[peakAt])} at ${clock.format(at[peakAt])}.`
        : `No events over ${over}.`,
    }),
  );

  // Connections by transport.
  const conns = body?.cluster?.connections || {};
  const nowTotal = TRANSPORTS.reduce((a, [k]) => a + (Number(conns[k]) || 0), 0);
  const connSeries = TRANSPORTS.map(([k, name], i) => ({ name, cls: `s${i + 1}`, values: arr(s.connections?.[k]).map((v) => (v === null ? null : Number(v))) }));
  const sums = at.map((_, i) => connSeries.reduce((a, c) => a + (c.values[i] || 0), 0));
  const nodes = Array.isArray(body?.cluster?.nodes) ? body.cluster.nodes.length : 0;
  figs.push(
    chart({
      title: "Connections by transport",
      at,
      series: connSeries,
      sentence:
        `${plural(nowTotal, "open connection")} now` +
        (nowTotal ? `: ${TRANSPORTS.map(([k, name]) => `${num.format(Number(conns[k]) || 0)} ${name}`).join(", ")}` : "") +
        `, on ${plural(nodes, "node")}; at most ${num.format(Math.round(Math.max(nowTotal, ...sums)))} over ${over}.`,
    }),
  );

  // Runs by status.
  const runs = s.runs && typeof s.runs === "object" ? s.runs : {};
  const statuses = [...RUN_STATUSES.filter((k) => k in runs), ...Object.keys(runs).filter((k) => !RUN_STATUSES.includes(k))];
  const runTotals = statuses.map((k) => [k, arr(runs[k]).reduce((a, b) => a + (Number(b) || 0), 0)]);
  const allRuns = runTotals.reduce((a, [, v]) => a + v, 0);
  figs.push(
    chart({
      title: "Scrape runs by status",
      at,
      stacked: true,
      series: statuses.map((k) => ({ name: k, cls: `run-${k}`, values: arr(runs[k]) })),
      sentence: allRuns ? `${plural(allRuns, "run")} over ${over}: ${runTotals.map(([k, v]) => `${num.format(v)} ${k}`).join(", ")}.` : `No scrape runs over ${over}.`,
    }),
  );

  // Matching time.
  const matched = arr(s.matched).map((v) => Number(v) || 0);
  const ms = arr(s.matchMs).map((v) => (v === null ? null : Number(v)));
  const jobs = matched.reduce((a, b) => a + b, 0);
  const mean = jobs ? ms.reduce((a, v, i) => a + (v || 0) * matched[i], 0) / jobs : 0;
  const worst = Math.max(0, ...ms.filter((v) => v !== null));
  figs.push(
    chart({
      title: "Matching time per new job",
      unit: " ms",
      at,
      series: [{ name: "ms per job", cls: "s2", values: ms }],
      sentence: jobs
        ? `Matching a new job against the alerts took ${num2.format(mean)} ms on average over ${over} (${plural(jobs, "job")}), at most ${num2.format(worst)} ms.`
        : `No new job was matched over ${over}.`,
    }),
  );

  const subs = Number(body?.cluster?.subscriptions) || 0;
  const summary = `The cluster now: ${plural(nodes, "node")}, ${plural(nowTotal, "open connection")}, ${plural(subs, "channel subscription")}; ${plural(total, "event")} and ${plural(allRuns, "scrape run")} over ${over}.`;
  return { summary, figures: figs };
}
