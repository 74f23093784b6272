"""A publish reads only the files that may have changed: the others' revisions are reused."""

import json
import os
from datetime import timedelta

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.images.tests.utils import get_test_image_file
from wagtail_factories import ImageFactory

from tests.factories import StandardPageFactory
from wagtail_offline.asset_revisions import url_key
from wagtail_offline.manifest import Assembly, rebuild_site_manifest
from wagtail_offline.models import (
    OfflineAssetRevision,
    OfflineExtraURL,
    OfflineSettings,
)
from wagtail_offline.rendering import AnonymousClient

pytestmark = pytest.mark.django_db


def add_pages(parent, numbers):
    """Offline pages, each with an image of its own (its original and two renditions
    of it) and a banner stored in the media folder without Wagtail."""
    pages = []
    for number in numbers:
        image = ImageFactory(title=f"Photo {number}")
        image._set_image_file_metadata()  # As Wagtail's upload form does.
        image.save()
        banner = default_storage.save(
            f"banners/page-{number}.svg", ContentFile(svg(number))
        )
        pages.append(
            StandardPageFactory(
                parent=parent,
                slug=f"page-{number}",
                image=image,
                body=f'<p><img src="{image.file.url}" alt=""></p>'
                f'<p><img src="/media/{banner}" alt=""></p>',
            )
        )
    return pages


def svg(number, fill="green"):
    return f'<svg xmlns="http://www.w3.org/2000/svg"><text fill="{fill}">{number}</text></svg>'.encode()


def entries(manifest):
    return {entry["url"]: entry for entry in manifest.entries}


def assets(manifest, leaving_out=()):
    return {
        entry["url"]: entry
        for entry in manifest.entries
        if entry["kind"] == "asset" and entry["url"] not in leaving_out
    }


def revision_lookups(queries):
    return [
        query["sql"]
        for query in queries
        if query["sql"].startswith(
            'SELECT "wagtail_offline_offlineassetrevision"."key"'
        )
        and '"key" IN' in query["sql"]
    ]


def publish(site, page, reads):
    """Rebuild as a publish of ``page`` does; the files it read and its revision look-ups."""
    reads.clear()
    with CaptureQueriesContext(connection) as queries:
        manifest = rebuild_site_manifest(site, page_ids={page.pk})
    return manifest, list(reads), revision_lookups(queries.captured_queries)


def test_one_publish_reads_no_unchanged_file_however_large_the_site(
    site, trails, reads
):
    pages = add_pages(trails, range(5))
    first = assets(rebuild_site_manifest(site))
    assert reads, "the first build reads every file"

    small, small_reads, small_lookups = publish(site, pages[0], reads)
    small = assets(small)
    add_pages(trails, range(5, 25))
    rebuild_site_manifest(site)
    large, large_reads, large_lookups = publish(site, pages[0], reads)

    assert small_reads == [] and large_reads == []
    assert len(small_lookups) == len(large_lookups) <= 3
    # The publish ships the revisions that reading every file gave.
    assert small == first
    assert len(assets(large)) == len(small) + 20 * 4


def test_reused_revisions_are_those_of_the_bytes(site, trails):
    add_pages(trails, range(3))
    rebuild_site_manifest(site)
    reused = rebuild_site_manifest(site)
    OfflineAssetRevision.objects.all().delete()
    read_again = rebuild_site_manifest(site)

    assert reused.entries == read_again.entries


def test_renditions_are_read_once_and_hashed_images_never(site, trails, reads):
    [page] = add_pages(trails, [1])
    reads.clear()
    manifest = rebuild_site_manifest(site)

    original = page.image.file.name
    renditions = [r.file.name for r in page.image.renditions.all()]
    assert len(renditions) == 2
    # Wagtail reads the original to make the renditions; the build, each rendition.
    assert sorted(name for name in reads if "images/" in name) == sorted(
        [original, *renditions]
    )
    assert (
        entries(manifest)[page.image.file.url]["revision"]
        == (page.image.file_hash[:20])
    )
    reads.clear()
    rebuild_site_manifest(site)
    assert reads == []


