/* wagtail-offline service worker.
 *
 * /sw.js sets this site's configuration and imports this file, which is served at an
 * immutable URL: browsers fetch it again only when the plugin is upgraded.
 *
 * Reads top to bottom: configuration, install (precache), activate (clean up),
 * fetch routing and its strategies, the device's state (progress, repair), pages
 * readers saved, where a page came from, forms sent offline, messages from pages,
 * self-removal, then helpers. The server decides what is offline and what a reader
 * may keep; this worker only follows the manifest and the answers it is given.
 */
"use strict";

const CONFIG = self.WAGTAIL_OFFLINE_CONFIG;

// Every cache this worker owns starts with this prefix, so clean-up never touches
// another app's caches on the same origin.
const CACHE_PREFIX = `${CONFIG.cachePrefix}:${self.registration.scope}`;
const PRECACHE = `${CACHE_PREFIX}:precache`;
// What readers saved themselves and pages they read recently, apart from the editors'
// selection: an update of the manifest never prunes it.
const READER_CACHE = `${CACHE_PREFIX}:reader`;
const REVISION_HEADER = "X-Wagtail-Offline-Revision";
const KIND_HEADER = "X-Wagtail-Offline-Kind";
const PRECACHE_CONCURRENCY = 6;
// Chromium counts a stored response's headers and its own record of it too: about 2 KB
// an entry, beyond its body.
const ENTRY_RECORD_BYTES = 4 * 1024;
// What an install writes after its best-effort downloads (the list of failures, beside the
// manifest's root): kept free, or a full origin could never finish an install.
const STORAGE_HEADROOM_BYTES = 64 * 1024;
const SERVER_DOWN_STATUSES = [502, 503, 504];
const REMOVAL_CHECK_INTERVAL_MS = 60 * 1000;
const PROGRESS_INTERVAL_MS = 250;
const REPAIR_CHECK_INTERVAL_MS = 60 * 1000;
const READER_REFRESH_INTERVAL_MS = 60 * 1000;
// The server's limit of URLs per question.
const READER_BATCH_SIZE = 50;
// A page the server has not rendered yet is asked for again after these delays.
const PENDING_RETRY_DELAYS_MS = [500, 1000, 2000, 4000];
const SEND_RETRY_INTERVAL_MS = 5 * 1000;
const OUTBOX_DB = "wagtail-offline";
const OUTBOX_STORE = "outbox";
const FORMS_SYNC_TAG = "wagtail-offline-forms";
// Keys the server may not know yet (an older /sw.js): reader features stay off without them.
const READER_PAGES_URL = CONFIG.readerPagesUrl || null;
const RECENT_PAGES = CONFIG.recentPages || { count: 0, maxAgeDays: 0 };
// Origins that serve the site's media (a bucket, a CDN): their files may be entries too.
const MEDIA_ORIGINS = CONFIG.mediaOrigins || [];
const DAY_MS = 24 * 60 * 60 * 1000;

/* ---------- Install: download only what changed since the last worker ---------- */

self.addEventListener("install", (event) => {
  event.waitUntil(install().then(() => self.skipWaiting()));
});

async function install() {
  if (!CONFIG.active || !CONFIG.manifestUrl) return;
  const cache = await caches.open(PRECACHE);
  const { root, manifest } = await fetchManifest(cache);
  // An entry that is not a canonical path of this origin (or a file's URL on a media
  // origin) is never fetched: a bad manifest must not put another origin's answers in
  // this site's cache.
  const valid = manifest.entries.filter(isValidEntry);
  const invalid = manifest.entries.filter((entry) => !isValidEntry(entry));
  const failures = invalid.map((entry) => ({
    url: String(entry && entry.url),
    reason: "invalid",
    message: "Not a canonical path of this site or a file of its media origins; not saved.",
  }));
  // Like a critical entry that cannot be fetched: the install fails, and the previous
  // worker (with its fallback page) stays in charge.
  if (invalid.some((entry) => entry && entry.critical)) {
    await reportFailures(failures);
    throw new Error("A critical entry of the manifest is not a path of this site.");
  }
  const stale = await entriesToDownload(cache, valid);
  startProgress(stale.length);
  let stored = [];
  try {
    // The fallback page, the listing and their assets: all or nothing, else the
    // install fails and the previous worker stays in charge.
    await Promise.all(
      stale
        .filter((entry) => entry.critical)
        .map(async (entry) => {
          await store(cache, entry);
          advanceProgress(false);
        }),
    );
    const rootBytes = new TextEncoder().encode(JSON.stringify(root)).length;
    const optional = stale.filter((entry) => !entry.critical);
    stored = await downloadEntries(cache, optional, failures, rootBytes);
  } finally {
    finishProgress();
  }
  await storeRoot(cache, root, stored, failures);
  await saveFailures(cache, failures);
  setManifest(manifest);
  if (failures.length) await reportFailures(failures);
}

/**
 * The manifest's root, written last: from then on this worker's manifest is the one in
 * Cache Storage. The browser's estimate of the room left may be wrong (it ignores a
 * quota set for the origin), so where the root does not fit, the largest entries this
 * install stored make room for it: without the root no install would ever finish.
 */
async function storeRoot(cache, root, stored, failures) {
  const largestFirst = [...stored].sort((a, b) => (b.size || 0) - (a.size || 0));
  for (;;) {
    try {
      await cache.put(CONFIG.manifestUrl, jsonResponse(root));
      return;
    } catch (error) {
      if (!isQuotaError(error) || !largestFirst.length) throw error;
    }
    const entry = largestFirst.shift();
    await cache.delete(absoluteUrl(entry.url));
    failures.push({ url: entry.url, reason: "quota", message: "Not enough storage left." });
  }
}

/**
 * Stores entries best-effort, smallest first: one broken page must not keep the others
 * offline, and where room runs out, as many entries as fit are kept. Returns the entries
 * stored.
 */
