// #/reconciliations and #/reconciliation/ID?period=P: two sides' records
// and KPIs per period, the bridge of each KPI difference as a waterfall,
// the discrepant records with both sides, and the parties' resolutions.
import { main, state } from "../state.js";
import { esc, fmt } from "../format.js";
import { api, post } from "../api.js";

const STANDING = { agreed: ["✓", "agreed", "met"], within_tolerance: ["≈", "within tolerance", "warning"], disputed: ["✗", "disputed", "missed"] };
export function standing(s) {
  const [icon, word, cls] = STANDING[s] || ["–", "no data", "no_data"];
  return `<span class="status ${cls}"><span aria-hidden="true">${icon}</span> <span class="word">${esc(word)}</span></span>`;
}

const CAUSE = {
  duplicate_keys: () => "duplicate keys",
  only_left: (r) => `only in ${r.left.source}`,
  only_right: (r) => `only in ${r.right.source}`,
  value: (_r, s) => `${s.column} differs`,
  period: () => "other period",
};
const causeWords = (r, s) => (CAUSE[s.cause] || (() => s.cause))(r, s);
const side = (s) => `${esc(s.source)}${s.owner ? ` <span class="muted">(${esc(s.owner)})</span>` : ""}`;

export async function viewReconciliations() {
  const list = (await api("/api/v1/reconciliations")).reconciliations;
  if (!list.length) {
    main().innerHTML = '<h1>Reconciliations</h1><p class="muted">No reconciliation is shared with you.</p>';
    return;
  }
  const cards = list.map((r) => {
    if (r.error) return `<section class="card" data-reconciliation="${esc(r.id)}"><h2>${esc(r.id)}</h2><p class="error">${esc(r.error)}</p></section>`;
    const recent = r.periods.slice(-6);
    const last = [...r.periods].reverse().find((p) => p.complete) || r.periods[r.periods.length - 1];
    const k = last && last.kpis[0];
    return `<section class="card" data-reconciliation="${esc(r.id)}">
      <h2><a href="#/reconciliation/${encodeURIComponent(r.id)}">${esc(r.name || r.id)}</a></h2>
      <p>${side(r.left)} against ${side(r.right)} · keys ${esc(r.keys.join(", "))}</p>
      ${k ? `<p>${esc(k.name || k.kpi)}, ${esc(last.period)}: ${fmt(k.left, k.unit || undefined)} against ${fmt(k.right, k.unit || undefined)} ${standing(last.standing)}</p>` : ""}
      <div class="table-wrap"><table class="standings"><thead><tr>${recent.map((p) => `<th class="nowrap">${esc(p.period)}</th>`).join("")}</tr></thead>
      <tbody><tr>${recent.map((p) => `<td><a href="#/reconciliation/${encodeURIComponent(r.id)}?period=${encodeURIComponent(p.period)}" title="${p.discrepant} discrepant records">${standing(p.standing)}</a></td>`).join("")}</tr></tbody></table></div></section>`;
  });
  main().innerHTML = `<h1>Reconciliations</h1>${cards.join("")}`;
  // The latest periods matter most: show the grid's right end first.
  main().querySelectorAll(".standings").forEach((g) => { g.parentElement.scrollLeft = g.parentElement.scrollWidth; });
}

