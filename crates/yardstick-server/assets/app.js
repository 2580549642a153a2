// Yardstick's dashboard: plain JavaScript over API v1 (no build step).
// Views: #/ overview, #/kpi/ID, #/contracts, #/partnerships, #/partnership/ID, #/login.
// Live: server-sent events re-render the open view when new values arrive.
"use strict";

const $ = (s, el = document) => el.querySelector(s);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const main = () => $("#main");
let META = null;
const UI = { filters: {}, entity: {}, dim: {}, explain: {}, barPeriod: {} };

async function api(path) {
  const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (r.status === 401) {
    const here = location.hash.startsWith("#/login") ? "" : location.hash;
    location.hash = here && here !== "#/" ? `#/login?next=${encodeURIComponent(here)}` : "#/login";
    throw new Error("login");
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || r.statusText);
  return body;
}

// ------------------------------------------------------------ formatting

const STATUS = { met: ["✓", "met"], warning: ["!", "warning"], missed: ["✗", "missed"], no_data: ["–", "no data"] };

function badge(s) {
  if (!s) return '<span class="status none" data-status="none">– no target</span>';
  const [icon, word] = STATUS[s] || ["?", s];
  return `<span class="status ${esc(s)}" data-status="${esc(s)}">${icon} ${esc(word)}</span>`;
}

const HEADING = { on_track: ["↗", "on track"], at_risk: ["!", "at risk"], off_track: ["✗", "off track"] };

// A projection's status, worded (never colour alone).
function heading(s) {
  const [icon, word] = HEADING[s] || ["–", "no target"];
  const cls = { on_track: "met", at_risk: "warning", off_track: "missed" }[s] || "none";
  return `<span class="status ${cls}" data-heading="${esc(s || "none")}">${icon} ${esc(word)}</span>`;
}

// Numbers as the CLI writes them: yardstick_core::format::value, digit for
// digit (grouped thousands; % to 2 decimals; a currency with 0 decimals when
// whole, else 2; hours to 1; other numbers to 2, or 4 below 1).
function grouped(v, d) {
  const s = Math.abs(v).toFixed(d);
  const [i, f] = s.split(".");
  const neg = v < 0 && /[1-9]/.test(s);
  return (neg ? "-" : "") + i.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (f ? "." + f : "");
}
function trimmed(v, max) {
  const s = grouped(v, max);
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}
const CURRENCY = { EUR: "€", USD: "$", GBP: "£", JPY: "¥" };
function fmt(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (unit === "%") return trimmed(v * 100, 2) + "%";
  if (unit && (/^[A-Z]{3}$/.test(unit) || unit === (META && META.currency))) {
    const sign = v < 0 && grouped(v, 2) !== "0.00" ? "-" : "";
    return sign + (CURRENCY[unit] || unit + " ") + grouped(Math.abs(v), Number.isInteger(v) ? 0 : 2);
  }
  if (unit === "h" || unit === "hours") return trimmed(v, 1) + " h";
  if (unit === "d" || unit === "days") return trimmed(v, 1) + " d";
  const n = trimmed(v, v !== 0 && Math.abs(v) < 1 ? 4 : 2);
  return unit ? `${n} ${esc(unit)}` : n;
}
// An attainment, rounded down to one decimal (99.96% never reads 100%).
function fmtAttainment(a) {
  if (a === null || a === undefined || Number.isNaN(a)) return "—";
  return (Math.floor(a * 1000 + 1e-9) / 10).toFixed(1) + "%";
}
// A range, or a dash when either end is unknown.
function fmtRange(lo, hi, unit) {
  const none = (v) => v === null || v === undefined || Number.isNaN(v);
  return none(lo) || none(hi) ? "—" : `${fmt(lo, unit)} – ${fmt(hi, unit)}`;
}
// A target written like its values: ">= 60000" in EUR → ">= €60,000".
function fmtTarget(t, unit, none = "") {
  if (!t) return none;
  const p = parseTarget(t);
  const m = t.match(/^\s*(>=|>|<=|<|≥|≤)/);
  if (!p) return t;
  if (p.lo !== undefined && p.hi !== undefined) return `between ${fmt(p.lo, unit)} and ${fmt(p.hi, unit)}`;
  const op = { "≥": ">=", "≤": "<=" }[m[1]] || m[1];
  return `${op} ${fmt(p.lo !== undefined ? p.lo : p.hi, unit)}`;
}

// ">= 99.5%" → {lo: 0.995}; "between 10 and 20" → {lo: 10, hi: 20}.
function parseTarget(t) {
  if (!t) return null;
  const num = (s) => {
    s = s.trim().replace(/,/g, "");
    const pct = s.endsWith("%");
    const n = parseFloat(pct ? s.slice(0, -1) : s);
    return pct ? n / 100 : n;
  };
  let m = t.match(/^\s*between\s+(.+?)\s+and\s+(.+)$/i);
  if (m) return { lo: num(m[1]), hi: num(m[2]) };
  m = t.match(/^\s*(>=|>|<=|<)\s*(.+)$/);
  if (!m) return null;
  const x = num(m[2]);
  return m[1][0] === ">" ? { lo: x } : { hi: x };
}