async function downloadEntries(cache, entries, failures, bytesStillToWrite = 0) {
  const stored = [];
  const keepFree = bytesStillToWrite + STORAGE_HEADROOM_BYTES;
  let room = (await freeStorage()) - keepFree;
  // Room is taken when a download starts, so the downloads under way cannot together
  // overrun it.
  let reserved = 0;
  const smallestFirst = [...entries].sort((a, b) => (a.size || 0) - (b.size || 0));
  await forEachLimited(smallestFirst, PRECACHE_CONCURRENCY, async (entry) => {
    const bytes = (entry.size || 0) + ENTRY_RECORD_BYTES;
    if (bytes > room) {
      failures.push({ url: entry.url, reason: "quota", message: "Not enough storage left." });
      advanceProgress(true);
      return;
    }
    room -= bytes;
    reserved += bytes;
    try {
      await store(cache, entry);
      stored.push(entry);
      advanceProgress(false);
    } catch (error) {
      room += bytes;
      const reason = isQuotaError(error) ? "quota" : "fetch";
      if (reason === "quota") {
        // The browser counted more than we did: its own estimate, less what is still
        // downloading, is the room left.
        room = Math.min(room, (await freeStorage()) - keepFree - (reserved - bytes));
      }
      failures.push({ url: entry.url, reason, message: String(error.message || error) });
      advanceProgress(true);
    } finally {
      reserved -= bytes;
    }
  });
  return stored;
}

/**
 * The manifest's root, and the manifest it leads to. Only the indexes and parts this
 * device does not hold yet are downloaded: after one edit, one index and one part.
 */
async function fetchManifest(cache) {
  const response = await fetch(CONFIG.manifestUrl, { credentials: "omit" });
  if (!response.ok) throw new Error(`The manifest answered ${response.status}.`);
  const root = await response.json();
  return { root, manifest: await assembleManifest(root, (url) => readDocument(cache, url)) };
}

/** {version, builtAt, fallbacks, entries, documents} from a root and its indexes and parts. */
async function assembleManifest(root, read) {
  // A root stored by an older release lists its entries itself, until the next build.
  if (Array.isArray(root.entries)) return { ...root, documents: [] };
  const indexUrls = documentUrls(root.indexes);
  const indexes = await mapLimited(indexUrls, PRECACHE_CONCURRENCY, read);
  const partUrls = indexes.flatMap((index) => documentUrls(index.parts));
  const parts = await mapLimited(partUrls, PRECACHE_CONCURRENCY, read);
  return {
    version: root.version,
    builtAt: root.builtAt,
    fallbacks: root.fallbacks,
    entries: parts.flatMap((part) => (Array.isArray(part.entries) ? part.entries : [])),
    documents: [...indexUrls, ...partUrls],
  };
}

function documentUrls(urls) {
  if (!Array.isArray(urls) || !urls.every((url) => canonicalKey(url))) {
    throw new Error("The manifest names a part that is not a path of this site.");
  }
  return urls;
}

/** An index or part, named by its content: from the precache when held, else downloaded and kept. */
async function readDocument(cache, url) {
  const held = await cache.match(absoluteUrl(url));
  if (held) return held.json();
  const response = await fetch(absoluteUrl(url), { credentials: "omit", mode: "same-origin" });
  if (!isStorable(response)) throw new Error(`${url} answered ${response.status}.`);
  await cache.put(absoluteUrl(url), response.clone());
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

/** Fetches and stores a valid entry, by its absolute URL. */
async function store(cache, entry) {
  const url = absoluteUrl(entry.url);
  // No cookies: what is stored is what any anonymous reader gets, never a logged-in view.
  // Media origins answer with CORS (a document's URL may redirect to one); a redirect
  // anywhere else fails rather than being stored as ours.
  const mode = MEDIA_ORIGINS.length ? "cors" : "same-origin";
  const response = await fetch(url, { credentials: "omit", cache: "no-cache", mode });
  if (!isStorable(response) || !isAllowedSource(entry, response)) {
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
  // may leave an older release's caches behind. Readers' own pages are not the
  // manifest's to drop.
  await deleteCaches((name) => name !== PRECACHE && name !== READER_CACHE);
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
  await self.clients.claim();
  // After the claim: with the storage quota used up this put fails, and the open pages
  // must be taken over all the same (a restarted worker then prunes at its next update).
  const cache = await caches.open(PRECACHE);
  await cache.put(PENDING_PRUNE_KEY, jsonResponse([...pendingPrune])).catch(() => null);
  await pruneWhenOldPagesAreGone();
  // Saved pages may have changed or become private while no worker asked: not awaited,
  // as navigations wait for activation; the next online navigation asks again if this
  // one is cut short.
  refreshReaderPages().catch(() => null);
}

const PENDING_PRUNE_KEY = `${CONFIG.manifestUrl}?prune-after-clients`;
// The failures of the last install or repair, for the listing to show.
const FAILURES_KEY = `${CONFIG.manifestUrl}?failures`;
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
  const keep = new Set([...manifest.entries.keys(), ...manifest.documents]);
  keep.add(CONFIG.manifestUrl);
  keep.add(FAILURES_KEY);
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
  if (!CONFIG.active) return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    routeMediaRequest(event, url);
    return;
  }
  // By key, so that //admin/ (which reaches the admin too) is bypassed like /admin/.
  const key = keyOf(url);
  if (CONFIG.bypassPrefixes.some((prefix) => key.startsWith(prefix))) return;
  if (request.method === "POST" && request.mode === "navigate") {
    routeFormSubmission(event, key);
    return;
  }
  if (request.method !== "GET") return;
  if (pendingPrune !== null) event.waitUntil(pruneWhenOldPagesAreGone());

  if (request.mode === "navigate") {
    event.respondWith(answerNavigation(event, key));
    event.waitUntil(removeSelfIfUnwanted());
    return;
  }
  if (outboxHasForms) event.waitUntil(sendQueuedFormsIfDue());
  // Known not to be ours: let the browser fetch it without a detour.
  if (!mayBeOnDevice(key)) return;
  event.respondWith(cacheFirstAsset(request, key));
});

/** A file on a media origin that a page loads: the saved copy first, as for assets. */
function routeMediaRequest(event, url) {
  const request = event.request;
  const key = entryKeyOf(url);
  // A navigation to another origin is never this worker's to answer.
  if (!key || request.method !== "GET" || request.mode === "navigate") return;
  if (!mayBeOnDevice(key)) return;
  event.respondWith(cacheFirstAsset(request, key));
}

/** A navigation's answer; once the network answered, the chores that need it. */
async function answerNavigation(event, key) {
  const { response, fromDevice, networkFailed } = await networkFirstNavigation(event, key);
  rememberSource(event.resultingClientId, fromDevice, networkFailed);
  if (!fromDevice && response.type !== "error") event.waitUntil(afterOnlineNavigation(key, response));
  return response;
}

