// Signed terms on a contract's or partnership's page: whether its results
// are judged on terms every party signed (and what changed since), and
// signing from the page.
import { main, rerender, state } from "../state.js";
import { esc } from "../format.js";
import { post } from "../api.js";

// Whether the results below are judged on terms every party signed.
export function termsNote(t) {
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
export function signForm(id, t) {
  if (!t || !t.unsigned_terms || !t.unsigned.length) return "";
  const m = state.meta;
  const button = (party, text, cls) => `<button type="button" class="${cls} sign" data-sign="${esc(id)}" data-as="${esc(party)}">${esc(text)}</button>`;
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

// Wires the sign buttons `signForm` wrote.
export function wireSigning() {
  main().querySelectorAll("button.sign").forEach((b) => b.addEventListener("click", () => {
    const body = state.meta.party ? {} : { as: b.dataset.as };
    post(`/api/v1/agreements/${encodeURIComponent(b.dataset.sign)}/sign`, body)
      .then(() => rerender())
      .catch((e) => { const m = b.parentElement.querySelector(".sign-msg"); if (m) m.textContent = e.message; });
  }));
}
