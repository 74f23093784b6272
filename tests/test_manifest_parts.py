"""The manifest in parts: an edit changes one part, one index and the root."""

import gzip
import hashlib
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import StandardPageFactory
from tests.served import served_manifest
from wagtail_offline import manifest_parts
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineManifest, OfflineManifestPart

HEAD = {"version": "v", "builtAt": "2026-12-02T00:00:00", "fallbacks": []}
SHARED = ["/static/site.css", "/static/site.js"]


def revision(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def site_of(page_count, edited=None):
    """Entries and page summaries of a site whose pages each have two images of their own."""
    entries = [
        {
            "url": url,
            "revision": revision(url),
            "size": 5000,
            "kind": "asset",
            "critical": False,
        }
        for url in SHARED
    ]
    pages = []
    for number in range(page_count):
        url = f"/walks/walk-{number}/"
        images = [f"/media/images/walk-{number}-{side}.width-800.jpg" for side in "ab"]
        text = url + ("edited" if number == edited else "")
        entries.append(
            {
                "url": url,
                "revision": revision(text),
                "size": 9000,
                "kind": "page",
                "critical": False,
            }
        )
        entries += [
            {
                "url": image,
                "revision": revision(image),
                "size": 40000,
                "kind": "asset",
                "critical": False,
            }
            for image in images
        ]
        pages.append({"url": url, "needs": sorted([url, *images, *SHARED])})
    return entries, pages


def groups_of(pages):
    """Each entry's group: the one page that needs it, else none (its own)."""
    users = Counter(url for page in pages for url in page["needs"])
    return {
        url: page["url"] for page in pages for url in page["needs"] if users[url] == 1
    }


def split(entries, pages, previous=0):
    return manifest_parts.split(
        HEAD,
        entries,
        groups_of(pages),
        lambda digest: f"/offline/parts/{digest}.json",
        previous,
    )


def read_from(result):
    return lambda url: result.documents[url.rsplit("/", 1)[1].removesuffix(".json")]


@pytest.mark.parametrize("page_count", [1, 100, 1000, 10_000])
def test_every_entry_is_in_exactly_one_part(page_count):
    entries, pages = site_of(page_count)
    result = split(entries, pages)
    assembled = manifest_parts.assemble(result.root, read_from(result))
    assert sorted(e["url"] for e in assembled["entries"]) == sorted(
        e["url"] for e in entries
    )
    assert {key: assembled[key] for key in HEAD} == HEAD


@pytest.mark.parametrize("page_count", [100, 1000, 10_000])
def test_an_edit_changes_one_part_and_one_index_and_costs_a_few_kilobytes(page_count):
    entries, pages = site_of(page_count)
    before = split(entries, pages)
    edited_entries, _ = site_of(page_count, edited=page_count // 2)
    after = split(edited_entries, pages, before.part_count)

    new = set(after.documents) - set(before.documents)
    assert len(new) == 2  # the page's part and the index that lists it
    # What a reader downloads besides the page itself: the root and the new documents,
    # gzipped, as they are served.
    wire = len(gzip.compress(after.root.encode())) + sum(
        len(gzip.compress(after.documents[digest].encode())) for digest in new
    )
    assert wire < 4_000, wire


def test_a_page_and_the_images_only_it_uses_share_a_part():
    entries, pages = site_of(200)
    result = split(entries, pages)
    read = read_from(result)
    assembled = manifest_parts.assemble(result.root, read)
    parts = [
        {entry["url"] for entry in json_part["entries"]}
        for json_part in (
            manifest_parts.json.loads(read(url))
            for index in manifest_parts.json.loads(result.root)["indexes"]
            for url in manifest_parts.json.loads(read(index))["parts"]
        )
    ]
    for number in range(200):
        group = {
            f"/walks/walk-{number}/",
            f"/media/images/walk-{number}-a.width-800.jpg",
            f"/media/images/walk-{number}-b.width-800.jpg",
        }
        assert sum(group <= part for part in parts) == 1
    assert len(assembled["entries"]) == len(entries)


def test_the_number_of_parts_holds_while_the_site_grows_a_little():
    entries, pages = site_of(1000)
    first = split(entries, pages)
    assert first.part_count == 128  # 3,002 entries, about 24 a part
    grown_entries, grown_pages = site_of(1100)
    assert split(grown_entries, grown_pages, first.part_count).part_count == 128
    # Far beyond: split afresh.
    many_entries, many_pages = site_of(10_000)
    assert split(many_entries, many_pages, first.part_count).part_count == 2048
    assert manifest_parts.part_count_for(0) == 1


@pytest.mark.django_db
def test_stored_parts_are_served_and_forgotten_a_day_after_no_manifest_needs_them(
    client, site, home
):
    for number in range(3):
        StandardPageFactory(parent=home, slug=f"walk-{number}", offline_available=True)
    first = rebuild_site_manifest(site)
    first_digests = set(OfflineManifestPart.objects.values_list("digest", flat=True))
    assert served_manifest(client, first.version)["entries"]

    walk = home.get_children().get(slug="walk-1").specific
    walk.title = "Walk, revised"
    walk.save_revision().publish()
    second = rebuild_site_manifest(site)
    assert second.version != first.version
    held = set(OfflineManifestPart.objects.values_list("digest", flat=True))
    # The previous manifest's documents stay a while, for a worker installing from it.
    assert first_digests <= held
    assert {e["url"] for e in served_manifest(client, second.version)["entries"]} == {
        e["url"] for e in OfflineManifest.objects.get(site=site).entries
    }

    OfflineManifestPart.objects.update(used_at=timezone.now() - timedelta(days=2))
    second.save()  # as the next build does
    current = set(OfflineManifestPart.objects.values_list("digest", flat=True))
    assert current < held
    assert served_manifest(client, second.version)["entries"]