/** Pages: the network first, then the saved copy, then the editors' fallback page. */
async function networkFirstNavigation(event, key) {
  const network = networkResponse(event);
  event.waitUntil(network.catch(() => null));
  const manifest = await loadManifest();
  await loadReaderIndex();
  const saved = Boolean((manifest && isSavedPage(manifest, key)) || readerRecords.has(key));

  let response;
  try {
    response = await (saved ? withTimeout(network, CONFIG.networkTimeoutMs) : network);
  } catch (error) {
    const cached = saved ? await matchOnDevice(key) : null;
    // The network could not be reached: the page says so, whatever navigator.onLine says.
    const networkFailed = !(error instanceof TimeoutError);
    if (cached) return fromDevice(cached, networkFailed);
    // Slow but not gone, and nothing saved: keep waiting for the network.
    if (!networkFailed) return network.then(fromNetwork, () => fallbackAnswer(key, undefined, true));
    return fallbackAnswer(key, undefined, true);
  }
  if (SERVER_DOWN_STATUSES.includes(response.status)) {
    const cached = saved ? await matchOnDevice(key) : null;
    return cached ? fromDevice(cached) : fallbackAnswer(key, response);
  }
  return fromNetwork(response);
}

function fromDevice(response, networkFailed = false) {
  return { response, fromDevice: true, networkFailed };
}

function fromNetwork(response) {
  return { response, fromDevice: false };
}

async function fallbackAnswer(key, otherwise, networkFailed = false) {
  const fallback = await offlineFallback(key);
  if (fallback) return fromDevice(fallback, networkFailed);
  return fromNetwork(otherwise || Response.error());
}

async function networkResponse(event) {
  // Always consume the preload when there is one, or the browser fetched it for nothing.
  const preloaded = await event.preloadResponse;
  return preloaded || fetch(event.request);
}

/** Assets: the saved copy (a slice of it for range requests), else the network. */
async function cacheFirstAsset(request, key) {
  const cached = await matchOnDevice(key);
  if (!cached) return fetch(request);
  const range = request.headers.get("Range");
  return range ? sliceResponse(cached, range) : cached;
}

/** The fallback page in the reader's locale, marked so that it is never mistaken for the
 * requested page; null when none is stored. */
async function offlineFallback(key) {
  const manifest = await loadManifest();
  const cached = manifest && (await firstCached(fallbackUrlsFor(manifest, key)));
  if (!cached) return null;
  return markedAsOurs(cached, { status: 503, statusText: "Offline", marker: "fallback" });
}

/** What the worker answers itself: never stored by the browser, never taken for the page. */
function markedAsOurs(cached, { status, statusText, marker }) {
  const headers = new Headers(cached.headers);
  headers.delete(REVISION_HEADER);
  headers.delete(KIND_HEADER);
  headers.set("Cache-Control", "no-store");
  headers.set("X-Wagtail-Offline", marker);
  return new Response(cached.body, { status, statusText, headers });
}

async function firstCached(keys) {
  for (const key of keys) {
    const cached = await matchPrecache(key);
    if (cached) return cached;
  }
  return null;
}

/** Chores that need the network, done after a navigation it answered. */
async function afterOnlineNavigation(key, response) {
  const chores = [
    keepRecentPageIfRead(key, response),
    repairIfDue(),
    refreshReaderPagesIfDue(),
    outboxHasForms === false ? null : sendQueuedForms(),
  ];
  // Each on its own: one failing (offline again) must not stop the others.
  await Promise.all(chores.map((chore) => Promise.resolve(chore).catch(() => null)));
}

/* ---------- The device's state: progress, failures, entries the browser evicted ---------- */

// {done, total, failed} while this worker downloads entries, else null.
let progress = null;
let lastProgressSent = 0;

function startProgress(total) {
  if (!total) return; // Nothing to download: nothing to show.
  progress = { done: 0, total, failed: 0 };
  lastProgressSent = 0;
  sendProgress();
}

function advanceProgress(failed) {
  if (!progress) return;
  progress.done += 1;
  if (failed) progress.failed += 1;
  // A message per entry would flood the pages of a large site: a few a second at most.
  if (Date.now() - lastProgressSent >= PROGRESS_INTERVAL_MS) sendProgress();
}

function finishProgress() {
  if (!progress) return;
  sendProgress(); // The last count always arrives, however soon after the one before.
  progress = null;
}

function sendProgress() {
  lastProgressSent = Date.now();
  // Not awaited: downloads never wait for the pages; the install's or message's event keeps it alive.
  broadcast({ type: "wagtail-offline:progress", ...progress }).catch(() => null);
}

async function saveFailures(cache, failures) {
  // What the listing shows, no reason to fail an install (the server was told anyway).
  await cache.put(FAILURES_KEY, jsonResponse(failures)).catch(() => null);
}

async function lastFailures() {
  const saved = CONFIG.manifestUrl ? await matchPrecache(FAILURES_KEY) : null;
  return saved ? saved.json() : [];
}

/** What this device holds now, read from Cache Storage: true offline too. */
async function deviceState() {
  const manifest = await loadManifest();
  const records = [...(await loadReaderIndex()).values()];
  const [precached, readerHeld, failures] = await Promise.all([
    cachedKeys(PRECACHE),
    cachedKeys(READER_CACHE),
    lastFailures(),
  ]);
  const failed = new Set(failures.map((failure) => failure.url));
  const entries = manifest ? [...manifest.entries.values()] : [];
  const pages = {};
  entries
    .filter((entry) => entry.kind === "page" && precached.has(entry.url))
    .forEach((entry) => (pages[entry.url] = "site"));
  const held = (entry) => precached.has(entry.url) || readerHeld.has(entry.url);
  records
    .filter((record) => !pages[record.url] && record.entries.every(held))
    .forEach((record) => (pages[record.url] = record.origin));
  return {
    version: manifest ? manifest.version : null,
    builtAt: manifest ? manifest.builtAt : null,
    installing: progress && { done: progress.done, total: progress.total },
    failures,
    // Failures are reported as such: missing counts what the browser evicted.
    missing: entries.filter((entry) => !precached.has(entry.url) && !failed.has(entry.url)).length,
    pages,
    saved: summariesOf(records, "saved"),
    recent: summariesOf(records, "recent"),
  };
}

function summariesOf(records, origin) {
  return records
    .filter((record) => record.origin === origin)
    .sort((a, b) => b.savedAt.localeCompare(a.savedAt))
    .map(({ url, title, summary, savedAt }) => ({ url, title, summary, savedAt }));
}

