"""Fetching what a reader's browser will fetch, on the server, as an anonymous visitor.

Pages go through Django's full middleware stack with no cookies, exactly as a
first-time reader gets them. Static and media files are read from storage.
"""

import functools
import logging
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import default_storage
from django.core.handlers.base import BaseHandler
from django.core.signals import got_request_exception
from django.test import RequestFactory
from django.urls import get_urlconf, set_urlconf
from django.utils import translation
from django.utils.translation import gettext as _

from . import conf

logger = logging.getLogger(__name__)

_local = threading.local()


def is_rendering():
    """True while this thread renders for a manifest build (whatever it saves is ours)."""
    return getattr(_local, "depth", 0) > 0


@contextmanager
def _rendering():
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


class FetchError(Exception):
    """A URL that cannot be made available offline; the message is for the editor."""


@dataclass
class Fetched:
    url: str
    content: bytes
    content_type: str = ""
    headers: dict = field(default_factory=dict)
    # The CSRF secret of the render, so that masked tokens can be told from content.
    csrf_secret: str = ""
    # The names of the cookies the response sets.
    cookies: tuple = ()


class AnonymousClient:
    """Renders site URLs in-process, the way an anonymous reader would receive them."""

    def __init__(self, site):
        self.site = site
        self._handler = BaseHandler()
        self._handler.load_middleware()
        secure = site.port == 443
        self._factory = RequestFactory(
            SERVER_NAME=site.hostname,
            SERVER_PORT=str(site.port),
            **{"wsgi.url_scheme": "https" if secure else "http"},
        )
        self._secure = secure

    def _get(self, url, headers=None):
        # The site's own port, which RequestFactory would otherwise set to 80 or 443: Wagtail
        # picks the site by it, and a site on another port must never render as this one.
        return self._factory.get(
            url, secure=self._secure, SERVER_PORT=str(self.site.port), **(headers or {})
        )

    def request(self, url="/"):
        """A request as an anonymous reader would send it; for hooks such as ``get_offline_urls``."""
        request = self._get(url)
        request.user = AnonymousUser()
        return request

    def get(self, url, headers=None):
        """``url`` rendered; ``headers``: META entries to add, such as HTTP_ACCEPT_LANGUAGE."""
        request = self._get(url, headers)
        errors = []

        def capture_exception(sender, request=None, **kwargs):
            if request is this_request:
                errors.append(sys.exc_info()[1])

        this_request = request
        got_request_exception.connect(capture_exception)
        urlconf = get_urlconf()
        # The render may run inside an editor's request: leave its language and urlconf as they were.
        with translation.override(translation.get_language()), _rendering():
            try:
                response = self._handler.get_response(request)
            finally:
                set_urlconf(urlconf)
                got_request_exception.disconnect(capture_exception)
        if errors:
            raise FetchError(
                _("%(url)s failed to render: %(error)s")
                % {"url": url, "error": repr(errors[0])}
            )
        if response.status_code in (301, 302, 303, 307, 308):
            raise FetchError(
                _(
                    "%(url)s redirects to %(location)s; link to the final address instead."
                )
                % {"url": url, "location": response.get("Location")}
            )
        if response.status_code != 200:
            raise FetchError(
                _("%(url)s answered with status %(status)s.")
                % {"url": url, "status": response.status_code}
            )
        content = (
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        )
        return Fetched(
            url=url,
            content=content,
            content_type=response.get("Content-Type", ""),
            headers=dict(response.items()),
            csrf_secret=request.META.get("CSRF_COOKIE") or "",
            cookies=tuple(response.cookies),
        )


@dataclass(frozen=True)
class StoredFile:
    """A static or media file behind a URL path: ``kind`` ("static" or "media") and its name."""

    kind: str
    name: str


def stored_file(path):
    """The static or media file that the URL ``path`` names, or None when it is neither."""
    path = unquote(path)
    for kind, prefix in _stored_prefixes(settings.STATIC_URL, settings.MEDIA_URL):
        if path.startswith(prefix):
            return StoredFile(kind, path[len(prefix) :])
    return None


@functools.lru_cache(maxsize=8)
def _stored_prefixes(static_url, media_url):
    """(kind, path prefix) of the static and media URLs that have one."""
    prefixes = []
    for kind, url in (("static", static_url), ("media", media_url)):
        prefix = urlsplit(url or "").path
        if prefix and prefix != "/":
            prefixes.append((kind, prefix))
    return tuple(prefixes)


def _open_from_storage(path):
    """Bytes of a static or media file, or None when ``path`` is neither."""
    stored = stored_file(path)
    if stored is None:
        return None
    try:
        content = _read_stored(stored)
    except IsADirectoryError:
        content = None  # A folder "exists" to the storage, but is no file to read.
    if content is None:
        message = (
            _("The static file %(path)s does not exist.")
            if stored.kind == "static"
            else _("The media file %(path)s does not exist.")
        )
        raise FetchError(message % {"path": unquote(path)})
    return content


def _read_stored(stored):
    """The stored file's bytes, or None when there is none by that name."""
    if stored.kind == "static":
        if staticfiles_storage.exists(stored.name):
            with staticfiles_storage.open(stored.name) as file:
                return file.read()
        found = finders.find(stored.name)
        if found:
            with open(found, "rb") as file:
                return file.read()
        return None
    if default_storage.exists(stored.name):
        with default_storage.open(stored.name) as file:
            return file.read()
    return None


def read_asset(client, url):
    """Bytes of a same-origin asset URL, from storage or through the site, whatever their size."""
    content = _open_from_storage(urlsplit(url).path)
    if content is None:
        return client.get(url)
    return Fetched(url=url, content=content)


def read_media(url, name):
    """Bytes of the media file ``name``, which readers load from ``url`` on a media origin."""
    try:
        with default_storage.open(name) as file:
            return Fetched(url=url, content=file.read())
    except FileNotFoundError as error:
        raise FetchError(
            _("The media file %(path)s does not exist.") % {"path": url}
        ) from error


def fetch_asset(client, url):
    """Bytes of a same-origin asset URL, from storage or through the site."""
    fetched = read_asset(client, url)
    _check_size(url, fetched.content)
    return fetched


def fetch_file(url, field_file):
    """Bytes of a stored file (a document) that readers download at ``url``."""
    try:
        with field_file.open("rb") as file:
            content = file.read()
    except OSError as error:
        raise FetchError(
            _("The file behind %(url)s cannot be read: %(error)s.")
            % {"url": url, "error": error}
        ) from error
    _check_size(url, content)
    return Fetched(url=url, content=content)


def _check_size(url, content):
    limit = conf.get("WAGTAIL_OFFLINE_MAX_ASSET_SIZE")
    if len(content) > limit:
        raise FetchError(too_large(url, len(content), limit))


def too_large(url, size, limit):
    """The message for a file over ``WAGTAIL_OFFLINE_MAX_ASSET_SIZE``."""
    return _(
        "%(url)s is %(size)s KiB, over the %(limit)s KiB limit "
        "(WAGTAIL_OFFLINE_MAX_ASSET_SIZE)."
    ) % {"url": url, "size": size // 1024, "limit": limit // 1024}
