"""Building the manifest: pages rendered anonymously, their assets found, problems reported."""

import pytest
from django.test import Client
from wagtail.models import Site
from wagtail_factories import ImageFactory

from tests.factories import StandardPageFactory, restrict_with_password
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineSettings
from wagtail_offline.rendering import AnonymousClient
from wagtail_offline.signal_handlers import sites_containing

pytestmark = pytest.mark.django_db


def urls(manifest, kind=None):
    return {entry["url"] for entry in manifest.entries if kind in (None, entry["kind"])}


def test_flagged_pages_and_all_their_assets_are_entries(site, trails):
    image = ImageFactory()
    StandardPageFactory(parent=trails, title="Ridge", slug="ridge", image=image)
    manifest = rebuild_site_manifest(site)

    assert urls(manifest, "page") == {"/trails/", "/trails/ridge/"}
    assert urls(manifest, "fallback") == {"/offline/unavailable/"}
    assert urls(manifest, "listing") == {"/offline/"}
    assets = urls(manifest, "asset")
    # The stylesheet, what it imports and loads (font, background), the script and the icon.
    assert {
        "/static/testapp/css/site.css",
        "/static/testapp/css/print.css",
        "/static/testapp/fonts/trail.woff2",
        "/static/testapp/bg.svg",
        "/static/testapp/icon.svg",
        "/static/testapp/js/site.js",
        "/static/wagtail_offline/register.js",
        "/static/wagtail_offline/offline.css",
    } <= assets
    # Both renditions of the srcset.
    renditions = {url for url in assets if url.startswith("/media/images/")}
    assert len(renditions) == 2
    assert all(entry["revision"] and entry["size"] > 0 for entry in manifest.entries)


def test_pages_are_rendered_as_an_anonymous_reader_sees_them(
    site, trails, django_user_model
):
    StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    manifest = rebuild_site_manifest(site)
    # The userbar's assets live in the admin's static files; none may be an entry.
    assert not any("wagtailadmin" in url for url in urls(manifest))


def test_critical_set_holds_the_fallback_and_listing_with_their_assets(site, trails):
    manifest = rebuild_site_manifest(site)
    critical = {entry["url"] for entry in manifest.entries if entry["critical"]}
    assert critical == {
        "/offline/",
        "/offline/unavailable/",
        "/offline/queued/",  # what a reader sees after sending a form offline
        "/offline/app.webmanifest",  # so that the installed site opens offline
        "/static/wagtail_offline/offline.css",
        "/static/wagtail_offline/register.js",
        # The readers' tools on those pages: the status region, the listing's search.
        "/static/wagtail_offline/reader.css",
        "/static/wagtail_offline/reader.js",
    }


def test_the_editors_fallback_page_replaces_the_built_in_one(site, home, trails):
    sorry = StandardPageFactory(parent=home, title="Sorry", slug="sorry")
    settings = OfflineSettings.for_site(site)
    settings.fallback_page = sorry
    settings.save()
    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "fallback") == {"/sorry/"}
    assert "/static/testapp/css/site.css" in {
        entry["url"] for entry in manifest.entries if entry["critical"]
    }


def test_a_private_fallback_page_is_reported_and_not_used(site, home, trails):
    sorry = StandardPageFactory(parent=home, title="Sorry", slug="sorry")
    restrict_with_password(sorry)
    settings = OfflineSettings.for_site(site)
    settings.fallback_page = sorry
    settings.save()
    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "fallback") == {"/offline/unavailable/"}
    assert any("Sorry" in problem["message"] for problem in manifest.problems)


def test_a_page_that_raises_is_left_out_and_the_others_still_ship(
    site, trails, monkeypatch
):
    broken = StandardPageFactory(parent=trails, title="Broken", slug="broken")
    StandardPageFactory(parent=trails, title="Fine", slug="fine")
    from tests.testapp.models import StandardPage

    original = StandardPage.serve

    def serve(self, request, *args, **kwargs):
        if self.pk == broken.pk:
            raise RuntimeError("template exploded")
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(StandardPage, "serve", serve)
    manifest = rebuild_site_manifest(site)
    assert "/trails/fine/" in urls(manifest, "page")
    assert "/trails/broken/" not in urls(manifest)
    [problem] = [p for p in manifest.problems if p["url"] == "/trails/broken/"]
    assert problem["page_id"] == broken.pk
    assert "template exploded" in problem["message"]


