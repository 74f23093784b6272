"""Finding the assets a page needs (the URLs in its HTML and, recursively, its CSS),
and fingerprinting the static files among them."""

import hashlib
import os
import re
from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

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

CSS_URL = re.compile(r"""url\(\s*(?P<quote>['"]?)(?P<url>.*?)(?P=quote)\s*\)""", re.S)
CSS_IMPORT = re.compile(r"""@import\s+(?P<quote>['"])(?P<url>.+?)(?P=quote)""")
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def parse_srcset(value):
    """The URLs of a ``srcset`` attribute, split as the HTML standard does.

    A URL may contain commas; only a comma after whitespace (or ending the URL)
    separates candidates.
    """
    urls = []
    position, length = 0, len(value)
    while position < length:
        while position < length and (
            value[position].isspace() or value[position] == ","
        ):
            position += 1
        start = position
        while position < length and not value[position].isspace():
            position += 1
        url = value[start:position]
        if url.endswith(","):
            url = url.rstrip(",")
        else:  # Skip the descriptors, up to a comma outside parentheses.
            depth = 0
            while position < length:
                char = value[position]
                depth += char == "("
                depth -= char == ")"
                if char == "," and depth <= 0:
                    break
                position += 1
        if url:
            urls.append(url)
    return urls


def urls_in_css(css):
    css = CSS_COMMENT.sub("", css)
    found = [match["url"] for match in CSS_IMPORT.finditer(css)]
    found += [match["url"] for match in CSS_URL.finditer(css)]
    return [url.strip() for url in found if url.strip()]


class HtmlUrls(NamedTuple):
    """The URLs found in a page, raw as written."""

    subresources: list  # what the browser loads to show the page
    links: list  # what the reader may follow (<a href>, <area href>)
    base: str | None  # the <base href>, against which both resolve


class _UrlCollector(HTMLParser):
    """One streaming pass over a page (the parser BeautifulSoup's "html.parser" uses,
    without building a tree: a rebuild parses every offline page)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.subresources, self.links, self.base = [], [], None
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attributes = {name: value for name, value in attrs if value is not None}
        found = self.subresources
        if tag == "base" and self.base is None and attributes.get("href"):
            self.base = attributes["href"]
        elif tag == "link":
            rels = set(attributes.get("rel", "").lower().split())
            if rels & LINK_RELS and attributes.get("href"):
                found.append(attributes["href"])
            # A preloaded responsive image lists its candidates like <img srcset>.
            if attributes.get("imagesrcset"):
                found += parse_srcset(attributes["imagesrcset"])
        elif tag in LINK_TAGS and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "style":
            self._in_style = True
        for attribute in URL_ATTRIBUTES_BY_TAG.get(tag, ()):
            if attributes.get(attribute):
                found.append(attributes[attribute])
        if tag in SRCSET_TAGS and attributes.get("srcset"):
            found += parse_srcset(attributes["srcset"])
        if attributes.get("style"):
            found += urls_in_css(attributes["style"])

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.subresources += urls_in_css(data)


def urls_in_html(html):
    """Every URL the page loads as a subresource or links to, and its base href."""
    collector = _UrlCollector()
    collector.feed(html)
    collector.close()
    return HtmlUrls(collector.subresources, collector.links, collector.base)


def same_origin_paths(raw_urls, base_url, origin):
    """Split URLs into same-origin paths (with query) and the cross-origin rest.

    ``data:``, ``javascript:``, ``blob:`` and bare fragments are neither: they need nothing.
    """
    local, foreign = [], []
    for raw in raw_urls:
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        scheme = urlsplit(raw).scheme.lower()
        if scheme in ("data", "javascript", "blob", "about", "mailto", "tel"):
            continue
        absolute, _ = urldefrag(urljoin(base_url, raw))
        parts = urlsplit(absolute)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            foreign.append(absolute)
            continue
        local.append(parts.path + (f"?{parts.query}" if parts.query else ""))
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
    for entry in sorted(entries, key=lambda entry: entry["url"]):
        path = unquote(urlsplit(entry["url"]).path)
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
