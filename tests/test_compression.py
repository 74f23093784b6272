"""Control files are served gzip-compressed to browsers that accept it, with or without
Django's GZipMiddleware, compressed once per content and never twice."""

import gzip
import hashlib
import json

import pytest
from django.test import RequestFactory

from tests.factories import StandardPageFactory
from wagtail_offline.compression import accepts_gzip
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.manifest_parts import assemble
from wagtail_offline.models import OfflineManifest
from wagtail_offline.views import WORKER_CODE_PATH, without_comment_lines, worker_code

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br, zstd"}  # What Chromium sends.
GZIP_MIDDLEWARE = "django.middleware.gzip.GZipMiddleware"


def revision(text):
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@pytest.fixture
def manifest_url(site):
    """A stored manifest of 200 pages (built directly: rendering 200 pages is slow)."""
    entries = [
        {
            "url": f"/trails/walk-number-{number}/",
            "revision": revision(str(number)),
            "size": 4000 + number,
            "kind": "page",
            "critical": False,
        }
        for number in range(200)
    ]
    manifest = OfflineManifest(
        site=site, version=revision("200 walks"), entries=entries
    )
    manifest.save()
    return f"/offline/manifest-{manifest.version}.json"


@pytest.fixture
def built(site, home):
    StandardPageFactory(parent=home, slug="trails", offline_available=True)
    return rebuild_site_manifest(site)


def test_the_manifest_goes_over_the_wire_compressed_and_decompresses_to_the_same_bytes(
    client, manifest_url
):
    plain_bytes = compressed_bytes = 0

    def read(url):
        nonlocal plain_bytes, compressed_bytes
        plain = client.get(url)
        compressed = client.get(url, **GZIP)
        assert "Content-Encoding" not in plain
        assert compressed["Content-Encoding"] == "gzip"
        for response in (plain, compressed):
            assert int(response["Content-Length"]) == len(response.content)
            assert "Accept-Encoding" in response["Vary"]
        assert gzip.decompress(compressed.content) == plain.content
        plain_bytes += len(plain.content)
        compressed_bytes += len(compressed.content)
        return plain.content

    # The root, its indexes and its parts.
    root = read(manifest_url)
    assert len(assemble(root, read)["entries"]) == 200
    # The bytes a reader's browser downloads: JSON of this shape compresses about 4x
    # even in parts of a dozen entries.
    assert compressed_bytes * 3 < plain_bytes, (compressed_bytes, plain_bytes)


def test_each_encoding_has_its_own_etag_and_answers_304_to_it(client, manifest_url):
    plain_etag = client.get(manifest_url)["ETag"]
    gzip_etag = client.get(manifest_url, **GZIP)["ETag"]
    assert gzip_etag != plain_etag

    again = client.get(manifest_url, HTTP_IF_NONE_MATCH=gzip_etag, **GZIP)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == gzip_etag
    assert "Accept-Encoding" in again["Vary"]
    assert client.get(manifest_url, HTTP_IF_NONE_MATCH=plain_etag).status_code == 304
    # A browser that no longer accepts gzip does not have the plain bytes yet.
    refused = client.get(manifest_url, HTTP_IF_NONE_MATCH=gzip_etag)
    assert refused.status_code == 200 and "Content-Encoding" not in refused


@pytest.mark.parametrize(
    "accept_encoding, gzip_allowed",
    [
        ("gzip, deflate, br", True),
        ("GZip;q=0.5", True),
        ("*", True),
        ("br;q=1.0, *;q=0.1", True),
        ("", False),
        ("identity", False),
        ("deflate, br", False),
        ("gzip;q=0, deflate", False),
        ("gzip; q=0.000", False),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("gzips", False),
    ],
)
def test_gzip_is_used_only_when_accept_encoding_allows_it(
    accept_encoding, gzip_allowed
):
    request = RequestFactory().get("/sw.js", HTTP_ACCEPT_ENCODING=accept_encoding)
    assert accepts_gzip(request) is gzip_allowed


