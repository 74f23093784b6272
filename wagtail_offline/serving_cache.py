"""A cache for what the views serve, so /sw.js and the manifest cost about as much as a static file.

Every stored manifest or settings change bumps one generation number; cached bodies are keyed by
it, so a change is seen at once by every process that shares the cache, and after
``TIMEOUT`` seconds at the latest by processes that do not (a local-memory cache per process).
"""

import uuid

from django.core.cache import caches

from . import conf

GENERATION_KEY = "wagtail_offline:generation"
TIMEOUT = 10


def _cache():
    return caches[conf.get("WAGTAIL_OFFLINE_CACHE")]


def generation():
    cache = _cache()
    value = cache.get(GENERATION_KEY)
    if value is None:
        value = uuid.uuid4().hex
        cache.add(GENERATION_KEY, value, None)
        value = cache.get(GENERATION_KEY, value)
    return value


def bump_generation():
    _cache().set(GENERATION_KEY, uuid.uuid4().hex, None)


def get_or_build(key, build):
    """The cached value for ``key`` in this generation, built with ``build()`` on a miss."""
    cache = _cache()
    full_key = f"wagtail_offline:{generation()}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = build()
        cache.set(full_key, value, TIMEOUT)
    return value
