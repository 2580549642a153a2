// #/kpi/ID: a KPI over time (chart with target and warning band), projection, forecast, why it missed, breakdown, actions, periods, explanation.
import { whySection, loadWhy, flagged } from "./why.js";
import { actionsSection, loadActions } from "./actions.js";
import { $, UI, main, rerender, state } from "../state.js";
import { badge, bounds, change, entityKey, entityParam, esc, fmt, fmtAttainment, fmtRange, fmtTarget, heading } from "../format.js";
import { api } from "../api.js";
import { latestRows } from "./overview.js";

let chart = null;

// The y axis as wide as its longest label (the title never overlaps).
export function axisSize(u, values, axisIdx, cycleNum) {
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

export function drawChart(el, rows, unit) {
  if (chart) chart.destroy();
  chart = null;
  if (!rows.length || typeof uPlot === "undefined") return;
  // One point per period, labelled as the KPI's periods are (2026-10,
  // 2026-Q3, 2026-W42), however few there are.
  const xs = rows.map((_, i) => i);
  const label = (i) => (Number.isInteger(i) && rows[i] ? rows[i].period : "");
  const t = rows.map((r) => bounds(r.target));
  const w = rows.map((r) => bounds(r.warning));
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
  add("target", t.map((x) => (x ? (x.lower ?? x.upper) : null)), { stroke: "#cf222e", dash: [6, 4], width: 2, paths: stepped });
  add("target (upper)", t.map((x) => (x && x.op === "between" ? x.upper : null)), { stroke: "#cf222e", dash: [6, 4], width: 2, paths: stepped });
  add("warning", w.map((x) => (x ? (x.lower ?? x.upper) : null)), { stroke: "#9a6700", dash: [2, 3], paths: stepped });
  add("baseline", col((r) => r.baseline), { stroke: "#6e7781", dash: [8, 3] });
  add("benchmark", col((r) => r.benchmark), { stroke: "#8250df", dash: [3, 3] });
  add("in progress", rows.map((r) => (r.complete ? null : r.value)), { stroke: "#9a6700", width: 0, points: { show: true, size: 10, fill: "#fff" } });
  // Ticks carry % and money signs; other units are in the axis title.
  const tickUnit = unit === "%" || (unit && (/^[A-Z]{3}$/.test(unit) || unit === (state.meta && state.meta.currency))) ? unit : undefined;
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

export async function viewKpi(id) {
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
  html += whySection(id, k, mine);
  if ((k.dimensions || []).length) {
    const dim = UI.dim[id] || k.dimensions[0];
    const periods = [...new Set(mine.map((r) => r.period))].reverse();
    const done = mine.filter((r) => r.complete).map((r) => r.period);
    const period = periods.includes(UI.barPeriod[id]) ? UI.barPeriod[id] : done[done.length - 1] || periods[0];
    UI.barPeriod[id] = period;
    const focus = UI.focus[id];
    html += `<h2 id="breakdown-heading">Breakdown</h2>${focus ? `<p id="focus" class="muted">Cause: ${esc(Object.entries(focus).map(([d, v]) => `${d}=${v === null ? "(empty)" : v}`).join(" ∧ "))} · <a href="#/kpi/${encodeURIComponent(id)}" id="unfocus">show everything</a></p>` : ""}<div class="filters"><label>By <select id="dim">${k.dimensions.map((d) => `<option ${d === dim ? "selected" : ""}>${esc(d)}</option>`).join("")}</select></label>
      <label>Period <select id="bar-period">${periods.map((p) => `<option ${p === period ? "selected" : ""}>${esc(p)}</option>`).join("")}</select></label></div><div id="bars" class="bars"><p class="muted">Loading…</p></div>`;
  }
  const whyable = (k.why_by || []).length ? flagged(mine) : [];
  if (whyable.length || state.meta.role !== "viewer") html += actionsSection();
  html += `<h2>Periods</h2><div class="table-wrap"><table><thead><tr><th>Period</th><th class="num">Value</th><th>Target</th><th>Status</th><th class="num hide-sm">Attainment</th><th class="hide-sm num">Previous</th><th class="hide-sm"></th></tr></thead><tbody>
    ${mine.slice().reverse().map((r) => `<tr><td class="nowrap">${esc(r.period)}</td><td class="num nowrap">${fmt(r.value, k.unit)}</td><td class="nowrap">${esc(fmtTarget(r.target, k.unit))}</td><td>${r.complete ? "" : '<span class="muted nowrap so-far">so far</span> '}${badge(r.status)}${whyable.includes(r.period) ? ` <a href="#/kpi/${encodeURIComponent(id)}" class="why-link nowrap" data-why="${esc(r.period)}">Why?</a>` : ""}</td><td class="num hide-sm">${fmtAttainment(r.attainment)}</td><td class="hide-sm num">${fmt(r.previous, k.unit)}</td><td class="hide-sm">${r.complete ? "" : `<span class="muted nowrap">in progress</span>${r.projection && r.projection.status ? " " + heading(r.projection.status) : ""}`}</td></tr>`).join("")}
    </tbody></table></div>`;
  if (!state.meta.party) {
    const periods = mine.map((r) => r.period).reverse();
    const chosen = periods.includes(UI.explain[id]) ? UI.explain[id] : periods.find((p) => mine.find((r) => r.period === p && r.complete)) || periods[0];
    html += `<h2>Explain</h2><label>Period <select id="explain-period">${periods.map((p) => `<option ${p === chosen ? "selected" : ""}>${esc(p)}</option>`).join("")}</select></label><div id="explain"><p class="muted">Loading…</p></div>`;
    UI.explain[id] = chosen;
  }
  main().innerHTML = html;
  drawChart($("#chart"), mine, k.unit);
  loadWhy(id, k);
  loadActions(id, k);
  main().querySelectorAll("a[data-why]").forEach((a) => a.addEventListener("click", (ev) => {
    ev.preventDefault();
    UI.why[id] = a.dataset.why;
    rerender();
    setTimeout(() => { const h = $("#why-heading"); if (h) h.scrollIntoView(); }, 50);
  }));
  const sel = $("#entity");
  if (sel) sel.addEventListener("change", () => { UI.entity[id] = sel.value; rerender(); });
  const dimSel = $("#dim");
  if (dimSel) {
    dimSel.addEventListener("change", () => { UI.dim[id] = dimSel.value; rerender(); });
    const perSel = $("#bar-period");
    perSel.addEventListener("change", () => { UI.barPeriod[id] = perSel.value; rerender(); });
    const period = perSel.value;
    const focus = UI.focus[id];
    const within = focus ? Object.entries(focus).filter(([d, v]) => d !== dimSel.value && v !== null) : [];
    const bars = (vals, key) => {
      const max = Math.max(...vals.map((r) => Math.abs(r.value)), 0) || 1;
      return vals.length
        ? `<table class="bar-table"><tbody>${vals.map((r) => `<tr class="bar${focus && focus[dimSel.value] !== undefined && key(r) === String(focus[dimSel.value]) ? " focus" : ""}"><td class="label">${esc(key(r))}</td><td class="track"><div class="fill" style="width:${(Math.abs(r.value) / max) * 100}%"></div></td><td class="num nowrap">${fmt(r.value, k.unit)}</td></tr>`).join("")}</tbody></table>`
        : `<p class="muted">No values in ${esc(period)}.</p>`;
    };
    // Answers go into this render's boxes (see `loadWhy`).
    const barsBox = $("#bars");
    const $unfocus = $("#unfocus");
    if ($unfocus) $unfocus.addEventListener("click", (ev) => { ev.preventDefault(); delete UI.focus[id]; rerender(); });
    (within.length
      // Inside the cause's other dimensions: the same split `why` makes.
      ? api(`/api/v1/kpis/${encodeURIComponent(id)}/why?period=${encodeURIComponent(period)}&dimensions=${encodeURIComponent(dimSel.value)}&depth=1&top=1000&within=${encodeURIComponent(within.map(([d, v]) => `${d}=${v}`).join(","))}`)
        .then((x) => {
          const vals = x.causes.filter((c) => c.value !== null).map((c) => ({ value: c.value, name: Object.values(c.elements)[0] })).sort((a, c) => c.value - a.value);
          barsBox.innerHTML = `<p class="muted">Within ${esc(within.map(([d, v]) => `${d}=${v}`).join(" ∧ "))}, by ${esc(dimSel.value)}:</p>` + bars(vals, (r) => (r.name === null ? "(empty)" : String(r.name)));
        })
      : api(`/api/v1/kpis/${encodeURIComponent(id)}/breakdown?by=${encodeURIComponent(dimSel.value)}${period ? `&period=${encodeURIComponent(period)}` : ""}`)
        .then((b) => {
          const vals = b.evaluations.filter((r) => r.value !== null).sort((a, c) => c.value - a.value);
          barsBox.innerHTML = bars(vals, (r) => Object.values(r.entity || {}).join(", "));
        }))
      .catch((e) => { barsBox.innerHTML = `<p class="error">${esc(e.message)}</p>`; });
  }
  const forecastBox = $("#forecast");
  const forecastEntity = entityParam(mine[0] && mine[0].entity);
  if (/^\d+d$/.test(k.period || "")) {
    forecastBox.innerHTML = '<p class="muted">Forecasts are made for calendar periods; this KPI is a rolling window.</p>';
  } else api(`/api/v1/kpis/${encodeURIComponent(id)}/forecast?horizon=3${forecastEntity ? `&entity=${encodeURIComponent(forecastEntity)}` : ""}`)
    .then((f) => {
      const one = f.forecasts[0];
      forecastBox.innerHTML = one
        ? `<table><thead><tr><th>Period</th><th class="num">Forecast</th><th class="num">80% range</th><th class="num hide-sm">95% range</th></tr></thead><tbody>${one.points.map((q) => `<tr><td class="nowrap">${esc(q.period)}</td><td class="num nowrap">${fmt(q.value, k.unit)}</td><td class="num">${fmtRange(q.low80, q.high80, k.unit)}</td><td class="num hide-sm">${fmtRange(q.low95, q.high95, k.unit)}</td></tr>`).join("")}</tbody></table><p class="muted">Model: ${esc(one.model)}${one.note ? ` — ${esc(one.note)}` : ""}</p>`
        : '<p class="muted">No complete period to forecast from yet.</p>';
    })
    .catch((e) => { forecastBox.innerHTML = `<p class="error">${esc(e.message)}</p>`; });
  const exSel = $("#explain-period");
  if (exSel) {
    const explainBox = $("#explain");
    const load = () => {
      const asked = exSel.value;
      UI.explain[id] = asked;
      const row = mine.find((r) => r.period === exSel.value);
      const entity = entityParam(row && row.entity);
      api(`/api/v1/kpis/${encodeURIComponent(id)}/explain?period=${encodeURIComponent(exSel.value)}${entity ? `&entity=${encodeURIComponent(entity)}` : ""}`)
        .then((x) => {
          if (exSel.value !== asked) return; // a later choice's answer is coming
          explainBox.innerHTML = `<p>${badge(x.status)} ${esc(x.reason)}</p>
            <p class="muted">${esc(x.form)} · value ${fmt(x.value, x.unit)} · target ${esc(x.target || "none")}${x.target_note ? ` (${esc(x.target_note)})` : ""}</p>
            ${(x.inputs || []).length ? `<table><thead><tr><th>Input</th><th>Form</th><th>Period</th><th class="num">Value</th></tr></thead><tbody>${x.inputs.map((i) => `<tr><td>${esc(i.id)}</td><td>${esc(i.form)}</td><td>${esc(i.period)}</td><td class="num">${fmt(i.value)}</td></tr>`).join("")}</tbody></table>` : ""}
            ${x.sql ? `<pre>${esc(x.sql)}</pre>` : ""}
            ${x.database_sql ? `<p class="muted" id="database-sql-label">Sent to the database: the evaluation's aggregate, pushed down</p><pre id="database-sql">${esc(x.database_sql)}</pre>` : ""}`;
        })
        .catch((e) => { if (exSel.value === asked) explainBox.innerHTML = `<p class="error">${esc(e.message)}</p>`; });
    };
    exSel.addEventListener("change", load);
    load();
  }
}

window.addEventListener("resize", () => {
  const el = $("#chart");
  if (chart && el) chart.setSize({ width: Math.max(280, el.clientWidth), height: 320 });
});
