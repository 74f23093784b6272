"""No manifest entry makes the worker store anything off its origin, and keys are canonical.

The page is served at http://127.0.0.1:PORT, so http://localhost:PORT is another origin
that reaches the same live server: its /cors/ answers are storable (see tests/urls.py),
so only the worker's own checks keep them out of the site's cache.
"""

import json
from urllib.parse import urlsplit

import pytest

from tests import server_faults
from tests.browser.offline import (
    cached_urls,
    manifest_versions,
    record_reports,
    update_worker,
    visit_and_wait_for_worker,
    wait_until,
)
from wagtail_offline.manifest import revision_of
from wagtail_offline.models import OfflineManifest

pytestmark = pytest.mark.django_db(transaction=True)

# Every request URL in Cache Storage, in full: a pathname would hide another origin.
CACHED_REQUEST_URLS = """async () => {
    const urls = [];
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) urls.push(request.url);
    }
    return urls;
}"""

WORKER_SETTLED = """async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    return Boolean(registration && !registration.installing && !registration.waiting);
}"""


def hostile_urls(port):
    return [
        f"//localhost:{port}/cors/x/",  # Scheme-relative: another host.
        f"http://localhost:{port}/cors/y/",  # Absolute, on another origin.
        f"/\\localhost:{port}/cors/z/",  # A backslash reads as a slash.
        "/a/../cors/w/",  # Same origin, but not the canonical spelling of /cors/w/.
    ]


def add_entries(site, urls, critical=False, kind="asset"):
    """Store the site's manifest with extra entries, under a new version as ``_store`` would."""
    manifest = OfflineManifest.objects.get(site=site)
    entries = manifest.entries + [
        {
            "url": url,
            "revision": "hostile",
            "size": 32,
            # Assets: an open tab keeps dropped assets, so a stored one would stay to be seen.
            "kind": kind,
            "critical": critical,
        }
        for url in urls
    ]
    manifest.entries = entries
    manifest.version = revision_of(json.dumps(entries, sort_keys=True).encode())
    manifest.save()  # Bumps the serving generation: /sw.js announces the new version.
    return manifest.version


def invalid_reported(reports):
    return {
        failure["url"]
        for report in reports
        for failure in report["failures"]
        if failure["reason"] == "invalid"
    }


def foreign_cached(page, origin):
    return [
        url
        for url in page.evaluate(CACHED_REQUEST_URLS)
        if not url.startswith(origin + "/")
    ]


def cors_requests():
    return [path for path, _ in server_faults.REQUESTS if path.startswith("/cors/")]


@pytest.fixture
def own_origin(trail_site):
    """The site as read at 127.0.0.1, where localhost is another origin."""
    port = urlsplit(trail_site["url"]).port
    server_faults.reset()
    yield f"http://127.0.0.1:{port}", port
    server_faults.reset()


def test_entries_off_the_origin_or_not_canonical_are_never_fetched_nor_stored(
    page, trail_site, own_origin
):
    origin, port = own_origin
    visit_and_wait_for_worker(page, origin + "/trails/")
    reports = record_reports(page.context)

    urls = hostile_urls(port)
    add_entries(trail_site["site"], urls)
    # An update while the tab stays open, so that nothing stored is pruned before it is seen.
    update_worker(page, manifest_versions(page))
    assert foreign_cached(page, origin) == []
    cached = cached_urls(page)
    assert {"/trails/", "/trails/ridge/", "/offline/unavailable/"} <= cached
    assert not any(url.startswith("/cors/") for url in cached)
    assert cors_requests() == []
    wait_until(lambda: reports, message="the invalid entries to be reported")
    assert invalid_reported(reports) == set(urls)


def test_a_critical_entry_off_the_origin_keeps_the_previous_worker(
    page, trail_site, own_origin
):
    origin, port = own_origin
    visit_and_wait_for_worker(page, origin + "/trails/")
    versions = manifest_versions(page)
    reports = record_reports(page.context)

    hostile = f"//localhost:{port}/cors/critical/"
    add_entries(trail_site["site"], [hostile], critical=True)
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    wait_until(
        lambda: page.evaluate(WORKER_SETTLED), message="the new worker's install to end"
    )
    assert manifest_versions(page) == versions
    assert foreign_cached(page, origin) == []
    assert cors_requests() == []
    wait_until(lambda: reports, message="the invalid entry to be reported")
    assert invalid_reported(reports) == {hostile}
    page.context.set_offline(True)
    response = page.goto(origin + "/trails/ridge/")
    assert response.from_service_worker
    assert page.locator("h1").inner_text() == "Ridge walk"


def test_a_declared_media_origin_lends_the_worker_canonical_assets_only(
    page, trail_site, own_origin, settings
):
    origin, port = own_origin
    media = f"http://localhost:{port}"
    settings.WAGTAIL_OFFLINE_MEDIA_ORIGINS = [media]
    visit_and_wait_for_worker(page, origin + "/trails/")
    reports = record_reports(page.context)

    asset = f"{media}/cors/photo.jpg"
    not_canonical = f"{media}/a/../cors/w/"
    undeclared = f"http://localhost:{port + 1}/cors/v/"
    as_page = f"{media}/cors/page/"
    add_entries(trail_site["site"], [asset, not_canonical, undeclared])
    add_entries(trail_site["site"], [as_page], kind="page")
    update_worker(page, manifest_versions(page))
    assert foreign_cached(page, origin) == [asset]
    assert cors_requests() == ["/cors/photo.jpg"]
    wait_until(lambda: reports, message="the invalid entries to be reported")
    assert invalid_reported(reports) == {not_canonical, undeclared, as_page}
    # Offline, a page's request to the media origin is answered from the cache.
    page.context.set_offline(True)
    body = page.evaluate("(url) => fetch(url).then((r) => r.text())", asset)
    assert body == "Another origin's photo.jpg"


def test_repeated_slashes_find_the_saved_copy_and_the_bypass(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    response = page.goto(base + "//admin/login/")
    assert not response.from_service_worker

    page.goto(base + "/trails/")
    page.context.set_offline(True)
    response = page.goto(base + "/trails//ridge/")
    assert response.from_service_worker
    assert page.locator("h1").inner_text() == "Ridge walk"
    status = page.evaluate(
        """fetch("/static//testapp/js/site.js").then((r) => r.status, () => "network error")"""
    )
    assert status == 200