const entityKey = (e) => (e ? Object.entries(e).map(([k, v]) => `${k}=${v}`).join(", ") : "");

function sparkline(values) {
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
function better(target) {
  const t = parseTarget(target);
  if (!t || (t.lo !== undefined && t.hi !== undefined)) return 0;
  return t.lo !== undefined ? 1 : -1;
}

function change(r, unit) {
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

// ------------------------------------------------------------ views

async function viewLogin(params) {
  const failed = params.get("failed");
  main().innerHTML = `
    <section class="login">
      <h1>Sign in to Yardstick</h1>
      <p>Open the link <code>yardstick serve</code> printed, or paste an API token (<code>yardstick token create</code>).</p>
      ${failed ? '<p class="error" role="alert">That code or token is not valid (login codes work once).</p>' : ""}
      <form id="login-form">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" placeholder="ys_…" required>
        <button type="submit" class="primary">Sign in</button>
      </form>
    </section>`;
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await fetch("/login", { method: "POST", body: new URLSearchParams({ token: $("#token").value }), credentials: "same-origin" });
    const next = params.get("next");
    if (r.ok) {
      META = null;
      location.hash = next && next.startsWith("#/") ? next : "#/";
    } else {
      location.hash = `#/login?failed=1${next ? `&next=${encodeURIComponent(next)}` : ""}`;
    }
  });
}

function latestRows(rows, kpi) {
  const mine = rows.filter((r) => r.kpi === kpi && r.complete);
  if (!mine.length) return [];
  const last = mine.map((r) => r.start).sort().pop();
  return mine.filter((r) => r.start === last);
}

