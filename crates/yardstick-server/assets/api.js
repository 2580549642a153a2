// API v1 over fetch: JSON in, JSON out; a 401 sends the user to the login
// view and keeps where they were.

export async function api(path) {
  const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (r.status === 401) {
    const here = location.hash.startsWith("#/login") ? "" : location.hash;
    location.hash = here && here !== "#/" ? `#/login?next=${encodeURIComponent(here)}` : "#/login";
    throw new Error("login");
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || r.statusText);
  return body;
}

// A JSON body posted; the answer's JSON, or its message as an error.
export async function post(path, payload) {
  const r = await fetch(path, { method: "POST", credentials: "same-origin", headers: { Accept: "application/json", "Content-Type": "application/json" }, body: JSON.stringify(payload) });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || r.statusText);
  return body;
}