/** The keys a cache holds, without creating it. */
async function cachedKeys(cacheName) {
  if (!(await caches.has(cacheName))) return new Set();
  const cache = await caches.open(cacheName);
  return new Set((await cache.keys()).map(ownKeyOf).filter(Boolean));
}

let repairing = null;
let lastRepairCheck = 0;

/**
 * Downloads the manifest's entries the browser evicted, without a new version; with
 * `retryFailures` (the reader asked), also those that failed before.
 */
function repairMissing({ retryFailures = false } = {}) {
  repairing = repairing || downloadMissing(retryFailures).finally(() => (repairing = null));
  return repairing;
}

async function downloadMissing(retryFailures) {
  // A newer worker installing owns the precache now; it downloads what it lacks itself.
  if (!isCurrentWorker()) return;
  const manifest = await loadManifest();
  // Without a precache at all, the worker was removed: nothing to repair.
  if (!manifest || removed || !(await caches.has(PRECACHE))) return;
  const [precached, previous] = await Promise.all([cachedKeys(PRECACHE), lastFailures()]);
  const failed = new Set(previous.map((failure) => failure.url));
  const missing = [...manifest.entries.values()].filter(
    (entry) => !precached.has(entry.url) && (retryFailures || !failed.has(entry.url)),
  );
  if (!missing.length) return;
  const cache = await caches.open(PRECACHE);
  const retried = new Set(missing.map((entry) => entry.url));
  const failures = previous.filter((failure) => !retried.has(failure.url));
  startProgress(missing.length);
  try {
    await downloadEntries(cache, missing, failures);
  } finally {
    finishProgress();
  }
  await saveFailures(cache, failures);
}

async function repairIfDue() {
  if (Date.now() - lastRepairCheck < REPAIR_CHECK_INTERVAL_MS) return;
  lastRepairCheck = Date.now();
  await repairMissing();
}

/* ---------- Pages readers saved, and pages they read recently ---------- */

// The index of the reader cache: [{url, title, summary, revision, formSubmitUrl, entries,
// origin: "saved" | "recent", savedAt}]. At the worker's own URL, which is never a page.
const READER_INDEX_KEY = `${self.location.pathname}?reader-index`;

// undefined: not read since this worker started; else a Map from URL to record.
let readerRecords;
// Assets and documents that saved pages need: what subresource requests may get.
let readerAssetKeys = new Set();
// Changes to the reader cache, one at a time: a clean-up never sees half a save.
let readerLock = Promise.resolve();
let refreshing = null;
let lastReaderRefresh = 0;

function exclusively(task) {
  const run = readerLock.then(task);
  readerLock = run.catch(() => null);
  return run;
}

async function loadReaderIndex() {
  if (readerRecords) return readerRecords;
  const cached = await caches.match(READER_INDEX_KEY, { cacheName: READER_CACHE });
  // An unreadable index (a write cut short) must not break navigations: start afresh.
  const records = cached ? await cached.json().catch(() => []) : [];
  setReaderIndex(Array.isArray(records) ? records.filter(isReaderRecord) : []);
  return readerRecords;
}

function isReaderRecord(record) {
  return Boolean(record && typeof record.url === "string" && Array.isArray(record.entries));
}

function setReaderIndex(records) {
  readerRecords = new Map(records.map((record) => [record.url, record]));
  const assets = records.flatMap((record) => record.entries.filter((entry) => entry.kind !== "page"));
  readerAssetKeys = new Set(assets.map((entry) => entry.url));
}

/** Stores the index; with nothing left, the whole reader cache goes. */
async function writeReaderIndex(records) {
  // A save or removal that was under way when the worker removed itself writes nothing.
  if (removed) throw new Error("This worker removed itself.");
  if (records.length) {
    const cache = await caches.open(READER_CACHE);
    await cache.put(READER_INDEX_KEY, jsonResponse(records));
  } else {
    await caches.delete(READER_CACHE);
  }
  setReaderIndex(records);
  await broadcast({ type: "wagtail-offline:saved-changed" });
}

/** The reader's "Save for offline": the server says whether and what to keep. */
async function savePage(url) {
  const key = canonicalKey(url);
  if (!key || !READER_PAGES_URL || CONFIG.readerSaving === false) {
    return { state: "failed", reason: "unavailable", message: "This page cannot be saved." };
  }
  let answer;
  try {
    answer = await askUntilSettled(key);
  } catch (error) {
    // fetch() fails with a TypeError when the network does; anything else is the server's answer.
    const reason = error instanceof TypeError ? "offline" : "server";
    return { state: "failed", reason, message: String(error.message || error) };
  }
  const existing = (await loadReaderIndex()).get(key);
  const savedAt = existing && existing.origin === "saved" ? existing.savedAt : now();
  return followAnswer(answer, "saved", savedAt);
}

/** Acts on the server's word about one page; the answer for the page that asked. */
async function followAnswer(answer, origin, savedAt) {
  if (answer.state === "ready") {
    try {
      await storeReaderPage(answer, { origin, savedAt });
    } catch (error) {
      const reason = isQuotaError(error) ? "quota" : "fetch";
      return { state: "failed", reason, message: String(error.message || error) };
    }
    return { state: "saved" };
  }
  if (answer.state === "site" || answer.state === "gone") {
    // Gone: private or unpublished, never kept a moment longer. Site: the precache holds it.
    await dropReaderPages([answer.url]);
    return { state: answer.state };
  }
  if (answer.state === "pending") return { state: "pending" };
  return { state: "failed", reason: "server", message: String(answer.message || "") };
}

/** Asks the server about one page, again a few times while it is still being rendered. */
async function askUntilSettled(key) {
  let answer = (await askServer([key])).get(key);
  for (const delay of PENDING_RETRY_DELAYS_MS) {
    if (answer.state !== "pending") break;
    await sleep(delay);
    answer = (await askServer([key])).get(key);
  }
  return answer;
}

/** The server's word on up to READER_BATCH_SIZE pages: a Map from URL to answer. */
async function askServer(keys) {
  const query = new URLSearchParams(keys.map((key) => ["url", key]));
  // No cookies: what a reader may keep is what any anonymous reader may read.
  const response = await fetch(`${absoluteUrl(READER_PAGES_URL)}?${query}`, {
    credentials: "omit",
    cache: "no-store",
  });
  if (!response.ok) throw new Error(`${READER_PAGES_URL} answered ${response.status}.`);
  const { pages } = await response.json();
  const answers = new Map(keys.map((key) => [key, { url: key, state: "failed" }]));
  for (const page of pages || []) {
    if (page && answers.has(page.url)) answers.set(page.url, page);
  }
  return answers;
}

