// #/agreement/ID: an agreement's standing, the versions of its terms each
// party signed, and renegotiation — open proposals with accept/reject for
// the party that decides, decided ones with their amendment, and a form to
// propose a new target from a period not yet judged.
import { main, rerender, state } from "../state.js";
import { esc } from "../format.js";
import { api, post } from "../api.js";
import { signForm, termsNote, wireSigning } from "./terms.js";

const when = (us) => (us ? new Date(us / 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "");
const short = (fp) => `<code title="${esc(fp)}">${esc(fp.slice(0, 15))}…</code>`;

// Which party the viewer acts for on proposal `p`: a party's editor as
// itself; an organisation admin for any party other than the proposer.
function deciders(p, parties) {
  const m = state.meta;
  if (m.role === "viewer") return [];
  if (m.party) return m.party !== p.party && parties.includes(m.party) ? [m.party] : [];
  return m.role === "admin" ? parties.filter((x) => x !== p.party) : [];
}

function proposalCard(p, parties) {
  const who = deciders(p, parties);
  const status = p.status === "open" ? "open" : `${p.status} by ${esc(p.decided_party || "?")}${p.comment ? `: “${esc(p.comment)}”` : ""}`;
  let actions = "";
  if (p.status === "open" && who.length) {
    const as = who.length > 1 ? `<label>as <select class="decide-as">${who.map((x) => `<option>${esc(x)}</option>`).join("")}</select></label>` : "";
    actions = `<div class="decide" data-proposal="${p.id}">${as}
      <input class="decide-comment" type="text" placeholder="Comment (required to reject)" aria-label="Comment on proposal #${p.id}">
      <button type="button" class="primary accept">Accept</button> <button type="button" class="reject">Reject</button>
      <span class="decide-msg error" role="status"></span></div>`;
  } else if (p.status === "open") {
    actions = `<p class="muted small">Awaiting ${esc(parties.filter((x) => x !== p.party).join(" or "))}.</p>`;
  }
  let amendment = "";
  if (p.status === "accepted" && p.written) amendment = '<p class="muted small">In the definitions: periods from its effective day are judged by it.</p>';
  else if (p.amendment) amendment = `<details class="amendment"><summary>Amendment to commit (${esc(p.amendment.file)})</summary><pre>${esc(p.amendment.patch)}</pre></details>`;
  return `<li class="proposal" data-status="${esc(p.status)}"><strong>#${p.id}</strong> ${esc(p.party)} proposes ${esc(p.subject_kind)} <code>${esc(p.subject)}</code>: target <strong>${esc(p.value)}</strong>${p.warning ? ` (warning ${esc(p.warning)})` : ""} from ${esc(p.effective)}
    <div class="muted small">“${esc(p.reason)}” · ${when(p.proposed_at)} · <span class="status-${esc(p.status)}">${status}</span></div>${actions}${amendment}</li>`;
}

// The form to propose a new target, for a party's editor or the organisation's admin.
function proposeForm(a) {
  const m = state.meta;
  if (m.role === "viewer" || (m.party && !a.parties.includes(m.party)) || (!m.party && m.role !== "admin")) return "";
  const rules = a.terms.rules || {};
  const subjects = a.subject === "contract"
    ? (rules.clauses || []).map((c) => ["clause", c.id, c.kpi && c.kpi !== c.id ? `${c.id} (KPI ${c.kpi})` : c.id])
    : (rules.kpis || (rules.kpi ? [rules.kpi] : [])).map((k) => ["kpi", k, k]);
  if (!subjects.length) return "";
  const as = m.party ? "" : `<label>As <select name="as">${a.parties.map((x) => `<option>${esc(x)}</option>`).join("")}</select></label>`;
  return `<form class="propose resolve">
    <label>${a.subject === "contract" ? "Clause" : "KPI"} <select name="subject">${subjects.map(([k, id, text]) => `<option value="${esc(k)}:${esc(id)}">${esc(text)}</option>`).join("")}</select></label>
    <label>New target <input name="target" required placeholder=">= 99.0%"></label>
    ${a.subject === "contract" ? "" : '<label>Warning <input name="warning" placeholder="optional"></label>'}
    <label>From <input name="from" required placeholder="2027-01" pattern="\\d{4}-\\d{2}(-\\d{2})?"></label>
    ${as}
    <label class="wide">Reason <input name="reason" required placeholder="e.g. three misses in a row: see Why?"></label>
    <button class="primary" type="submit">Propose</button> <span class="propose-msg error" role="status"></span></form>`;
}

export async function viewAgreement(id) {
  const a = await api(`/api/v1/agreements/${encodeURIComponent(id)}`);
  const open = a.proposals.filter((p) => p.status === "open");
  const decided = a.proposals.filter((p) => p.status !== "open");
  // What the last proposal made here said of its target, shown once.
  const made = state.proposed;
  state.proposed = null;
  const notice = made ? `<div class="banner proposed" role="status">Proposal #${made.id} recorded.${made.warnings.length ? ` Its target against the KPI's history: <ul>${made.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}</div>` : "";
  const back = a.subject === "contract" ? '<a href="#/contracts">Contracts</a>' : a.subject === "partnership" ? `<a href="#/partnership/${encodeURIComponent(id)}">Partnership</a>` : "";
  main().innerHTML = `<p class="muted small">${back}</p><h1 data-agreement="${esc(id)}">Agreement: ${esc(id)}</h1>
    <p>${esc(a.subject)} between <strong>${esc(a.parties.join(" and ") || "no party named")}</strong></p>
    <p class="appendix-links">KPI appendix to read and sign: ${["html", "pdf", "md"].map((f) => `<a href="/api/v1/agreements/${encodeURIComponent(id)}/appendix?format=${f}" target="_blank" rel="noopener">${f === "md" ? "Markdown" : f.toUpperCase()}</a>`).join(" · ")}</p>
    ${notice}${termsNote(a)}${signForm(id, a)}
    <h2>Versions signed</h2>${a.versions.length ? `<div class="table-wrap"><table class="narrow versions"><thead><tr><th>Terms</th><th>Signed by</th><th>In force</th></tr></thead><tbody>
      ${a.versions.map((v) => `<tr><td>${short(v.fingerprint)}</td><td>${esc(v.signed_by.join(", "))}</td><td>${v.current ? "yes, now" : "earlier"}</td></tr>`).join("")}</tbody></table></div>` : '<p class="muted">No party has signed any version yet.</p>'}
    ${a.signatures.length ? `<details><summary>Every signature (${a.signatures.length})</summary><ul class="small">${a.signatures.map((s) => `<li>${esc(s.party)} signed ${short(s.fingerprint)} on ${when(s.signed_at)}, recorded by ${esc(s.signed_by)}</li>`).join("")}</ul></details>` : ""}
    <h2>Open proposals</h2>${open.length ? `<ul class="proposals">${open.map((p) => proposalCard(p, a.parties)).join("")}</ul>` : '<p class="muted">None.</p>'}
    <h2>Propose a new target</h2><p class="muted small">From a period not yet judged: earlier periods keep the target they were judged by. Another party accepts or rejects it; the amended terms are signed again by every party.</p>
    ${proposeForm(a) || '<p class="muted">Your token cannot propose changes to these terms.</p>'}
    <h2>Decided proposals</h2>${decided.length ? `<ul class="proposals">${decided.map((p) => proposalCard(p, a.parties)).join("")}</ul>` : '<p class="muted">None yet.</p>'}`;
  wireSigning();
  main().querySelectorAll(".decide").forEach((d) => {
    const go = (verb) => {
      const body = { comment: d.querySelector(".decide-comment").value };
      const as = d.querySelector(".decide-as");
      if (!state.meta.party) body.as = as ? as.value : deciders(a.proposals.find((p) => String(p.id) === d.dataset.proposal), a.parties)[0];
      post(`/api/v1/proposals/${d.dataset.proposal}/${verb}`, body)
        .then(() => rerender())
        .catch((e) => { d.querySelector(".decide-msg").textContent = e.message; });
    };
    d.querySelector(".accept").addEventListener("click", () => go("accept"));
    d.querySelector(".reject").addEventListener("click", () => go("reject"));
  });
  const form = main().querySelector("form.propose");
  if (form) form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const [kind, subject] = String(f.get("subject")).split(/:(.*)/s);
    const body = { [kind]: subject, target: f.get("target"), from: f.get("from"), reason: f.get("reason") };
    if (f.get("warning")) body.warning = f.get("warning");
    if (f.get("as")) body.as = f.get("as");
    post(`/api/v1/agreements/${encodeURIComponent(id)}/proposals`, body)
      .then((made) => { state.proposed = { id: made.id, warnings: made.warnings || [] }; rerender(); })
      .catch((e) => { form.querySelector(".propose-msg").textContent = e.message; });
  });
}

// A link to an agreement's page, for the contract card and partnership page.
export function agreementLink(id) {
  return `<a class="agreement-link small" href="#/agreement/${encodeURIComponent(id)}">Agreement: versions, signatures and proposals →</a>`;
}