def test_a_replaced_image_gets_new_revisions_and_only_its_files_are_read(
    site, trails, reads
):
    pages = add_pages(trails, range(3))
    rebuild_site_manifest(site)
    image = pages[1].image
    before = rebuild_site_manifest(site)
    old_original = image.file.name
    old_renditions = {f"/media/{r.file.name}" for r in image.renditions.all()}

    # What Wagtail's image form does when an editor uploads a new file.
    image.file = get_test_image_file("replaced.png", colour="red", size=(300, 300))
    image._set_image_file_metadata()
    image.save()
    default_storage.delete(old_original)
    image.renditions.all().delete()
    after, read, _lookups = publish(site, pages[1], reads)

    renditions = {f"/media/{r.file.name}" for r in image.renditions.all()}
    assert len(renditions) == 2 and renditions <= set(assets(after))
    assert not old_renditions & set(assets(after))
    # The new original, read by Wagtail to make them, and the new renditions.
    assert sorted(read) == sorted(
        [image.file.name, *(url.removeprefix("/media/") for url in renditions)]
    )
    changed = old_renditions | renditions | {f"/media/{old_original}"}
    assert assets(before, changed) == assets(after, changed)


def test_a_rendition_made_again_under_the_same_name_is_read_again(site, trails, reads):
    [page] = add_pages(trails, [1])
    rebuild_site_manifest(site)
    rendition = page.image.renditions.first()
    url = f"/media/{rendition.file.name}"
    before = entries(rebuild_site_manifest(site))[url]

    # Made again (as after a cleared rendition cache) into a file of the same name.
    with default_storage.open(rendition.file.name, "wb") as file:
        file.write(b"other bytes")
    rendition.delete()
    rendition.pk = None
    rendition.save()
    reads.clear()
    after = entries(rebuild_site_manifest(site))[url]

    assert reads == [rendition.file.name]
    assert after["revision"] != before["revision"]
    assert after["size"] == len(b"other bytes")


@pytest.mark.parametrize("same_size", [False, True])
def test_a_media_file_changed_under_its_name_gets_a_new_revision(
    site, trails, reads, same_size
):
    pages = add_pages(trails, range(3))
    rebuild_site_manifest(site)
    name = "banners/page-2.svg"
    before = entries(rebuild_site_manifest(site))[f"/media/{name}"]

    path = default_storage.path(name)
    stat = os.stat(path)
    content = svg(2, fill="olive" if same_size else "darkolivegreen")
    assert (len(content) == stat.st_size) is same_size
    with open(path, "wb") as file:
        file.write(content)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    # A publish judges the files of the pages it renders, not another page's…
    manifest, read, _lookups = publish(site, pages[0], reads)
    assert read == []
    assert entries(manifest)[f"/media/{name}"] == before
    # …which the publish of a page that shows it, or a full rebuild, reads again.
    manifest, read, _lookups = publish(site, pages[2], reads)

    after = entries(manifest)[f"/media/{name}"]
    assert read == [name]
    assert after["revision"] != before["revision"]
    assert after["size"] == len(content)


def test_a_static_file_changed_by_a_deploy_gets_a_new_revision(
    site, trails, reads, settings, tmp_path
):
    settings.STATICFILES_DIRS = [tmp_path / "static"]
    script = tmp_path / "static" / "deploy" / "app.js"
    script.parent.mkdir(parents=True)
    script.write_text("let version = 1;")
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.save()
    OfflineExtraURL.objects.create(
        settings=offline_settings, url="/static/deploy/app.js"
    )
    [page] = add_pages(trails, [1])
    before = entries(rebuild_site_manifest(site))["/static/deploy/app.js"]
    reads.clear()
    assert entries(rebuild_site_manifest(site))["/static/deploy/app.js"] == before
    assert str(script) not in reads

    stat = script.stat()
    script.write_text("let version = 22;")
    os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    manifest, read, _lookups = publish(site, page, reads)

    after = entries(manifest)["/static/deploy/app.js"]
    assert read == [str(script)]
    assert after["revision"] != before["revision"]
    assert after["size"] == len("let version = 22;")


