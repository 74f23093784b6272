"""One canonical name for every same-origin URL a page uses.

A URL can be spelled many ways that browsers and servers read as the same file:
``/media/a/%2e/x.jpg``, ``/media/a//x.jpg``, ``/media/b/%2e%2e/a/x.jpg``,
``\\media\\a\\x.jpg``. Privacy rules, storage reads and manifest entries must all see
the same name, or a private file is shipped under a spelling the rules did not expect.

``canonical_path`` resolves a reference as a browser does (the WHATWG URL standard,
for http and https) and then collapses repeated slashes, which servers and the
worker (see ``keyOf`` in the worker) also treat as one. ``served_path`` is what the
server routes by: the canonical path percent-decoded. A canonical path whose decoded
form still holds dot segments or repeated slashes (``/a%2F..%2Fb``) is ambiguous:
servers disagree on it, so it is refused rather than guessed.
"""

import functools
import re
from typing import NamedTuple
from urllib.parse import quote, unquote, urljoin, urlsplit

SPECIAL_SCHEMES = {"http": 80, "https": 443}
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# Leading and trailing C0 controls and spaces are stripped; tabs and newlines anywhere removed.
C0_OR_SPACE = "".join(chr(code) for code in range(0x21))
TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
SINGLE_DOT = {".", "%2e"}
DOUBLE_DOT = {"..", ".%2e", "%2e.", "%2e%2e"}
REPEATED_SLASHES = re.compile(r"/{2,}")
# What browsers leave as typed in a path and in a query (the rest is percent-encoded).
# The URL standard leaves "|" and "^" in paths too; Chromium encodes them, and so do we.
PATH_SAFE = "!$%&'()*+,-./:;=@[]_~"
QUERY_SAFE = "!$%&()*+,-./:;=?@[\\]^_`{|}~"
# An absolute path of unreserved characters with a plain query is its own canonical
# form unless it holds a dot segment or a repeated slash: most URLs a page uses.
PLAIN_PATH = re.compile(r"/[A-Za-z0-9_.~/-]*(?:\?[A-Za-z0-9_.~=&/-]*)?")
DOT_SEGMENT_OR_REPEATED_SLASH = re.compile(r"//|/\.\.?(?:/|\?|$)")


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url):
        """The origin of an absolute http(s) URL, or None (also for a host no parser
        accepts, such as ``http://[/``)."""
        try:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme not in SPECIAL_SCHEMES:
                return None
            port = parts.port or SPECIAL_SCHEMES[scheme]
        except ValueError:
            return None
        return cls(scheme, (parts.hostname or "").rstrip("."), port)


def canonical_path(reference, base_url, origin=None):
    """``reference`` resolved against ``base_url`` as ``path?query``; None when it is not
    on ``origin`` (by default the base's) or not an http(s) URL (``data:``, ``mailto:``…)."""
    base_origin = _origin_of(base_url)
    site_origin = _origin_of(origin) if origin else base_origin
    if base_origin is None or site_origin is None:
        return None
    if (
        base_origin == site_origin
        and PLAIN_PATH.fullmatch(reference)
        and not DOT_SEGMENT_OR_REPEATED_SLASH.search(reference)
    ):
        return reference
    base = urlsplit(base_url)
    reference = as_parsed(reference).split("#", 1)[0]
    scheme_match = SCHEME.match(reference)
    if scheme_match:
        scheme = scheme_match[1].lower()
        rest = reference[scheme_match.end() :]
        if scheme not in SPECIAL_SCHEMES:
            return None
        if scheme == base_origin.scheme:
            reference = (
                rest  # "http:x" or "http:/x" on an http page is relative (WHATWG).
            )
        else:
            return _path_on_origin(scheme, rest, site_origin)
    if re.match(r"^[/\\]{2}", reference):
        return _path_on_origin(base_origin.scheme, reference, site_origin)
    if base_origin != site_origin:
        return None  # Relative to a <base href> on another origin.
    if reference.startswith(("/", "\\")):
        path, query = _split_query(reference)
    elif reference.startswith("?"):
        path, query = base.path or "/", reference[1:]
    elif reference == "":
        path, query = base.path or "/", base.query or None
    else:
        relative, query = _split_query(reference)
        directory = (base.path or "/").rsplit("/", 1)[0]
        path = f"{directory}/{relative}"
    return _canonical(path, query)


