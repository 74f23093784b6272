"""Media on an S3 bucket (moto, on another origin than the site) renders offline when the
site declares that origin, saved under its bucket URLs; undeclared, it is never cached."""

import pytest

from tests.browser.offline import visit_and_wait_for_worker, wait_until
from tests.test_remote_media import image_urls, media_page
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineSettings

pytestmark = pytest.mark.django_db(transaction=True)

# Every URL in Cache Storage, as the browser stored it (origin included).
CACHED_FULL_URLS = """async () => {
    const urls = [];
    for (const name of await caches.keys()) {
        if (!(await caches.has(name))) continue;
        const cache = await caches.open(name);
        urls.push(...(await cache.keys()).map((request) => request.url));
    }
    return urls;
}"""

LOADED = "img => img.complete && img.naturalWidth > 0 ? img.currentSrc : null"

FETCHED_SIZE = """async (url) => {
    const response = await fetch(url);
    return [response.status, (await response.arrayBuffer()).byteLength];
}"""


@pytest.fixture
def bucket_trail(site, live_server, s3_media, trails):
    """/trails/ flagged with its subpages; /trails/ridge/ shows an image three ways and
    links a document, all stored on the bucket. The manifest is built by each test."""
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.include_documents = True
    offline_settings.save()
    ridge, image, document = media_page(trails, "ridge")
    return {"site": site, "url": live_server.url, "image": image, "document": document}


def cached_full_urls(page):
    return set(page.evaluate(CACHED_FULL_URLS))


def test_media_on_the_declared_bucket_renders_offline_from_the_cache(
    page, bucket_trail, s3_media
):
    manifest = rebuild_site_manifest(bucket_trail["site"])
    assert manifest.problems == []
    base, image = bucket_trail["url"], bucket_trail["image"]
    document = bucket_trail["document"]
    # First a page without the media: only the worker's precache can have it.
    visit_and_wait_for_worker(page, base + "/trails/")
    on_bucket = image_urls(image)
    assert len(on_bucket) == 4
    wait_until(
        lambda: on_bucket | {base + document.url} <= cached_full_urls(page),
        message="the bucket's files and the document in Cache Storage",
        describe=lambda: sorted(cached_full_urls(page)),
    )

    # Once the tab opened before the worker is gone, the worker prunes what its manifest
    # does not list (and the note that a prune is due): the bucket's files stay.
    first, page = page, page.context.new_page()
    first.close()
    page.goto(base + "/offline/")
    wait_until(
        lambda: not any("prune-after-clients" in url for url in cached_full_urls(page)),
        message="the worker to prune",
    )
    assert on_bucket | {base + document.url} <= cached_full_urls(page)

    page.context.set_offline(True)
    response = page.goto(base + "/trails/ridge/")
    assert response.status == 200 and response.from_service_worker
    for selector in ("img.photo", "img.original", "img.richtext-image"):
        shown = wait_until(
            lambda selector=selector: page.eval_on_selector(selector, LOADED),
            timeout=10,
            message=f"{selector} to load offline",
        )
        assert shown in on_bucket
    # The document Wagtail redirects to the bucket is served under the site's own URL.
    assert page.evaluate(FETCHED_SIZE, document.url) == [200, document.file_size]


def test_media_on_an_undeclared_bucket_is_reported_and_never_cached(
    page, bucket_trail, s3_media, settings
):
    settings.WAGTAIL_OFFLINE_MEDIA_ORIGINS = []
    manifest = rebuild_site_manifest(bucket_trail["site"])
    on_bucket = image_urls(bucket_trail["image"])
    cross_origin = {
        p["url"] for p in manifest.problems if "is on another site" in p["message"]
    }
    assert cross_origin == on_bucket

    base = bucket_trail["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    wait_until(
        lambda: base + "/trails/ridge/" in cached_full_urls(page),
        message="the page in Cache Storage",
    )
    assert not {
        url for url in cached_full_urls(page) if url.startswith(s3_media.origin)
    }
    # Online, the page still loads its images from the bucket itself.
    page.goto(base + "/trails/ridge/")
    shown = wait_until(
        lambda: page.eval_on_selector("img.original", LOADED),
        timeout=10,
        message="the original to load from the bucket",
    )
    assert shown == bucket_trail["image"].file.url
