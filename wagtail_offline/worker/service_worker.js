/* wagtail-offline service worker.
 *
 * /sw.js sets this site's configuration and imports this file, which is served at an
 * immutable URL: browsers fetch it again only when the plugin is upgraded.
 *
 * Reads top to bottom: configuration, install (precache), activate (clean up),
 * fetch routing and its strategies, self-removal, then helpers. The server
 * decides what is offline; this worker only follows the manifest it is given.
 */
"use strict";

const CONFIG = self.WAGTAIL_OFFLINE_CONFIG;

// Every cache this worker owns starts with this prefix, so clean-up never touches
// another app's caches on the same origin.
const CACHE_PREFIX = `${CONFIG.cachePrefix}:${self.registration.scope}`;
const PRECACHE = `${CACHE_PREFIX}:precache`;
const REVISION_HEADER = "X-Wagtail-Offline-Revision";
const KIND_HEADER = "X-Wagtail-Offline-Kind";
const PRECACHE_CONCURRENCY = 6;
const SERVER_DOWN_STATUSES = [502, 503, 504];
const REMOVAL_CHECK_INTERVAL_MS = 60 * 1000;

/* ---------- Install: download only what changed since the last worker ---------- */

self.addEventListener("install", (event) => {
  event.waitUntil(install().then(() => self.skipWaiting()));
});

async function install() {
  if (!CONFIG.active || !CONFIG.manifestUrl) return;
  const manifest = await fetchManifest();
  // An entry that is not a canonical path of this origin is never fetched: a bad
  // manifest must not put another origin's answers in this site's cache.
  const valid = manifest.entries.filter(isValidEntry);
  const invalid = manifest.entries.filter((entry) => !isValidEntry(entry));
  const failures = invalid.map((entry) => ({
    url: String(entry && entry.url),
    reason: "invalid",
    message: "Not a canonical path of this site; not saved.",
  }));
  // Like a critical entry that cannot be fetched: the install fails, and the previous
  // worker (with its fallback page) stays in charge.
  if (invalid.some((entry) => entry && entry.critical)) {
    await reportFailures(failures);
    throw new Error("A critical entry of the manifest is not a path of this site.");
  }
  const cache = await caches.open(PRECACHE);
  const stale = await entriesToDownload(cache, valid);

  // The fallback page, the listing and their assets: all or nothing, else the
  // install fails and the previous worker stays in charge.
  await Promise.all(stale.filter((entry) => entry.critical).map((entry) => store(cache, entry)));

  // Pages are best-effort: one broken page must not keep the others offline.
  let room = await freeStorage();
  await forEachLimited(stale.filter((entry) => !entry.critical), PRECACHE_CONCURRENCY, async (entry) => {
    if (entry.size > room) {
      failures.push({ url: entry.url, reason: "quota", message: "Not enough storage left." });
      return;
    }
    try {
      await store(cache, entry);
      room -= entry.size;
    } catch (error) {
      const reason = error.name === "QuotaExceededError" ? "quota" : "fetch";
      if (reason === "quota") room = 0;
      failures.push({ url: entry.url, reason, message: String(error.message || error) });
    }
  });
  await cache.put(CONFIG.manifestUrl, jsonResponse(manifest));
  setManifest(manifest);
  if (failures.length) await reportFailures(failures);
}

async function fetchManifest() {
  const response = await fetch(CONFIG.manifestUrl, { credentials: "omit" });
  if (!response.ok) throw new Error(`The manifest answered ${response.status}.`);
  return response.json();
}

/** The entries whose revision the cache does not hold yet. */
async function entriesToDownload(cache, entries) {
  const checks = await Promise.all(
    entries.map(async (entry) => {
      const cached = await cache.match(absoluteUrl(entry.url));
      return !cached || cached.headers.get(REVISION_HEADER) !== entry.revision;
    }),
  );
  return entries.filter((_, index) => checks[index]);
}

/** Fetches and stores a valid entry, by its absolute URL on this origin. */
async function store(cache, entry) {
  const url = absoluteUrl(entry.url);
  // No cookies: what is stored is what any anonymous reader gets, never a logged-in view.
  // Same origin only: a redirect elsewhere fails rather than being stored as ours.
  const response = await fetch(url, { credentials: "omit", cache: "no-cache", mode: "same-origin" });
  if (!isStorable(response)) {
    throw new Error(`${entry.url} answered ${response.status} and was not stored.`);
  }
  await cache.put(url, await markedWith(response, entry));
}

