"""Keeping /sw.js and the manifest about as cheap as a static file, in every process at once.

What these URLs serve depends on the site a request resolves to, its offline settings
and its manifest. Each request reads one value from the database, the generation of
``OfflineServingState``, which the transaction of any such change bumps; what is cached
is keyed by it. So a change stored by any process is served by every other one on its
very next request, whether the Django cache is shared (Redis) or per process (local
memory), and no request pays for resolving the site and reading its state again.

Files that never change under their key (a manifest version) are kept plain and
gzip-compressed side by side, so they are compressed once, not per request.

The offline listing is kept the same way, and also only until a listed page expires
(``get_or_build_until``); what it renders with this process's templates and URLs is
kept in the process (``ProcessMemo``), still under the generation.
"""

import hashlib
import threading
from collections import OrderedDict, deque

from django.core.cache import caches
from django.utils import timezone

from . import conf
from .compression import Encoded

# Entries are keyed by generation and never go stale; they only need evicting eventually.
TIMEOUT = 24 * 60 * 60
MISSING = "-"  # Caches cannot tell a stored None from a miss.


def _cache():
    return caches[conf.get("WAGTAIL_OFFLINE_CACHE")]


def current_generation():
    from .models import OfflineServingState

    return OfflineServingState.current()


def get_or_build(key, build, generation=None):
    """``build()`` for ``key`` in the current generation, from the cache when it is there.

    ``generation``, if the caller has just read it, saves reading it again.
    """
    if generation is None:
        generation = current_generation()
    cache = _cache()
    full_key = f"wagtail_offline:{generation}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = build()
        cache.set(full_key, MISSING if value is None else value, TIMEOUT)
    return None if value == MISSING else value


def get_or_build_until(key, build, generation):
    """``get_or_build`` for a value that also goes stale at a time, such as a page's expiry.

    ``build()`` returns ``(value, until)``, ``until`` an aware datetime or None (never).
    Returns the same pair, rebuilt once ``until`` has passed.
    """
    cache = _cache()
    full_key = f"wagtail_offline:{generation}:{key}"
    stored = cache.get(full_key)
    now = timezone.now()
    if stored is None or (stored[1] is not None and stored[1] <= now):
        stored = build()
        until = stored[1]
        timeout = TIMEOUT if until is None else (until - now).total_seconds()
        if timeout > 0:
            cache.set(full_key, stored, min(TIMEOUT, timeout))
    return stored


class ProcessMemo:
    """Values built in this process, each kept until a time (or for good), the least
    recently used dropped beyond ``size``: bounded whatever keys requests lead to.

    For what depends on this process's code as well as on the data (rendered templates,
    reversed URLs): each key is a tuple whose first item is the serving generation. Only
    the values of the last ``GENERATIONS_KEPT`` generations are kept: an older one is
    never asked for again, and a large site's listing must not stay in memory once per
    publish.
    """

    GENERATIONS_KEPT = 2

    def __init__(self, size):
        self.size = size
        self._generations = deque(maxlen=self.GENERATIONS_KEPT)
        self._values = OrderedDict()
        self._lock = threading.Lock()
        self._building = {}  # key: the lock of the one thread building it

    def _fresh(self, key):
        with self._lock:
            found = self._values.get(key)
            if found is not None and (found[1] is None or timezone.now() < found[1]):
                self._values.move_to_end(key)
                return found
        return None

    def get(self, key, build):
        """The value for ``key``; ``build()`` returns ``(value, until)`` on a miss."""
        found = self._fresh(key)
        if found is not None:
            return found[0]
        # One build per key at a time: after a publish, the threads that all miss wait
        # for the first one's result instead of each building the same thing.
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        try:
            with building:
                found = self._fresh(key) or self._store(key, build())
        finally:
            with self._lock:
                # Only its own: a thread that waited must not drop a later builder's lock.
                if self._building.get(key) is building:
                    del self._building[key]
        return found[0]

    def _store(self, key, found):
        generation = key[0]
        with self._lock:
            if generation not in self._generations:
                self._generations.append(generation)
                for old in [k for k in self._values if k[0] not in self._generations]:
                    del self._values[old]
            self._values[key] = found
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return found

    def __len__(self):
        return len(self._values)

    def clear(self):
        with self._lock:
            self._values.clear()
            self._generations.clear()


def encoded_file(key, load, etag=None):
    """Content that never changes under ``key``, plain and gzip-compressed (``Encoded``).

    ``load()`` returns its text or bytes on a miss (None when there is nothing to
    serve); it is then compressed once and kept for every later request. ``etag``
    defaults to a hash of the content.
    """
    cache = _cache()
    full_key = f"wagtail_offline:encoded:v1:{key}"
    encoded = cache.get(full_key)
    if encoded is None:
        content = load()
        if not content:
            return None
        if isinstance(content, str):
            content = content.encode()
        encoded = Encoded.of(content, etag or content_etag(content))
        cache.set(full_key, encoded, TIMEOUT)
    return encoded


def content_etag(content):
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def manifest_payload(site_id, version, load):
    """The JSON of ``version`` of a site's manifest as ``Encoded``; ``load()`` reads it on a miss.

    Content-addressed (a version is a hash of the entries), so it needs no generation.
    """
    return encoded_file(f"manifest:{site_id}:{version}", load, f'"{version}"')


def remembered(key):
    """A value kept with ``remember``, or None (after an eviction, or in another cache)."""
    return _cache().get(f"wagtail_offline:remembered:{key}")


def remember(key, value):
    _cache().set(f"wagtail_offline:remembered:{key}", value, None)
