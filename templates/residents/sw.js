/* Residents' service worker (scope /me/): the code page and the codes it showed work offline. */
const CACHE = {{ version | tojson }};
const SHELL = {{ shell | tojson }};
const CODE_IMAGES = "/api/v1/codes/";

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

async function networkFirst(request, ignoreSearch) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const hit = await cache.match(request, {ignoreSearch});
    if (hit) return hit;
    throw error;
  }
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