/** Bytes this origin may still store, or Infinity where the browser does not say. */
async function freeStorage() {
  if (!self.navigator.storage || !self.navigator.storage.estimate) return Infinity;
  const { quota, usage } = await self.navigator.storage.estimate();
  return quota && usage !== undefined ? quota - usage : Infinity;
}

/* ---------- Activate: take over, then remove what the manifest dropped ---------- */

self.addEventListener("activate", (event) => {
  event.waitUntil(CONFIG.active ? activate() : removeSelf());
});

async function activate() {
  // Clean-up first: nothing that may fail below (navigation preload is an optimisation)
  // may leave an older release's caches behind.
  await deleteCaches((name) => name !== PRECACHE);
  if (self.registration.navigationPreload) {
    await self.registration.navigationPreload.enable().catch(() => null);
  }
  // A page the manifest dropped may have become private: it goes now. An open tab
  // already has its HTML; only the assets it loads may still be asked for.
  await pruneEntries({ keepAssets: true });
  // Dropped assets go once every page opened before this worker has gone. Saved, as
  // workers are stopped when idle.
  const openWindows = await self.clients.matchAll({ type: "window" });
  pendingPrune = new Set(openWindows.map((client) => client.id));
  const cache = await caches.open(PRECACHE);
  await cache.put(PENDING_PRUNE_KEY, jsonResponse([...pendingPrune]));
  await self.clients.claim();
  await pruneWhenOldPagesAreGone();
}

const PENDING_PRUNE_KEY = `${CONFIG.manifestUrl}?prune-after-clients`;
// undefined: not read since this worker started; null: nothing left to prune.
let pendingPrune;

async function pruneWhenOldPagesAreGone() {
  if (!CONFIG.manifestUrl) return;
  if (pendingPrune === undefined) {
    const saved = await matchPrecache(PENDING_PRUNE_KEY);
    pendingPrune = saved ? new Set(await saved.json()) : null;
  }
  if (!pendingPrune) return;
  const open = await self.clients.matchAll({ type: "window" });
  if (open.some((client) => pendingPrune.has(client.id))) return;
  pendingPrune = null;
  await pruneEntries(); // Also drops PENDING_PRUNE_KEY: the manifest does not list it.
}

/** Deletes precached URLs that the current manifest no longer lists (with `keepAssets`, but assets). */
async function pruneEntries({ keepAssets = false } = {}) {
  // A newer worker installing into the same cache: its entries are not in this worker's
  // manifest, and it prunes by its own manifest when it activates.
  if (!isCurrentWorker()) return;
  const manifest = await loadManifest();
  if (!manifest) return;
  const cache = await caches.open(PRECACHE);
  const keep = new Set(manifest.entries.keys());
  keep.add(CONFIG.manifestUrl);
  const dropped = (await cache.keys()).filter((request) => !keep.has(ownKeyOf(request)));
  await Promise.all(
    dropped.map(async (request) => {
      // Unmarked copies (an older worker's) count as pages: when unsure, delete. Another
      // origin's copy (an older worker's, from a bad manifest) was never ours: it goes now.
      if (keepAssets && ownKeyOf(request) && (await kindOf(cache, request)) === "asset") return;
      await cache.delete(request);
    }),
  );
}

function isCurrentWorker() {
  const { active, installing, waiting } = self.registration;
  if (installing || waiting) return false;
  // Where the browser says which worker this is, an old one that lost its place never prunes.
  return !self.serviceWorker || !active || active === self.serviceWorker;
}

async function kindOf(cache, request) {
  const cached = await cache.match(request);
  return cached ? cached.headers.get(KIND_HEADER) : null;
}

/* ---------- Fetch routing ---------- */

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (!CONFIG.active || request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // By key, so that //admin/ (which reaches the admin too) is bypassed like /admin/.
  const key = keyOf(url);
  if (CONFIG.bypassPrefixes.some((prefix) => key.startsWith(prefix))) return;
  if (pendingPrune !== null) event.waitUntil(pruneWhenOldPagesAreGone());

  if (request.mode === "navigate") {
    event.respondWith(networkFirstNavigation(event, key));
    event.waitUntil(removeSelfIfUnwanted());
    return;
  }
  // Known not to be ours: let the browser fetch it without a detour.
  if (currentManifest && !isSavedAsset(currentManifest, key)) return;
  event.respondWith(cacheFirstAsset(request, key));
});