/**
 * Downloads what the device lacks of a page the server says is ready, then indexes it.
 * With `onlyIfKept` (a refresh), a page the reader removed meanwhile is not brought back.
 */
function storeReaderPage(answer, { origin, savedAt, onlyIfKept = false }) {
  return exclusively(async () => {
    if (removed) throw new Error("Offline reading is off for this site.");
    const existing = (await loadReaderIndex()).get(answer.url);
    if (onlyIfKept && !existing) return;
    // Saved by the reader outranks read recently: it is kept until they remove it.
    if (existing && existing.origin === "saved" && origin === "recent") {
      ({ origin, savedAt } = existing);
    }
    const entries = (answer.entries || []).filter(isValidEntry);
    if (!entries.length || entries[0].url !== answer.url) {
      throw new Error(`The server listed no page for ${answer.url}.`);
    }
    const lacking = await entriesNotHeld(entries);
    const needed = lacking.reduce((total, entry) => total + (entry.size || 0), 0);
    if (needed > (await freeStorage())) throw quotaError();
    try {
      await downloadAll(await caches.open(READER_CACHE), lacking);
      const record = {
        url: answer.url,
        title: String(answer.title || ""),
        summary: String(answer.summary || ""),
        revision: answer.revision,
        formSubmitUrl: canonicalKey(answer.formSubmitUrl),
        entries: entries.map(({ url, revision, kind, size }) => ({ url, revision, kind, size })),
        origin,
        savedAt,
      };
      const records = await loadReaderIndex();
      // A refresh that changed nothing is no change to tell the pages about.
      if (JSON.stringify(existing) === JSON.stringify(record)) return;
      const others = [...records.values()].filter((other) => other.url !== record.url);
      await writeReaderIndex([...others, record]);
    } finally {
      // A failed save leaves nothing behind; a refreshed one, no asset it no longer needs.
      await pruneReaderCache();
    }
  });
}

/** Stores every entry or throws the first error once all have settled (none still writing). */
async function downloadAll(cache, entries) {
  const errors = [];
  await forEachLimited(entries, PRECACHE_CONCURRENCY, (entry) =>
    store(cache, entry).catch((error) => errors.push(error)),
  );
  if (errors.length) throw errors.find(isQuotaError) || errors[0];
}

/** Entries neither cache holds at their revision. */
async function entriesNotHeld(entries) {
  const checks = await Promise.all(
    entries.map(async (entry) => {
      const cached = await matchOnDevice(entry.url);
      return !cached || cached.headers.get(REVISION_HEADER) !== entry.revision;
    }),
  );
  return entries.filter((_, index) => checks[index]);
}

/** Removes pages from the index, then what no other saved page needs. */
function dropReaderPages(urls) {
  return exclusively(async () => {
    const records = await loadReaderIndex();
    if (!urls.some((url) => records.has(url))) return;
    await writeReaderIndex([...records.values()].filter((record) => !urls.includes(record.url)));
    await pruneReaderCache();
  });
}

/** Deletes what the reader cache holds but no indexed page needs (the precache is apart). */
async function pruneReaderCache() {
  if (!(await caches.has(READER_CACHE))) return;
  const records = [...(await loadReaderIndex()).values()];
  if (!records.length) {
    await caches.delete(READER_CACHE);
    return;
  }
  const needed = new Set(records.flatMap((record) => record.entries.map((entry) => entry.url)));
  needed.add(READER_INDEX_KEY);
  const cache = await caches.open(READER_CACHE);
  const unneeded = (await cache.keys()).filter((request) => !needed.has(ownKeyOf(request)));
  await Promise.all(unneeded.map((request) => cache.delete(request)));
}

/** Asks the server about every kept page: new revisions are downloaded, private ones go. */
function refreshReaderPages() {
  refreshing = refreshing || askAboutKeptPages().finally(() => (refreshing = null));
  return refreshing;
}

async function askAboutKeptPages() {
  lastReaderRefresh = Date.now();
  await dropOldRecentPages();
  const urls = [...(await loadReaderIndex()).keys()];
  if (!urls.length || !READER_PAGES_URL) return;
  for (let start = 0; start < urls.length; start += READER_BATCH_SIZE) {
    const answers = [...(await askServer(urls.slice(start, start + READER_BATCH_SIZE))).values()];
    // Privacy first: what may no longer be kept goes before anything is downloaded.
    const dropped = answers.filter((answer) => answer.state === "gone" || answer.state === "site");
    await dropReaderPages(dropped.map((answer) => answer.url));
    for (const answer of answers.filter((each) => each.state === "ready")) {
      const record = readerRecords.get(answer.url);
      if (!record) continue;
      const { origin, savedAt } = record;
      await storeReaderPage(answer, { origin, savedAt, onlyIfKept: true }).catch(() => null);
    }
  }
}

async function refreshReaderPagesIfDue() {
  if (Date.now() - lastReaderRefresh < READER_REFRESH_INTERVAL_MS) return;
  await refreshReaderPages();
}

/** After an online read of a page the editors did not select: keep it as a recent page. */
async function keepRecentPageIfRead(key, response) {
  if (!(RECENT_PAGES.count > 0) || !READER_PAGES_URL) return;
  const isHtml = (response.headers.get("Content-Type") || "").startsWith("text/html");
  if (response.status !== 200 || !isHtml || response.redirected) return;
  const manifest = await loadManifest();
  if (new URL(key, self.location.origin).search || (manifest && manifest.entries.has(key))) return;
  const existing = (await loadReaderIndex()).get(key);
  if (existing && existing.origin === "saved") return; // Kept already, and for longer.
  await followAnswer(await askUntilSettled(key), "recent", now());
  await dropOldRecentPages();
}

/** Recent pages beyond the site's count or age go, the oldest first. */
async function dropOldRecentPages() {
  const records = [...(await loadReaderIndex()).values()];
  const oldest = now(Date.now() - RECENT_PAGES.maxAgeDays * DAY_MS);
  const recent = records
    .filter((record) => record.origin === "recent")
    .sort((a, b) => b.savedAt.localeCompare(a.savedAt));
  const kept = recent.slice(0, Math.max(RECENT_PAGES.count, 0));
  const dropped = recent.filter(
    (record) => !kept.includes(record) || (RECENT_PAGES.maxAgeDays > 0 && record.savedAt < oldest),
  );
  await dropReaderPages(dropped.map((record) => record.url));
}

