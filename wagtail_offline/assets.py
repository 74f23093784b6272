"""Finding the assets a page needs: the URLs in its HTML and, recursively, its CSS."""

import re
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup

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
SRCSET_TAGS = ["img", "source"]

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


def urls_in_html(html):
    """Every URL the page loads as a subresource, raw as written, and its base href."""
    soup = BeautifulSoup(html, "html.parser")
    base = soup.find("base", href=True)
    urls = []
    for link in soup.find_all("link", href=True):
        rels = {rel.lower() for rel in link.get("rel") or []}
        if rels & LINK_RELS:
            urls.append(link["href"])
    for tag, attribute in URL_ATTRIBUTES:
        urls += [
            element[attribute]
            for element in soup.find_all(tag)
            if element.get(attribute)
        ]
    for tag in SRCSET_TAGS:
        for element in soup.find_all(tag, srcset=True):
            urls += parse_srcset(element["srcset"])
    for element in soup.find_all(style=True):
        urls += urls_in_css(element["style"])
    for style in soup.find_all("style"):
        urls += urls_in_css(style.get_text())
    return urls, (base["href"] if base else None)


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
