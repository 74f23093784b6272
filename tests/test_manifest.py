"""Building the manifest: pages rendered anonymously, their assets found, problems reported."""

import pytest
from wagtail.models import Site
from wagtail_factories import ImageFactory

from tests.factories import StandardPageFactory, restrict_with_password
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineSettings

pytestmark = pytest.mark.django_db


def urls(manifest, kind=None):
    return {entry["url"] for entry in manifest.entries if kind in (None, entry["kind"])}


@pytest.fixture
def trails(home):
    return StandardPageFactory(
        parent=home,
        title="Trails",
        slug="trails",
        offline_available=True,
        offline_include_subpages=True,
    )


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
        "/static/wagtail_offline/offline.css",
        "/static/wagtail_offline/register.js",
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
