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
const SLOW_FOR_MS = 30000; // after a network too slow to answer, the cache answers first this long
let slowUntil = 0;

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

/** The network's answer (kept in `cacheName` under `key` when `keep` says so), or the cached copy
 * when the network fails, answers with a server error (a load balancer's 502 while the servers
 * restart) or is slower than NETWORK_WAIT_MS (a server that accepts and never answers). Without a
 * cached copy, whatever the network gives in the end. Once the network was too slow, the cached
 * copy answers at once for SLOW_FOR_MS (the page's next requests would only wait the same), while
 * the network's answer still refreshes the cache. */
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
    const settle = (response) => {
      if (response && !settled) {
        settled = true;
        resolve(response);
      }
      return Boolean(response);
    };
    const fromCache = () => caches.match(key, { cacheName });
    const wait = Date.now() < slowUntil ? 0 : NETWORK_WAIT_MS;
    const timer = setTimeout(async () => {
      const cached = await fromCache();
      if (!settled && settle(cached)) slowUntil = Date.now() + SLOW_FOR_MS;
    }, wait);
    fromNetwork.then(async (response) => {
      clearTimeout(timer);
      if (response.status < 500) slowUntil = 0;
      if (response.status < 500 || !settle(await fromCache())) settle(response);
    }, async (err) => {
      clearTimeout(timer);
      if (!settle(await fromCache()) && !settled) reject(err);
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
