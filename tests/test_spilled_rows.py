"""A full build hands its entries and uses over to disk a batch of pages at a time
(spilled_rows), so that its memory stays flat: what it stores must not depend on
where the batches end, nor differ from an assembly held whole in memory."""

import contextlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.test_asset_revisions import add_pages
from tests.test_manifest_rows import publish, stored
from wagtail_offline import manifest as manifest_module
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineManifestPart, OfflineSettings
from wagtail_offline.spilled_rows import SpilledRows

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(site, trails):
    """Pages that share an image across batches, a missing image two pages use, and
    settings' URLs that are entries already."""
    pages = add_pages(trails, range(7))
    shared = default_storage.save("banners/shared.svg", ContentFile(b"<svg>s</svg>"))
    for page in (pages[0], pages[5]):
        publish(
            page,
            f'<p><img src="/media/{shared}" alt=""></p>'
            '<p><img src="/media/banners/missing.svg" alt=""></p>',
        )
    settings = OfflineSettings.for_site(site)
    settings.extra_urls.create(url="/media/" + shared)
    settings.extra_urls.create(url=pages[2].url)
    return pages


def stored_by_full_build(site, monkeypatch, pages_per_seal=None, in_memory=False):
    if pages_per_seal is not None:
        monkeypatch.setattr(manifest_module, "PAGES_PER_SEAL", pages_per_seal)
    if in_memory:  # As before spilling: the whole assembly stored from memory.
        monkeypatch.setattr(manifest_module, "SpilledRows", contextlib.nullcontext)
    rebuild_site_manifest(site)
    monkeypatch.undo()
    return stored(site)


def test_where_the_batches_end_changes_nothing_stored(site, varied, monkeypatch):
    whole = stored_by_full_build(site, monkeypatch, in_memory=True)
    assert stored_by_full_build(site, monkeypatch) == whole
    for pages_per_seal in (1, 2, 3):
        assert stored_by_full_build(site, monkeypatch, pages_per_seal) == whole
    # What it stores is what the fixture made: a shared image, a problem reported once.
    shared_users = {user for user, _id, _c, url in whole["uses"] if "shared" in url}
    # The settings name it too, but it is an entry already: they add no use.
    assert shared_users == {varied[0].url, varied[5].url}
    missing = [p for p in whole["problems"] if p[0] == "/media/banners/missing.svg"]
    assert [page_id for _url, page_id, _message in missing] == [varied[0].pk]


def test_an_entry_nothing_uses_uses_itself():
    """As ``Assembly.uses`` has it: so that storing keeps it."""
    with SpilledRows() as spilled:
        entry = {"url": "/a.css", "revision": "r", "size": 3, "kind": "asset"}
        spilled.add([{**entry, "critical": True}], {})
        spilled.use_unused_entries()
        uses = list(spilled.use_rows())
    assert uses == [("/a.css", None, True, "/a.css")]


def test_a_url_judged_twice_keeps_its_first_entry_and_critical_users_decide():
    with SpilledRows() as spilled:
        entry = {"url": "/a.css", "revision": "r1", "size": 3, "kind": "asset"}
        spilled.add([{**entry, "critical": False}], {"/p/": (7, False, {"/a.css"})})
        spilled.add(
            [{**entry, "revision": "r2", "critical": False}],
            {"/offline/": (None, True, {"/a.css"})},
        )
        spilled.use_unused_entries()
        [(stored_entry, users, first_user, critical, page_id)] = list(
            spilled.entries_with_users()
        )
    assert stored_entry["revision"] == "r1"
    assert (users, first_user, critical, page_id) == (2, "/offline/", True, None)


def test_parts_written_during_a_store_that_fails_go_with_it(site, varied, monkeypatch):
    """A full build writes each part as it makes it, inside the store's transaction."""
    rebuild_site_manifest(site)
    before = stored(site)
    held = set(OfflineManifestPart.objects.values_list("digest", flat=True))
    publish(varied[3], "<p>A change that puts this page in a new part.</p>")

    def fail(*args, **kwargs):
        raise RuntimeError("The database went away.")

    monkeypatch.setattr(manifest_module, "_finish_store", fail)
    with pytest.raises(RuntimeError):
        rebuild_site_manifest(site)
    assert set(OfflineManifestPart.objects.values_list("digest", flat=True)) == held
    assert stored(site) == before
    monkeypatch.undo()

    manifest = rebuild_site_manifest(site)
    assert set(manifest.part_digests) - held  # Written this time, and served.
    assert set(manifest.part_digests) <= set(
        OfflineManifestPart.objects.values_list("digest", flat=True)
    )