/* ---------- Where a page came from: the network, or this device ---------- */

// Tabs whose page this worker answered from Cache Storage, for their status notice: each
// with whether the network could not be reached (rather than slow, or the server down).
const deviceClientIds = new Map();
const REMEMBERED_CLIENTS = 100;

function rememberSource(clientId, fromDevice, networkFailed) {
  if (!clientId) return;
  deviceClientIds.delete(clientId);
  if (!fromDevice) return;
  deviceClientIds.set(clientId, networkFailed);
  // Oldest first out: a long session must not grow this without bound.
  if (deviceClientIds.size > REMEMBERED_CLIENTS) {
    deviceClientIds.delete(deviceClientIds.keys().next().value);
  }
}

/* ---------- Forms sent offline: kept in IndexedDB, sent once the network is back ---------- */

// undefined: not known since this worker started; true: queued forms wait to be sent.
let outboxHasForms;
let sending = null;
let sendingAgain = null; // One more send, asked for while one was under way.
let lastSendAttempt = 0;

/** Only forms the server marked (formSubmitUrl) are queued: never logins or admin forms. */
function routeFormSubmission(event, key) {
  // Known not to be a queued form: the browser sends it without a detour.
  if (currentManifest && readerRecords && !formSubmitUrlOf(key)) return;
  event.respondWith(sendOrQueueForm(event, key));
}

async function sendOrQueueForm(event, key) {
  await Promise.all([loadManifest(), loadReaderIndex()]);
  const submitUrl = formSubmitUrlOf(key);
  if (!submitUrl) return fetch(event.request);
  // Read before the network has consumed the body.
  const copy = event.request.clone();
  try {
    return await fetch(event.request);
  } catch (error) {
    return queueForm(copy, key, submitUrl).catch(() => unqueuedAnswer(key));
  }
}

/** A body that could not be kept (storage refused): the reader is at least told they are offline. */
async function unqueuedAnswer(key) {
  return (await offlineFallback(key)) || Response.error();
}

function formSubmitUrlOf(key) {
  const entry = currentManifest && currentManifest.entries.get(key);
  const record = readerRecords && readerRecords.get(key);
  const url = (entry && entry.kind === "page" && entry.formSubmitUrl) || (record && record.formSubmitUrl);
  return canonicalKey(url);
}

/** Keeps a submission for later and answers with the "queued" page. */
async function queueForm(request, key, submitUrl) {
  const formData = await request.formData();
  const title = await pageTitleOf(key);
  const record = {
    idempotencyKey: self.crypto.randomUUID(),
    submitUrl,
    pageUrl: key,
    title,
    fields: [...formData.entries()],
    createdAt: now(),
    state: "queued",
  };
  const id = await outboxRequest("readwrite", (outbox) => outbox.add(record), { create: true });
  outboxHasForms = true;
  if (self.registration.sync) {
    await self.registration.sync.register(FORMS_SYNC_TAG).catch(() => null);
  }
  await broadcast({ type: "wagtail-offline:form-queued", id, title, url: key });
  return queuedPage(key);
}

async function queuedPage(key) {
  const manifest = await loadManifest();
  const queued = manifest && manifest.queuedUrl && (await matchPrecache(manifest.queuedUrl));
  if (queued) return markedAsOurs(queued, { status: 202, statusText: "Accepted", marker: "queued" });
  // An older manifest without the page: the fallback page at least says the reader is offline.
  return (await offlineFallback(key)) || Response.error();
}

/** The page's title, for the notices: the reader index's, else the stored copy's <title>. */
async function pageTitleOf(key) {
  const record = readerRecords && readerRecords.get(key);
  if (record && record.title) return record.title;
  const cached = await matchOnDevice(key);
  const match = cached && /<title[^>]*>([^<]*)<\/title>/i.exec(await cached.text());
  return match ? decodeEntities(match[1].trim()) : key;
}

self.addEventListener("sync", (event) => {
  if (event.tag !== FORMS_SYNC_TAG || !CONFIG.active) return;
  // A rejection asks the browser to try again later.
  event.waitUntil(
    sendQueuedForms().then((waiting) => {
      if (waiting) throw new Error("Queued forms wait for the network.");
    }),
  );
});

/**
 * Sends the queued forms; resolves to the number still waiting. One sender at a time in
 * this worker; the idempotency key makes another worker's or tab's duplicate harmless.
 * Asked while a send is under way, it answers after one more send: the one under way may
 * have started before the network came back (a tab's "online" event races the worker's).
 */
function sendQueuedForms() {
  lastSendAttempt = Date.now();
  if (!sending) {
    sending = sendEachQueuedForm().finally(() => (sending = null));
    return sending;
  }
  const sendAgain = () => {
    sendingAgain = null;
    return sendQueuedForms();
  };
  sendingAgain = sendingAgain || sending.then(sendAgain, sendAgain);
  return sendingAgain;
}

async function sendQueuedFormsIfDue() {
  if (Date.now() - lastSendAttempt < SEND_RETRY_INTERVAL_MS) return;
  await sendQueuedForms();
}

async function sendEachQueuedForm() {
  const queued = (await outboxRequest("readonly", (outbox) => outbox.getAll(), NO_RECORDS)).filter(
    (record) => record.state === "queued",
  );
  outboxHasForms = queued.length > 0;
  if (!queued.length || !CONFIG.csrfTokenUrl) return queued.length;
  let token;
  try {
    token = await freshCsrfToken();
  } catch (error) {
    return queued.length; // Offline still.
  }
  for (const [index, record] of queued.entries()) {
    if ((await sendForm(record, token)) === "later") return queued.length - index;
  }
  outboxHasForms = false;
  return 0;
}

