// Formatting for the dashboard, in one place: numbers as the CLI writes
// them, statuses in words, targets from their bounds (never parsed here).
import { state } from "./state.js";

export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export const STATUS = { met: ["✓", "met"], warning: ["!", "warning"], missed: ["✗", "missed"], no_data: ["–", "no data"] };

export function badge(s) {
  if (!s) return '<span class="status none" data-status="none">– no target</span>';
  const [icon, word] = STATUS[s] || ["?", s];
  return `<span class="status ${esc(s)}" data-status="${esc(s)}">${icon} ${esc(word)}</span>`;
}

export const HEADING = { on_track: ["↗", "on track"], at_risk: ["!", "at risk"], off_track: ["✗", "off track"] };

// A projection's status, worded (never colour alone).
export function heading(s) {
  const [icon, word] = HEADING[s] || ["–", "no target"];
  const cls = { on_track: "met", at_risk: "warning", off_track: "missed" }[s] || "none";
  return `<span class="status ${cls}" data-heading="${esc(s || "none")}">${icon} ${esc(word)}</span>`;
}

// Numbers as the CLI writes them: yardstick_core::format::value, digit for
// digit (grouped thousands; % to 2 decimals; a currency with 0 decimals when
// whole, else 2; hours to 1; other numbers to 2, or 4 below 1).
export function grouped(v, d) {
  const s = Math.abs(v).toFixed(d);
  const [i, f] = s.split(".");
  const neg = v < 0 && /[1-9]/.test(s);
  return (neg ? "-" : "") + i.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (f ? "." + f : "");
}
export function trimmed(v, max) {
  const s = grouped(v, max);
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}
export const CURRENCY = { EUR: "€", USD: "$", GBP: "£", JPY: "¥" };
export function fmt(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (unit === "%") return trimmed(v * 100, 2) + "%";
  if (unit && (/^[A-Z]{3}$/.test(unit) || unit === (state.meta && state.meta.currency))) {
    const sign = v < 0 && grouped(v, 2) !== "0.00" ? "-" : "";
    return sign + (CURRENCY[unit] || unit + " ") + grouped(Math.abs(v), Number.isInteger(v) ? 0 : 2);
  }
  if (unit === "h" || unit === "hours") return trimmed(v, 1) + " h";
  if (unit === "d" || unit === "days") return trimmed(v, 1) + " d";
  const n = trimmed(v, v !== 0 && Math.abs(v) < 1 ? 4 : 2);
  return unit ? `${n} ${esc(unit)}` : n;
}
// An attainment, rounded down to one decimal (99.96% never reads 100%).
export function fmtAttainment(a) {
  if (a === null || a === undefined || Number.isNaN(a)) return "—";
  return (Math.floor(a * 1000 + 1e-9) / 10).toFixed(1) + "%";
}
// A range, or a dash when either end is unknown.
export function fmtRange(lo, hi, unit) {
  const none = (v) => v === null || v === undefined || Number.isNaN(v);
  return none(lo) || none(hi) ? "—" : `${fmt(lo, unit)} – ${fmt(hi, unit)}`;
}
// A target written like its values: ">= 60000" in EUR → ">= €60,000".
export function fmtTarget(t, unit, none = "") {
  if (!t) return none;
  const b = bounds(t);
  if (!b) return t;
  if (b.op === "between") return `between ${fmt(b.lower, unit)} and ${fmt(b.upper, unit)}`;
  return `${b.op} ${fmt(b.lower ?? b.upper, unit)}`;
}

// A target's bounds as the engine reads them, from the server
// (/api/v1/meta `targets`): {op, lower, upper}; null for none.
export function bounds(t) {
  return (t && state.meta && state.meta.targets && state.meta.targets[t]) || null;
}

// An entity for people (`rep=ann, region=EU`), and as the API's `entity`
// parameter (`rep=ann,region=EU`).
export const entityKey = (e) => (e ? Object.entries(e).map(([k, v]) => `${k}=${v}`).join(", ") : "");
export const entityParam = (e) => (e ? Object.entries(e).map(([k, v]) => `${k}=${v}`).join(",") : "");

export function sparkline(values) {
  const v = values.filter((x) => x !== null && x !== undefined);
  if (v.length < 2) return "";
  const w = 90, h = 22, lo = Math.min(...v), hi = Math.max(...v), span = hi - lo || 1;
  const pts = values
    .map((x, i) => (x === null || x === undefined ? null : `${((i / (values.length - 1)) * w).toFixed(1)},${(h - 2 - ((x - lo) / span) * (h - 4)).toFixed(1)}`))
    .filter(Boolean)
    .join(" ");
  return `<svg class="spark" width="${w}" height="${h}" role="img" aria-label="trend of the last ${values.length} periods"><polyline fill="none" stroke="#0969da" stroke-width="1.5" points="${pts}"/></svg>`;
}

// Which way is better for a row's target: 1 up, -1 down, 0 neither.
export function better(target) {
  const b = bounds(target);
  if (!b || b.op === "between") return 0;
  return b.lower !== null ? 1 : -1;
}

export function change(r, unit) {
  if (r.value === null || r.previous === null || r.previous === undefined) return "";
  const d = r.value - r.previous;
  if (d === 0) return '<span class="muted">= 0</span>';
  const arrow = d > 0 ? "▲" : "▼";
  const rel = r.previous !== 0 ? ` (${trimmed(d / Math.abs(r.previous) * 100, 1)}%)` : "";
  const shown = unit === "%" ? `${trimmed(Math.abs(d) * 100, 2)} pp` : fmt(Math.abs(d), unit);
  // Coloured and worded by the target's direction: down is better for "<= 250".
  const way = better(r.target) * Math.sign(d);
  const [cls, word] = way > 0 ? ["up", "better"] : way < 0 ? ["down", "worse"] : ["muted", ""];
  return `<span class="${cls}" title="vs previous period">${arrow} ${esc(shown)}${esc(rel)}${word ? ` <span class="word">${word}</span>` : ""}</span>`;
}
