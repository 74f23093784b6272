"""A publish judges the assets of the pages it renders; the others' keep their judgement.

Judging an asset means asking its storage whether it changed (a request per file on
remote storage) or reading it. A publish cannot have changed the files of pages it did
not render, so a partial build takes their revisions from the stored manifest, while
privacy and the rules of the site are applied to every URL again.
"""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from wagtail.models import Collection, CollectionViewRestriction, ReferenceIndex

from tests.test_asset_revisions import add_pages, entries
from wagtail_offline import asset_revisions
from wagtail_offline.manifest import rebuild_site_manifest, render_stale_pages
from wagtail_offline.models import (
    OfflineAssetRevision,
    OfflineBypassPrefix,
    OfflineManifest,
    OfflineSettings,
)
from wagtail_offline.rendering import AnonymousClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def stamped(monkeypatch):
    """The names of the files whose storage was asked whether they changed."""
    names = []
    storage_stamp = asset_revisions._storage_stamp

    def counted(kind, storage, name):
        names.append(name)
        return storage_stamp(kind, storage, name)

    monkeypatch.setattr(asset_revisions, "_storage_stamp", counted)
    return names


def shipped(manifest):
    """What a manifest ships and tells the admin, without the time it was built."""
    problems = sorted(
        (problem["url"], problem["message"], problem["level"])
        for problem in manifest.problems
    )
    return manifest.version, manifest.entries, manifest.pages, problems


def test_a_publish_asks_only_for_the_files_of_the_pages_it_renders(
    site, trails, stamped
):
    pages = add_pages(trails, range(3))
    rebuild_site_manifest(site)
    stamped.clear()
    rebuild_site_manifest(site, page_ids={pages[0].pk})
    small = sorted(stamped)
    add_pages(trails, range(3, 12))
    rebuild_site_manifest(site)
    stamped.clear()
    rebuild_site_manifest(site, page_ids={pages[0].pk})

    assert sorted(stamped) == small
    # The page's own banner, and the files every page shows (the site's CSS, fonts…).
    assert "banners/page-0.svg" in small
    assert not any(name.startswith("banners/page-1") for name in small)


def test_a_partial_build_ships_what_a_full_build_would(site, trails):
    pages = add_pages(trails, range(4))
    rebuild_site_manifest(site)
    # An edit that changes a page's files: a new banner, and another page's banner.
    pages[1].body += '<p><img src="/media/banners/page-3.svg" alt=""></p>'
    pages[1].save_revision().publish()
    new = default_storage.save(
        "banners/new.svg", default_storage.open("banners/page-0.svg")
    )
    pages[2].body = f'<p><img src="/media/{new}" alt=""></p>'
    pages[2].save_revision().publish()
    pages[3].unpublish()

    # As a publish asks: the pages, and the parent that lists them.
    published = {trails.pk, pages[1].pk, pages[2].pk, pages[3].pk}
    partial = shipped(rebuild_site_manifest(site, page_ids=published))
    full = shipped(rebuild_site_manifest(site))

    assert partial == full
    assert f"/media/{new}" in entries(rebuild_site_manifest(site, page_ids=set()))


def test_a_file_changed_behind_the_cms_waits_for_a_page_that_shows_it(
    site, trails, reads
):
    pages = add_pages(trails, range(2))
    rebuild_site_manifest(site)
    url = "/media/banners/page-1.svg"
    before = entries(rebuild_site_manifest(site))[url]
    with default_storage.open("banners/page-1.svg", "wb") as file:
        file.write(b"<svg xmlns='http://www.w3.org/2000/svg'>changed in place</svg>")

    reads.clear()
    assert entries(rebuild_site_manifest(site, page_ids={pages[0].pk}))[url] == before
    assert reads == []
    after = entries(rebuild_site_manifest(site))[url]
    assert after["revision"] != before["revision"]
    assert reads == ["banners/page-1.svg"]


def test_an_image_made_private_leaves_with_the_build_its_move_asks_for(
    site, trails, django_capture_on_commit_callbacks
):
    pages = add_pages(trails, range(2))
    image = pages[1].image
    manifest = rebuild_site_manifest(site)
    assert image.file.url in entries(manifest)

    private = Collection.get_first_root_node().add_child(name="Private")
    CollectionViewRestriction.objects.create(
        collection=private, restriction_type=CollectionViewRestriction.LOGIN
    )
    image.collection = private
    # Whichever pages the reference index names, every page's assets are judged again.
    ReferenceIndex.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        image.save()
    manifest = OfflineManifest.objects.get(site=site)

    assert image.file.url not in entries(manifest)
    assert any(
        problem["url"] == image.file.url and "private" in problem["message"]
        for problem in manifest.problems
    )


def test_new_rules_judge_every_asset_again(site, trails, settings):
    pages = add_pages(trails, range(2))
    rebuild_site_manifest(site)
    url = "/media/banners/page-1.svg"
    offline_settings = OfflineSettings.for_site(site)
    OfflineBypassPrefix.objects.create(
        settings=offline_settings, path="/media/banners/"
    )
    manifest = rebuild_site_manifest(site, page_ids={pages[0].pk})
    assert url not in entries(manifest)

    OfflineBypassPrefix.objects.all().delete()
    settings.WAGTAIL_OFFLINE_MAX_ASSET_SIZE = 50
    manifest = rebuild_site_manifest(site, page_ids={pages[0].pk})
    assert url not in entries(manifest)
    assert any(
        problem["url"] == url and "MAX_ASSET_SIZE" in problem["message"]
        for problem in manifest.problems
    )


def overwrite(name, content):
    with default_storage.open(name, "wb") as file:
        file.write(content)


def test_pages_another_build_rendered_are_judged_afresh(site, trails):
    pages = add_pages(trails, range(2))
    rebuild_site_manifest(site)
    # A build rendered and stored this page, and stopped before storing its manifest.
    overwrite(
        "banners/page-0.svg", b"<svg xmlns='http://www.w3.org/2000/svg'>new</svg>"
    )
    pages[0].body += "<p>With a new banner.</p>"
    pages[0].save_revision().publish()
    render_stale_pages(site, AnonymousClient(site), {pages[0].pk})

    partial = rebuild_site_manifest(site, page_ids={pages[1].pk})
    full = rebuild_site_manifest(site)
    url = "/media/banners/page-0.svg"
    assert entries(partial)[url] == entries(full)[url]
    assert entries(partial)[url]["size"] == len(
        b"<svg xmlns='http://www.w3.org/2000/svg'>new</svg>"
    )


def test_a_carried_stylesheet_whose_reading_was_forgotten_is_read_again(
    site, trails, reads
):
    pages = add_pages(trails, range(2))
    # A stylesheet only page 1 uses, which loads a picture nothing else shows.
    default_storage.save("styles/tile.svg", ContentFile(b"<svg/>"))
    default_storage.save(
        "styles/page-1.css", ContentFile(b"body { background: url(tile.svg) }")
    )
    pages[1].body += '<p><img src="/media/styles/page-1.css" alt=""></p>'
    pages[1].save_revision().publish()
    rebuild_site_manifest(site)
    OfflineAssetRevision.objects.all().delete()  # as after a month of no full build

    reads.clear()
    # A build that judges every page's assets again, rendering none (a settings change).
    manifest = rebuild_site_manifest(site, page_ids=set())
    assert "/media/styles/tile.svg" in entries(manifest)
    assert "styles/page-1.css" in reads
