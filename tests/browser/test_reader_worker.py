"""The worker's side of readers' own pages, device state and repair, driven by messages."""

import pytest
from wagtail_factories import ImageFactory

from tests.browser.offline import (
    cached_urls,
    visit_and_wait_for_worker,
    wait_until,
)
from tests.browser.worker_messages import ask_worker, broadcasts, record_broadcasts
from tests.factories import StandardPageFactory, restrict_with_password
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineReaderPage, OfflineSettings

pytestmark = pytest.mark.django_db(transaction=True)

READER_CACHE_URLS = """async () => {
    const name = (await caches.keys()).find((each) => each.endsWith(":reader"));
    if (!name) return null;
    const cache = await caches.open(name);
    return (await cache.keys()).map((request) => {
        const url = new URL(request.url);
        return url.pathname + url.search;
    });
}"""

DELETE_FROM_PRECACHE = """async (path) => {
    const name = (await caches.keys()).find((each) => each.endsWith(":precache"));
    return (await caches.open(name)).delete(path);
}"""


@pytest.fixture
def meadow(trail_site):
    """A page the editors did not select: only a reader's save keeps it offline."""
    return StandardPageFactory(
        parent=trail_site["home"],
        title="Meadow loop",
        slug="meadow",
        image=ImageFactory(),
    )


def reader_cache_urls(page):
    """What the reader cache holds (its index aside), or None when there is no reader cache."""
    urls = page.evaluate(READER_CACHE_URLS)
    return None if urls is None else {url for url in urls if "?reader-index" not in url}


def images_of_reader_page(url):
    entries = OfflineReaderPage.objects.get(url=url).entries
    return {
        entry["url"] for entry in entries if entry["url"].startswith("/media/images/")
    }


def set_offline_settings(site, **values):
    offline_settings = OfflineSettings.for_site(site)
    for name, value in values.items():
        setattr(offline_settings, name, value)
    offline_settings.save()


def test_saving_and_removing_a_page_changes_cache_storage(page, trail_site, meadow):
    base = trail_site["url"]
    record_broadcasts(page.context)
    visit_and_wait_for_worker(page, base + "/trails/")
    assert reader_cache_urls(page) is None

    assert ask_worker(page, "save", url="/meadow/") == {"state": "saved"}
    held = reader_cache_urls(page)
    assert "/meadow/" in held
    # The page's own image is kept; what the editors' copy already holds is not twice.
    assert any(url.startswith("/media/images/") for url in held)
    assert not held & cached_urls_of_precache(page)
    state = ask_worker(page, "state")
    assert state["pages"]["/meadow/"] == "saved"
    assert state["pages"]["/trails/ridge/"] == "site"
    assert [saved["title"] for saved in state["saved"]] == ["Meadow loop"]
    wait_until(lambda: broadcasts(page, "saved-changed"), message="saved-changed")

    # A page of the editors' selection is already on the device.
    assert ask_worker(page, "save", url="/trails/ridge/") == {"state": "site"}

    assert ask_worker(page, "remove", url="/meadow/") == {"state": "removed"}
    assert reader_cache_urls(page) is None
    assert "/meadow/" not in cached_urls(page)
    state = ask_worker(page, "state")
    assert "/meadow/" not in state["pages"] and state["saved"] == []


def cached_urls_of_precache(page):
    return {
        url
        for name, urls in page.evaluate(CACHES).items()
        if name.endswith(":precache")
        for url in urls
    }


CACHES = """async () => {
    const result = {};
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        result[name] = (await cache.keys()).map((request) => new URL(request.url).pathname);
    }
    return result;
}"""


def test_a_saved_page_is_readable_offline_with_its_image(page, trail_site, meadow):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    assert ask_worker(page, "save", url="/meadow/") == {"state": "saved"}

    page.context.set_offline(True)
    response = page.goto(base + "/meadow/")
    assert response.status == 200 and response.from_service_worker
    assert page.locator("h1").inner_text() == "Meadow loop"
    page.locator("img.photo").wait_for()
    assert (
        page.eval_on_selector("img.photo", "img => img.complete && img.naturalWidth")
        > 0
    )
    assert ask_worker(page, "source") == {"fromDevice": True, "networkFailed": True}

    page.context.set_offline(False)
    page.goto(base + "/meadow/")
    assert ask_worker(page, "source") == {"fromDevice": False, "networkFailed": False}