async function viewOverview() {
  const [kpis, evs, cards] = await Promise.all([api("/api/v1/kpis"), api("/api/v1/evaluations"), api("/api/v1/scorecards")]);
  const scores = await Promise.all(cards.scorecards.map((c) => api(`/api/v1/scorecards/${encodeURIComponent(c.id)}`)));
  const rows = evs.evaluations;
  const values = (k) => [...new Set(kpis.map(k).flat().filter(Boolean))].sort();
  const f = UI.filters;
  const pOf = META.partnership_of || {};
  const keep = (k) =>
    (!f.level || k.level === f.level) && (!f.owner || k.owner === f.owner) && (!f.tag || (k.tags || []).includes(f.tag)) && (!f.partnership || (pOf[k.id] || []).includes(f.partnership));
  const select = (name, label, opts) =>
    `<label>${label} <select data-filter="${name}"><option value="">all</option>${opts.map((o) => `<option ${f[name] === o ? "selected" : ""}>${esc(o)}</option>`).join("")}</select></label>`;
  const kpiRow = (k) => {
    const latest = latestRows(rows, k.id);
    const series = rows.filter((r) => r.kpi === k.id && !r.entity).slice(-12).map((r) => r.value);
    let value, status, delta = "", period = "";
    if (latest.length === 1 && !latest[0].entity) {
      const r = latest[0];
      value = fmt(r.value, k.unit);
      status = badge(r.status);
      delta = change(r, k.unit);
      period = r.period;
    } else if (latest.length) {
      const count = (s) => latest.filter((r) => r.status === s).length;
      value = `${latest.length} entities`;
      status = ["met", "warning", "missed"].filter(count).map((s) => `<span class="nowrap">${badge(s)} ×${count(s)}</span>`).join(" ");
      period = latest[0].period;
    } else {
      value = "—";
      status = badge("no_data");
    }
    return `<tr data-kpi="${esc(k.id)}">
      <td class="kpi-name"><a href="#/kpi/${encodeURIComponent(k.id)}">${esc(k.name)}</a><div class="muted hide-sm">${esc(k.objective || "")}</div></td>
      <td class="hide-sm nowrap">${esc(k.owner || "")}</td><td class="hide-sm">${esc(k.level || "")}</td>
      <td class="num value nowrap">${value}<div class="muted show-sm">${esc([fmtTarget(k.target, k.unit), period].filter(Boolean).join(" · "))}</div></td><td class="nowrap hide-sm">${esc(fmtTarget(k.target, k.unit))}</td><td class="status-cell">${status}</td>
      <td class="hide-sm">${sparkline(series)}</td><td class="hide-sm">${delta}</td><td class="muted nowrap hide-sm">${esc(period)}</td></tr>`;
  };
  const table = (list) =>
    `<div class="table-wrap"><table><thead><tr><th>KPI</th><th class="hide-sm">Owner</th><th class="hide-sm">Level</th><th class="num">Latest value</th><th class="hide-sm">Target</th><th>Status</th><th class="hide-sm">Trend</th><th class="hide-sm">Change</th><th class="hide-sm">Period</th></tr></thead>
     <tbody>${list.map(kpiRow).join("") || '<tr><td colspan="9" class="muted">No KPI matches the filters.</td></tr>'}</tbody></table></div>`;
  const byId = Object.fromEntries(kpis.map((k) => [k.id, k]));
  const inCard = new Set();
  let html = `<h1>${esc(META.project)}</h1>
    <div class="filters">${select("level", "Level", values((k) => k.level))}${select("owner", "Owner", values((k) => k.owner))}${select("tag", "Tag", values((k) => k.tags))}${select("partnership", "Partnership", [...new Set(Object.values(pOf).flat())].sort())}</div>`;
  const lastScore = (s) => {
    const done = s.scores.filter((x) => x.complete && x.score !== null);
    return done[done.length - 1];
  };
  for (const s of scores) {
    const card = cards.scorecards.find((c) => c.id === s.id);
    const members = Object.keys(card.weights).map((id) => byId[id]).filter(Boolean).filter(keep);
    Object.keys(card.weights).forEach((id) => inCard.add(id));
    const last = lastScore(s);
    // Scorecards weighed in this one: their own score, weight and a link to their section.
    const subs = Object.keys(card.weights)
      .map((id) => scores.find((x) => x.id === id))
      .filter(Boolean)
      .map((sub) => {
        const l = lastScore(sub);
        return `<li data-subscorecard="${esc(sub.id)}"><a href="#/" onclick="document.querySelector('[data-scorecard=&quot;${esc(sub.id)}&quot;]')?.scrollIntoView();return false;">${esc(sub.name || sub.id)}</a>: ${l ? `score ${fmt(l.score, "%")} in ${esc(l.period)}` : "no score yet"} <span class="muted">(weight ${esc(card.weights[sub.id])})</span></li>`;
      })
      .join("");
    html += `<section data-scorecard="${esc(s.id)}"><h2>${esc(s.name || s.id)} <span class="score">${last ? `score ${fmt(last.score, "%")} in ${esc(last.period)}` : "no score yet"}</span></h2>${subs ? `<ul>${subs}</ul>` : ""}${members.length || !subs ? table(members) : ""}</section>`;
  }
  const rest = kpis.filter((k) => !inCard.has(k.id)).filter(keep);
  if (rest.length || !scores.length) html += `<section><h2>${scores.length ? "Other KPIs" : "KPIs"}</h2>${table(rest)}</section>`;
  main().innerHTML = html;
  main().querySelectorAll("select[data-filter]").forEach((el) =>
    el.addEventListener("change", () => {
      UI.filters[el.dataset.filter] = el.value;
      route();
    }),
  );
}

let chart = null;

// The y axis as wide as its longest label (the title never overlaps).
function axisSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap;
  const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), "");
  if (longest) {
    u.ctx.font = axis.font[0];
    size += u.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size) + 4;
}

