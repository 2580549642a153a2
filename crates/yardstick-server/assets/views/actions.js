// The "Actions" section of a KPI page: corrective actions recorded against
// its misses (and a cause from "Why?"), each with the KPI and the cause's
// segment before and after and whether they recovered; a form to add one.
import { $, UI, state, rerender } from "../state.js";
import { esc, fmt } from "../format.js";
import { api, post } from "../api.js";
import { words } from "./why.js";

const VERDICT = { recovered: ["✓", "recovered", "met"], not_recovered: ["✗", "not recovered", "missed"], pending: ["…", "pending", "no_data"] };
function verdict(v) {
  const [icon, word, cls] = VERDICT[v] || ["–", v, "no_data"];
  return `<span class="status ${cls}"><span aria-hidden="true">${icon}</span> <span class="word">${esc(word)}</span></span>`;
}

// Before the miss → the miss → each judged period.
function story(e, key, unit) {
  return [e.before_miss, e.miss, ...e.after].map((j) => `<span class="nowrap">${esc(j.period)} ${fmt(j[key], unit)}</span>`).join(" → ");
}

function item(a, unit) {
  const cause = a.cause ? words({ elements: a.cause }) : "";
  const head = `<div class="cause-head"><strong>#${a.id} ${esc(a.title)}</strong> <span class="muted">${esc(a.owner)}, due ${esc(a.due)} · answers ${esc(a.period)}${cause ? ` · ${esc(cause)}` : ""}</span> ${a.outcome ? `<span class="tag">closed</span>` : '<span class="tag">open</span>'}</div>`;
  if (!a.effect) return `<li class="action">${head}<p class="error">${esc(a.problem || "")}</p></li>`;
  const e = a.effect;
  return `<li class="action" data-action="${a.id}">${head}
    <div>KPI: ${story(e, "value", unit)} ${verdict(e.kpi)}</div>
    ${e.segment ? `<div>${esc(cause)}: ${story(e, "segment", unit)} ${verdict(e.segment)}</div>` : ""}
    ${a.outcome ? `<div class="muted small">Outcome: ${esc(a.outcome)}</div>` : ""}</li>`;
}

export function actionsSection() {
  return `<h2 id="actions-heading">Actions</h2><div id="actions"><p class="muted">Loading…</p></div>`;
}

function form(id, period, cause) {
  if (state.meta.role === "viewer") return "";
  return `<form id="action-form" class="resolve">
    <label>Period it answers <input name="period" required value="${esc(period || "")}" pattern="[0-9A-Z-]+" size="8"></label>
    <label>Cause <input name="cause" value="${esc(cause ? Object.entries(cause).map(([d, v]) => `${d}=${v}`).join(", ") : "")}" placeholder="column=value, … (optional)"></label>
    <label>What will be done <input name="title" required maxlength="200" placeholder="call the partner's EU desk"></label>
    <label>Owner <input name="owner" required maxlength="100"></label>
    <label>Due <input name="due" type="date" required></label>
    <button class="primary" type="submit">Record action</button> <span id="action-msg" role="status"></span></form>`;
}

export function loadActions(id, k) {
  const el = $("#actions");
  if (!el) return;
  api(`/api/v1/actions?kpi=${encodeURIComponent(id)}`)
    .then((r) => {
      const prefill = UI.act[id] || {};
      el.innerHTML = (r.actions.length ? `<ol class="causes">${r.actions.map((a) => item(a, k.unit)).join("")}</ol>` : '<p class="muted">No action recorded yet.</p>') + form(id, prefill.period, prefill.cause);
      const f = $("#action-form");
      if (!f) return;
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const d = new FormData(f);
        const cause = {};
        for (const kv of String(d.get("cause") || "").split(",")) {
          const [c, ...v] = kv.split("=");
          if (c.trim() && v.length) cause[c.trim()] = v.join("=").trim();
        }
        try {
          await post("/api/v1/actions", { kpi: id, period: d.get("period"), title: d.get("title"), owner: d.get("owner"), due: d.get("due"), cause: Object.keys(cause).length ? cause : null });
          delete UI.act[id];
          rerender();
        } catch (e) {
          $("#action-msg").textContent = e.message;
        }
      });
    })
    .catch((e) => { el.innerHTML = `<p class="error">${esc(e.message)}</p>`; });
}
