// criteria.js — the form fields of saved criteria, shared by "My alerts"
// and the admin's public feeds, and a one-line summary of criteria.

import { h, str, splitList, field, formatSalary } from "./dom.js";

export const EMPLOYMENT_TYPES = ["full-time", "part-time", "contract", "temporary", "internship", "volunteer", "other"];
const PERIODS = ["month", "year", "week", "day", "hour"];

/** QUERY_HINT explains the matcher's query language. */
export const QUERY_HINT =
  'Words must all appear; "exact phrase"; -word excludes; a OR b; (parentheses) group; title:go and company:acme look in one field.';

let uid = 0;

/**
 * criteriaFields builds the controls for criteria c (an alert or a feed)
 * and returns {node, read()}; read() gives the JSON fields to send. Empty
 * fields are sent empty (not left out) so that an edit can clear them.
 */
export function criteriaFields(c = {}) {
  const n = ++uid;
  const input = (name, value, attrs = {}) => h("input", { name, id: `${name}-${n}`, value: str(value), ...attrs });
  const query = input("query", c.query, { type: "text", autocomplete: "off", placeholder: 'golang "backend engineer" -senior' });
  const location = input("location", c.location, { type: "text", placeholder: "Baku" });
  const remote = h(
    "select",
    { name: "remote" },
    h("option", { value: "", text: "any" }),
    h("option", { value: "true", text: "remote only" }),
    h("option", { value: "false", text: "on-site only" }),
  );
  remote.value = c.remote === true ? "true" : c.remote === false ? "false" : "";
  const sal = c.salaryMin && typeof c.salaryMin === "object" ? c.salaryMin : {};
  const salAmount = input("salaryAmount", sal.amount || "", { type: "number", min: "0", step: "any", inputmode: "numeric" });
  const salCurrency = input("salaryCurrency", sal.currency || "AZN", { type: "text", maxlength: "3", size: "4" });
  const salPeriod = h("select", { name: "salaryPeriod" }, PERIODS.map((p) => h("option", { value: p, text: `per ${p}` })));
  salPeriod.value = PERIODS.includes(sal.period) ? sal.period : "month";
  const types = new Set(Array.isArray(c.employmentTypes) ? c.employmentTypes : []);
  const typeBoxes = EMPLOYMENT_TYPES.map((t) => {
    const box = h("input", { type: "checkbox", value: t });
    box.checked = types.has(t);
    return { t, box, node: h("label", { class: "check" }, box, t) };
  });
  const listInput = (name, v, ph) => input(name, Array.isArray(v) ? v.join(", ") : "", { type: "text", placeholder: ph });
  const companies = listInput("companies", c.companies, "comma separated");
  const exclude = listInput("excludeCompanies", c.excludeCompanies, "comma separated");
  const sources = listInput("sources", c.sources, "source names, comma separated");

  const node = h(
    "div",
    { class: "criteria" },
    field("Query", query, QUERY_HINT),
    h("div", { class: "row" }, field("Location", location), field("Remote", remote)),
    h("div", { class: "row" }, field("Minimum salary", salAmount), field("Currency", salCurrency), field("Period", salPeriod)),
    h("fieldset", { class: "types" }, h("legend", { text: "Employment types (none = any)" }), typeBoxes.map((x) => x.node)),
    field("Only these companies", companies),
    field("Exclude companies", exclude),
    field("Sources", sources),
  );

  const read = () => {
    const amount = Number(salAmount.value);
    return {
      query: query.value.trim(),
      location: location.value.trim(),
      remote: remote.value === "" ? null : remote.value === "true",
      salaryMin: salAmount.value !== "" && amount > 0 ? { amount, currency: salCurrency.value.trim().toUpperCase(), period: salPeriod.value } : null,
      employmentTypes: typeBoxes.filter((x) => x.box.checked).map((x) => x.t),
      companies: splitList(companies.value),
      excludeCompanies: splitList(exclude.value),
      sources: splitList(sources.value),
    };
  };
  return { node, read };
}

/** summary describes criteria in one line, e.g. `"go" · Baku · remote · ≥ ₼2,000 / month`. */
export function summary(c) {
  const parts = [];
  if (c.query) parts.push(`“${str(c.query)}”`);
  if (c.location) parts.push(str(c.location));
  if (c.remote === true) parts.push("remote");
  if (c.remote === false) parts.push("on-site");
  if (c.salaryMin && c.salaryMin.amount) {
    const a = Number(c.salaryMin.amount);
    parts.push(`≥ ${formatSalary({ min: a, max: a, currency: c.salaryMin.currency, period: c.salaryMin.period })}`);
  }
  if (Array.isArray(c.employmentTypes) && c.employmentTypes.length) parts.push(c.employmentTypes.map(str).join("/"));
  if (Array.isArray(c.companies) && c.companies.length) parts.push(`at ${c.companies.map(str).join(", ")}`);
  if (Array.isArray(c.excludeCompanies) && c.excludeCompanies.length) parts.push(`not ${c.excludeCompanies.map(str).join(", ")}`);
  if (Array.isArray(c.sources) && c.sources.length) parts.push(`from ${c.sources.map(str).join(", ")}`);
  return parts.join(" · ") || "everything";
}
