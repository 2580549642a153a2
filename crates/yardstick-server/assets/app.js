// Yardstick's dashboard: plain JavaScript modules over API v1 (no build step).
// Views: #/ overview, #/kpi/ID, #/contracts, #/agreement/ID, #/partnerships, #/partnership/ID,
// #/reconciliations, #/reconciliation/ID?period=P, #/login.
// Live: server-sent events re-render the open view when new values arrive.
import { api } from "./api.js";
import { esc } from "./format.js";
import { $, main, state } from "./state.js";
import { viewAgreement } from "./views/agreement.js";
import { viewContracts } from "./views/contracts.js";
import { viewKpi } from "./views/kpi.js";
import { viewLogin } from "./views/login.js";
import { viewOverview } from "./views/overview.js";
import { viewPartnership, viewPartnerships } from "./views/partnerships.js";
import { viewReconciliation, viewReconciliations } from "./views/reconciliations.js";

let rendering = false, again = false;

async function route() {
  if (rendering) {
    again = true;
    return;
  }
  rendering = true;
  try {
    const [path, query] = (location.hash.slice(1) || "/").split("?");
    const params = new URLSearchParams(query || "");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] === "login") {
      $("#logout").hidden = true;
      document.body.classList.add("signed-out");
      await viewLogin(params);
      return;
    }
    if (!state.meta) state.meta = await api("/api/v1/meta");
    $("#who").textContent = state.meta.party ? `${state.meta.project} · shared with ${state.meta.party}` : state.meta.project;
    showHealth();
    $("#logout").hidden = false;
    connectLive();
    if (parts[0] === "kpi" && parts[1]) await viewKpi(parts[1]);
    else if (parts[0] === "contracts") await viewContracts();
    else if (parts[0] === "agreement" && parts[1]) await viewAgreement(parts[1]);
    else if (parts[0] === "partnerships") await viewPartnerships();
    else if (parts[0] === "partnership" && parts[1]) await viewPartnership(parts[1]);
    else if (parts[0] === "reconciliations") await viewReconciliations();
    else if (parts[0] === "reconciliation" && parts[1]) await viewReconciliation(parts[1], params);
    else await viewOverview();
    document.body.dataset.rendered = String(Date.now());
  } catch (e) {
    if (e.message !== "login") main().innerHTML = `<p class="error" role="alert">${esc(e.message)}</p>`;
  } finally {
    rendering = false;
    if (again) {
      again = false;
      route();
    }
  }
}

let live = null;

// Broken definitions: say so above every page (the last good version is
// what is shown), and do not call the page live.
function showHealth() {
  const errs = state.meta.definition_errors || [];
  const el = $("#health");
  document.body.classList.toggle("signed-out", false);
  if (!errs.length) {
    el.hidden = true;
    el.innerHTML = "";
    $("#live").dataset.broken = "";
    return;
  }
  el.hidden = false;
  el.innerHTML = `<strong>The definitions do not check: ${errs.length === 1 ? "1 error" : `${errs.length} errors`}.</strong> These pages show the last version that did, until the files are fixed (<code>yardstick check</code> says where).<ul>${errs.slice(0, 5).map((e) => `<li>${esc(e)}</li>`).join("")}</ul>`;
  $("#live").dataset.broken = "1";
  $("#live").hidden = true;
}

function connectLive() {
  if (live) return;
  live = new EventSource("/api/v1/events");
  live.addEventListener("open", () => { $("#live").hidden = Boolean($("#live").dataset.broken); });
  live.addEventListener("error", () => { $("#live").hidden = true; });
  live.addEventListener("snapshot", () => {
    state.meta = null; // definitions may have changed: names, health
    route();
  });
}

$("#logout").addEventListener("click", async () => {
  await fetch("/logout", { method: "POST", credentials: "same-origin" });
  state.meta = null;
  if (live) live.close();
  live = null;
  location.hash = "#/login";
});

window.addEventListener("hashchange", route);
window.addEventListener("yardstick:render", route);
route();