def test_a_stylesheets_urls_become_entries_when_it_is_not_read(site, trails, reads):
    [page] = add_pages(trails, [1])
    rebuild_site_manifest(site)
    manifest, read, _lookups = publish(site, page, reads)

    assert read == []
    # site.css imports print.css and loads a font and a background.
    assert {
        "/static/testapp/css/print.css",
        "/static/testapp/fonts/trail.woff2",
        "/static/testapp/bg.svg",
    } <= set(entries(manifest))


def test_a_reused_size_over_the_limit_is_still_reported(site, trails, reads, settings):
    [page] = add_pages(trails, [1])
    rebuild_site_manifest(site)
    banner = "/media/banners/page-1.svg"
    settings.WAGTAIL_OFFLINE_MAX_ASSET_SIZE = len(svg(1)) - 1
    manifest, read, _lookups = publish(site, page, reads)

    assert read == []
    assert banner not in entries(manifest)
    assert any(
        problem["url"] == banner
        and "WAGTAIL_OFFLINE_MAX_ASSET_SIZE" in problem["message"]
        for problem in manifest.problems
    )


def test_a_file_that_disappears_is_reported_and_forgotten(site, trails, reads):
    [page] = add_pages(trails, [1])
    rebuild_site_manifest(site)
    banner = "/media/banners/page-1.svg"
    before = entries(rebuild_site_manifest(site))[banner]
    default_storage.delete("banners/page-1.svg")
    manifest, _read, _lookups = publish(site, page, reads)

    assert banner not in entries(manifest)
    assert f"The media file {banner} does not exist." in [
        problem["message"] for problem in manifest.problems
    ]
    assert not OfflineAssetRevision.objects.filter(url=banner).exists()

    default_storage.save("banners/page-1.svg", ContentFile(svg(1, fill="red")))
    manifest, read, _lookups = publish(site, page, reads)
    assert read == ["banners/page-1.svg"]
    assert entries(manifest)[banner]["revision"] != before["revision"]


def test_static_names_hashed_by_the_manifest_storage_are_read_once(
    site, reads, settings, tmp_path
):
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        },
    }
    hashed = settings.STATIC_ROOT / "deploy" / "app.0123456789ab.js"
    hashed.parent.mkdir(parents=True)
    hashed.write_text("let version = 1;")
    (settings.STATIC_ROOT / "staticfiles.json").write_text(
        json.dumps(
            {"version": "1.1", "paths": {"deploy/app.js": "deploy/app.0123456789ab.js"}}
        )
    )
    url = "/static/deploy/app.0123456789ab.js"

    def assemble():
        assembly = Assembly(site, AnonymousClient(site), include_documents=False)
        assembly.add_urls("a page", [url], critical=False)
        assembly.remember_revisions()
        return assembly.entries[url]

    assert staticfiles_storage.hashed_files  # Reads the storage's manifest.
    reads.clear()
    first = assemble()
    assert reads == ["deploy/app.0123456789ab.js"]
    # Its name changes with its content: not even its modification time is looked at.
    os.utime(hashed, ns=(0, 0))
    reads.clear()
    assert assemble() == first
    assert reads == []


def test_revisions_no_build_relies_on_any_more_are_pruned(site, trails):
    add_pages(trails, [1])
    rebuild_site_manifest(site)
    long_ago = timezone.now() - timedelta(days=31)
    OfflineAssetRevision.objects.update(used_at=long_ago)
    OfflineAssetRevision.objects.create(
        key=url_key("/media/banners/removed.svg"),
        url="/media/banners/removed.svg",
        stamp="media:10:10",
        revision="0123456789abcdef0123",
        size=10,
        used_at=long_ago,
    )
    rebuild_site_manifest(site)

    urls = set(OfflineAssetRevision.objects.values_list("url", flat=True))
    assert "/media/banners/removed.svg" not in urls
    assert "/media/banners/page-1.svg" in urls
    assert not OfflineAssetRevision.objects.filter(used_at=long_ago).exists()
