"""Hostile spellings and hostile pages: privacy is decided on the one canonical name of a URL,
no entry leaves the site's origin, and no page makes a build fetch without bound."""

from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse
from wagtail.images.utils import generate_signature
from wagtail_factories import DocumentFactory, ImageFactory

from tests.factories import StandardPageFactory
from tests.test_privacy import (
    messages,
    private_collection,
    public_collection,
    serve_html,
    urls,
)
from wagtail_offline import rendering
from wagtail_offline.assets import same_origin_paths
from wagtail_offline.manifest import rebuild_site_manifest

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost"


def respellings(path):
    """Ways to write ``/media/<folder>/<file>`` that browsers and servers read as that file."""
    prefix, folder, name = path.rsplit("/", 2)
    return [
        f"{prefix}/{folder}/%2e/{name}",
        f"{prefix}/{folder}/%2E/{name}",
        f"{prefix}/{folder}/./{name}",
        f"{prefix}/{folder}//{name}",
        f"{prefix}//{folder}/{name}",
        f"{prefix}/{folder}/%2e%2e/{folder}/{name}",
        f"{prefix}/{folder}/.%2E/{folder}/{name}",
        f"{prefix}/{folder}/../{folder}/{name}",
        f"{prefix}/x/%2e%2e/{folder}/{name}",
        f"{prefix}\\{folder}\\{name}",
        f"{prefix}/{folder}%2F{name}",
        f"{prefix}/%{ord(folder[0]):02X}{folder[1:]}/{name}",
        f"{prefix}/x%2F..%2F{folder}/{name}",
        f"{prefix}/{folder}/{name}?v=1",
        f"{ORIGIN}{path}",
        f"{ORIGIN}:80{path}",
        f"//localhost{path}",
        f"/./{path}",
        f"  {path}\t",
    ]


def served_paths(manifest):
    from wagtail_offline.paths import served_path

    return {served_path(url) for url in urls(manifest)}


def assert_refused_by_every_spelling(manifest, path):
    """``path`` ships by no spelling, and every spelling was reported to the editors."""
    assert path not in served_paths(manifest)
    reported = {problem["url"] for problem in manifest.problems}
    for spelling in respellings(path):
        assert any(spelling.strip().endswith(url) for url in reported) or any(
            url in reported
            for url in same_origin_paths([spelling], ORIGIN + "/", ORIGIN)[0]
        ), spelling


def img_tags(spellings, tag="img"):
    return "".join(f'<{tag} src="{spelling}">' for spelling in spellings)


def test_a_private_image_is_refused_by_every_spelling_of_its_original(
    site, trails, monkeypatch
):
    secret = ImageFactory(title="Hidden cave", collection=private_collection())
    serve_html(monkeypatch, img_tags(respellings(secret.file.url)))

    manifest = rebuild_site_manifest(site)

    assert_refused_by_every_spelling(manifest, secret.file.url)
    assert "“Hidden cave” from the private collection “Maps”" in messages(manifest)


def test_a_rendition_of_a_private_image_is_refused_by_every_spelling(
    site, trails, monkeypatch
):
    secret = ImageFactory(title="Hidden cave", collection=private_collection())
    rendition = secret.get_rendition("width-100")
    serve_html(monkeypatch, img_tags(respellings(rendition.url)))

    manifest = rebuild_site_manifest(site)

    assert_refused_by_every_spelling(manifest, rendition.url)


def test_a_private_document_is_refused_by_every_spelling_of_its_media_url(
    site, trails, monkeypatch
):
    secret = DocumentFactory(title="Ranger rota", collection=private_collection())
    serve_html(monkeypatch, img_tags(respellings(secret.file.url), tag="embed"))

    manifest = rebuild_site_manifest(site)

    assert_refused_by_every_spelling(manifest, secret.file.url)
    assert "“Ranger rota” in the private collection “Maps”" in messages(manifest)