def test_a_saved_page_made_private_disappears_after_a_refresh(page, trail_site, meadow):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    assert ask_worker(page, "save", url="/meadow/") == {"state": "saved"}
    photo = images_of_reader_page("/meadow/")
    assert photo and photo <= reader_cache_urls(page)

    restrict_with_password(meadow)
    assert ask_worker(page, "refresh") == {"state": "refreshed"}
    assert reader_cache_urls(page) is None
    assert not ({"/meadow/"} | photo) & cached_urls(page)
    assert ask_worker(page, "state")["saved"] == []


def test_a_saved_page_is_kept_fresh_when_it_is_published_again(
    page, trail_site, meadow
):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    assert ask_worker(page, "save", url="/meadow/") == {"state": "saved"}
    meadow.title = "Meadow loop, mown"
    meadow.save_revision().publish()

    assert ask_worker(page, "refresh") == {"state": "refreshed"}
    wait_until(
        lambda: ask_worker(page, "state")["saved"][0]["title"] == "Meadow loop, mown",
        message="the new revision to be saved",
    )
    page.context.set_offline(True)
    page.goto(base + "/meadow/")
    assert page.locator("h1").inner_text() == "Meadow loop, mown"


def test_recently_read_pages_are_kept_up_to_the_sites_count(page, trail_site):
    set_offline_settings(trail_site["site"], recent_pages=2)
    home = trail_site["home"]
    for slug in ("fell", "tarn", "scree"):
        StandardPageFactory(parent=home, title=slug.title(), slug=slug)
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")

    for slug in ("fell", "tarn", "scree"):
        page.goto(f"{base}/{slug}/")
        # One after the other: which page is oldest must not depend on the network.
        wait_until(
            lambda slug=slug: f"/{slug}/" in ask_worker(page, "state")["pages"],
            message=f"/{slug}/ to be kept",
        )
    recent = ask_worker(page, "state")["recent"]
    assert [page["url"] for page in recent] == ["/scree/", "/tarn/"]
    assert "/fell/" not in cached_urls(page)
    # Recently read is not saved by the reader, and the editors' pages are not "recent".
    assert ask_worker(page, "state")["saved"] == []
    page.goto(base + "/trails/ridge/")
    assert "/trails/ridge/" not in {
        page["url"] for page in ask_worker(page, "state")["recent"]
    }

    page.context.set_offline(True)
    response = page.goto(base + "/tarn/")
    assert response.from_service_worker and page.locator("h1").inner_text() == "Tarn"


def test_an_evicted_entry_is_downloaded_again(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    assert ask_worker(page, "state")["missing"] == 0
    # What a browser under storage pressure may do to part of the copy.
    assert page.evaluate(DELETE_FROM_PRECACHE, "/trails/ridge/")
    assert "/trails/ridge/" not in cached_urls(page)
    state = ask_worker(page, "state")
    assert state["missing"] == 1 and "/trails/ridge/" not in state["pages"]

    assert ask_worker(page, "repair") == {"state": "repaired"}
    assert "/trails/ridge/" in cached_urls(page)
    assert ask_worker(page, "state")["missing"] == 0
    page.context.set_offline(True)
    page.goto(base + "/trails/ridge/")
    assert page.locator("h1").inner_text() == "Ridge walk"


def test_progress_is_broadcast_while_installing(page, trail_site):
    for number in range(12):
        StandardPageFactory(
            parent=trail_site["trails"], title=f"Walk {number}", slug=f"walk-{number}"
        )
    rebuild_site_manifest(trail_site["site"])
    record_broadcasts(page.context)
    visit_and_wait_for_worker(page, trail_site["url"] + "/trails/")
    progress = wait_until(
        lambda: broadcasts(page, "progress"), message="progress messages"
    )
    last = progress[-1]
    assert last["total"] >= 14 and last["done"] == last["total"] and last["failed"] == 0
    assert all(message["done"] <= message["total"] for message in progress)
    state = ask_worker(page, "state")
    assert state["installing"] is None and state["failures"] == []
    assert state["version"] and state["builtAt"]


def test_a_page_that_does_not_fit_is_not_saved_at_all(page, trail_site, meadow):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    usage = page.evaluate("navigator.storage.estimate().then((e) => e.usage)")
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Storage.overrideQuotaForOrigin", {"origin": base, "quotaSize": usage + 2_000}
    )

    answer = ask_worker(page, "save", url="/meadow/")
    assert answer["state"] == "failed" and answer["reason"] == "quota"
    assert reader_cache_urls(page) is None
    state = ask_worker(page, "state")
    assert state["saved"] == [] and "/meadow/" not in state["pages"]
