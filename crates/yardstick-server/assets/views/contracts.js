// #/contracts: each contract's clause grid, credit ledger and error budgets.
import { $, main, rerender, state } from "../state.js";
import { esc, fmt, fmtTarget } from "../format.js";
import { api, post } from "../api.js";

// A clause as people call it: its KPI's name (the clause id if it has none).
export function clauseName(c, clauseId, KPIS) {
  const cl = c.clauses.find((x) => x.id === clauseId);
  const k = cl && KPIS[cl.kpi];
  return (k && k.name) || clauseId;
}

// Whether the results below are judged on terms every party signed.
function termsNote(t) {
  if (!t) return "";
  const fp = `<code title="${esc(t.fingerprint)}">${esc(t.fingerprint.slice(0, 15))}…</code>`;
  if (!t.unsigned_terms) return `<p class="muted small terms-note">Judged on terms every party signed (${fp}).</p>`;
  const who = t.signed.length ? `${esc(t.unsigned.join(" and "))} has not signed them` : "no party has signed them";
  const show = (v) => (v === null || v === undefined ? "(none)" : esc(String(v)));
  const changes = (t.changes || []).map((c) => `<li><code>${esc(c.path)}</code>: ${show(c.before)} → ${show(c.after)}</li>`).join("");
  return `<div class="banner terms-note" role="status"><strong>Unsigned terms:</strong> these results are judged on terms ${fp} that not every party signed (${who}).${changes ? ` Changed since every party signed:<ul>${changes}</ul>` : " Sign them with <code>yardstick sign</code>."}</div>`;
}

// Signing from the card: a party's editor signs as itself; an
// organisation admin records a party's signature given elsewhere.
function signForm(c, t) {
  if (!t || !t.unsigned_terms || !t.unsigned.length) return "";
  const m = state.meta;
  const button = (party, text, cls) => `<button type="button" class="${cls} sign" data-sign="${esc(c.id)}" data-as="${esc(party)}">${esc(text)}</button>`;
  let html;
  if (m.party) {
    if (m.role === "viewer" || !t.unsigned.includes(m.party)) return "";
    html = button(m.party, `Sign these terms as ${m.party}`, "primary");
  } else if (m.role === "admin") {
    html = `Record a signature given elsewhere: ${t.unsigned.map((p) => button(p, `signed by ${p}`, "link")).join(" · ")}`;
  } else {
    return "";
  }
  return `<p class="sign-row">${html} <span class="sign-msg error" role="status"></span></p>`;
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
      ${termsNote(grid.terms)}${signForm(c, grid.terms)}
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
  main().querySelectorAll("button.sign").forEach((b) => b.addEventListener("click", () => {
    const body = state.meta.party ? {} : { as: b.dataset.as };
    post(`/api/v1/agreements/${encodeURIComponent(b.dataset.sign)}/sign`, body)
      .then(() => rerender())
      .catch((e) => { const m = b.parentElement.querySelector(".sign-msg"); if (m) m.textContent = e.message; });
  }));
  // The latest periods are what matters: show the grid's right end first.
  main().querySelectorAll(".grid").forEach((g) => { g.parentElement.scrollLeft = g.parentElement.scrollWidth; });
}