def test_a_browser_refusing_gzip_gets_the_plain_manifest(client, manifest_url):
    refusing = {"HTTP_ACCEPT_ENCODING": "gzip;q=0, identity"}
    response = client.get(manifest_url, **refusing)
    assert "Content-Encoding" not in response
    part_url = json.loads(response.content)["indexes"][0]
    part = client.get(part_url, **refusing)
    assert "Content-Encoding" not in part
    assert json.loads(part.content)["parts"]


def test_the_manifest_is_compressed_once_per_version(client, manifest_url, monkeypatch):
    calls = []
    compress = gzip.compress

    def counting(data, *args, **kwargs):
        calls.append(len(data))
        return compress(data, *args, **kwargs)

    monkeypatch.setattr(gzip, "compress", counting)
    for _ in range(3):
        assert client.get(manifest_url, **GZIP)["Content-Encoding"] == "gzip"
        client.get(manifest_url)
    assert len(calls) == 1


@pytest.mark.parametrize("middleware", [False, True])
def test_gzip_middleware_never_compresses_twice(
    client, settings, manifest_url, built, middleware
):
    if middleware:
        settings.MIDDLEWARE = [GZIP_MIDDLEWARE, *settings.MIDDLEWARE]
    plain_manifest = OfflineManifest.objects.get(version=built.version).payload
    for url in ("/sw.js", f"/offline/manifest-{built.version}.json"):
        response = client.get(url, **GZIP)
        assert response["Content-Encoding"] == "gzip"
        body = gzip.decompress(response.content)
        assert not body.startswith(b"\x1f\x8b")  # Not gzip inside gzip.
        # A strong ETag of our own, not the weakened one of GZipMiddleware.
        assert response["ETag"].startswith('"')
        assert (
            client.get(url, HTTP_IF_NONE_MATCH=response["ETag"], **GZIP).status_code
            == 304
        )
    assert body == plain_manifest.encode()


def test_sw_js_and_the_app_manifest_are_compressed_too(client, built):
    for url in ("/sw.js", "/offline/app.webmanifest"):
        plain = client.get(url)
        compressed = client.get(url, **GZIP)
        assert compressed["Content-Encoding"] == "gzip", url
        assert gzip.decompress(compressed.content) == plain.content
        assert compressed["Cache-Control"] == plain["Cache-Control"] == "no-cache"
        # /sw.js varies with the host too: each site serves its own.
        assert "Accept-Encoding" in compressed["Vary"]
    assert "Host" in client.get("/sw.js", **GZIP)["Vary"]


def test_the_worker_code_is_compressed_at_its_immutable_url(client, built):
    code_url = f"/offline/worker-{worker_code()[1]}.js"
    assert code_url in client.get("/sw.js").content.decode()
    compressed = client.get(code_url, **GZIP)
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == client.get(code_url).content
    assert "immutable" in compressed["Cache-Control"]


def test_the_worker_code_is_served_without_its_comment_lines(client, built):
    source = WORKER_CODE_PATH.read_text()
    served = client.get(f"/offline/worker-{worker_code()[1]}.js").content.decode()
    assert "/*" not in served.replace("/*/", "") and "\n//" not in served
    code_lines = [
        line
        for line in source.splitlines()
        if line.strip() and not line.strip().startswith(("//", "/*", "*"))
    ]
    assert served.splitlines() == code_lines
    assert len(gzip.compress(served.encode(), 9)) < 0.7 * len(
        gzip.compress(source.encode(), 9)
    )


def test_the_worker_code_keeps_to_what_stripping_its_comments_assumes():
    """No string spans lines (an odd number of backticks), and every block comment ends
    at the end of its own line, so a line that starts a comment is all comment."""
    in_block = False
    for number, line in enumerate(WORKER_CODE_PATH.read_text().splitlines(), 1):
        stripped = line.strip()
        assert line.count("`") % 2 == 0, (
            f"line {number} opens a string it does not close"
        )
        if stripped.startswith("/*"):
            in_block = True
        if in_block and "*/" in stripped:
            assert stripped.endswith("*/"), f"line {number} has code after a comment"
            in_block = False


def test_without_comment_lines_keeps_code_and_drops_comments():
    source = (
        '"use strict";\n/**\n * Why.\n */\nconst a = 1; // kept: code first\n\n'
        "  // a note\n/* one line */\nfunction b() {\n  return '/* not a comment */';\n}\n"
    )
    assert without_comment_lines(source) == (
        '"use strict";\nconst a = 1; // kept: code first\nfunction b() {\n'
        "  return '/* not a comment */';\n}\n"
    )