function drawChart(el, rows, unit) {
  if (chart) chart.destroy();
  chart = null;
  if (!rows.length || typeof uPlot === "undefined") return;
  // One point per period, labelled as the KPI's periods are (2026-10,
  // 2026-Q3, 2026-W42), however few there are.
  const xs = rows.map((_, i) => i);
  const label = (i) => (Number.isInteger(i) && rows[i] ? rows[i].period : "");
  const t = rows.map((r) => parseTarget(r.target));
  const w = rows.map((r) => parseTarget(r.warning));
  const col = (f) => rows.map(f);
  const shown = (u, v) => fmt(v, unit);
  const series = [{ label: "Period", value: (u, i) => label(i) }, { label: "value", stroke: "#0969da", width: 2, points: { show: true }, value: shown }];
  const data = [xs, col((r) => r.value)];
  const add = (name, values, opts) => {
    if (values.some((v) => v !== null && v !== undefined && !Number.isNaN(v))) {
      series.push({ label: name, value: shown, ...opts });
      data.push(values.map((v) => (v === undefined || Number.isNaN(v) ? null : v)));
    }
  };
  const stepped = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
  add("target", t.map((x) => (x ? (x.lo ?? x.hi) : null)), { stroke: "#cf222e", dash: [6, 4], width: 2, paths: stepped });
  add("target (upper)", t.map((x) => (x && x.lo !== undefined && x.hi !== undefined ? x.hi : null)), { stroke: "#cf222e", dash: [6, 4], width: 2, paths: stepped });
  add("warning", w.map((x) => (x ? (x.lo ?? x.hi) : null)), { stroke: "#9a6700", dash: [2, 3], paths: stepped });
  add("baseline", col((r) => r.baseline), { stroke: "#6e7781", dash: [8, 3] });
  add("benchmark", col((r) => r.benchmark), { stroke: "#8250df", dash: [3, 3] });
  add("in progress", rows.map((r) => (r.complete ? null : r.value)), { stroke: "#9a6700", width: 0, points: { show: true, size: 10, fill: "#fff" } });
  // Ticks carry % and money signs; other units are in the axis title.
  const tickUnit = unit === "%" || (unit && (/^[A-Z]{3}$/.test(unit) || unit === (META && META.currency))) ? unit : undefined;
  const axisValues = (u, splits) => splits.map((v) => fmt(v, tickUnit));
  // The warning band: between the target and the warning threshold.
  const ti = series.findIndex((x) => x.label === "target"), wi = series.findIndex((x) => x.label === "warning");
  const bands = ti > 0 && wi > 0 ? [{ series: [ti, wi], fill: "rgba(154, 103, 0, 0.12)" }] : [];
  // Without a pointer on the chart, the legend shows the latest period.
  const withValue = rows.map((r, i) => (r.value === null || r.value === undefined ? -1 : i)).filter((i) => i >= 0);
  const last = withValue.length ? withValue[withValue.length - 1] : rows.length - 1;
  const showLatest = (u) => { if (u.cursor.idx === null || u.cursor.idx === undefined) u.setLegend({ idx: last }); };
  const narrow = (el.clientWidth || 800) < 500;
  chart = new uPlot(
    {
      width: Math.max(280, el.clientWidth || 800),
      height: 320,
      series,
      bands,
      scales: { x: { time: false, range: (u, lo, hi) => [lo - 0.4, hi + 0.4] } },
      axes: [
        { values: (u, splits) => splits.map(label), incrs: [1, 2, 3, 4, 6, 12, 24, 52, 104], space: narrow ? 56 : 64 },
        { values: axisValues, size: axisSize, label: narrow ? undefined : unit ? `value (${unit})` : "value", labelSize: 20 },
      ],
      legend: { live: true },
      hooks: { ready: [showLatest], setCursor: [showLatest] },
    },
    data,
    el,
  );
}

