"""Media on an S3 bucket, on another origin than the site: saved by its bucket URL when the
site declares that origin, reported as cross-origin otherwise, and read from the bucket
only when it may have changed."""

import json
from collections import Counter

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from wagtail.models import Collection, CollectionViewRestriction
from wagtail_factories import DocumentFactory, ImageFactory

from tests.factories import StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest, render_html
from wagtail_offline.media_origins import RemoteMedia
from wagtail_offline.models import OfflineSettings
from wagtail_offline.reader_pages import render_reader_page
from wagtail_offline.rendering import AnonymousClient

pytestmark = pytest.mark.django_db


def hashed(item):
    """As Wagtail's upload forms do: the file's size and hash are stored with it."""
    if hasattr(item, "_set_image_file_metadata"):
        item._set_image_file_metadata()
    else:
        item._set_document_file_metadata()
    item.save()
    return item


@pytest.fixture
def with_documents(site):
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.include_documents = True
    offline_settings.save()


def media_page(parent, slug, **image_fields):
    """A page showing an image three ways (srcset renditions, a rich text embed, the
    original) and linking a document: every file of them on the bucket."""
    image = hashed(ImageFactory(title=f"Photo {slug}", **image_fields))
    document = hashed(DocumentFactory(title=f"Map {slug}"))
    page = StandardPageFactory(
        parent=parent,
        slug=slug,
        image=image,
        body=(
            f'<embed embedtype="image" id="{image.pk}" format="left" alt=""/>'
            f'<p><img class="original" src="{image.file.url}" alt=""></p>'
            f'<p><a linktype="document" id="{document.pk}">Map</a></p>'
        ),
    )
    return page, image, document


def image_urls(image):
    return {image.file.url} | {rendition.url for rendition in image.renditions.all()}


def image_keys(image):
    return {image.file.name} | {r.file.name for r in image.renditions.all()}


def entries(manifest):
    return {entry["url"]: entry for entry in manifest.entries}


def messages(manifest):
    return [problem["message"] for problem in manifest.problems]


def test_media_on_the_declared_origin_is_saved_by_its_bucket_url(
    site, trails, s3_media, with_documents
):
    page, image, document = media_page(trails, "ridge")
    manifest = rebuild_site_manifest(site)

    saved = entries(manifest)
    urls = image_urls(image)
    assert len(urls) == 4  # the original and three renditions (200w, 400w, the embed's)
    assert all(url.startswith(s3_media.origin + f"/{s3_media.bucket}/") for url in urls)
    assert {url: saved[url]["kind"] for url in urls} == dict.fromkeys(urls, "asset")
    assert saved[image.file.url]["revision"] == image.file_hash[:20]
    # Wagtail's document URL stays on the site (it redirects to the bucket).
    assert saved[document.url] == {
        "url": document.url,
        "revision": document.file_hash[:20],
        "size": document.file_size,
        "kind": "document",
        "critical": False,
    }
    assert manifest.problems == []
    [summary] = [s for s in manifest.pages if s["url"] == "/trails/ridge/"]
    assert summary["foreign"] == [] and urls <= set(summary["needs"])


def test_media_on_an_undeclared_origin_is_reported_as_cross_origin(
    site, trails, s3_media, settings
):
    settings.WAGTAIL_OFFLINE_MEDIA_ORIGINS = []
    page, image, document = media_page(trails, "ridge")
    manifest = rebuild_site_manifest(site)

    assert not [url for url in entries(manifest) if url.startswith(s3_media.origin)]
    reported = {p["url"]: p["message"] for p in manifest.problems}
    assert set(reported) == image_urls(image)
    assert all("is on another site" in message for message in reported.values())
    [summary] = [s for s in manifest.pages if s["url"] == "/trails/ridge/"]
    assert set(summary["foreign"]) == image_urls(image)


def test_an_image_of_a_private_collection_on_the_bucket_is_never_saved(
    site, trails, s3_media
):
    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    rangers = root.add_child(name="Rangers")
    CollectionViewRestriction.objects.create(
        collection=rangers, restriction_type=CollectionViewRestriction.LOGIN
    )
    page, image, document = media_page(trails, "ridge", collection=rangers)
    manifest = rebuild_site_manifest(site)

    assert not image_urls(image) & set(entries(manifest))
    private = [m for m in messages(manifest) if "private collection “Rangers”" in m]
    assert len(private) == len(image_urls(image))


def test_a_url_on_the_media_origin_that_no_file_of_the_storage_has_is_refused(
    site, trails, s3_media
):
    elsewhere = f"{s3_media.origin}/another-bucket/photo.jpg"
    signed = f"{s3_media.origin}/{s3_media.bucket}/photo.jpg?X-Amz-Signature=abc"
    StandardPageFactory(
        parent=trails,
        slug="ridge",
        body=f'<p><img src="{elsewhere}" alt=""><img src="{signed}" alt=""></p>',
    )
    manifest = rebuild_site_manifest(site)

    reported = {p["url"]: p["message"] for p in manifest.problems}
    assert set(reported) == {elsewhere, signed}
    assert all("is not the public URL of a media file" in m for m in reported.values())
    assert not [url for url in entries(manifest) if url.startswith(s3_media.origin)]