@pytest.mark.parametrize("status", [404, 500])
def test_a_page_answering_an_error_is_left_out(site, trails, monkeypatch, status):
    from django.http import HttpResponse

    from tests.testapp.models import StandardPage

    bad = StandardPageFactory(parent=trails, title="Bad", slug="bad")
    original = StandardPage.serve
    monkeypatch.setattr(
        StandardPage,
        "serve",
        lambda self, request, *a, **k: (
            HttpResponse(status=status)
            if self.pk == bad.pk
            else original(self, request, *a, **k)
        ),
    )
    manifest = rebuild_site_manifest(site)
    assert "/trails/bad/" not in urls(manifest)
    assert any(f"status {status}" in p["message"] for p in manifest.problems)
    assert "/trails/" in urls(manifest, "page")


def test_a_redirecting_page_is_left_out_with_a_clear_message(site, trails, monkeypatch):
    from django.shortcuts import redirect

    from tests.testapp.models import StandardPage

    moved = StandardPageFactory(parent=trails, title="Moved", slug="moved")
    original = StandardPage.serve
    monkeypatch.setattr(
        StandardPage,
        "serve",
        lambda self, request, *a, **k: (
            redirect("/trails/")
            if self.pk == moved.pk
            else original(self, request, *a, **k)
        ),
    )
    manifest = rebuild_site_manifest(site)
    assert "/trails/moved/" not in urls(manifest)
    assert any("redirects to /trails/" in p["message"] for p in manifest.problems)


def test_a_missing_or_oversized_asset_is_reported_not_fatal(site, trails, settings):
    settings.WAGTAIL_OFFLINE_MAX_ASSET_SIZE = 60
    manifest = rebuild_site_manifest(site)
    # site.css is larger than 60 bytes: left out, and the page still ships.
    assert "/static/testapp/css/site.css" not in urls(manifest)
    assert "/trails/" in urls(manifest, "page")
    assert any(
        "site.css" in p["message"] and "limit" in p["message"]
        for p in manifest.problems
    )


def test_the_version_changes_exactly_when_an_entry_changes(site, trails):
    first = rebuild_site_manifest(site).version
    assert rebuild_site_manifest(site).version == first
    trails.title = "Trails and paths"
    trails.save_revision().publish()
    assert rebuild_site_manifest(site).version != first


def test_each_site_has_its_own_manifest(site, trails, root_page):
    other_home = StandardPageFactory(
        parent=root_page, title="Other", slug="other", offline_available=True
    )
    other = Site.objects.create(hostname="other.example", root_page=other_home)
    ours, theirs = rebuild_site_manifest(site), rebuild_site_manifest(other)
    assert urls(ours, "page") == {"/trails/"}
    assert urls(theirs, "page") == {"/"}


def serve_html(monkeypatch, html, only=None):
    """StandardPages answer ``html`` (all of them, or the one with pk ``only``)."""
    from django.http import HttpResponse

    from tests.testapp.models import StandardPage

    original = StandardPage.serve

    def serve(self, request, *args, **kwargs):
        if only is None or self.pk == only:
            return HttpResponse(html)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(StandardPage, "serve", serve)


def test_cross_origin_assets_are_reported_as_not_working_offline(
    site, trails, monkeypatch, settings, tmp_path
):
    settings.STATIC_ROOT = str(tmp_path)
    (tmp_path / "fonts.css").write_text(
        '@import url("https://fonts.example/trail.css");\n'
        "body { background: url(data:image/png;base64,AAAA) }"
    )
    serve_html(
        monkeypatch,
        '<link rel="stylesheet" href="/static/fonts.css">'
        '<script src="https://cdn.example/map.js"></script>'
        '<img src="data:image/gif;base64,R0lGOD"><a href="https://elsewhere.example/">ok</a>',
    )
    manifest = rebuild_site_manifest(site)
    assert "/static/fonts.css" in urls(manifest, "asset")
    assert not any("example" in url or "data:" in url for url in urls(manifest))
    reported = {
        p["url"]: p["message"] for p in manifest.problems if p["level"] == "error"
    }
    assert set(reported) == {
        "https://cdn.example/map.js",
        "https://fonts.example/trail.css",
    }
    assert reported["https://cdn.example/map.js"] == (
        "https://cdn.example/map.js (used by /trails/) is on another site and will not work offline."
    )
    assert "(used by /static/fonts.css)" in reported["https://fonts.example/trail.css"]


