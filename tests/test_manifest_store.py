"""The questions the admin, the checks and the command ask of a stored manifest.

Each answer is checked against what a build put in the manifest, so that a different way
of storing it must give the same answers.
"""

import os

from tests.factories import StandardPageFactory
from tests.test_status import static_files, two_walks  # noqa: F401 (fixtures)
from wagtail_offline import manifest_store
from wagtail_offline.manifest import rebuild_site_manifest


def test_sizes_and_counts_add_up_by_kind(site, two_walks, static_files):  # noqa: F811
    manifest = rebuild_site_manifest(site)
    by_kind = manifest_store.size_by_kind(manifest)
    assert by_kind["page"] == (
        3,
        sum(len(html.encode()) for html in two_walks["bodies"].values()),
    )
    sizes = {entry["url"]: entry["size"] for entry in manifest_store.entries(manifest)}
    assert {url: sizes[url] for url in static_files} == static_files
    assets = [e for e in manifest_store.entries(manifest) if e["kind"] == "asset"]
    assert by_kind["asset"] == (len(assets), sum(e["size"] for e in assets))
    assert {"fallback", "listing"} <= set(by_kind)
    assert manifest_store.entry_count(manifest) == sum(c for c, _ in by_kind.values())
    assert manifest_store.total_size(manifest) == sum(s for _, s in by_kind.values())
    assert manifest.size == manifest_store.total_size(manifest)


def test_page_summaries_are_answered_for_the_pages_asked(site, two_walks, static_files):  # noqa: F811
    manifest = rebuild_site_manifest(site)
    ridge, valley = two_walks["ridge"], two_walks["valley"]
    assert manifest_store.shipped_page_ids(manifest) == {
        page.pk for page in two_walks.values() if hasattr(page, "pk")
    }
    summaries = manifest_store.summaries_by_page(manifest, {ridge.pk})
    assert list(summaries) == [ridge.pk]
    assert [s["url"] for s in summaries[ridge.pk]] == ["/trails/ridge/"]
    assert set(manifest_store.summaries_by_page(manifest)) == (
        manifest_store.shipped_page_ids(manifest)
    )
    late = StandardPageFactory(parent=two_walks["trails"], title="Late", slug="late")
    assert manifest_store.shipped_on_any_site([ridge.pk, valley.pk, late.pk]) == {
        ridge.pk,
        valley.pk,
    }


def test_bytes_needed_count_a_shared_asset_once(site, two_walks, static_files):  # noqa: F811
    manifest = rebuild_site_manifest(site)
    bodies = {
        page.url_path: len(two_walks["bodies"][page.pk].encode())
        for page in (two_walks["ridge"], two_walks["valley"])
    }
    shared = sum(
        static_files[url]
        for url in ("/static/site.css", "/static/trail.woff2", "/static/map.js")
    )
    both = manifest_store.bytes_needed(manifest, {"/trails/ridge/", "/trails/valley/"})
    assert both == (
        sum(bodies.values())
        + shared
        + static_files["/static/ridge.jpg"]
        + static_files["/static/valley.jpg"]
    )
    assert manifest_store.bytes_needed(manifest, set()) == 0


def test_a_changed_static_file_is_seen(site, two_walks, static_files, settings):  # noqa: F811
    manifest = rebuild_site_manifest(site)
    assert not manifest_store.static_files_changed(manifest)
    stylesheet = os.path.join(settings.STATIC_ROOT, "site.css")
    with open(stylesheet, "ab") as file:
        file.write(b" h1 { color: green }")
    assert manifest_store.static_files_changed(manifest)