/** The reader's own token: a stored page carries an anonymous render's. */
async function freshCsrfToken() {
  const response = await fetch(absoluteUrl(CONFIG.csrfTokenUrl), {
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!response.ok) throw new Error(`${CONFIG.csrfTokenUrl} answered ${response.status}.`);
  return (await response.json()).token;
}

/** Sends one submission: "sent", "rejected" (kept with the server's errors) or "later". */
async function sendForm(record, token) {
  const body = new FormData();
  for (const [name, value] of record.fields) {
    if (name !== "csrfmiddlewaretoken") body.append(name, value);
  }
  body.append("csrfmiddlewaretoken", token);
  let response;
  try {
    response = await fetch(absoluteUrl(record.submitUrl), {
      method: "POST",
      body,
      credentials: "same-origin",
      // The server stores a key once: a submission sent twice (a lost answer, two workers) counts once.
      headers: { "Idempotency-Key": record.idempotencyKey, "X-CSRFToken": token },
    });
  } catch (error) {
    return "later";
  }
  const answer = await response.json().catch(() => ({}));
  // Only the endpoint's own answer counts as sent: a proxy's 200 page is no receipt.
  if ((response.status === 200 || response.status === 201) && answer.state === "sent") {
    await outboxRequest("readwrite", (outbox) => outbox.delete(record.id));
    await broadcast({ ...formSummary(record), type: "wagtail-offline:form-sent", message: answer.message });
    return "sent";
  }
  if (isWorthRetrying(response.status)) return "later";
  // Never dropped: the reader sees what the server said and still has what they typed.
  const errors = answer.errors || {};
  const message = String(answer.message || "");
  const rejected = { ...record, state: "rejected", message, errors };
  await outboxRequest("readwrite", (outbox) => outbox.put(rejected));
  await broadcast({ ...formSummary(rejected), type: "wagtail-offline:form-rejected" });
  return "rejected";
}

/** What a page shows of a kept submission: never its files, nor the stale CSRF token. */
function formSummary(record) {
  const { id, title, pageUrl, state, message, errors } = record;
  const values = record.fields
    .filter(([name, value]) => name !== "csrfmiddlewaretoken" && typeof value === "string" && value)
    .map(([name, value]) => ({ name, value }));
  return { id, title, url: pageUrl, state, message, errors, values };
}

/** The kept submissions, queued or rejected: a page opened later still shows them. */
async function keptForms() {
  const records = await outboxRequest("readonly", (outbox) => outbox.getAll(), NO_RECORDS);
  return { forms: records.map(formSummary) };
}

/** The reader read what the server refused and let it go. */
async function discardForm(id) {
  await outboxRequest("readwrite", (outbox) => outbox.delete(Number(id)));
  return { state: "discarded" };
}

const NO_RECORDS = { absent: [] };

/** A server that is down or busy, or a token refused (a cookie not stored yet), may accept it later. */
function isWorthRetrying(status) {
  return status >= 500 || status === 403 || status === 408 || status === 429;
}

/**
 * Opens the outbox; resolves to null when there is none and `create` is false. Only
 * queueing a form creates it: an older worker still sending or reading after a newer one
 * removed the outbox must not bring it back.
 */
function openOutbox({ create = false } = {}) {
  return new Promise((resolve, reject) => {
    // Never recreated once the worker removed itself and its outbox.
    if (removed) throw new Error("This worker removed itself.");
    const opening = self.indexedDB.open(OUTBOX_DB, 1);
    let absent = false;
    opening.onupgradeneeded = (event) => {
      if (event.oldVersion === 0 && !create) {
        absent = true;
        opening.transaction.abort();
        return;
      }
      opening.result.createObjectStore(OUTBOX_STORE, { keyPath: "id", autoIncrement: true });
    };
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => (absent ? resolve(null) : reject(opening.error));
  });
}

/**
 * Runs one request on the outbox in a transaction of its own; resolves once it committed,
 * to the request's result, or to `absent` when there is no outbox (and `create` is false).
 */
async function outboxRequest(mode, makeRequest, { create = false, absent = undefined } = {}) {
  const db = await openOutbox({ create });
  if (!db) return absent;
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(OUTBOX_STORE, mode);
      const request = makeRequest(transaction.objectStore(OUTBOX_STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

/* ---------- Messages from the site's pages ---------- */

// Each answers on the message's port.
const MESSAGE_HANDLERS = {
  "wagtail-offline:state": () => deviceState(),
  "wagtail-offline:save": (data) => savePage(data.url),
  "wagtail-offline:remove": async (data) => {
    await dropReaderPages([canonicalKey(data.url)]);
    return { state: "removed" };
  },
  "wagtail-offline:repair": async () => {
    await repairMissing({ retryFailures: true });
    return { state: "repaired" };
  },
  "wagtail-offline:refresh": async () => {
    await refreshReaderPages();
    return { state: "refreshed" };
  },
  "wagtail-offline:send-forms": async () => {
    const waiting = await sendQueuedForms();
    return { state: waiting ? "waiting" : "sent", waiting };
  },
  "wagtail-offline:forms": () => keptForms(),
  "wagtail-offline:discard-form": (data) => discardForm(data.id),
  "wagtail-offline:source": (data, event) => ({
    fromDevice: Boolean(event.source && deviceClientIds.has(event.source.id)),
    networkFailed: Boolean(event.source && deviceClientIds.get(event.source.id)),
  }),
};

self.addEventListener("message", (event) => {
  const data = event.data || {};
  // A page asks a waiting worker again to take over (see register.js); also a switched-off one.
  if (data.type === "wagtail-offline:skip-waiting") {
    event.waitUntil(self.skipWaiting());
    return;
  }
  if (!CONFIG.active || !Object.prototype.hasOwnProperty.call(MESSAGE_HANDLERS, data.type)) return;
  const port = event.ports && event.ports[0];
  const reply = (answer) => port && port.postMessage(answer);
  event.waitUntil(
    Promise.resolve()
      .then(() => MESSAGE_HANDLERS[data.type](data, event))
      .then(reply, (error) => reply({ state: "failed", message: String(error.message || error) })),
  );
});

/* ---------- Removing itself: the kill switch, and a site without the plugin ---------- */

// Set once the worker removes itself: nothing may create a cache of ours after that.
let removed = false;

/**
 * Removes every cache of ours and the outbox (nothing would ever send it: what readers
 * kept there must not stay on their device), unregisters and reloads the open tabs.
 */
async function removeSelf() {
  removed = true;
  readerRecords = new Map();
  await self.clients.claim();
  await deleteCaches(() => true);
  await deleteOutbox();
  await self.registration.unregister();
  const windows = await self.clients.matchAll({ type: "window" });
  await Promise.all(windows.map((client) => client.navigate(client.url).catch(() => null)));
}

function deleteOutbox() {
  return new Promise((resolve) => {
    const deleting = self.indexedDB.deleteDatabase(OUTBOX_DB);
    // Blocked by an open tab's connection: it goes once that closes. Never fail the removal.
    deleting.onsuccess = deleting.onerror = deleting.onblocked = () => resolve();
  });
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
  const byKind = (kind) => entries.filter((entry) => entry.kind === kind).map((entry) => entry.url);
  const stored = new Set(entries.map((entry) => entry.url));
  currentManifest = {
    version: manifest.version,
    builtAt: manifest.builtAt || null,
    entries: new Map(entries.map((entry) => [entry.url, entry])),
    // The indexes and parts it was read from: kept in the precache with it.
    documents: manifest.documents || [],
    fallbacks: localeFallbacks(manifest.fallbacks, stored),
    fallbackUrls: byKind("fallback"),
    queuedUrl: byKind("queued")[0],
  };
  return currentManifest;
}

/** The manifest's fallback page per URL prefix, longest prefix first, stored ones only. */
function localeFallbacks(fallbacks, stored) {
  return (Array.isArray(fallbacks) ? fallbacks : [])
    .filter((fallback) => fallback && typeof fallback.prefix === "string" && stored.has(fallback.url))
    .sort((a, b) => b.prefix.length - a.prefix.length);
}

/** The fallback pages to try for a URL: its locale's first, then any the manifest has. */
function fallbackUrlsFor(manifest, key) {
  const ofLocale = manifest.fallbacks.filter((fallback) => key.startsWith(fallback.prefix));
  return [...ofLocale.map((fallback) => fallback.url), ...manifest.fallbackUrls];
}

// A worker restarted with many requests at once reads its manifest once.
let loadingManifest = null;

async function loadManifest() {
  if (currentManifest && currentManifest.version === CONFIG.version) return currentManifest;
  if (!CONFIG.manifestUrl) return null;
  loadingManifest = loadingManifest || readStoredManifest().finally(() => (loadingManifest = null));
  return loadingManifest;
}

async function readStoredManifest() {
  const cached = await matchPrecache(CONFIG.manifestUrl);
  if (!cached) return null;
  try {
    return setManifest(await assembleManifest(await cached.json(), readHeldDocument));
  } catch (error) {
    return null; // A part the browser evicted, while offline: as if nothing were held.
  }
}

/**
 * An index or part from the precache, else from the network without storing it: never
 * caches.open, which would bring back a precache the kill switch has just deleted.
 */
async function readHeldDocument(url) {
  const held = await matchPrecache(absoluteUrl(url));
  if (held) return held.json();
  const response = await fetch(absoluteUrl(url), { credentials: "omit", mode: "same-origin" });
  if (!isStorable(response)) throw new Error(`${url} answered ${response.status}.`);
  return response.json();
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

/** Whether a subresource may be on the device; when the lists are not read yet, look. */
function mayBeOnDevice(key) {
  if (!currentManifest || !readerRecords) return true;
  return isSavedAsset(currentManifest, key) || readerAssetKeys.has(key);
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

/**
 * The key of a URL: its path and query on this origin; on a media origin, the absolute
 * URL spelt the same way (as the manifest lists it); null on any other origin.
 */
function entryKeyOf(url) {
  if (url.origin === self.location.origin) return keyOf(url);
  return MEDIA_ORIGINS.includes(url.origin) ? url.origin + keyOf(url) : null;
}

/** Pages come from this origin only; files (assets, documents) also from a media origin. */
function isAllowedSource(entry, response) {
  const origin = new URL(response.url).origin;
  if (origin === self.location.origin) return true;
  return MEDIA_ORIGINS.includes(origin) && (entry.kind === "asset" || entry.kind === "document");
}

/** The key of a cached request, or null when it is on an origin that is none of ours. */
function ownKeyOf(request) {
  return entryKeyOf(new URL(request.url));
}

/** A key as an absolute URL (on this origin for a path): what is fetched and stored, never the raw string. */
function absoluteUrl(key) {
  return new URL(key, self.location.origin).href;
}

/**
 * Whether an entry's url is a path of this origin, or an asset's URL on a media origin,
 * spelt exactly as its key. A spelling that is not canonical is a server bug: skipping
 * it is safer than guessing what it meant.
 */
function isValidEntry(entry) {
  if (!entry || typeof entry.url !== "string") return false;
  let url;
  try {
    url = new URL(entry.url, self.location.origin);
  } catch (error) {
    return false;
  }
  // A media origin holds files: never a page, a fallback, a manifest part or a form's URL.
  if (url.origin !== self.location.origin && entry.kind !== "asset") return false;
  return entryKeyOf(url) === entry.url;
}

/** Reads the precache without creating it (caches.open would, after the kill switch). */
async function matchPrecache(key) {
  return (await caches.match(key, { cacheName: PRECACHE })) || null;
}

/** The editors' copy first (kept freshest by updates), else the reader's own. */
async function matchOnDevice(key) {
  return (await matchPrecache(key)) || (await caches.match(key, { cacheName: READER_CACHE })) || null;
}

/** A same-origin path exactly as the server spells keys; null for anything else. */
function canonicalKey(value) {
  if (typeof value !== "string" || !value) return null;
  return isValidEntry({ url: value }) ? value : null;
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

async function mapLimited(items, limit, callback) {
  const results = new Array(items.length);
  await forEachLimited([...items.keys()], limit, async (index) => {
    results[index] = await callback(items[index]);
  });
  return results;
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
  await broadcast(message);
  if (!CONFIG.reportUrl) return;
  await fetch(CONFIG.reportUrl, {
    method: "POST",
    credentials: "omit",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(message),
  }).catch(() => null);
}

/** Every window of this origin hears it, also those this worker does not control yet. */
async function broadcast(message) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  windows.forEach((client) => client.postMessage(message));
}

/** Like the browser's own, so that one check recognises both. */
function quotaError() {
  const error = new Error("Not enough storage left.");
  error.name = "QuotaExceededError";
  return error;
}

function isQuotaError(error) {
  return Boolean(error && error.name === "QuotaExceededError");
}

/** An ISO 8601 time: sorts as text. */
function now(time = Date.now()) {
  return new Date(time).toISOString();
}

function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** The few entities a <title> holds; the notices show text, never markup. */
function decodeEntities(text) {
  const named = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity, name) => {
    if (name[0] !== "#") return named[name.toLowerCase()] || entity;
    const code = name[1].toLowerCase() === "x" ? parseInt(name.slice(2), 16) : Number(name.slice(1));
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}
