/* Residents' service worker (scope /me/): the code page and the codes it showed work offline. */
const CACHE = {{ version | tojson }};
const SHELL = {{ shell | tojson }};
const CODE_IMAGES = "/api/v1/codes/";
const NETWORK_WAIT_MS = 3500;  // a silent server: show the kept copy after this
const SLOW_FOR_MS = 30000;  // after a network too slow to answer, the kept copy first this long
let slowUntil = 0;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  // Only this worker's own old caches ("me-…"); the staff scanning page keeps its own.
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("me-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

/** The network's answer (kept when it is good), or the cached copy when the network fails,
 * answers with a server error (a load balancer's 502 while the servers restart) or has not
 * answered within NETWORK_WAIT_MS (a server that accepts and never answers): residents in the
 * queue must see their code at once. Without a cached copy, whatever the network gives in the end.
 * Once the network was too slow, the kept copy answers at once for SLOW_FOR_MS (the page's
 * styles and script would only wait the same), while the network's answer still refreshes it. */
async function networkFirst(request, ignoreSearch) {
  const cache = await caches.open(CACHE);
  // the copy of this very address first (/me/register and /me/register?family=1 are two pages)
  const fromCache = async () => (await cache.match(request)) || (ignoreSearch ? cache.match(request, {ignoreSearch}) : undefined);
  const fromNetwork = fetch(request).then((response) => {
    if (response.ok) cache.put(request, response.clone());
    if (response.status < 500) slowUntil = 0;  // the server answers again
    return response;
  });
  let timer;
  const wait = Date.now() < slowUntil ? 0 : NETWORK_WAIT_MS;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, wait, "late"); });
  const first = await Promise.race([fromNetwork.catch(() => "failed"), late]);
  clearTimeout(timer);
  if (first instanceof Response && first.status < 500) return first;
  const hit = await fromCache();
  if (hit && first === "late") slowUntil = Date.now() + SLOW_FOR_MS;
  if (hit) return hit;
  return first instanceof Response ? first : fromNetwork;  // nothing kept: wait for the network
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(CODE_IMAGES)) {
    event.respondWith(cacheFirst(request));  // a code never changes
  } else if (request.mode === "navigate" && url.pathname.startsWith("/me/")) {
    event.respondWith(networkFirst(request, true));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(networkFirst(request, false));
  }
});
