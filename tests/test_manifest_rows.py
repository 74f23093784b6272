"""A publish patches the stored manifest: it rewrites the entries and parts it changed,
and ends where a full build of the same content would."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.factories import StandardPageFactory
from tests.test_asset_revisions import add_pages
from wagtail_offline import listing, manifest_parts
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import (
    OfflineManifest,
    OfflineManifestEntry,
    OfflineManifestUse,
)

pytestmark = pytest.mark.django_db


def stored(site):
    """Everything a build stores of a manifest, but when it was built."""
    manifest = OfflineManifest.objects.get(site=site)
    entries = sorted(
        OfflineManifestEntry.objects.filter(site=site).values_list(
            "url",
            "revision",
            "size",
            "kind",
            "critical",
            "form_submit_url",
            "page_id",
            "part",
        )
    )
    uses = sorted(
        OfflineManifestUse.objects.filter(site=site).values_list(
            "user", "page_id", "critical", "url"
        )
    )
    problems = sorted(
        (problem["url"], problem["page_id"], problem["message"])
        for problem in manifest.problems
    )
    return {
        "version": manifest.version,
        "part_digests": manifest.part_digests,
        "entries": entries,
        "uses": uses,
        "problems": problems,
    }


def entry_rows(site):
    return {
        row.url: (row.pk, row.revision, row.part)
        for row in OfflineManifestEntry.objects.filter(site=site)
    }


def publish(page, body):
    page.body = body
    page.save_revision().publish()


def test_a_publish_rewrites_only_its_pages_entries_and_part(site, trails):
    pages = add_pages(trails, range(40))
    first = rebuild_site_manifest(site)
    before_rows, before_parts = entry_rows(site), list(first.part_digests)

    publish(pages[7], pages[7].body + "<p>One more paragraph.</p>")
    after = rebuild_site_manifest(site, page_ids={pages[7].pk})
    after_rows = entry_rows(site)

    changed = {url for url in after_rows if after_rows[url] != before_rows.get(url)}
    # The page itself; the listing (its summary) and the parent that lists it do not change.
    assert changed == {"/trails/page-7/"}
    assert set(after_rows) == set(before_rows)
    moved = [
        number
        for number, (old, new) in enumerate(
            zip(before_parts, after.part_digests, strict=True)
        )
        if old != new
    ]
    assert moved == [after_rows["/trails/page-7/"][2]]
    assert after.version != first.version


def test_an_asset_joins_the_part_of_its_only_page_and_leaves_it_when_shared(
    site, trails
):
    pages = add_pages(trails, range(30))
    rebuild_site_manifest(site)
    banner = "/media/banners/page-3.svg"
    part_count = OfflineManifest.objects.get(site=site).part_count

    def part_of(url):
        return OfflineManifestEntry.objects.get(site=site, url=url).part

    assert part_of(banner) == manifest_parts.bucket_of("/trails/page-3/", part_count)
    # Another page shows it too: it is an entry of its own.
    publish(pages[5], pages[5].body + f'<p><img src="{banner}" alt=""></p>')
    rebuild_site_manifest(site, page_ids={pages[5].pk})
    assert part_of(banner) == manifest_parts.bucket_of(banner, part_count)
    # And back.
    publish(pages[5], pages[5].body.replace(f'<p><img src="{banner}" alt=""></p>', ""))
    rebuild_site_manifest(site, page_ids={pages[5].pk})
    assert part_of(banner) == manifest_parts.bucket_of("/trails/page-3/", part_count)


@pytest.mark.parametrize("scoped", [False, True], ids=["whole-site", "scoped"])
def test_publishes_end_where_a_full_build_of_the_same_content_does(
    site, trails, scoped
):
    """Scoped: each build looks for other changes only below the pages that changed,
    as the builds that signal handlers ask for do."""
    pages = add_pages(trails, range(12))
    rebuild_site_manifest(site)

    def patch(*changed, listing=()):
        rebuild_site_manifest(
            site,
            page_ids={page.pk for page in [*changed, *listing]},
            scope=[page.pk for page in changed] if scoped else None,
        )

    # A page takes another's banner (now shared), and a new file of its own.
    new = default_storage.save("banners/new.svg", ContentFile(b"<svg>new</svg>"))
    publish(
        pages[1],
        f'<p><img src="/media/banners/page-2.svg" alt=""></p>'
        f'<p><img src="/media/{new}" alt=""></p>',
    )
    patch(pages[1])
    # A page leaves; another drops what it shared; a slug changes; a broken image.
    pages[3].unpublish()
    patch(pages[3], listing=[trails])
    publish(pages[1], "<p>Nothing shown.</p>")
    patch(pages[1])
    pages[4].slug = "renamed"
    publish(pages[4], pages[4].body)
    patch(pages[4], listing=[trails])
    publish(pages[5], '<p><img src="/media/banners/missing.svg" alt=""></p>')
    patch(pages[5])
    # New pages under the section.
    added = add_pages(trails, range(12, 15))
    patch(*added, listing=[trails])
    patched = stored(site)
    listing_key = OfflineManifest.objects.get(site=site).listing_renders["/offline/"]

    rebuild_site_manifest(site)
    assert patched == stored(site)
    assert listing_key["key"] == listing.render_key(site)
    assert any(
        url == "/media/banners/missing.svg"
        for url, _page, _message in patched["problems"]
    )


def test_a_site_grown_far_beyond_its_parts_is_spread_over_more(site, trails):
    add_pages(trails, range(2))
    part_count = rebuild_site_manifest(site).part_count
    added = add_pages(trails, range(2, 80))
    grown = rebuild_site_manifest(site, page_ids={trails.pk, *(p.pk for p in added)})
    assert grown.part_count > part_count
    assert len(grown.part_digests) == grown.part_count
    patched = stored(site)
    rebuild_site_manifest(site)
    assert stored(site) == patched


@pytest.mark.parametrize("scoped", [False, True], ids=["whole-site", "scoped"])
def test_pages_that_leave_unnamed_take_their_entries_and_problems_along(
    site, home, trails, monkeypatch, scoped
):
    """A section unflagged: its pages leave though the publish names only the section."""
    from tests.test_admin_report import break_page

    walks = StandardPageFactory(
        parent=home,
        title="Walks",
        slug="walks",
        offline_available=True,
        offline_include_subpages=True,
    )
    fine = StandardPageFactory(parent=walks, title="Fine", slug="fine")
    broken = StandardPageFactory(parent=walks, title="Broken", slug="broken")
    break_page(monkeypatch, broken)
    add_pages(trails, range(3))
    rebuild_site_manifest(site)
    stored_before = stored(site)
    assert any(page == broken.pk for _url, page, _message in stored_before["problems"])

    walks.offline_available = walks.offline_include_subpages = False
    walks.save_revision().publish()
    rebuild_site_manifest(
        site, page_ids={walks.pk, home.pk}, scope=[walks.pk] if scoped else None
    )
    patched = stored(site)
    assert not any(url.startswith("/walks/") for url, *_rest in patched["entries"])
    assert not any(page in (fine.pk, broken.pk) for _u, page, _m in patched["problems"])
    rebuild_site_manifest(site)
    assert stored(site) == patched
