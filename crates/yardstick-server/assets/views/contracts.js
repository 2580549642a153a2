// #/contracts: each contract's clause grid, credit ledger and error budgets.
import { $, main } from "../state.js";
import { esc, fmt, fmtTarget } from "../format.js";
import { api } from "../api.js";
import { signForm, termsNote, wireSigning } from "./terms.js";
import { agreementLink } from "./agreement.js";

// A clause as people call it: its KPI's name (the clause id if it has none).
export function clauseName(c, clauseId, KPIS) {
  const cl = c.clauses.find((x) => x.id === clauseId);
  const k = cl && KPIS[cl.kpi];
  return (k && k.name) || clauseId;
}

export async function viewContracts() {
  const [list, kpiList] = await Promise.all([api("/api/v1/contracts").then((x) => x.contracts), api("/api/v1/kpis")]);
  const KPIS = Object.fromEntries(kpiList.map((k) => [k.id, k]));
  let html = "<h1>Contracts</h1>";
  if (!list.length) html += '<p class="muted">No contract is shared with you.</p>';
  for (const c of list) {
    const grid = await api(`/api/v1/contracts/${encodeURIComponent(c.id)}/clauses`);
    const rows = grid.clauses;
    const periods = [...new Set(rows.map((r) => r.period))];
    const cur = c.currency || "";
    html += `<section class="card" data-contract="${esc(c.id)}"><h2>${esc(c.name || c.id)}</h2>
      <p class="muted">Provider: ${esc(c.provider || "—")} · Client: ${esc(c.client || "—")}${c.fee ? ` · Fee: ${fmt(c.fee.amount, cur)} per ${esc(c.fee.every)}` : ""}</p>
      ${termsNote(grid.terms)}${signForm(c.id, grid.terms)}<p>${agreementLink(c.id)}</p>
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
          // After an amendment not every party signed yet: the periods it changes.
          const unsigned = grid.terms && grid.terms.last_agreed && r.signed_terms === false;
          return `<td class="${cls} nowrap${unsigned ? " unsigned-cell" : ""}" title="${esc(r.explanation)}${unsigned ? " (judged on terms not every party signed)" : ""}">${text}${unsigned ? " †" : ""}</td>`;
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
  wireSigning();
  // The latest periods are what matters: show the grid's right end first.
  main().querySelectorAll(".grid").forEach((g) => { g.parentElement.scrollLeft = g.parentElement.scrollWidth; });
}
