// The app shell, cached so the till opens at once (and says it is offline) without a network.
// The API is never cached: offline, the page itself checks coupons against what it keeps in
// IndexedDB and queues redemptions (queue.js); a background sync wakes it to send them.
// __VERSION__ and __SHELL__ are filled in by the server (exchange/till/app.py) from the files.
const CACHE = "till-__VERSION__";
const SHELL = __SHELL__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("till-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/till/")) return;
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(event.request, { ignoreSearch: true }))
    .then((hit) => hit || fetch(event.request)));
});

self.addEventListener("sync", (event) => {
  if (event.tag !== "till-queue") return;
  event.waitUntil(self.clients.matchAll({ type: "window" })
    .then((clients) => clients.forEach((client) => client.postMessage("till-sync"))));
});