async function viewKpi(id) {
  const [k, evs] = await Promise.all([api(`/api/v1/kpis/${encodeURIComponent(id)}`), api(`/api/v1/evaluations?kpi=${encodeURIComponent(id)}`)]);
  const rows = evs.evaluations;
  const entities = [...new Set(rows.map((r) => entityKey(r.entity)))];
  const ent = entities.includes(UI.entity[id]) ? UI.entity[id] : entities[0];
  const mine = rows.filter((r) => entityKey(r.entity) === ent);
  const latest = latestRows(rows, id);
  let html = `<h1>${esc(k.name)}</h1>
    <p>${esc(k.objective || "")}</p>
    <p class="muted">Owner: ${esc(k.owner || "—")} · Level: ${esc(k.level || "—")} · Period: ${esc(k.period || "—")} · Target: ${esc(fmtTarget(k.target, k.unit, "none"))}</p>`;
  if (entities.length > 1) {
    html += `<label>Entity <select id="entity">${entities.map((e) => `<option ${e === ent ? "selected" : ""}>${esc(e)}</option>`).join("")}</select></label>`;
  }
  html += `<h2>Over time</h2><div id="chart" class="chart" role="img" aria-label="${esc(k.name)} per period with its target"></div>`;
  const open = mine.find((r) => !r.complete && r.projection);
  if (open) {
    const p = open.projection;
    html += `<h2>Where ${esc(open.period)} is heading</h2><p id="projection">${heading(p.status)} Projected ${fmt(p.value, k.unit)}${p.low === null || p.low === undefined ? "" : ` (80%: ${fmtRange(p.low, p.high, k.unit)})`}${p.probability !== null && p.probability !== undefined ? `, ${Math.round(p.probability * 100)}% likely to meet ${esc(fmtTarget(open.target, k.unit, "the target"))}` : ""}; ${open.value === null || open.value === undefined ? "no value yet" : `${fmt(open.value, k.unit)} so far`}.</p>`;
  }
  html += `<h2>Forecast</h2><div id="forecast" class="table-wrap"><p class="muted">Loading…</p></div>`;
  if (entities.length > 1 && latest.length) {
    html += `<h2>Per entity, ${esc(latest[0].period)}</h2><div class="table-wrap"><table><thead><tr><th>Entity</th><th class="num">Value</th><th>Target</th><th>Status</th><th class="num">Attainment</th></tr></thead><tbody>
      ${latest.map((r) => `<tr><td>${esc(entityKey(r.entity))}</td><td class="num nowrap">${fmt(r.value, k.unit)}</td><td class="nowrap">${esc(fmtTarget(r.target, k.unit))}</td><td>${badge(r.status)}</td><td class="num">${fmtAttainment(r.attainment)}</td></tr>`).join("")}</tbody></table></div>`;
  }
  if ((k.dimensions || []).length) {
    const dim = UI.dim[id] || k.dimensions[0];
    const periods = [...new Set(mine.map((r) => r.period))].reverse();
    const done = mine.filter((r) => r.complete).map((r) => r.period);
    const period = periods.includes(UI.barPeriod[id]) ? UI.barPeriod[id] : done[done.length - 1] || periods[0];
    UI.barPeriod[id] = period;
    html += `<h2>Breakdown</h2><div class="filters"><label>By <select id="dim">${k.dimensions.map((d) => `<option ${d === dim ? "selected" : ""}>${esc(d)}</option>`).join("")}</select></label>
      <label>Period <select id="bar-period">${periods.map((p) => `<option ${p === period ? "selected" : ""}>${esc(p)}</option>`).join("")}</select></label></div><div id="bars" class="bars"><p class="muted">Loading…</p></div>`;
  }
  html += `<h2>Periods</h2><div class="table-wrap"><table><thead><tr><th>Period</th><th class="num">Value</th><th>Target</th><th>Status</th><th class="num hide-sm">Attainment</th><th class="hide-sm num">Previous</th><th class="hide-sm"></th></tr></thead><tbody>
    ${mine.slice().reverse().map((r) => `<tr><td class="nowrap">${esc(r.period)}</td><td class="num nowrap">${fmt(r.value, k.unit)}</td><td class="nowrap">${esc(fmtTarget(r.target, k.unit))}</td><td>${badge(r.status)}</td><td class="num hide-sm">${fmtAttainment(r.attainment)}</td><td class="hide-sm num">${fmt(r.previous, k.unit)}</td><td class="hide-sm">${r.complete ? "" : `<span class="muted nowrap">in progress</span>${r.projection && r.projection.status ? " " + heading(r.projection.status) : ""}`}</td></tr>`).join("")}
    </tbody></table></div>`;
  if (!META.party) {
    const periods = mine.map((r) => r.period).reverse();
    const chosen = periods.includes(UI.explain[id]) ? UI.explain[id] : periods.find((p) => mine.find((r) => r.period === p && r.complete)) || periods[0];
    html += `<h2>Explain</h2><label>Period <select id="explain-period">${periods.map((p) => `<option ${p === chosen ? "selected" : ""}>${esc(p)}</option>`).join("")}</select></label><div id="explain"><p class="muted">Loading…</p></div>`;
    UI.explain[id] = chosen;
  }
  main().innerHTML = html;
  drawChart($("#chart"), mine, k.unit);
  const sel = $("#entity");
  if (sel) sel.addEventListener("change", () => { UI.entity[id] = sel.value; route(); });
  const dimSel = $("#dim");
  if (dimSel) {
    dimSel.addEventListener("change", () => { UI.dim[id] = dimSel.value; route(); });
    const perSel = $("#bar-period");
    perSel.addEventListener("change", () => { UI.barPeriod[id] = perSel.value; route(); });
    const period = perSel.value;
    api(`/api/v1/kpis/${encodeURIComponent(id)}/breakdown?by=${encodeURIComponent(dimSel.value)}${period ? `&period=${encodeURIComponent(period)}` : ""}`)
      .then((b) => {
        const vals = b.evaluations.filter((r) => r.value !== null).sort((a, c) => c.value - a.value);
        const max = Math.max(...vals.map((r) => Math.abs(r.value)), 0) || 1;
        $("#bars").innerHTML = vals.length
          ? `<table class="bar-table"><tbody>${vals.map((r) => `<tr class="bar"><td class="label">${esc(Object.values(r.entity || {}).join(", "))}</td><td class="track"><div class="fill" style="width:${(Math.abs(r.value) / max) * 100}%"></div></td><td class="num nowrap">${fmt(r.value, k.unit)}</td></tr>`).join("")}</tbody></table>`
          : `<p class="muted">No values in ${esc(period)}.</p>`;
      })
      .catch((e) => { $("#bars").innerHTML = `<p class="error">${esc(e.message)}</p>`; });
  }
  const entityParam = mine[0] && mine[0].entity ? Object.entries(mine[0].entity).map(([a, b]) => `${a}=${b}`).join(",") : "";
  if (/^\d+d$/.test(k.period || "")) {
    $("#forecast").innerHTML = '<p class="muted">Forecasts are made for calendar periods; this KPI is a rolling window.</p>';
  } else api(`/api/v1/kpis/${encodeURIComponent(id)}/forecast?horizon=3${entityParam ? `&entity=${encodeURIComponent(entityParam)}` : ""}`)
    .then((f) => {
      const one = f.forecasts[0];
      $("#forecast").innerHTML = one
        ? `<table><thead><tr><th>Period</th><th class="num">Forecast</th><th class="num">80% range</th><th class="num hide-sm">95% range</th></tr></thead><tbody>${one.points.map((q) => `<tr><td class="nowrap">${esc(q.period)}</td><td class="num nowrap">${fmt(q.value, k.unit)}</td><td class="num">${fmtRange(q.low80, q.high80, k.unit)}</td><td class="num hide-sm">${fmtRange(q.low95, q.high95, k.unit)}</td></tr>`).join("")}</tbody></table><p class="muted">Model: ${esc(one.model)}${one.note ? ` — ${esc(one.note)}` : ""}</p>`
        : '<p class="muted">No complete period to forecast from yet.</p>';
    })
    .catch((e) => { $("#forecast").innerHTML = `<p class="error">${esc(e.message)}</p>`; });
  const exSel = $("#explain-period");
  if (exSel) {
    const load = () => {
      UI.explain[id] = exSel.value;
      const row = mine.find((r) => r.period === exSel.value);
      const entity = row && row.entity ? Object.entries(row.entity).map(([a, b]) => `${a}=${b}`).join(",") : "";
      api(`/api/v1/kpis/${encodeURIComponent(id)}/explain?period=${encodeURIComponent(exSel.value)}${entity ? `&entity=${encodeURIComponent(entity)}` : ""}`)
        .then((x) => {
          $("#explain").innerHTML = `<p>${badge(x.status)} ${esc(x.reason)}</p>
            <p class="muted">${esc(x.form)} · value ${fmt(x.value, x.unit)} · target ${esc(x.target || "none")}${x.target_note ? ` (${esc(x.target_note)})` : ""}</p>
            ${(x.inputs || []).length ? `<table><thead><tr><th>Input</th><th>Form</th><th>Period</th><th class="num">Value</th></tr></thead><tbody>${x.inputs.map((i) => `<tr><td>${esc(i.id)}</td><td>${esc(i.form)}</td><td>${esc(i.period)}</td><td class="num">${fmt(i.value)}</td></tr>`).join("")}</tbody></table>` : ""}
            ${x.sql ? `<pre>${esc(x.sql)}</pre>` : ""}`;
        })
        .catch((e) => { $("#explain").innerHTML = `<p class="error">${esc(e.message)}</p>`; });
    };
    exSel.addEventListener("change", load);
    load();
  }
}