/** Pages: the network first, then the saved copy, then the editors' fallback page. */
async function networkFirstNavigation(event, key) {
  const network = networkResponse(event);
  event.waitUntil(network.catch(() => null));
  const manifest = await loadManifest();
  const saved = Boolean(manifest && isSavedPage(manifest, key));

  let response;
  try {
    response = await (saved ? withTimeout(network, CONFIG.networkTimeoutMs) : network);
  } catch (error) {
    const cached = saved ? await matchPrecache(key) : null;
    if (cached) return cached;
    // Slow but not gone, and nothing saved: keep waiting for the network.
    if (error instanceof TimeoutError) return network.catch(() => offlineFallback());
    return offlineFallback();
  }
  if (SERVER_DOWN_STATUSES.includes(response.status)) {
    const cached = saved ? await matchPrecache(key) : null;
    return cached || (await offlineFallback(response));
  }
  return response;
}

async function networkResponse(event) {
  // Always consume the preload when there is one, or the browser fetched it for nothing.
  const preloaded = await event.preloadResponse;
  return preloaded || fetch(event.request);
}

/** Assets: the saved copy (a slice of it for range requests), else the network. */
async function cacheFirstAsset(request, key) {
  const cached = await matchPrecache(key);
  if (!cached) return fetch(request);
  const range = request.headers.get("Range");
  return range ? sliceResponse(cached, range) : cached;
}

/** The fallback page, marked so that it is never mistaken for the requested page. */
async function offlineFallback(otherwise) {
  const manifest = await loadManifest();
  const cached = manifest && manifest.fallbackUrl && (await matchPrecache(manifest.fallbackUrl));
  if (!cached) return otherwise || Response.error();
  const headers = new Headers(cached.headers);
  headers.delete(REVISION_HEADER);
  headers.delete(KIND_HEADER);
  headers.set("Cache-Control", "no-store");
  headers.set("X-Wagtail-Offline", "fallback");
  return new Response(cached.body, { status: 503, statusText: "Offline", headers });
}

/* ---------- Removing itself: the kill switch, and a site without the plugin ---------- */

/** Removes every cache of ours, unregisters and reloads the open tabs. */
async function removeSelf() {
  await self.clients.claim();
  await deleteCaches(() => true);
  await self.registration.unregister();
  const windows = await self.clients.matchAll({ type: "window" });
  await Promise.all(windows.map((client) => client.navigate(client.url).catch(() => null)));
}

let lastRemovalCheck = 0;

/** A site that dropped the plugin answers 404 for the worker: then leave no zombie behind. */
async function removeSelfIfUnwanted() {
  const now = Date.now();
  if (now - lastRemovalCheck < REMOVAL_CHECK_INTERVAL_MS) return;
  lastRemovalCheck = now;
  try {
    const response = await fetch(self.location.href, { cache: "no-store", credentials: "omit" });
    if (response.status === 404 || response.status === 410) await removeSelf();
  } catch (error) {
    // Offline: nothing to learn.
  }
}

async function deleteCaches(shouldDelete) {
  const names = await caches.keys();
  await Promise.all(
    names
      .filter((name) => name.startsWith(`${CACHE_PREFIX}:`) && shouldDelete(name))
      .map((name) => caches.delete(name)),
  );
}

/* ---------- The manifest, kept in memory between events ---------- */

let currentManifest = null;

function setManifest(manifest) {
  // Only the entries install would store: routing never trusts an invalid one.
  const entries = manifest.entries.filter(isValidEntry);
  const byKind = (kind) => entries.find((entry) => entry.kind === kind) || {};
  currentManifest = {
    version: manifest.version,
    entries: new Map(entries.map((entry) => [entry.url, entry])),
    fallbackUrl: byKind("fallback").url,
  };
  return currentManifest;
}

async function loadManifest() {
  if (currentManifest && currentManifest.version === CONFIG.version) return currentManifest;
  if (!CONFIG.manifestUrl) return null;
  const cached = await matchPrecache(CONFIG.manifestUrl);
  return cached ? setManifest(await cached.json()) : null;
}