def test_sub_routes_of_a_routable_page_are_entries_of_their_own(site, home):
    from tests.testapp.models import EventsPage

    events = home.add_child(
        instance=EventsPage(title="Events", slug="events", offline_available=True)
    )
    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "page") == {"/events/", "/events/past/"}
    revisions = {e["url"]: e["revision"] for e in manifest.entries}
    assert revisions["/events/"] != revisions["/events/past/"]
    assert events.get_offline_urls()[1] == {"location": "/events/past/"}


def test_get_offline_urls_receives_a_request_for_the_site(site, trails, monkeypatch):
    from tests.testapp.models import StandardPage

    seen = []
    original = StandardPage.get_offline_urls

    def get_offline_urls(self, request=None):
        seen.append((request.get_host(), request.user.is_authenticated))
        return original(self, request) + [{"location": "/trails/?print=1"}]

    monkeypatch.setattr(
        StandardPage, "get_offline_urls", get_offline_urls, raising=False
    )
    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "page") == {"/trails/", "/trails/?print=1"}
    assert seen == [("localhost", False)]


def test_a_url_on_another_site_is_reported_not_rendered(site, trails, monkeypatch):
    from tests.testapp.models import StandardPage

    monkeypatch.setattr(
        StandardPage,
        "get_offline_urls",
        lambda self, request=None: [{"location": "http://other.example/trails/"}],
        raising=False,
    )
    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "page") == set()
    assert any(
        "http://other.example/trails/ belongs to another site" in p["message"]
        for p in manifest.problems
    )


def test_a_page_serving_a_huge_body_or_a_missing_asset_is_reported(
    site, trails, monkeypatch
):
    serve_html(
        monkeypatch,
        '<link rel="stylesheet" href="/static/testapp/css/gone.css">'
        '<img src="/media/images/gone.jpg">',
    )
    manifest = rebuild_site_manifest(site)
    messages = [p["message"] for p in manifest.problems]
    assert "The static file /static/testapp/css/gone.css does not exist." in messages
    assert "The media file /media/images/gone.jpg does not exist." in messages
    assert "/trails/" in urls(manifest, "page")


def test_a_document_over_the_size_limit_is_reported(site, trails, settings):
    from wagtail_factories import DocumentFactory

    document = DocumentFactory(title="Atlas", file__data=b"x" * 100)
    trails.body = f'<p><a linktype="document" id="{document.pk}">Atlas</a></p>'
    trails.save_revision().publish()
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.include_documents = True
    offline_settings.save()
    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "document") == {document.url}
    settings.WAGTAIL_OFFLINE_MAX_ASSET_SIZE = 99
    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "document") == set()
    assert any(
        document.url in p["message"] and "limit" in p["message"]
        for p in manifest.problems
    )


def test_a_broken_link_to_a_document_is_reported(site, trails, monkeypatch):
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.include_documents = True
    offline_settings.save()
    serve_html(monkeypatch, '<a href="/documents/999/gone.pdf">Gone</a>')
    manifest = rebuild_site_manifest(site)
    assert any(
        p["message"]
        == "/documents/999/gone.pdf links to a document that does not exist."
        for p in manifest.problems
    )


def test_the_critical_pages_failing_is_a_clear_error(site, trails, settings):
    from wagtail_offline.manifest import ManifestError

    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [], "APP_DIRS": False}
    ]  # no template can be found, not even the listing's
    with pytest.raises(ManifestError, match="/offline/unavailable/ is needed offline"):
        rebuild_site_manifest(site)


