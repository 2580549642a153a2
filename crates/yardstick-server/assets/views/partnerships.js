// #/partnerships and #/partnership/ID: both partners, their KPIs and score.
import { $, main } from "../state.js";
import { badge, entityKey, esc, fmt, fmtTarget } from "../format.js";
import { api } from "../api.js";
import { signForm, termsNote, wireSigning } from "./terms.js";
import { agreementLink } from "./agreement.js";

export async function viewPartnerships() {
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

export async function viewPartnership(id) {
  const [p, kpis] = await Promise.all([api(`/api/v1/partnerships/${encodeURIComponent(id)}`), api("/api/v1/kpis")]);
  const KPIS = Object.fromEntries(kpis.map((k) => [k.id, k]));
  const scores = p.scores.filter((s) => s.score !== null);
  main().innerHTML = `<h1>${esc(p.name || p.partnership)}</h1>
    <p>Partners: <strong>${esc(p.partners.join(" and "))}</strong> · ${esc(p.kind)} · reviewed every ${esc(p.review_every || "period")}</p>
    ${termsNote(p.terms)}${signForm(p.partnership, p.terms)}<p>${agreementLink(p.partnership)}</p>
    <h2>Scorecard</h2><table class="narrow"><thead><tr><th>Review period</th><th class="num">Score</th><th>Complete</th></tr></thead><tbody>
      ${scores.map((s) => `<tr><td class="nowrap">${esc(s.period)}</td><td class="num score">${fmt(s.score, "%")}</td><td>${s.complete ? "yes" : "in progress"}</td></tr>`).join("") || '<tr><td colspan="3" class="muted">No score yet.</td></tr>'}</tbody></table>
    <h2>KPIs, latest ended period</h2><div class="table-wrap"><table><thead><tr><th>KPI</th><th>Period</th><th>Entity</th><th class="num">Value</th><th>Target</th><th>Status</th></tr></thead><tbody>
      ${p.kpis.map((r) => `<tr><td><a href="#/kpi/${encodeURIComponent(r.kpi)}">${esc((KPIS[r.kpi] && KPIS[r.kpi].name) || r.kpi)}</a></td><td class="nowrap">${esc(r.period)}</td><td>${esc(entityKey(r.entity))}</td><td class="num">${fmt(r.value, r.unit)}</td><td>${esc(fmtTarget(r.target, r.unit))}</td><td>${badge(r.status)}</td></tr>`).join("")}</tbody></table></div>`;
  wireSigning();
}
