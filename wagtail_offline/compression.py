"""Control files (/sw.js, the manifest, the app manifest) and the listing served gzip-compressed.

They are JSON, JavaScript and (the listing, which grows with the site) HTML that
compress 7x and more, and a site may not run Django's ``GZipMiddleware``; so the plugin
compresses them itself, once per content (the compressed bytes are kept beside the
plain ones), never per request. A response that
is already compressed carries ``Content-Encoding``, which ``GZipMiddleware`` leaves
alone: nothing is compressed twice.
"""

import gzip
from typing import NamedTuple

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

# Compressed once per content and then served many times: the smallest output is worth it.
LEVEL = 9


class Encoded(NamedTuple):
    """A control file's bytes, plain and gzip-compressed, with an ETag for each."""

    identity: bytes
    # None when compressing would not make the file smaller.
    gzipped: bytes | None
    etag: str

    @classmethod
    def of(cls, content, etag):
        # mtime=0: the same content compresses to the same bytes in every process.
        # No random padding as GZipMiddleware adds against BREACH: these files hold no
        # secret for an attacker to guess.
        gzipped = gzip.compress(content, compresslevel=LEVEL, mtime=0)
        return cls(content, gzipped if len(gzipped) < len(content) else None, etag)

    @property
    def gzip_etag(self):
        # Another representation needs another strong ETag (RFC 9110, 8.8.3).
        return f'{self.etag[:-1]}-gzip"'


def accepts_gzip(request):
    """Whether ``Accept-Encoding`` allows gzip: named, or "*", with a q-value above 0."""
    allowed = {}
    for item in request.headers.get("Accept-Encoding", "").split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        if coding:
            allowed[coding.lower()] = _quality(parameters) > 0
    if "gzip" in allowed:
        return allowed["gzip"]
    return allowed.get("x-gzip", allowed.get("*", False))


def _quality(parameters):
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def _matches(request, etag):
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.removeprefix("W/") == etag for tag in parse_etags(header))


def respond(request, encoded, content_type, cache_control, vary=()):
    """The response for ``encoded``: gzip when the browser accepts it, 304 when it has it.

    ``cache_control`` None sends no ``Cache-Control`` (the project's middleware may add one).
    """
    use_gzip = encoded.gzipped is not None and accepts_gzip(request)
    etag = encoded.gzip_etag if use_gzip else encoded.etag
    if _matches(request, etag):
        response = HttpResponseNotModified()
    else:
        content = encoded.gzipped if use_gzip else encoded.identity
        response = HttpResponse(content, content_type=content_type)
        response["Content-Length"] = str(len(content))
        if use_gzip:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    if cache_control is not None:
        response["Cache-Control"] = cache_control
    # Every answer varies with Accept-Encoding, even identity, so that a shared cache
    # never hands a stored gzip body to a browser that cannot read it, or the reverse.
    patch_vary_headers(response, [*vary, "Accept-Encoding"])
    return response