// A clause as people call it: its KPI's name (the clause id if it has none).
function clauseName(c, clauseId, KPIS) {
  const cl = c.clauses.find((x) => x.id === clauseId);
  const k = cl && KPIS[cl.kpi];
  return (k && k.name) || clauseId;
}

async function viewContracts() {
  const [list, kpiList] = await Promise.all([api("/api/v1/contracts").then((x) => x.contracts), api("/api/v1/kpis")]);
  const KPIS = Object.fromEntries(kpiList.map((k) => [k.id, k]));
  let html = "<h1>Contracts</h1>";
  if (!list.length) html += '<p class="muted">No contract is shared with you.</p>';
  for (const c of list) {
    const rows = (await api(`/api/v1/contracts/${encodeURIComponent(c.id)}/clauses`)).clauses;
    const periods = [...new Set(rows.map((r) => r.period))];
    const cur = c.currency || "";
    html += `<section class="card" data-contract="${esc(c.id)}"><h2>${esc(c.name || c.id)}</h2>
      <p class="muted">Provider: ${esc(c.provider || "—")} · Client: ${esc(c.client || "—")}${c.fee ? ` · Fee: ${fmt(c.fee.amount, cur)} per ${esc(c.fee.every)}` : ""}</p>
      <h3>Compliance</h3><div class="table-wrap"><table class="grid"><thead><tr><th>Clause</th>${periods.map((p) => `<th class="nowrap">${esc(p)}</th>`).join("")}</tr></thead><tbody>`;
    for (const cl of c.clauses) {
      const kpiName = (KPIS[cl.kpi] && KPIS[cl.kpi].name) || cl.id;
      html += `<tr><th><span title="clause ${esc(cl.id)}">${esc(kpiName)}</span><div class="muted nowrap">${esc(fmtTarget(cl.target, KPIS[cl.kpi] && KPIS[cl.kpi].unit))}</div></th>${periods
        .map((p) => {
          const r = rows.find((x) => x.clause === cl.id && x.period === p && !x.entity) || rows.find((x) => x.clause === cl.id && x.period === p);
          if (!r) return "<td></td>";
          const [cls, text] = r.triggered
            ? ["cell-trig", "✗ triggered"]
            : r.breached
              ? ["cell-breach", "! breached"]
              : r.value === null
                ? ["muted", "– no data"]
                : ["cell-ok", "✓ met"];
          return `<td class="${cls} nowrap" title="${esc(r.explanation)}">${text}</td>`;
        })
        .join("")}</tr>`;
    }
    html += "</tbody></table></div>";
    const ledger = rows.filter((r) => r.credit_amount > 0 || r.actions.length);
    const total = ledger.reduce((a, r) => a + r.credit_amount, 0);
    html += `<h3>Credit ledger</h3>${ledger.length ? `<div class="table-wrap"><table><thead><tr><th>Period</th><th>Clause</th><th class="num">Credit</th><th>Actions</th><th class="hide-sm">Why</th></tr></thead><tbody>
      ${ledger.map((r) => `<tr><td class="nowrap">${esc(r.period)}</td><td>${esc(clauseName(c, r.clause, KPIS))}</td><td class="num nowrap">${fmt(r.credit_amount, cur)}</td><td>${esc(r.actions.map((a) => a.replace(/_/g, " ")).join(", "))}</td><td class="hide-sm">${esc(r.explanation)}</td></tr><tr class="show-sm-row"><td colspan="4" class="muted">${esc(r.explanation)}</td></tr>`).join("")}
      <tr><th colspan="2">Total</th><th class="num nowrap">${fmt(total, cur)}</th><td colspan="2"></td></tr></tbody></table></div>` : '<p class="muted">No credits or remedies so far.</p>'}`;
    // Each clause's budget, judged by the clause's own target.
    for (const cl of c.clauses.filter((x) => x.kpi)) {
      const slo = (await api(`/api/v1/slo?contract=${encodeURIComponent(c.id)}&clause=${encodeURIComponent(cl.id)}`)).slos;
      const now = slo.filter((s) => !s.complete).pop() || slo[slo.length - 1];
      if (!now) continue;
      const title = (KPIS[cl.kpi] && KPIS[cl.kpi].name) || cl.kpi;
      html += `<h3>Error budget: ${esc(title)}, ${esc(now.period)}${now.complete ? "" : " (in progress)"}</h3>`;
      if (now.value === null || now.budget === null) {
        html += `<p class="muted">No data yet in ${esc(now.period)}: nothing of the budget is known to be spent.</p>`;
      } else {
        const left = now.remaining < 0 ? "overspent by" : "remaining";
        html += `<p>Target ${esc(fmtTarget(now.target, "%"))}: a budget of ${fmt(now.budget)} ${esc(now.unit)}${now.complete || now.unit !== "minutes" ? "" : " for the whole period"}, ${fmt(now.consumed)} consumed${now.complete ? "" : " so far"}, ${left} <strong class="${now.remaining < 0 ? "down" : "up"}">${fmt(Math.abs(now.remaining))}</strong> (${fmt(now.remaining_share, "%")}); burn rate ${fmt(now.burn_rate)}.</p>`;
      }
    }
    html += "</section>";
  }
  main().innerHTML = html;
  // The latest periods are what matters: show the grid's right end first.
  main().querySelectorAll(".grid").forEach((g) => { g.parentElement.scrollLeft = g.parentElement.scrollWidth; });
}

