// #/: scorecards and every KPI's latest value, filtered by level, owner, tag, partnership.
import { $, UI, main, rerender, state } from "../state.js";
import { badge, change, esc, fmt, fmtTarget, sparkline } from "../format.js";
import { api } from "../api.js";

export function latestRows(rows, kpi) {
  const mine = rows.filter((r) => r.kpi === kpi && r.complete);
  if (!mine.length) return [];
  const last = mine.map((r) => r.start).sort().pop();
  return mine.filter((r) => r.start === last);
}

/// When the values were computed and what that cost: a refresh keeps what
/// did not change and reads only rows appended since the last one.
function evaluatedLine(meta) {
  const e = meta.last_evaluation;
  if (!e) return "";
  const at = meta.evaluated_at.slice(0, 16).replace("T", " ");
  const n = (k, one, many) => `${k} ${k === 1 ? one : many}`;
  const parts = [];
  if (e.groups_kept) parts.push(`${n(e.groups_kept, "query", "queries")} kept`);
  if (e.groups_merged) parts.push(`${n(e.groups_merged, "query", "queries")} over new rows only`);
  if (e.periods_recomputed) parts.push(`${n(e.periods_recomputed, "period", "periods")} recomputed`);
  if (e.groups_read_whole) parts.push(`${n(e.groups_read_whole, "query", "queries")} over all rows`);
  return `<p class="muted small" id="evaluated">Evaluated ${esc(at)} UTC in ${fmtSeconds(e.seconds)}${parts.length ? `: ${esc(parts.join(", "))}` : ""}.</p>`;
}

function fmtSeconds(s) {
  return s < 1 ? `${Math.max(1, Math.round(s * 1000))} ms` : `${s.toFixed(1)} s`;
}

/// The packs issued on a schedule, newest first: one line per review,
/// period and party, a link per format (the document exactly as issued).
function issuedPacks(packs) {
  const groups = [];
  for (const p of packs) {
    const key = `${p.review}\u0000${p.period}\u0000${p.party || ""}`;
    let g = groups.find((x) => x.key === key);
    if (!g) groups.push((g = { key, first: p, links: [] }));
    g.links.unshift(`<a href="${esc(p.url)}" target="_blank" rel="noopener" download="${esc(p.file)}">${esc(p.format.toUpperCase())}</a>`);
  }
  if (!groups.length) return "";
  const line = ({ first: p, links }) =>
    `<li data-pack="${esc(p.review)}/${esc(p.period)}"><strong>${esc(p.name || p.review)}</strong> ${esc(p.period)}${p.party ? ` <span class="muted">for ${esc(p.party)}</span>` : ""}: ${links.join(" · ")} <span class="muted nowrap">as of ${esc(p.as_of.slice(0, 16).replace("T", " "))} UTC</span></li>`;
  return `<details class="issued-packs small" open><summary>Issued review packs (${groups.length})</summary><ul>${groups.slice(0, 6).map(line).join("")}</ul></details>`;
}

export async function viewOverview() {
  const [kpis, evs, cards, issued] = await Promise.all([
    api("/api/v1/kpis"),
    api("/api/v1/evaluations"),
    api("/api/v1/scorecards"),
    api("/api/v1/reviews/issued"),
  ]);
  const scores = await Promise.all(cards.scorecards.map((c) => api(`/api/v1/scorecards/${encodeURIComponent(c.id)}`)));
  const rows = evs.evaluations;
  const values = (k) => [...new Set(kpis.map(k).flat().filter(Boolean))].sort();
  const f = UI.filters;
  const pOf = state.meta.partnership_of || {};
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
  // The last ended quarter's board pack (what a party's token gets is its own).
  const now = new Date();
  const q = Math.floor(now.getUTCMonth() / 3);
  const last = q === 0 ? `${now.getUTCFullYear() - 1}-Q4` : `${now.getUTCFullYear()}-Q${q}`;
  const pack = ["html", "pdf", "xlsx"].map((f) => `<a href="/api/v1/reviews?period=${last}&format=${f}" target="_blank" rel="noopener">${f.toUpperCase()}</a>`).join(" · ");
  let html = `<h1>${esc(state.meta.project)}</h1>${evaluatedLine(state.meta)}
    <p class="muted small review-links">Review of ${esc(last)} (board pack): ${pack}</p>${issuedPacks(issued.packs)}
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
      rerender();
    }),
  );
}
