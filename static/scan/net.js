// The scanning page's requests: the batch sync (with the session's CSRF token, renewed when the
// server says it is stale) and the reads of rounds and sites, which fall back to the copy kept on
// the phone when the network or the server fails.

const SEND_TIMEOUT_MS = 15000; // a congested network: give up and send again (ids make it safe)
const READ_TIMEOUT_MS = 6000; // a server that never answers: the copy kept here (the worker answers within 4 s)

/** send(items), renewCsrf(status, json) and getJSON(path) for the page's config. */
export function connection(config, prefsKey) {
  let csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  let lastCsrfRefresh = 0;

  async function send(items) {
    const response = await fetch(`${config.api}/sync`, {
      method: "POST", credentials: "same-origin", signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ items }),
    });
    let json = null;
    try { json = await response.json(); } catch { json = null; }
    return { status: response.status, json };
  }

  async function renewCsrf(status, json) {
    if (status !== 403 || json?.error?.code !== "csrf" || Date.now() - lastCsrfRefresh < 30000) return false;
    lastCsrfRefresh = Date.now();
    try {
      const html = await (await fetch(config.page, { credentials: "same-origin", cache: "no-store" })).text();
      const token = new DOMParser().parseFromString(html, "text/html").querySelector('meta[name="csrf-token"]')?.content;
      if (token && token !== csrf) {
        csrf = token;
        return true;
      }
    } catch { /* offline: try later */ }
    return false;
  }

  async function getJSON(path) {
    const key = prefsKey(`get${path}`);
    try {
      const response = await fetch(`${config.api}${path}`, {
        credentials: "same-origin", headers: { Accept: "application/json" }, signal: AbortSignal.timeout(READ_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      localStorage.setItem(key, JSON.stringify(data));
      return data;
    } catch (err) {
      const saved = localStorage.getItem(key);
      if (saved) return JSON.parse(saved);
      throw err;
    }
  }

  return { send, renewCsrf, getJSON };
}