@functools.lru_cache(maxsize=256)
def _origin_of(url):
    """``Origin.of``, remembered: a page's URLs are all resolved against one base."""
    return Origin.of(url)


def as_parsed(reference):
    """``reference`` as the URL parser reads it: without leading and trailing C0 controls
    and spaces, and without tabs and newlines anywhere."""
    return TAB_OR_NEWLINE.sub("", reference.strip(C0_OR_SPACE))


def scheme_of(reference):
    """The lowercased scheme of ``reference`` (``"javascript"``), or "" if it is relative."""
    scheme = SCHEME.match(as_parsed(reference))
    return scheme[1].lower() if scheme else ""


def absolute_url(reference, base_url):
    """The URL a browser asks for when ``reference`` is on a page at ``base_url``, for
    messages about cross-origin URLs: backslashes count as slashes, as in browsers, and
    an authority that Python cannot parse (``//[``) is shown, not parsed. None when the
    base cannot resolve a relative ``reference``: browsers ask for nothing then."""
    reference = as_parsed(reference).split("#", 1)[0]
    scheme = scheme_of(reference)
    if scheme and scheme not in SPECIAL_SCHEMES:
        return reference
    base_scheme = scheme_of(base_url)
    if not scheme and base_scheme not in SPECIAL_SCHEMES:
        return None  # Relative to a data:, blob: or other base that has no path.
    path, separator, query = reference.partition("?")
    rest = (
        path.replace("\\", "/")[len(scheme) + 1 if scheme else 0 :] + separator + query
    )
    if rest.startswith("//") or scheme not in ("", base_scheme):
        return f"{scheme or base_scheme}://{rest.lstrip('/')}"
    return urljoin(base_url, rest)


def base_url(document_url, base_href):
    """What references on the page at ``document_url`` resolve against, given its
    ``<base href>`` (None if it has none): resolved as browsers resolve it, and ignored,
    as browsers ignore it, when it names a host that no URL parser accepts (``//[``)."""
    if base_href is None:
        return document_url
    path = canonical_path(base_href, document_url)
    if path is not None:
        document = urlsplit(document_url)
        return f"{document.scheme}://{document.netloc}{path}"
    absolute = absolute_url(base_href, document_url)
    if scheme_of(absolute) in SPECIAL_SCHEMES and Origin.of(absolute) is None:
        return document_url
    return absolute


def _path_on_origin(scheme, after_scheme, site_origin):
    """The path of an absolute reference, if it stays on ``site_origin``."""
    # Browsers skip any run of slashes and backslashes before the authority.
    rest = after_scheme.lstrip("/\\")
    authority_end = re.search(r"[/\\?]", rest)
    authority = rest[: authority_end.start()] if authority_end else rest
    path_and_query = rest[len(authority) :]
    if "@" in authority:
        return None  # Credentials in a URL: never ours to fetch.
    origin = Origin.of(f"{scheme}://{authority}/")
    if origin is None or origin != site_origin:
        return None
    if path_and_query.startswith("?") or not path_and_query:
        path_and_query = "/" + path_and_query
    path, query = _split_query(path_and_query)
    return _canonical(path, query)


def _split_query(reference):
    path, separator, query = reference.partition("?")
    return path, (query if separator else None)


def _canonical(path, query):
    path = REPEATED_SLASHES.sub("/", _remove_dot_segments(path.replace("\\", "/")))
    path = quote(path, safe=PATH_SAFE)
    if query is None:
        return path
    return f"{path}?{quote(query, safe=QUERY_SAFE)}"


def _remove_dot_segments(path):
    """Dot segments resolved as the WHATWG path state does (``%2e`` counts as a dot)."""
    segments = path.split("/")[1:]
    output = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        lowered = segment.lower()
        if lowered in DOUBLE_DOT:
            if output:
                output.pop()
            if last:
                output.append("")
        elif lowered in SINGLE_DOT:
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def served_path(path):
    """The decoded path (no query) that a server routes ``path`` by; None if ambiguous.

    Servers decode before they route or read files; a path that decodes to dot
    segments, repeated slashes or backslashes would be read differently by each.
    """
    decoded = unquote(path.split("?", 1)[0])
    normalised = REPEATED_SLASHES.sub(
        "/", _remove_dot_segments(decoded.replace("\\", "/"))
    )
    if decoded != normalised or "\x00" in decoded:
        return None
    return decoded