// The bridge as a waterfall: the left value, each cause moving it, the
// right value; each bar spans from the running total before the step to
// the one after (HTML bars, so it reflows on a phone).
function waterfall(r, k, unit) {
  const steps = [{ label: r.left.source, from: 0, to: k.left, total: true }];
  let at = k.left;
  for (const s of k.bridge) {
    steps.push({ label: causeWords(r, s), from: at, to: at - s.amount });
    at -= s.amount;
  }
  steps.push({ label: r.right.source, from: 0, to: k.right, total: true });
  const hi = Math.max(...steps.map((s) => Math.max(s.from, s.to)));
  // The totals dwarf the causes: start the axis near the smaller total.
  const spread = Math.max(...k.bridge.map((s) => Math.abs(s.amount)), 1);
  const lo = Math.min(...steps.map((s) => Math.min(s.from, s.to)));
  const floor = Math.max(Math.min(0, lo), Math.min(k.left, k.right, lo) - 2 * spread);
  const pct = (v) => (100 * (Math.max(v, floor) - floor)) / (hi - floor || 1);
  const rows = steps.map((s) => {
    const a = pct(Math.min(s.from, s.to)), b = pct(Math.max(s.from, s.to));
    const cls = s.total ? "wf-total" : s.to < s.from ? "wf-down" : "wf-up";
    const value = s.total ? fmt(s.to, unit) : `${s.to < s.from ? "−" : "+"}${fmt(Math.abs(s.to - s.from), unit)}`;
    return `<tr><td class="label wf-label">${esc(s.label)}</td><td class="track"><div class="fill ${cls}" style="margin-left:${a.toFixed(2)}%;width:${Math.max(0.3, b - a).toFixed(2)}%"></div></td><td class="num nowrap">${esc(value)}</td></tr>`;
  });
  return `<table class="bar-table waterfall" aria-label="How ${esc(k.kpi)} goes from ${esc(r.left.source)} to ${esc(r.right.source)}"><tbody>${rows.join("")}</tbody></table>`;
}

function sentence(r, k, unit) {
  if (k.difference === null) return `${esc(k.kpi)} has no value on one side.`;
  if (!k.bridge.length) return `${esc(k.kpi)}: both sides agree.`;
  const signed = (v) => (v < 0 ? `−${fmt(-v, unit)}` : fmt(v, unit));
  const parts = k.bridge.map((s) => `${signed(s.amount)} from ${s.records} ${s.records === 1 ? "record" : "records"} ${s.cause === "value" ? `whose ${esc(s.column)} differs` : s.cause === "period" ? "booked in another period" : s.cause === "duplicate_keys" ? "with a duplicated key" : esc(causeWords(r, s))}`);
  const more = k.difference >= 0 ? `${esc(r.left.source)} exceeds ${esc(r.right.source)}` : `${esc(r.left.source)} falls short of ${esc(r.right.source)}`;
  return `Of the ${fmt(Math.abs(k.difference), unit)} by which ${more}: ${parts.join(", ")}.`;
}

const KIND = { only_left: "only left", only_right: "only right", matched: "differs", duplicate_left: "duplicate key (left)", duplicate_right: "duplicate key (right)" };

function records(p) {
  if (!p.examples.length) return '<p class="muted">No discrepant records in this period.</p>';
  const cell = (e, right) => {
    const onSide = e.kind === "matched" || (right ? /right/.test(e.kind) : /left/.test(e.kind));
    if (!onSide) return "—";
    const cols = e.kind === "matched" ? e.columns.filter((c) => c.differs) : e.columns;
    return cols.map((c) => `<div><span class="muted">${esc(c.column)}</span> ${esc(fmtValue(right ? c.right : c.left))}</div>`).join("");
  };
  const kind = (e) => (e.kind === "matched" && e.left_period !== e.right_period && e.columns.filter((c) => c.differs).length === 1 ? "other period" : KIND[e.kind] || e.kind);
  return `<div class="table-wrap"><table data-records><thead><tr><th>Record</th><th>${esc(p.left.source)}</th><th>${esc(p.right.source)}</th></tr></thead><tbody>
    ${p.examples.map((e) => `<tr><td><span class="nowrap">${esc(Object.entries(e.key).map(([k, v]) => `${k} ${v}`).join(", "))}</span><div class="muted nowrap">${esc(kind(e))}</div></td><td>${cell(e, false)}</td><td>${cell(e, true)}</td></tr>`).join("")}
  </tbody></table></div>${p.discrepant > p.examples.length ? `<p class="muted">First ${p.examples.length} of ${p.discrepant}; <code>yardstick reconcile --format csv</code> lists them all.</p>` : ""}`;
}

function fmtValue(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return fmt(v);
  const t = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d(?::\d\d)?)(?:\.\d+)?Z$/.exec(String(v));
  return t ? `${t[1]} ${t[2]} UTC` : String(v);
}

function resolutionForm(id, p) {
  if (!state.meta || !["editor", "admin"].includes(state.meta.role)) return "";
  return `<form id="resolve" class="resolve" data-period="${esc(p.period)}">
    <label>What do you say about ${esc(p.period)}?
      <select name="state"><option value="disputed">Dispute it</option><option value="accepted:left">Accept: ${esc(p.left.source)} is right</option><option value="accepted:right">Accept: ${esc(p.right.source)} is right</option></select></label>
    <label>Comment <input name="comment" required maxlength="500" placeholder="why, and what happens next"></label>
    <button class="primary" type="submit">Record</button> <span id="resolve-msg" role="status"></span></form>`;
}