function isSavedPage(manifest, key) {
  const entry = manifest.entries.get(key);
  return Boolean(entry && entry.kind !== "asset");
}

/** What subresource requests may get from the cache: assets, and documents embedded in pages. */
function isSavedAsset(manifest, key) {
  const entry = manifest.entries.get(key);
  return Boolean(entry && (entry.kind === "asset" || entry.kind === "document"));
}

/* ---------- Helpers ---------- */

/**
 * Cache keys are same-origin paths with their query, as the manifest lists them: the path
 * as the browser resolved it, with repeated slashes collapsed (as the server does), so
 * that /media/a//b.jpg finds /media/a/b.jpg.
 */
function keyOf(url) {
  return url.pathname.replace(/\/{2,}/g, "/") + url.search;
}

/** The key of a cached request, or null when it is on another origin. */
function ownKeyOf(request) {
  const url = new URL(request.url);
  return url.origin === self.location.origin ? keyOf(url) : null;
}

/** A key as an absolute URL on this origin: what is fetched and stored, never the raw string. */
function absoluteUrl(key) {
  return new URL(key, self.location.origin).href;
}

/**
 * Whether an entry's url is a path of this origin, spelt exactly as its key. A spelling
 * that is not canonical is a server bug: skipping it is safer than guessing what it meant.
 */
function isValidEntry(entry) {
  if (!entry || typeof entry.url !== "string") return false;
  let url;
  try {
    url = new URL(entry.url, self.location.origin);
  } catch (error) {
    return false;
  }
  return url.origin === self.location.origin && keyOf(url) === entry.url;
}

/** Reads the precache without creating it (caches.open would, after the kill switch). */
async function matchPrecache(key) {
  return (await caches.match(key, { cacheName: PRECACHE })) || null;
}

/** Only complete, shareable answers are stored. */
function isStorable(response) {
  if (!response || response.status !== 200 || response.type === "opaque") return false;
  const cacheControl = (response.headers.get("Cache-Control") || "").toLowerCase();
  return !/\b(no-store|private)\b/.test(cacheControl);
}

/** A copy that records its entry's revision and kind (and is no longer marked as redirected). */
async function markedWith(response, entry) {
  const headers = new Headers(response.headers);
  headers.set(REVISION_HEADER, entry.revision);
  headers.set(KIND_HEADER, entry.kind);
  return new Response(await response.blob(), {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/** Answers "Range: bytes=start-end" from a complete cached response. */
async function sliceResponse(cached, rangeHeader) {
  const blob = await cached.blob();
  const match = /^bytes=(\d*)-(\d*)$/.exec(rangeHeader.trim());
  let start = match && match[1] !== "" ? Number(match[1]) : null;
  let end = match && match[2] !== "" ? Number(match[2]) : null;
  if (start === null && end !== null) [start, end] = [Math.max(blob.size - end, 0), blob.size - 1];
  if (start === null) start = 0;
  if (end === null || end >= blob.size) end = blob.size - 1;
  if (!match || start > end || start >= blob.size) {
    return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${blob.size}` } });
  }
  const headers = new Headers(cached.headers);
  headers.set("Content-Range", `bytes ${start}-${end}/${blob.size}`);
  headers.set("Content-Length", String(end - start + 1));
  return new Response(blob.slice(start, end + 1), { status: 206, statusText: "Partial Content", headers });
}

function jsonResponse(data) {
  return new Response(JSON.stringify(data), { headers: { "Content-Type": "application/json" } });
}

class TimeoutError extends Error {}

function withTimeout(promise, milliseconds) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError("The network is slow.")), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function forEachLimited(items, limit, callback) {
  const queue = items.slice();
  const runners = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    while (queue.length) await callback(queue.shift());
  });
  await Promise.all(runners);
}

/** Tells the open pages and the server which entries could not be stored. */
async function reportFailures(failures) {
  const message = { type: "wagtail-offline:precache-failed", version: CONFIG.version, failures };
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  windows.forEach((client) => client.postMessage(message));
  if (!CONFIG.reportUrl) return;
  await fetch(CONFIG.reportUrl, {
    method: "POST",
    credentials: "omit",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(message),
  }).catch(() => null);
}
