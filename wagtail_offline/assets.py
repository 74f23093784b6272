"""Finding the assets a page needs (the URLs in its HTML and, recursively, its CSS),
and fingerprinting the static files among them."""

import hashlib
import os
import re
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

from .html_scan import collect_urls
from .paths import absolute_url, as_parsed, canonical_path, scheme_of

LINK_RELS = {
    "stylesheet",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "apple-touch-icon-precomposed",
    "mask-icon",
    "preload",
    "modulepreload",
    "manifest",
}
# (tag, attribute) pairs whose value is one URL the page loads.
URL_ATTRIBUTES = [
    ("script", "src"),
    ("img", "src"),
    ("source", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("track", "src"),
    ("input", "src"),
    ("embed", "src"),
    ("object", "data"),
]
URL_ATTRIBUTES_BY_TAG = {}
for _tag, _attribute in URL_ATTRIBUTES:
    URL_ATTRIBUTES_BY_TAG.setdefault(_tag, []).append(_attribute)
SRCSET_TAGS = ["img", "source"]
# Links a reader follows rather than loads; only documents among them may become entries.
LINK_TAGS = ["a", "area"]

# The pieces of CSS tokenisation (https://www.w3.org/TR/css-syntax-3/#tokenization) that
# finding URLs needs. Each pattern is a run of one character class or a choice of short
# fixed sequences: none backtracks more than 4 characters, so no character is looked at
# more than a few times.
_CSS_WHITESPACE = re.compile(r"[ \t\n]*")
_CSS_NAME_CHAR = "-0-9A-Za-z_\u0080-\U0010ffff"
_CSS_NAME_RUN = re.compile(f"[{_CSS_NAME_CHAR}]+")
_CSS_HEX = re.compile(r"[0-9A-Fa-f]{1,6}")
# What an unquoted url holds as is: not ")", whitespace, a quote, "(", "\" or non-printable.
_CSS_URL_RUN = re.compile(r"""[^) \t\n"'(\\\x00-\x08\x0b\x0e-\x1f\x7f]+""")
# Where something that matters may start: a comment, a string, an at-keyword, an escape
# (it may begin or continue a name) or "url(". Every branch starts with one literal
# character, which lets the search skip quickly to the next of those characters.
_CSS_START = re.compile(r"""/\*|"|'|@|\\|u[rR][lL]\(|U[rR][lL]\(""")
_CSS_NAME_OR_SIGIL = re.compile(f"[{_CSS_NAME_CHAR}#@]")
_CSS_STRING_STOP = {'"': re.compile(r'["\\\n]'), "'": re.compile(r"['\\\n]")}
_CSS_BAD_URL_STOP = re.compile(r"[)\\]")
# Only ASCII whitespace separates srcset candidates: a no-break space belongs to the URL.
_ASCII_WHITESPACE = frozenset(" \t\n\f\r")
_SRCSET_SEPARATORS = _ASCII_WHITESPACE | {","}
# URLs that load nothing over the network, or nothing at all.
NEEDS_NOTHING_SCHEMES = {"data", "javascript", "blob", "about", "mailto", "tel"}


def parse_srcset(value):
    """The URLs of a ``srcset`` attribute, split as the HTML standard does
    (https://html.spec.whatwg.org/multipage/images.html#parse-a-srcset-attribute).

    A URL may contain commas; only a comma after whitespace (or ending the URL)
    separates candidates, and none inside a descriptor's parentheses.
    """
    urls = []
    position, length = 0, len(value)
    while position < length:
        while position < length and value[position] in _SRCSET_SEPARATORS:
            position += 1
        start = position
        while position < length and value[position] not in _ASCII_WHITESPACE:
            position += 1
        url = value[start:position]
        if url.endswith(","):
            url = url.rstrip(",")
        else:  # Skip the descriptors, up to a comma outside parentheses.
            in_parentheses = False
            while position < length:
                char = value[position]
                if char == "," and not in_parentheses:
                    break
                if char == "(":
                    in_parentheses = True
                elif char == ")":
                    in_parentheses = False
                position += 1
        if url:
            urls.append(url)
    return urls


def urls_in_css(css):
    """The URLs a stylesheet, a ``style`` attribute or a ``<style>`` element loads.

    ``url(…)``, unquoted or quoted, and ``@import "…"``, in the order written, found by
    tokenising as CSS Syntax Level 3 does (https://www.w3.org/TR/css-syntax-3/#tokenization):
    comments and strings hide what they hold, escapes are decoded, bad urls and bad
    strings load nothing. No character is looked at more than a few times, so the time
    is linear in the length of ``css`` whatever it holds.
    """
    css = _css_preprocessed(css)
    urls, position = [], 0
    while match := _CSS_START.search(css, position):
        token, url, searched_from, position = match[0], None, position, match.end()
        if token == "/*":
            position = _css_comment_end(css, position)
        elif token in ('"', "'"):
            _, position = _css_string(css, position, token)
        elif token == "@":
            name, position = _css_name(css, position)
            if name.lower() == "import":
                url, position = _css_import_string(css, position)
        elif token == "\\":
            url, position = _css_escaped_name(css, match.start(), searched_from)
        elif _css_is_whole_name(css, match.start()):
            url, position = _css_url(css, position)
        if url and url.strip():
            urls.append(url.strip())
    return urls


def _css_preprocessed(css):
    """Every newline as "\n" and NUL as U+FFFD, as the spec's preprocessing does."""
    if "\r" in css or "\f" in css:
        css = css.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return css.replace("\0", "\ufffd")


def _css_comment_end(css, position):
    end = css.find("*/", position)
    return len(css) if end < 0 else end + 2


def _css_string(css, position, quote):
    """The value of the string opened by ``quote`` just before ``position``, and where it
    ends; None for a bad string (an unescaped newline, where scanning resumes)."""
    parts, stop = [], _CSS_STRING_STOP[quote]
    while match := stop.search(css, position):
        parts.append(css[position : match.start()])
        position = match.end()
        if match[0] == quote:
            return "".join(parts), position
        if match[0] == "\n":
            return None, match.start()
        if css.startswith("\n", position):  # An escaped newline continues the string.
            position += 1
        elif position < len(css):
            char, position = _css_escape(css, position)
            parts.append(char)
    parts.append(css[position:])  # Unclosed at the end: still a string.
    return "".join(parts), len(css)


def _css_is_escape(css, backslash):
    return not css.startswith("\n", backslash + 1)


def _css_escape(css, position):
    """The code point escaped by the backslash before ``position``, and where it ends."""
    if hex_digits := _CSS_HEX.match(css, position):
        position = hex_digits.end()
        if css.startswith((" ", "\t", "\n"), position):
            position += 1
        code = int(hex_digits[0], 16)
        if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            return "\ufffd", position
        return chr(code), position
    if position >= len(css):
        return "\ufffd", position
    return css[position], position + 1


def _css_name(css, position):
    """The name (ident, at-keyword or hash) starting at ``position``, escapes decoded."""
    parts = []
    while True:
        if run := _CSS_NAME_RUN.match(css, position):
            parts.append(run[0])
            position = run.end()
        elif css.startswith("\\", position) and _css_is_escape(css, position):
            char, position = _css_escape(css, position + 1)
            parts.append(char)
        else:
            return "".join(parts), position


def _css_is_whole_name(css, start):
    """Whether the name at ``start`` is not the end of a longer name, a hash or an
    at-keyword ("<!--" before it is a token of its own)."""
    return (
        start == 0
        or not _CSS_NAME_OR_SIGIL.match(css, start - 1)
        or css.endswith("<!--", 0, start)
    )


def _css_escaped_name(css, backslash, floor):
    """A backslash outside strings: the name it begins or continues, and a url it opens."""
    if not _css_is_escape(css, backslash):
        return None, backslash + 1
    # The name's first characters were passed over by the search that found the backslash.
    start = backslash
    while start > floor and _CSS_NAME_RUN.match(css[start - 1]):
        start -= 1
    name, position = _css_name(css, start)
    is_hash = css[start - 1 : start] == "#"
    if name.lower() == "url" and css.startswith("(", position) and not is_hash:
        return _css_url(css, position + 1)
    return None, position


def _css_import_string(css, position):
    """After ``@import``, the url of its string form (``url(…)`` is found as any other)."""
    while True:
        position = _CSS_WHITESPACE.match(css, position).end()
        if not css.startswith("/*", position):
            break
        position = _css_comment_end(css, position + 2)
    if css.startswith(('"', "'"), position):
        return _css_string(css, position + 1, css[position])
    return None, position


def _css_url(css, position):
    """After ``url(``: the url of a url token or of the function form ``url("…")``, and
    where scanning resumes; None for a bad url or string."""
    position = _CSS_WHITESPACE.match(css, position).end()
    if not css.startswith(('"', "'"), position):
        return _css_url_token(css, position)
    url, position = _css_string(css, position + 1, css[position])
    close = _CSS_WHITESPACE.match(css, position).end()
    if url is None or (close < len(css) and css[close] != ")"):
        return None, position
    return url, min(close + 1, len(css))


def _css_url_token(css, position):
    """The rest of an unquoted url, up to ``)`` or the end of the text."""
    parts = []
    while True:
        if run := _CSS_URL_RUN.match(css, position):
            parts.append(run[0])
            position = run.end()
        if position >= len(css):
            return "".join(parts), position
        char = css[position]
        if char == ")":
            return "".join(parts), position + 1
        if char in " \t\n":  # Whitespace may only come before the ")".
            position = _CSS_WHITESPACE.match(css, position).end()
            if position >= len(css) or css[position] == ")":
                return "".join(parts), min(position + 1, len(css))
        elif char == "\\" and _css_is_escape(css, position):
            char, position = _css_escape(css, position + 1)
            parts.append(char)
            continue
        return None, _css_bad_url_end(css, position)


def _css_bad_url_end(css, position):
    """Past the remnants of a bad url: its ``)``, not an escaped one, or the end."""
    while match := _CSS_BAD_URL_STOP.search(css, position):
        if match[0] == ")":
            return match.end()
        position = match.end() + 1  # A backslash escapes what follows it.
    return len(css)


class HtmlUrls(NamedTuple):
    """The URLs found in a page, raw as written."""

    subresources: list  # what the browser loads to show the page
    links: list  # what the reader may follow (<a href>, <area href>)
    base: str | None  # the <base href>, against which both resolve


def urls_in_html(html):
    """Every URL the page loads as a subresource or links to, and its base href.

    One linear pass (see ``html_scan``): Python's ``html.parser`` takes quadratic time
    on malformed markup, and this runs for every offline page of a build.
    """
    return collect_urls(html)


def same_origin_paths(raw_urls, base_url, origin):
    """Split URLs into canonical same-origin paths (with query) and the cross-origin rest.

    Same-origin URLs are resolved the way a browser resolves them (see ``paths``).
    ``data:``, ``javascript:``, ``blob:`` and bare fragments are neither: they need nothing,
    nor does a relative URL against a ``<base href>`` that has no path (``data:``).
    Cross-origin URLs are absolute, never paths.
    """
    local, foreign = [], []
    for raw in raw_urls:
        reference = as_parsed(raw)
        if not reference or reference.startswith("#"):
            continue
        if scheme_of(reference) in NEEDS_NOTHING_SCHEMES:
            continue
        path = canonical_path(reference, base_url, origin)
        if path is not None:
            local.append(path)
        elif (url := absolute_url(reference, base_url)) is not None:
            foreign.append(url)
    return _unique(local), _unique(foreign)


def _unique(items):
    return list(dict.fromkeys(items))


def static_fingerprint(entries):
    """A fingerprint of the static files behind ``entries``: a deploy that changes them changes it.

    With ``ManifestStaticFilesStorage`` the storage's manifest names every file's
    content hash; otherwise the path, size and modification time of each static
    file that the entries list stand for its content.
    """
    if isinstance(staticfiles_storage, ManifestFilesMixin):
        content = staticfiles_storage.read_manifest()
        if content:
            return hashlib.sha256(content.encode()).hexdigest()[:32]
    static_url = urlsplit(settings.STATIC_URL or "").path
    if not static_url or static_url == "/":
        return ""
    digest = hashlib.sha256()
    # Parsing every URL of a large site is what storing its manifest would wait on: only
    # those that may be static files are parsed (a path spelled with "%", another origin).
    maybe_static = sorted(
        url
        for url in (entry["url"] for entry in entries)
        if url.startswith(static_url) or "%" in url or not url.startswith("/")
    )
    for url in maybe_static:
        path = unquote(urlsplit(url).path)
        if not path.startswith(static_url):
            continue
        stat = _static_file_stat(path[len(static_url) :])
        digest.update(f"{path}\0{stat}\n".encode())
    return digest.hexdigest()[:32]


def _static_file_stat(name):
    """(size, mtime) of a static file as collected, else as found in the apps; None if gone."""
    try:
        if staticfiles_storage.exists(name):
            path = staticfiles_storage.path(name)
        else:
            path = finders.find(name)
        stat = os.stat(path)
    except (NotImplementedError, TypeError, OSError):
        return None  # Remote storage or missing file: only the path counts.
    return stat.st_size, stat.st_mtime_ns
