"""A long listing is split into parts (listing.LINES_PER_PART): each is a page of its
own, precached with the critical set, and a publish counts them again only when what
the listing shows changed."""

from unittest import mock

import pytest
from django.urls import resolve

from tests.factories import StandardPageFactory
from tests.test_listing import content_of, offline_site  # noqa: F401 (a fixture)
from wagtail_offline import listing
from wagtail_offline import manifest as manifest_module
from wagtail_offline.listing import listing_url
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineManifest
from wagtail_offline.rendering import AnonymousClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_lines_a_part(monkeypatch, offline_site):  # noqa: F811
    """Lines: Trails (its section's heading), Ridge walk, Moor loop; Safety."""
    monkeypatch.setattr(listing, "LINES_PER_PART", 2)
    rebuild_site_manifest(offline_site)
    return offline_site


def listed(html):
    return [title for title in ("Ridge walk", "Moor loop", "Safety") if title in html]


def test_each_part_lists_its_lines_and_links_every_part(client, two_lines_a_part):
    first = content_of(client.get("/offline/"))
    second = content_of(client.get("/offline/2/"))
    assert listed(first) == ["Ridge walk"]
    assert '<h2><a href="/trails/">Trails</a></h2>' in first
    assert listed(second) == ["Moor loop", "Safety"]
    # A section split between two parts goes on under its title.
    assert "<h2>Trails</h2>" in second
    for html, current in ((first, "/offline/"), (second, "/offline/2/")):
        assert 'href="/offline/"' in html and 'href="/offline/2/"' in html
        assert f'<a href="{current}" aria-current="page">' in html


@pytest.mark.parametrize("path", ["/offline/3/", "/offline/1/", "/offline/02/"])
def test_parts_that_do_not_exist_or_are_spelled_otherwise_are_not_found(
    client, two_lines_a_part, path
):
    assert client.get(path).status_code == 404


def test_a_short_listing_is_one_part_with_no_links_to_parts(client, offline_site):  # noqa: F811
    html = content_of(client.get("/offline/"))
    assert listed(html) == ["Ridge walk", "Moor loop", "Safety"]
    assert "wagtail-offline__parts" not in html
    assert client.get("/offline/2/").status_code == 404


def test_every_part_is_precached_with_the_critical_set(two_lines_a_part):
    manifest = OfflineManifest.objects.get(site=two_lines_a_part)
    listings = {e["url"] for e in manifest.entries if e["kind"] == "listing"}
    assert listings == {"/offline/", "/offline/2/"}
    assert all(e["critical"] for e in manifest.entries if e["kind"] == "listing")
    assert manifest.listing_renders["/offline/"]["parts"] == 2


def test_a_publish_counts_the_parts_again_only_when_the_listing_changed(
    two_lines_a_part, monkeypatch
):
    site = two_lines_a_part
    trails = StandardPageFactory._meta.model.objects.get(slug="trails")
    counted, rendered = [], []
    count_sections = manifest_module.listing_sections_until
    monkeypatch.setattr(
        manifest_module,
        "listing_sections_until",
        lambda *args: counted.append(args) or count_sections(*args),
    )
    original_get = AnonymousClient.get

    def get(self, url, headers=None):
        rendered.append(url)
        return original_get(self, url, headers)

    with mock.patch.object(AnonymousClient, "get", get):
        ridge = trails.get_children().get(slug="ridge").specific
        ridge.body = "<p>A new paragraph: the listing shows none of it.</p>"
        ridge.save_revision().publish()
        rebuild_site_manifest(site, page_ids={ridge.pk}, scope=[ridge.pk])
        assert (counted, [u for u in rendered if u.startswith("/offline/2")]) == (
            [],
            [],
        )

        new = StandardPageFactory(parent=trails, title="Scree run", slug="scree")
        rebuild_site_manifest(site, page_ids={new.pk}, scope=[new.pk])
    assert len(counted) == 1
    manifest = OfflineManifest.objects.get(site=site)
    listings = {e["url"] for e in manifest.entries if e["kind"] == "listing"}
    assert listings == {"/offline/", "/offline/2/", "/offline/3/"}


def test_a_listing_that_shrinks_drops_its_last_part(
    client, two_lines_a_part, django_capture_on_commit_callbacks
):
    site = two_lines_a_part
    trails = StandardPageFactory._meta.model.objects.get(slug="trails")
    scree = StandardPageFactory(parent=trails, title="Scree run", slug="scree")
    rebuild_site_manifest(site, page_ids={scree.pk}, scope=[scree.pk])
    assert client.get("/offline/3/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        scree.unpublish()  # Its build runs on commit (the tests' tasks run at once).
    manifest = OfflineManifest.objects.get(site=site)
    listings = {e["url"] for e in manifest.entries if e["kind"] == "listing"}
    assert listings == {"/offline/", "/offline/2/"}
    assert manifest.listing_renders["/offline/"]["parts"] == 2
    assert client.get("/offline/3/").status_code == 404
    assert 'href="/offline/3/"' not in content_of(client.get("/offline/2/"))


def test_a_language_listing_has_parts_too():
    assert listing_url("fr", 2) == "/offline/fr/2/"
    match = resolve("/offline/fr/2/")
    assert match.url_name == "listing_in_language_part"
    assert match.kwargs == {"language_code": "fr", "part": "2"}
    assert resolve("/offline/fr/02/").url_name != "listing_in_language_part"


def test_a_build_reads_the_listed_pages_once_for_all_parts(
    offline_site,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(listing, "LINES_PER_PART", 1)
    reads = []
    read_pages = listing.listed_pages_until
    monkeypatch.setattr(
        listing,
        "listed_pages_until",
        lambda *args, **kwargs: reads.append(1) or read_pages(*args, **kwargs),
    )
    rebuild_site_manifest(offline_site)
    manifest = OfflineManifest.objects.get(site=offline_site)
    assert manifest.listing_renders["/offline/"]["parts"] == 4
    assert len(reads) == 1


@pytest.mark.parametrize(
    "path", ["/offline/99/", "/offline/1234567/", "/offline/" + "9" * 5000 + "/"]
)
def test_made_up_part_numbers_are_not_found_and_keep_no_copy(
    client, two_lines_a_part, path
):
    """A visitor cycling through part numbers must not push the real copies out."""
    from wagtail_offline.views import shared_listings

    assert content_of(client.get("/offline/2/"))
    kept = len(shared_listings)
    assert client.get(path).status_code == 404
    assert len(shared_listings) == kept
