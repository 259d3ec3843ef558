// The scanning page's service worker (served at /scan/sw.js, scope /scan/). It keeps the page,
// its scripts and styles and the barcode decoder on the phone, so the page opens and reloads
// without network. The server fills in the version and the list of files.
/* global self, caches, fetch, Response */

const VERSION = __VERSION__;
const PRECACHE = __PRECACHE__;
const PAGE = __PAGE__;
const CACHE = `scan-${VERSION}`;
const DATA = "scan-data"; // the last answers of the API reads the page needs (rounds, sites)
const API_GETS = ["/api/v1/rounds", "/api/v1/sites", "/api/v1/auth/me"];
const NETWORK_WAIT_MS = 4000; // on a congested network, answer from the cache after this

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(PRECACHE.map(async (url) => {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.ok && !response.redirected) await cache.put(url, response);
      else if (url !== PAGE) throw new Error(`precache ${url}: ${response.status}`);
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("scan-") && name !== CACHE && name !== DATA) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

/** The network's answer (kept in `cacheName` under `key`), or the cached one when the
 * network fails or is slower than NETWORK_WAIT_MS. */
function networkFirst(request, cacheName, key, keep) {
  const fromNetwork = fetch(request).then(async (response) => {
    if (keep(response)) {
      const cache = await caches.open(cacheName);
      await cache.put(key, response.clone());
    }
    return response;
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const fallback = async () => {
      const cached = await caches.match(key, { cacheName });
      if (cached && !settled) {
        settled = true;
        resolve(cached);
      }
      return Boolean(cached);
    };
    const timer = setTimeout(fallback, NETWORK_WAIT_MS);
    fromNetwork.then((response) => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        resolve(response);
      }
    }, async (err) => {
      clearTimeout(timer);
      if (!(await fallback()) && !settled) reject(err);
    });
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === PAGE) {
    const isPage = (r) => r.ok && !r.redirected && (r.headers.get("Content-Type") || "").includes("text/html");
    event.respondWith(networkFirst(request, CACHE, PAGE, isPage));
  } else if (PRECACHE.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
  } else if (API_GETS.includes(url.pathname)) {
    event.respondWith(networkFirst(request, DATA, url.pathname + url.search, (r) => r.ok));
  }
});