def test_public_media_by_another_spelling_ships_under_its_canonical_name(
    site, trails, monkeypatch
):
    shown = ImageFactory(title="Ridge view", collection=public_collection())
    document = DocumentFactory(title="Trail map", collection=public_collection())
    directory, name = shown.file.url.rsplit("/", 1)
    serve_html(
        monkeypatch,
        f'<img src="{directory}/%2e/{name}"><embed src="{document.file.url}">',
    )

    manifest = rebuild_site_manifest(site)

    assert {shown.file.url, document.file.url} <= urls(manifest, "asset")


def test_a_private_image_is_refused_through_wagtails_serve_view(
    site, trails, monkeypatch
):
    secret = ImageFactory(title="Hidden cave", collection=private_collection())
    shown = ImageFactory(title="Ridge view", collection=public_collection())

    def serve_url(image):
        signature = generate_signature(image.pk, "width-100")
        return reverse(
            "wagtailimages_serve", args=(signature, image.pk, "width-100")
        ) + ("cave.jpg" if image == secret else "ridge.jpg")

    serve_html(
        monkeypatch, f'<img src="{serve_url(secret)}"><img src="{serve_url(shown)}">'
    )

    manifest = rebuild_site_manifest(site)

    assert serve_url(secret) not in urls(manifest)
    assert serve_url(shown) in urls(manifest, "asset")
    assert "“Hidden cave” from the private collection “Maps”" in messages(manifest)


@pytest.mark.parametrize(
    "reference",
    [
        "/.//other.host/x/",
        "/%2e//other.host/x/",
        "/a/..//other.host/x/",
        "/\\other.host/x/",
        "\\\\other.host/x/",
        "//other.host/x/",
        "http:\\\\other.host/x/",
        "http://other.host/x/",
        "http://localhost@other.host/x/",
        "https://localhost/x/",
        "http://localhost:8000/x/",
        "./..//..//other.host/x/",
        "..//other.host",
        "x/../..//other.host/",
        "http:/other.host/x/",
        " \t//other.host/x/",
    ],
)
def test_no_same_origin_path_leaves_the_origin_when_a_browser_resolves_it(reference):
    local, foreign = same_origin_paths([reference], f"{ORIGIN}/trails/ridge/", ORIGIN)
    for path in local:
        resolved = urlsplit(urljoin(ORIGIN + "/trails/", path))
        assert (resolved.scheme, resolved.netloc) == ("http", "localhost"), path
        assert path.startswith("/") and not path.startswith("//"), path
    assert len(local) + len(foreign) == 1


def test_entries_of_a_lenient_route_never_become_scheme_relative(
    site, trails, monkeypatch
):
    # A catch-all answers any path, as some sites' routes do.
    monkeypatch.setattr(
        rendering,
        "_open_from_storage",
        lambda path: b"anything" if "other.host" in path else None,
    )
    serve_html(monkeypatch, '<img src="/.//other.host/x/"><img src="/%2e//o.h/y">')

    manifest = rebuild_site_manifest(site)

    assert not any(url.startswith("//") for url in urls(manifest))
    assert "/other.host/x/" in urls(manifest, "asset")


@pytest.mark.parametrize(
    "reference, expected",
    [
        ("/a/%2e/b", "/a/b"),
        ("/a/%2E%2e/b", "/b"),
        ("/a//b///c", "/a/b/c"),
        ("/a\\b", "/a/b"),
        ("../../../../x", "/x"),
        ("c/./d/.", "/p/c/d/"),
        ("café.jpg", "/p/caf%C3%A9.jpg"),
        ("/a b?q=é'", "/a%20b?q=%C3%A9%27"),
        ("?v=2", "/p/q?v=2"),
        ("/x#y", "/x"),
        ("http:z", "/p/z"),
        ("HTTP://LOCALHOST:80/up", "/up"),
        ("data:image/png,x", None),
        ("mailto:a@b.c", None),
    ],
)
def test_canonical_paths_follow_the_browser(reference, expected):
    from wagtail_offline.paths import canonical_path

    assert canonical_path(reference, f"{ORIGIN}/p/q", ORIGIN) == expected


