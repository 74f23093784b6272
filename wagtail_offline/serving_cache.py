"""Keeping /sw.js and the manifest about as cheap as a static file, in every process at once.

Nothing here can go stale: what may change (is the site active, which manifest version
is current) is read from the database on every request, and only what a version fully
determines is cached. So a publish stored by one process is served by every other one
on its next request, whether the cache is shared (Redis) or per process (local memory).

- The manifest's JSON is cached under its site and version: content-addressed, it never
  changes once written, so any Django cache may keep it.
- The body of /sw.js is a pure function of a few values, memoised in ``views.py``.
"""

from django.core.cache import caches

from . import conf

# A manifest version is a hash of its entries, so a cached payload is never wrong; it only
# has to be evicted eventually.
MANIFEST_TIMEOUT = 24 * 60 * 60


def manifest_payload(site_id, version, load):
    """The JSON of ``version`` of a site's manifest; ``load()`` reads it on a miss."""
    cache = caches[conf.get("WAGTAIL_OFFLINE_CACHE")]
    key = f"wagtail_offline:manifest:{site_id}:{version}"
    payload = cache.get(key)
    if payload is None:
        payload = load()
        if payload:
            cache.set(key, payload, MANIFEST_TIMEOUT)
    return payload
