// The "Why?" section of a KPI page: for a missed or warning period, the
// causes of the gap to the previous period (or the target), ranked, each a
// link that focuses the breakdown on its segment.
import { $, UI, rerender, state } from "../state.js";
import { esc, fmt } from "../format.js";
import { api } from "../api.js";

const VS = { previous: "the previous period", target: "the target", year_ago: "a year before" };
const ROOTS = { explain: "the few that explain the gap", unusual: "every segment that moved unusually" };

// The periods worth asking about: complete, and missed or warning.
export function flagged(rows) {
  return rows.filter((r) => r.complete && (r.status === "missed" || r.status === "warning")).map((r) => r.period).reverse();
}

export function words(c) {
  return Object.entries(c.elements).map(([d, v]) => `${d}=${v === null ? "(empty)" : v}`).join(" ∧ ");
}

export function whySection(id, k, mine) {
  const periods = flagged(mine);
  if (!(k.why_by || []).length || !periods.length) return "";
  const period = periods.includes(UI.why[id]) ? UI.why[id] : periods[0];
  UI.why[id] = period;
  const vs = UI.whyVs[id] || "previous";
  const roots = UI.whyRoots[id] || "explain";
  return `<h2 id="why-heading">Why?</h2><div class="filters"><label>Period <select id="why-period">${periods.map((p) => `<option ${p === period ? "selected" : ""}>${esc(p)}</option>`).join("")}</select></label>
    <label>Against <select id="why-vs">${Object.entries(VS).map(([v, w]) => `<option value="${v}" ${v === vs ? "selected" : ""}>${esc(w)}</option>`).join("")}</select></label>
    <label>Root causes <select id="why-roots">${Object.entries(ROOTS).map(([v, w]) => `<option value="${v}" ${v === roots ? "selected" : ""}>${esc(w)}</option>`).join("")}</select></label></div>
    <div id="why"><p class="muted">Loading…</p></div>`;
}

function render(id, k, x) {
  const sign = (v) => (v > 0 ? "+" : v < 0 ? "−" : "");
  const head = `<p id="why-summary">${fmt(x.value, k.unit)} against ${esc(x.reference_is)}: ${fmt(x.reference, k.unit)}, a gap of ${sign(x.gap)}${fmt(Math.abs(x.gap), k.unit)}. ${x.normal_change === 0 ? 'Normal is no change' : `Everything moved ${sign(x.normal_change)}${Math.abs(x.normal_change * 100).toFixed(1)}% together`}; the root causes explain ${Math.round(x.explained * 100)}% of what moved apart.</p>`;
  const SPLITS = {
    units: "Split by unit: uptime over scheduled time, so each unit's availability (rate) and its share of scheduled time (mix) move the fleet's.",
    incidents: "Split by incident: a cause's value is the availability had only its incidents happened; downtime where incidents overlap counts for the one that started first.",
  };
  const note = SPLITS[x.split] ? `<p class="muted small" id="why-split">${esc(SPLITS[x.split])}</p>` : "";
  if (!x.causes.length) return head + note + '<p class="muted">No cause: nothing moved apart from the rest.</p>';
  const largest = Math.max(...x.causes.map((c) => Math.abs(c.contribution)), 1e-12);
  const items = x.causes.map((c, i) => {
    const w = (Math.abs(c.contribution) / largest) * 100;
    const cls = c.contribution < 0 ? "wf-down" : "wf-up";
    const share = c.share === null || c.share === undefined ? "" : ` (${Math.round(c.share * 100)}% of the gap)`;
    const effects = c.mix !== undefined ? ` · mix ${fmt(c.mix, k.unit)}, rate ${fmt(c.rate, k.unit)}` : "";
    const act = state.meta.role === "viewer" ? "" : ` <button type="button" class="link" data-act="${i}">act on this</button>`;
    // A link focuses the breakdown, which exists for declared dimensions.
    const linkable = Object.keys(c.elements).some((d) => (k.dimensions || []).includes(d));
    const name = linkable ? `<a href="#/kpi/${encodeURIComponent(id)}" data-cause="${i}">${esc(words(c))}</a>` : `<span class="cause-name">${esc(words(c))}</span>`;
    return `<li class="cause${c.root ? " root" : ""}"><div class="cause-head">${name}${c.root ? ' <span class="tag">root cause</span>' : ""}${act}</div>
      <div class="cause-bar"><div class="track"><div class="fill ${cls}" style="width:${Math.max(0.5, w).toFixed(1)}%"></div></div><span class="num nowrap">${sign(c.contribution)}${fmt(Math.abs(c.contribution), k.unit)}</span></div>
      <div class="muted small">${fmt(c.value, k.unit)} now, ${fmt(c.reference, k.unit)} before${share}${effects}</div></li>`;
  });
  return `${head}${note}<ol class="causes">${items.join("")}</ol><p class="muted small">${esc(x.criterion)}</p>`;
}

export function loadWhy(id, k) {
  const sel = $("#why-period");
  if (!sel) return;
  const vsSel = $("#why-vs");
  sel.addEventListener("change", () => { UI.why[id] = sel.value; rerender(); });
  const rootsSel = $("#why-roots");
  vsSel.addEventListener("change", () => { UI.whyVs[id] = vsSel.value; rerender(); });
  rootsSel.addEventListener("change", () => { UI.whyRoots[id] = rootsSel.value; rerender(); });
  // The answer goes into this render's box: a slower answer to an earlier
  // choice lands in a box no longer shown, never over the newer one.
  const box = $("#why");
  api(`/api/v1/kpis/${encodeURIComponent(id)}/why?period=${encodeURIComponent(sel.value)}&vs=${encodeURIComponent(vsSel.value)}&roots=${encodeURIComponent(rootsSel.value)}&top=8`)
    .then((x) => {
      box.innerHTML = render(id, k, x);
      box.querySelectorAll("button[data-act]").forEach((b) => b.addEventListener("click", () => {
        UI.act[id] = { period: x.period, cause: x.causes[Number(b.dataset.act)].elements };
        rerender();
        setTimeout(() => { const h = $("#actions-heading"); if (h) h.scrollIntoView(); }, 50);
      }));
      box.querySelectorAll("a[data-cause]").forEach((a) => a.addEventListener("click", (ev) => {
        ev.preventDefault();
        const c = x.causes[Number(a.dataset.cause)];
        const dims = Object.keys(c.elements).filter((d) => k.dimensions.includes(d));
        if (!dims.length) return;
        // Break down by the cause's last dimension, within the rest of it.
        UI.dim[id] = dims[dims.length - 1];
        UI.barPeriod[id] = x.period;
        UI.focus[id] = c.elements;
        rerender();
        setTimeout(() => { const h = $("#breakdown-heading"); if (h) h.scrollIntoView(); }, 50);
      }));
    })
    .catch((e) => { box.innerHTML = `<p class="error">${esc(e.message)}</p>`; });
}