def test_a_base_href_on_another_origin_makes_relative_urls_foreign():
    from wagtail_offline.paths import canonical_path

    assert canonical_path("x.jpg", "http://cdn.example/a/", ORIGIN) is None
    assert canonical_path("/x.jpg", "http://cdn.example/a/", ORIGIN) is None
    assert canonical_path("http://localhost/x.jpg", "http://cdn.example/", ORIGIN) == (
        "/x.jpg"
    )


@pytest.mark.parametrize(
    "path, served",
    [
        ("/media/a.jpg", "/media/a.jpg"),
        ("/media/caf%C3%A9.jpg", "/media/café.jpg"),
        ("/media/a%2Fb.jpg", "/media/a/b.jpg"),
        ("/media/x%2F..%2Fa.jpg", None),
        ("/media/x%2F%2Fa.jpg", None),
        ("/media/%2e%2e%5Cetc", None),
        ("/media/a%00.jpg", None),
    ],
)
def test_served_paths_are_decoded_and_refused_when_ambiguous(path, served):
    from wagtail_offline.paths import served_path

    assert served_path(path) == served


def test_a_page_with_thousands_of_urls_is_reported_not_fetched(
    site, trails, monkeypatch, settings
):
    settings.WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE = 40
    StandardPageFactory(parent=trails, slug="ridge", title="Ridge")
    images = "".join(f'<img src="/trails/?v={n}">' for n in range(300))
    serve_html(monkeypatch, images)
    fetched = []
    original_get = rendering.AnonymousClient.get
    monkeypatch.setattr(
        rendering.AnonymousClient,
        "get",
        lambda self, url: fetched.append(url) or original_get(self, url),
    )

    manifest = rebuild_site_manifest(site)

    assert len(fetched) < 10  # the pages, the fallback and the listing; no ?v=N
    assert not {"/trails/", "/trails/ridge/"} & urls(manifest)
    assert "uses 300 URLs of this site, over the limit of 40" in messages(manifest)
    assert "WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE" in messages(manifest)


def test_a_stylesheet_with_too_many_urls_is_reported(
    site, trails, monkeypatch, settings
):
    settings.WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE = 40
    css = "".join(f"a{n}{{background:url(/static/i{n}.png)}}" for n in range(100))
    monkeypatch.setattr(
        rendering,
        "_open_from_storage",
        lambda path: css.encode() if path == "/static/many.css" else None,
    )
    serve_html(monkeypatch, '<link rel="stylesheet" href="/static/many.css">')

    manifest = rebuild_site_manifest(site)

    assert "/static/many.css" not in urls(manifest)
    assert "/static/many.css uses 100 URLs of this site" in messages(manifest)


def test_a_pages_own_urls_never_lead_into_the_admin(site, trails, monkeypatch):
    from tests.testapp.models import StandardPage

    original = StandardPage.get_offline_urls

    def get_offline_urls(self, request=None):
        extra = ["/admin/login/", "/./admin/pages/", "/django-admin//", "/x%2F..%2Fy/"]
        return original(self, request) + [{"location": url} for url in extra]

    monkeypatch.setattr(StandardPage, "get_offline_urls", get_offline_urls)

    manifest = rebuild_site_manifest(site)

    assert "/trails/" in urls(manifest, "page")
    assert not any("admin" in url or "%2F" in url for url in urls(manifest))
    assert (
        "/admin/login/, /admin/pages/, /django-admin/, /x%2F..%2Fy/ is part of the admin"
        in messages(manifest)
    )


def test_urls_too_long_to_store_are_reported_and_the_build_goes_on(
    site, trails, monkeypatch
):
    long_path = "/media/" + "a" * 5000 + ".jpg"
    long_foreign = "https://elsewhere.example/" + "é" * 1500  # short in characters only
    serve_html(
        monkeypatch,
        f'<img src="{long_path}" alt=""><img src="{long_foreign}" alt="">'
        '<img src="/media/short.jpg" alt="">',
    )
    manifest = rebuild_site_manifest(site)

    assert "/trails/" in urls(manifest, "page")
    assert not any(len(url) > 2048 for url in urls(manifest))
    # The foreign one too: 1,526 characters, but more bytes than an entry may hold.
    assert messages(manifest).count("too long to be saved offline") == 2
    assert "5011 characters" in messages(manifest)