export async function viewReconciliation(id, params) {
  const all = await api(`/api/v1/reconciliations/${encodeURIComponent(id)}`);
  if (!all.periods.length) {
    main().innerHTML = `<h1>${esc(all.name || id)}</h1><p class="muted">No records yet on either side.</p>`;
    return;
  }
  const want = params.get("period");
  const p = all.periods.find((x) => x.period === want) || [...all.periods].reverse().find((x) => x.complete) || all.periods[all.periods.length - 1];
  const unit = (k) => k.unit || undefined;
  const kpis = p.kpis.map((k) => `<li data-kpi="${esc(k.kpi)}"><strong>${esc(k.name || k.kpi)}</strong>: <span class="nowrap">${fmt(k.left, unit(k))}</span> in ${esc(all.left.source)}, <span class="nowrap">${fmt(k.right, unit(k))}</span> in ${esc(all.right.source)}; difference <span class="nowrap">${fmt(k.difference, unit(k))}${k.relative !== null ? ` (${fmt(k.relative, "%")})` : ""}</span> ${k.within_tolerance ? '<span class="status met">✓ <span class="word">within tolerance</span></span>' : '<span class="status missed">✗ <span class="word">outside tolerance</span></span>'}</li>`).join("");
  const bridges = p.kpis.filter((k) => k.left !== null && k.right !== null && k.bridge.length).map((k) => `<h3>${esc(k.name || k.kpi)}: from ${esc(all.left.source)} to ${esc(all.right.source)}</h3>${waterfall(all, k, unit(k))}<p>${sentence(all, k, unit(k))}</p>`).join("");
  const res = p.resolution ? `<p>${p.resolution.state === "accepted" ? `Accepted, ${esc(p.resolution.side)} side right` : "Disputed"} by ${esc(p.resolution.actor)} on ${esc(p.resolution.at.slice(0, 10))}: “${esc(p.resolution.comment)}”</p>` : '<p class="muted">Nobody has accepted or disputed this period yet.</p>';
  main().innerHTML = `<h1>${esc(all.name || id)}</h1>
    <p>${side(all.left)} against ${side(all.right)} · keys ${esc(all.keys.join(", "))}</p>
    <div class="filters"><label>Period <select id="rc-period">${all.periods.map((x) => `<option value="${esc(x.period)}"${x.period === p.period ? " selected" : ""}>${esc(x.period)} · ${esc(STANDING[x.standing] ? STANDING[x.standing][1] : x.standing)}</option>`).join("")}</select></label></div>
    <h2>${esc(p.period)}${p.complete ? "" : " (in progress)"} ${standing(p.standing)}</h2>
    <p>${p.matched} matched, ${p.only_left} only in ${esc(p.left.source)}, ${p.only_right} only in ${esc(p.right.source)}, ${p.unequal} with different values${p.duplicate_keys.left + p.duplicate_keys.right ? `, ${p.duplicate_keys.left + p.duplicate_keys.right} with duplicated keys` : ""}.</p>
    ${kpis ? `<ul class="kpi-lines">${kpis}</ul>` : ""}
    <div id="bridge">${bridges}</div>
    <h2>Discrepant records</h2>${records(p)}
    <h2>Resolution</h2>${res}${resolutionForm(id, p)}`;
  main().querySelector("#rc-period").addEventListener("change", (e) => {
    location.hash = `#/reconciliation/${encodeURIComponent(id)}?period=${encodeURIComponent(e.target.value)}`;
  });
  const form = main().querySelector("#resolve");
  if (form) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const [st, sd] = form.state.value.split(":");
      try {
        await post(`/api/v1/reconciliations/${encodeURIComponent(id)}/resolutions`, { period: p.period, state: st, side: sd, comment: form.comment.value });
        window.dispatchEvent(new Event("yardstick:render"));
      } catch (err) {
        main().querySelector("#resolve-msg").textContent = err.message;
      }
    });
  }
}