async function viewPartnerships() {
  const list = (await api("/api/v1/partnerships")).partnerships;
  if (!list.length) {
    main().innerHTML = '<h1>Partnerships</h1><p class="muted">No partnership is shared with you.</p>';
    return;
  }
  const [details, kpis] = await Promise.all([Promise.all(list.map((p) => api(`/api/v1/partnerships/${encodeURIComponent(p.id)}`))), api("/api/v1/kpis")]);
  const KPIS = Object.fromEntries(kpis.map((k) => [k.id, k]));
  const cards = list.map((p, i) => {
    const d = details[i];
    const done = d.scores.filter((x) => x.complete && x.score !== null);
    const last = done[done.length - 1];
    const glance = d.kpis
      .map((r) => `<li><a href="#/kpi/${encodeURIComponent(r.kpi)}">${esc((KPIS[r.kpi] && KPIS[r.kpi].name) || r.kpi)}</a> <span class="nowrap">${fmt(r.value, r.unit)}</span> ${badge(r.status)}</li>`)
      .join("");
    return `<section class="card" data-partnership="${esc(p.id)}">
      <h2><a href="#/partnership/${encodeURIComponent(p.id)}">${esc(p.name || p.id)}</a></h2>
      <p>${esc(p.partners.join(" and "))} · <span class="muted">${esc(p.kind.replace(/_/g, " "))} partnership, reviewed every ${esc(d.review_every || "period")}</span></p>
      <p class="score">${last ? `Partnership score ${fmt(last.score, "%")} in ${esc(last.period)}` : "No score yet"}</p>
      <ul class="glance">${glance || '<li class="muted">No KPI values yet.</li>'}</ul></section>`;
  });
  main().innerHTML = `<h1>Partnerships</h1>${cards.join("")}`;
}

