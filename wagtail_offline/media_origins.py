"""Media served from another origin (a bucket, a CDN) that the site declares as its own.

``WAGTAIL_OFFLINE_MEDIA_ORIGINS`` lists those origins. A URL on one of them becomes an
entry, by its absolute URL, when it is the URL the media storage gives one of its files:
the privacy rules and revisions then see that file's storage name, as for media served
from the site itself. Any other URL on another origin is reported as cross-origin.
"""

from functools import cached_property
from urllib.parse import unquote, urlsplit

from django.core.files.storage import default_storage

from . import conf
from .paths import Origin, canonical_path


def origin_problem(value):
    """Why ``value`` is not an origin (``scheme://host[:port]``), or None."""
    if not isinstance(value, str):
        return "it is not a string"
    origin = Origin.of(value)
    try:
        parts = urlsplit(value)
    except ValueError:
        return "it is not a URL"
    if origin is None or not origin.host:
        return "it is not an http or https URL with a host"
    if parts.username is not None or parts.password is not None:
        return "it holds credentials"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "it has a path, query or fragment; an origin has none"
    return None


def origin_text(origin):
    """``scheme://host[:port]`` as browsers spell an origin (no default port)."""
    default = {"http": 80, "https": 443}[origin.scheme]
    port = "" if origin.port == default else f":{origin.port}"
    host = f"[{origin.host}]" if ":" in origin.host else origin.host  # IPv6
    return f"{origin.scheme}://{host}{port}"


def declared_origins():
    """The valid origins of ``WAGTAIL_OFFLINE_MEDIA_ORIGINS``, as browsers spell them.

    An invalid one is left out (the E008 check reports it).
    """
    values = conf.get("WAGTAIL_OFFLINE_MEDIA_ORIGINS")
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        return ()
    return tuple(
        dict.fromkeys(
            origin_text(Origin.of(value))
            for value in values
            if origin_problem(value) is None
        )
    )


class RemoteMedia:
    """Which absolute URLs are media files on a declared origin; for one build."""

    def __init__(self):
        self.origins = {Origin.of(origin): origin for origin in declared_origins()}
        self._names = {}

    def entry_url(self, url):
        """``url`` as its entry is spelled (canonical, absolute), if on a declared origin."""
        origin = Origin.of(url) if self.origins else None
        if origin not in self.origins:
            return None
        path = canonical_path(url, url)
        return None if path is None else self.origins[origin] + path

    def storage_name(self, url):
        """The media storage's name for the file at ``url``, or None.

        Only a URL that the storage itself gives for that name counts: a signed URL,
        another bucket's file or a page of the CDN never does.
        """
        if url not in self._names:
            self._names[url] = self._name_of(url)
        return self._names[url]

    def _name_of(self, url):
        url = self.entry_url(url)
        if url is None:
            return None
        prefix = self._prefix
        if prefix is None or not url.startswith(prefix) or "?" in url:
            return None
        # The storage quotes names its own way: the name is the one it spells as ``url``.
        name = unquote(url[len(prefix) :])
        if not name or self.entry_url(_storage_url(name)) != url:
            return None
        return name

    @cached_property
    def _prefix(self):
        """What the storage's URLs start with, before the name (None if it signs them)."""
        probe = self.entry_url(_storage_url(PROBE_NAME)) or ""
        return probe[: -len(PROBE_NAME)] if probe.endswith("/" + PROBE_NAME) else None


# Some storages cannot spell the URL of an empty name: the prefix is read off this one.
PROBE_NAME = "wagtail-offline-probe"


def _storage_url(name):
    try:
        return default_storage.url(name)
    except Exception:  # A storage that cannot spell a URL for ``name``: not its file.
        return ""
