"""The foundation, end to end in Chromium: an editor flags pages, the network goes, a reader still reads."""

import pytest

from tests.browser.offline import (
    cached_urls,
    manifest_versions,
    visit_and_wait_for_worker,
    wait_for_new_worker,
)
from tests.factories import StandardPageFactory
from wagtail_offline import listing
from wagtail_offline.manifest import rebuild_site_manifest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_flagged_page_and_its_subpage_render_offline_with_css_and_images(
    page, trail_site
):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    page.context.set_offline(True)

    for path, title in (("/trails/", "Trails"), ("/trails/ridge/", "Ridge walk")):
        response = page.goto(base + path)
        assert response.status == 200 and response.from_service_worker
        assert page.locator("h1").inner_text() == title
        # The stylesheet applied: its colour for h1 and its background image.
        assert (
            page.eval_on_selector("h1", "h => getComputedStyle(h).color")
            == "rgb(47, 111, 79)"
        )
    photo = page.locator("img.photo")
    photo.wait_for()
    assert (
        page.eval_on_selector("img.photo", "img => img.complete && img.naturalWidth")
        > 0
    )
    assert page.evaluate("document.documentElement.dataset.siteJs") == "loaded"


def test_an_unflagged_page_shows_the_fallback_page_offline(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    page.context.set_offline(True)
    response = page.goto(base + "/soon/")
    assert response.status == 503
    assert response.headers["x-wagtail-offline"] == "fallback"
    assert page.locator("h1").inner_text() == "You are offline"
    # The fallback is never stored under the URL that was asked for.
    assert "/soon/" not in cached_urls(page)


def test_a_password_protected_page_under_a_flagged_section_is_never_cached(
    page, trail_site
):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    urls = cached_urls(page)
    assert {"/trails/", "/trails/ridge/", "/offline/", "/offline/unavailable/"} <= urls
    assert "/trails/notes/" not in urls
    assert "/soon/" not in urls


def test_the_offline_listing_works_offline(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/")
    page.context.set_offline(True)
    page.goto(base + "/offline/")
    assert page.locator("h1").inner_text() == "Available offline"
    # The listed pages; the listing also links back to the home page.
    links = page.locator("main section a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert links == ["/trails/", "/trails/ridge/"]


def test_every_part_of_a_long_listing_works_offline(page, trail_site, monkeypatch):
    monkeypatch.setattr(listing, "LINES_PER_PART", 1)  # Trails; Ridge walk
    rebuild_site_manifest(trail_site["site"])
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/")
    page.context.set_offline(True)
    for path, listed in (("/offline/", "/trails/"), ("/offline/2/", "/trails/ridge/")):
        response = page.goto(base + path)
        assert response.status == 200 and response.from_service_worker
        links = page.locator("main section a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert links == [listed]
    page.get_by_role("navigation", name="Parts of this list").get_by_role(
        "link", name="1"
    ).click()
    page.wait_for_url(base + "/offline/")
    assert page.locator("main section a").first.get_attribute("href") == "/trails/"


def test_a_page_published_after_the_first_visit_is_offline_after_the_next(
    page, trail_site
):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    assert "/trails/new/" not in cached_urls(page)
    versions = manifest_versions(page)

    new = StandardPageFactory(
        parent=trail_site["trails"], title="New trail", slug="new", live=False
    )
    new.save_revision().publish()  # The signal rebuilds the manifest; no command is run.

    page.goto(base + "/trails/")
    # Not only cached: the new worker, which knows the page, must be the one in charge.
    wait_for_new_worker(page, versions)
    assert "/trails/new/" in cached_urls(page)
    page.context.set_offline(True)
    response = page.goto(base + "/trails/new/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "New trail"


def test_an_unpublished_page_is_no_longer_cached(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    assert "/trails/ridge/" in cached_urls(page)
    versions = manifest_versions(page)

    trail_site["ridge"].unpublish()

    page.goto(base + "/trails/")  # The browser checks /sw.js and finds a new worker.
    wait_for_new_worker(page, versions)
    # Pages the new manifest dropped go as it activates, though a tab is open.
    assert "/trails/ridge/" not in cached_urls(page)
    page.context.set_offline(True)
    page.goto(base + "/trails/ridge/")
    assert page.locator("h1").inner_text() == "You are offline"
