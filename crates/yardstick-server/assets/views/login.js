// #/login: a one-time code or an API token becomes a session.
import { $, main, state } from "../state.js";

export async function viewLogin(params) {
  const failed = params.get("failed");
  main().innerHTML = `
    <section class="login">
      <h1>Sign in to Yardstick</h1>
      <p>Open the link <code>yardstick serve</code> printed, or paste an API token (<code>yardstick token create</code>).</p>
      ${failed ? '<p class="error" role="alert">That code or token is not valid (login codes work once).</p>' : ""}
      <form id="login-form">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" placeholder="ys_…" required>
        <button type="submit" class="primary">Sign in</button>
      </form>
    </section>`;
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await fetch("/login", { method: "POST", body: new URLSearchParams({ token: $("#token").value }), credentials: "same-origin" });
    const next = params.get("next");
    if (r.ok) {
      state.meta = null;
      location.hash = next && next.startsWith("#/") ? next : "#/";
    } else {
      location.hash = `#/login?failed=1${next ? `&next=${encodeURIComponent(next)}` : ""}`;
    }
  });
}