async function viewPartnership(id) {
  const [p, kpis] = await Promise.all([api(`/api/v1/partnerships/${encodeURIComponent(id)}`), api("/api/v1/kpis")]);
  const KPIS = Object.fromEntries(kpis.map((k) => [k.id, k]));
  const scores = p.scores.filter((s) => s.score !== null);
  main().innerHTML = `<h1>${esc(p.name || p.partnership)}</h1>
    <p>Partners: <strong>${esc(p.partners.join(" and "))}</strong> · ${esc(p.kind)} · reviewed every ${esc(p.review_every || "period")}</p>
    <h2>Scorecard</h2><table class="narrow"><thead><tr><th>Review period</th><th class="num">Score</th><th>Complete</th></tr></thead><tbody>
      ${scores.map((s) => `<tr><td class="nowrap">${esc(s.period)}</td><td class="num score">${fmt(s.score, "%")}</td><td>${s.complete ? "yes" : "in progress"}</td></tr>`).join("") || '<tr><td colspan="3" class="muted">No score yet.</td></tr>'}</tbody></table>
    <h2>KPIs, latest ended period</h2><table><thead><tr><th>KPI</th><th>Period</th><th>Entity</th><th class="num">Value</th><th>Target</th><th>Status</th></tr></thead><tbody>
      ${p.kpis.map((r) => `<tr><td><a href="#/kpi/${encodeURIComponent(r.kpi)}">${esc((KPIS[r.kpi] && KPIS[r.kpi].name) || r.kpi)}</a></td><td class="nowrap">${esc(r.period)}</td><td>${esc(entityKey(r.entity))}</td><td class="num">${fmt(r.value, r.unit)}</td><td>${esc(fmtTarget(r.target, r.unit))}</td><td>${badge(r.status)}</td></tr>`).join("")}</tbody></table>`;
}

// ------------------------------------------------------------ routing, live

let rendering = false, again = false;

async function route() {
  if (rendering) {
    again = true;
    return;
  }
  rendering = true;
  try {
    const [path, query] = (location.hash.slice(1) || "/").split("?");
    const params = new URLSearchParams(query || "");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] === "login") {
      $("#logout").hidden = true;
      document.body.classList.add("signed-out");
      await viewLogin(params);
      return;
    }
    if (!META) META = await api("/api/v1/meta");
    $("#who").textContent = META.party ? `${META.project} · shared with ${META.party}` : META.project;
    showHealth();
    $("#logout").hidden = false;
    connectLive();
    if (parts[0] === "kpi" && parts[1]) await viewKpi(parts[1]);
    else if (parts[0] === "contracts") await viewContracts();
    else if (parts[0] === "partnerships") await viewPartnerships();
    else if (parts[0] === "partnership" && parts[1]) await viewPartnership(parts[1]);
    else await viewOverview();
    document.body.dataset.rendered = String(Date.now());
  } catch (e) {
    if (e.message !== "login") main().innerHTML = `<p class="error" role="alert">${esc(e.message)}</p>`;
  } finally {
    rendering = false;
    if (again) {
      again = false;
      route();
    }
  }
}

let live = null;

// Broken definitions: say so above every page (the last good version is
// what is shown), and do not call the page live.
function showHealth() {
  const errs = META.definition_errors || [];
  const el = $("#health");
  document.body.classList.toggle("signed-out", false);
  if (!errs.length) {
    el.hidden = true;
    el.innerHTML = "";
    $("#live").dataset.broken = "";
    return;
  }
  el.hidden = false;
  el.innerHTML = `<strong>The definitions do not check: ${errs.length === 1 ? "1 error" : `${errs.length} errors`}.</strong> These pages show the last version that did, until the files are fixed (<code>yardstick check</code> says where).<ul>${errs.slice(0, 5).map((e) => `<li>${esc(e)}</li>`).join("")}</ul>`;
  $("#live").dataset.broken = "1";
  $("#live").hidden = true;
}

function connectLive() {
  if (live) return;
  live = new EventSource("/api/v1/events");
  live.addEventListener("open", () => { $("#live").hidden = Boolean($("#live").dataset.broken); });
  live.addEventListener("error", () => { $("#live").hidden = true; });
  live.addEventListener("snapshot", () => {
    META = null; // definitions may have changed: names, health
    route();
  });
}

$("#logout").addEventListener("click", async () => {
  await fetch("/logout", { method: "POST", credentials: "same-origin" });
  META = null;
  if (live) live.close();
  live = null;
  location.hash = "#/login";
});

window.addEventListener("hashchange", route);
window.addEventListener("resize", () => {
  const el = $("#chart");
  if (chart && el) chart.setSize({ width: Math.max(280, el.clientWidth), height: 320 });
});
route();
