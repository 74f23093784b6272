"""The server's canonical paths are the keys the worker computes from what Chromium requests.

If they differed, a page would be saved under one name and asked for under another
(offline, it would be missing), or a privacy rule would judge a name the browser never uses.
"""

import pytest

from wagtail_offline.paths import canonical_path

BASE = "http://localhost:8000/trails/ridge/"
ORIGIN = "http://localhost:8000"

# How the worker turns a URL into a cache key (keyOf in service_worker.js).
BROWSER_KEYS = """([references, base]) => references.map((reference) => {
    let url;
    try { url = new URL(reference, base); } catch (error) { return null; }
    if (url.origin !== new URL(base).origin) return null;
    if (url.username || url.password) return "credentials";
    return url.pathname.replace(/\\/{2,}/g, "/") + url.search;
})"""

REFERENCES = [
    "/media/original_images/example.jpg",
    "/media/original_images/%2e/example.jpg",
    "/media/original_images/%2E/example.jpg",
    "/media/original_images//example.jpg",
    "/media//original_images/example.jpg",
    "/media/original_images/%2e%2e/original_images/example.jpg",
    "/media/original_images/.%2e/original_images/example.jpg",
    "/media/original_images/%2e./original_images/example.jpg",
    "/media/original_images/../original_images/example.jpg",
    "/media\\original_images\\example.jpg",
    "/media/original_images%2Fexample.jpg",
    "/media/x%2F..%2Foriginal_images/example.jpg",
    "/media/%6Friginal_images/example.jpg",
    "/./media/./original_images/.",
    "/a/b/..",
    "/a/b/%2e%2e",
    "/a//..",
    "../../../../etc/passwd",
    "x/./y/../z",
    "?v=2",
    "",
    "#top",
    "/x#frag",
    "/.//other.host/x/",
    "/%2e//other.host/x/",
    "/a/..//other.host/x/",
    "./..//..//other.host/x/",
    "//other.host/x/",
    "\\\\other.host/x/",
    "/\\other.host/x/",
    "\\/other.host/x/",
    "http:\\\\other.host/x/",
    "http:/other.host/x/",
    "http:rel",
    "https://localhost:8000/x",
    "http://localhost/x",
    "http://LOCALHOST:8000/up",
    "http://localhost:8000/a/../b",
    "//localhost:8000/c",
    "  /spaced\t/\npath  ",
    "café.jpg",
    '/a b/c"d<e>f`g{h}i|j^k[l]m',
    "/q?a b&c=é&d='x'&e=\"y\"&f=<z>",
    "/q?x#y?z",
    "/%zz/100%",
    "/emoji/🌄.jpg",
    "data:image/png;base64,AAAA",
    "javascript:alert(1)",
    "mailto:a@example.com",
]

# Where the server is stricter than the browser, on purpose.
STRICTER = {
    # Credentials in a URL are never fetched, though Chromium keeps the origin.
    "credentials",
}


@pytest.mark.browser
def test_canonical_paths_are_the_keys_chromium_asks_for(page):
    browser_keys = page.evaluate(BROWSER_KEYS, [REFERENCES, BASE])
    mismatches = []
    for reference, browser_key in zip(REFERENCES, browser_keys, strict=True):
        if reference.startswith(("data:", "javascript:", "mailto:")):
            browser_key = (
                None  # Not http(s): nothing to fetch, whatever the origin says.
            )
        server_key = canonical_path(reference, BASE, ORIGIN)
        if browser_key in STRICTER:
            assert server_key is None, reference
        elif server_key != browser_key:
            mismatches.append((reference, server_key, browser_key))
    assert mismatches == []