def test_entry_urls_are_spelled_as_browsers_ask_for_them(s3_media):
    remote = RemoteMedia()
    host = s3_media.origin.split("//")[1]
    spelled = f"HTTP://{host.upper()}/{s3_media.bucket}/a/./b//c%2Ejpg#top"
    assert (
        remote.entry_url(spelled) == f"{s3_media.origin}/{s3_media.bucket}/a/b/c%2Ejpg"
    )
    assert remote.entry_url("https://elsewhere.example/x.jpg") is None
    # A browser asks for the same URL with or without the space quoted.
    assert remote.storage_name(s3_media.url("images/a b.jpg")) == "images/a b.jpg"
    assert remote.storage_name(s3_media.url("images/a%20b.jpg")) == "images/a b.jpg"
    # Only the storage's own spelling of a name counts (botocore quotes parentheses).
    assert remote.storage_name(s3_media.url("images/a%281%29.jpg")) == "images/a(1).jpg"
    assert remote.storage_name(s3_media.url("images/a(1).jpg")) is None


def test_the_worker_is_told_the_declared_origins(client, site, s3_media, settings):
    settings.WAGTAIL_OFFLINE_MEDIA_ORIGINS = [
        s3_media.origin + "/",
        "https://CDN.example.com:443",
        "not an origin",
    ]
    body = client.get("/sw.js").content.decode()
    config = json.loads(body.split("self.WAGTAIL_OFFLINE_CONFIG = ")[1].split(";\n")[0])
    assert config["mediaOrigins"] == [s3_media.origin, "https://cdn.example.com"]


def test_a_publish_reads_from_the_bucket_only_the_files_of_the_page_it_changed(
    site, trails, s3_media, django_capture_on_commit_callbacks
):
    pages = [media_page(trails, f"walk-{number}") for number in range(3)]
    rebuild_site_manifest(site)

    # A publish that changes no file: nothing is asked of the bucket at all.
    unchanged = pages[0][0]
    s3_media.start_counting()
    with django_capture_on_commit_callbacks(execute=True):
        unchanged.save_revision().publish()
    assert s3_media.requests() == []

    # A new image on one page: its files only, each downloaded once by the build.
    changed = pages[1][0]
    new_image = hashed(ImageFactory(title="New photo"))
    s3_media.start_counting()
    with django_capture_on_commit_callbacks(execute=True):
        changed.image = new_image
        changed.save_revision().publish()
    downloads = Counter(s3_media.keys_read())
    renditions = image_keys(new_image) - {new_image.file.name}
    assert len(renditions) == 2  # 200w and 400w; the embed shows the old image
    # Wagtail reads the original to make the renditions; the build reads each rendition.
    assert downloads == Counter([new_image.file.name, *renditions])
    untouched = set().union(*(image_keys(image) for _, image, _ in pages))
    assert not untouched & {key for _method, key in s3_media.requests()}
    manifest = rebuild_site_manifest(site)
    assert image_urls(new_image) - {new_image.file.url} <= set(entries(manifest))


def test_files_on_the_media_origin_count_towards_a_pages_url_limit(
    site, trails, s3_media, settings
):
    page, image, document = media_page(trails, "ridge")
    rebuild_site_manifest(site)  # Wagtail makes the renditions.
    used = render_html(AnonymousClient(site), "/trails/ridge/").asset_urls
    settings.WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE = len(used) - 1

    manifest = rebuild_site_manifest(site)
    assert "/trails/ridge/" not in entries(manifest)
    [problem] = [p for p in manifest.problems if p["url"] == "/trails/ridge/"]
    assert "WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE" in problem["message"]
    # Undeclared, they are never fetched: they do not count.
    settings.WAGTAIL_OFFLINE_MEDIA_ORIGINS = []
    assert "/trails/ridge/" in entries(rebuild_site_manifest(site))


def test_a_page_a_reader_keeps_lists_its_files_on_the_bucket(site, home, s3_media):
    page, image, document = media_page(
        home, "ridge"
    )  # not flagged: the reader's choice
    stored = render_reader_page(site, "/ridge/")

    assert stored.error == ""
    kinds = {entry["url"]: entry["kind"] for entry in stored.entries}
    assert {url: kinds.get(url) for url in image_urls(image)} == dict.fromkeys(
        image_urls(image), "asset"
    )


def test_a_publish_asks_the_bucket_only_about_the_files_of_the_pages_it_renders(
    site, trails, s3_media, django_capture_on_commit_callbacks
):
    # Files Wagtail does not describe (no model, no hash): known by their size and time.
    names = [
        default_storage.save(f"banners/walk-{number}.svg", ContentFile(b"<svg/>"))
        for number in range(4)
    ]
    pages = [
        StandardPageFactory(
            parent=trails,
            slug=f"walk-{number}",
            body=f'<p><img src="{default_storage.url(name)}" alt=""></p>',
        )
        for number, name in enumerate(names)
    ]
    manifest = rebuild_site_manifest(site)
    assert {s3_media.url(name) for name in names} <= set(entries(manifest))

    s3_media.start_counting()
    with django_capture_on_commit_callbacks(execute=True):
        pages[0].save_revision().publish()

    asked = {key for _method, key in s3_media.requests()}
    assert asked == {names[0]}  # its size and time, not its bytes
    assert s3_media.keys_read() == []