@pytest.fixture
def long_listing(site, home):
    """A listing of 60 pages: it grows with the site, which is why it is compressed."""
    section = StandardPageFactory(
        parent=home, slug="walks", offline_available=True, offline_include_subpages=True
    )
    for number in range(60):
        StandardPageFactory(
            parent=section, title=f"Walk number {number}", slug=f"walk-{number}"
        )
    rebuild_site_manifest(site)


@pytest.mark.parametrize("middleware", [False, True])
def test_the_listing_goes_over_the_wire_compressed_to_every_worker(
    client, settings, long_listing, middleware
):
    if middleware:
        settings.MIDDLEWARE = [GZIP_MIDDLEWARE, *settings.MIDDLEWARE]
    # What a worker sends when it precaches the listing: no cookies, gzip accepted.
    compressed = client.get("/offline/", **GZIP)
    assert compressed["Content-Encoding"] == "gzip"
    html = gzip.decompress(compressed.content)
    assert not html.startswith(b"\x1f\x8b")  # Not gzip inside gzip.
    assert b'href="/walks/walk-59/"' in html
    assert len(compressed.content) * 5 < len(html), (len(compressed.content), len(html))
    assert "Accept-Encoding" in compressed["Vary"]
    # A browser that accepts no gzip reads the same page, plain.
    plain = client.get("/offline/")
    assert "Content-Encoding" not in plain
    assert plain.content == html
    assert plain["ETag"] != compressed["ETag"]
    not_modified = client.get(
        "/offline/", HTTP_IF_NONE_MATCH=compressed["ETag"], **GZIP
    )
    assert not_modified.status_code == 304
    assert "Accept-Encoding" in not_modified["Vary"]
    assert (
        client.get("/offline/", HTTP_IF_NONE_MATCH=plain["ETag"], **GZIP).status_code
        == 200
    )
    # A visitor with a cookie gets the page rendered for them, whatever ETag they send.
    client.cookies["theme"] = "dark"
    personal = client.get("/offline/", HTTP_IF_NONE_MATCH=compressed["ETag"], **GZIP)
    assert personal.status_code == 200
    body = personal.content
    if middleware:  # The site's own compression, as for any page of the site.
        body = gzip.decompress(body)
    assert b'href="/walks/walk-59/"' in body


def test_a_listing_rendered_for_one_visitor_is_left_to_the_sites_compression(
    client, long_listing
):
    # With a cookie the page is rendered for this request: nothing is compressed by the
    # plugin, so a secret in it (a CSRF token) is never compressed without padding.
    client.cookies["theme"] = "dark"
    response = client.get("/offline/", **GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert b'href="/walks/walk-59/"' in response.content


def test_every_index_and_part_is_at_the_url_of_its_digest_under_any_script_prefix(
    client, site
):
    from django.urls import reverse, set_script_prefix

    def digest_of(url):
        return url.rsplit("/", 1)[1].removesuffix(".json")

    manifest = OfflineManifest(site=site, version=revision("prefix"))
    manifest.entries = [
        {"url": f"/w/{n}/", "revision": revision(str(n)), "size": 1}
        | {"kind": "page", "critical": False}
        for n in range(300)
    ]
    try:
        set_script_prefix("/mounted/")  # As a project mounted under a path is served.
        manifest.save()
        expected = {
            digest: reverse("wagtail_offline:manifest_part", args=[digest])
            for digest in manifest_documents(site)
        }
    finally:
        set_script_prefix("/")
    indexes = json.loads(manifest.payload)["indexes"]
    parts = [
        url
        for index in indexes
        for url in json.loads(client.get(index.removeprefix("/mounted")).content)[
            "parts"
        ]
    ]
    assert len(parts) == manifest.part_count > 8
    for url in indexes + parts:
        assert url.startswith("/mounted/offline/parts/")
        assert url == expected[digest_of(url)]


def manifest_documents(site):
    from wagtail_offline.models import OfflineManifestPart

    return OfflineManifestPart.objects.filter(site=site).values_list(
        "digest", flat=True
    )