def test_translated_pages_are_entries_of_their_own(site, home, trails, settings):
    from wagtail.models import Locale

    settings.WAGTAIL_I18N_ENABLED = True
    settings.LANGUAGES = settings.WAGTAIL_CONTENT_LANGUAGES = [
        ("en", "English"),
        ("fr", "French"),
    ]
    settings.ROOT_URLCONF = "tests.urls_i18n"
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.middleware.locale.LocaleMiddleware",
    ]
    StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    french = Locale.objects.create(language_code="fr")
    for page in (home, trails, trails.get_children().get().specific):
        translation = page.copy_for_translation(french)
        translation.title = f"{page.title} (fr)"
        translation.save_revision().publish()

    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "page") == {
        "/trails/",
        "/trails/ridge/",
        "/fr/trails/",
        "/fr/trails/ridge/",
    }
    revisions = {e["url"]: e["revision"] for e in manifest.entries}
    assert revisions["/trails/ridge/"] != revisions["/fr/trails/ridge/"]
    # Publishing a translation rebuilds the site it belongs to.
    assert sites_containing(translation) == [site.pk]
    # The listing shows the translations too.
    listing = Client().get("/offline/").content.decode()
    assert 'href="/fr/trails/ridge/"' in listing and 'href="/trails/ridge/"' in listing


def test_a_page_type_without_the_mixin_below_a_flagged_section_is_offline(site, trails):
    from tests.factories import PlainPageFactory

    PlainPageFactory(parent=trails, title="Map", slug="map")
    manifest = rebuild_site_manifest(site)
    assert "/trails/map/" in urls(manifest, "page")
    assert not [p for p in manifest.problems if p["level"] == "error"]


def test_assembly_runs_with_the_cycle_collector_paused_and_restores_it(
    site, trails, monkeypatch
):
    import gc

    from wagtail_offline import manifest as manifest_module

    assemble = manifest_module.assemble_and_store
    seen = []

    def recording_assemble(*args, **kwargs):
        seen.append(gc.isenabled())
        return assemble(*args, **kwargs)

    monkeypatch.setattr(manifest_module, "assemble_and_store", recording_assemble)
    assert gc.isenabled()
    manifest = rebuild_site_manifest(site)
    assert seen == [False]
    assert gc.isenabled()
    assert "/trails/" in urls(manifest, "page")


def test_the_cycle_collector_comes_back_after_a_failed_step_and_stays_off_if_it_was():
    import gc

    from wagtail_offline.manifest import cycle_collection_paused

    with pytest.raises(RuntimeError):
        with cycle_collection_paused():
            assert not gc.isenabled()
            raise RuntimeError("the step failed")
    assert gc.isenabled()

    gc.disable()
    try:
        with cycle_collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_full_build_meets_each_page_once_whatever_is_published_or_moved_meanwhile(
    site, trails, monkeypatch
):
    from wagtail_offline import manifest as manifest_module
    from wagtail_offline.models import OfflinePageSnapshot

    for number in range(5):
        StandardPageFactory(parent=trails, title=f"Walk {number}", slug=f"w{number}")
    monkeypatch.setattr(manifest_module, "CANDIDATES_BY_ID", 2)
    monkeypatch.setattr(manifest_module, "SNAPSHOT_BATCH", 4)
    met = []

    def progress(number, total, page):
        met.append((number, total, str(page)))
        if number == 2:  # Published while the build renders: met last.
            StandardPageFactory(parent=trails, title="Walk 5", slug="w5")
        if number == 3:  # Reordered meanwhile: every sibling after it moves down.
            walk = trails.get_children().get(slug="w4")
            walk.move(trails.get_children().get(slug="w0"), pos="left")

    rebuild_site_manifest(site, progress=progress)
    titles = ["Trails", *(f"Walk {number}" for number in range(6))]
    assert [title for _number, _total, title in met] == titles
    assert [total for _number, total, _title in met] == [6] * 6 + [7]
    # The last page rendered is in no full batch: it is stored all the same.
    snapshots = OfflinePageSnapshot.objects.filter(site=site)
    assert set(snapshots.values_list("page__title", flat=True)) == set(titles)


def test_a_critical_render_collects_the_cycles_left_while_the_collector_is_paused(
    site, trails
):
    """A large listing's parts, each left in a cycle by its render, must not pile up
    while a build has the collector paused; a collector the process disabled is its own."""
    import gc
    import weakref

    from wagtail_offline.manifest import cycle_collection_paused, render_critical

    class Node:
        pass

    def garbage_in_a_cycle():
        node = Node()
        node.self = node
        return weakref.ref(node)

    client = AnonymousClient(site)
    with cycle_collection_paused():
        left = garbage_in_a_cycle()
        render_critical(client, "/offline/")
        assert left() is None

    gc.disable()
    try:
        with cycle_collection_paused():
            left = garbage_in_a_cycle()
            render_critical(client, "/offline/")
            assert left() is not None
    finally:
        gc.enable()
