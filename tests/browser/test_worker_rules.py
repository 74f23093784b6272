"""The service worker's rules, each shown in Chromium."""

import json
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest

from tests.browser.offline import (
    cache_names,
    cached_urls,
    manifest_versions,
    record_reports,
    update_worker,
    visit_and_wait_for_worker,
    wait_for_active_worker,
    wait_for_new_worker,
    wait_until,
)
from tests.factories import FormFieldFactory, FormPageFactory, StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.manifest_rows import worker_entry
from wagtail_offline.models import OfflineManifest, OfflineServingState, OfflineSettings

pytestmark = pytest.mark.django_db(transaction=True)

REGISTRATIONS = "navigator.serviceWorker.getRegistrations().then((r) => r.length)"


class ServerLog:
    """Counts what reaches the network, from pages and from the worker alike."""

    def __init__(self, context):
        self.paths = Counter()
        context.route("**/*", self._record)

    def _record(self, route):
        self.paths[urlsplit(route.request.url).path] += 1
        route.continue_()


def set_offline_settings(site, **values):
    offline_settings = OfflineSettings.for_site(site)
    for name, value in values.items():
        setattr(offline_settings, name, value)
    offline_settings.save()


def entry_revisions(site):
    manifest = OfflineManifest.objects.get(site=site)
    return {entry["url"]: entry["revision"] for entry in manifest.entries}


def test_an_edit_downloads_only_the_entries_that_changed(page, trail_site):
    site, trails = trail_site["site"], trail_site["trails"]
    for number in range(100):
        StandardPageFactory(
            parent=trails, title=f"Walk {number}", slug=f"walk-{number}"
        )
    rebuild_site_manifest(site)
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    before = entry_revisions(site)
    assert sum(1 for url in cached_urls(page) if url.startswith("/trails/walk-")) == 100

    log = ServerLog(page.context)
    walk = trails.get_children().get(slug="walk-7").specific
    walk.body = "<p>Rerouted around the landslip.</p>"
    walk.save_revision().publish()
    after = entry_revisions(site)
    changed = {url for url, revision in after.items() if before.get(url) != revision}
    assert "/trails/walk-7/" in changed and len(changed) <= 3

    versions = manifest_versions(page)
    page.goto(base + "/trails/walk-7/")
    wait_for_new_worker(page, versions)
    # The worker's control files aside (routing turns the HTTP cache off, so its
    # immutable code is fetched again here), only changed entries were downloaded.
    control = {"/sw.js", f"/offline/manifest-{site_version(site)}.json"}
    downloaded = {
        path for path in log.paths if not path.startswith("/offline/worker-")
    } - control
    # Of the manifest, the root and what changed: the part with the page, and the index
    # that lists that part.
    parts = {path for path in downloaded if path.startswith("/offline/parts/")}
    assert len(parts) == 2, parts
    # The navigation itself fetched /trails/walk-7/ once more; nothing else unchanged was.
    assert downloaded - parts == changed
    # The parts of the previous manifest are pruned, and the current ones all held.
    wait_until(
        lambda: (
            {url for url in cached_urls(page) if url.startswith("/offline/parts/")}
            == served_documents(page, base, site)
        ),
        message="the precache to hold exactly the current manifest's parts",
    )
    page.context.set_offline(True)
    page.goto(base + "/trails/walk-7/")
    assert "Rerouted around the landslip." in page.content()


def test_a_reader_away_for_several_versions_downloads_only_what_changed_since(
    context, trail_site
):
    site, trails = trail_site["site"], trail_site["trails"]
    for number in range(60):
        StandardPageFactory(
            parent=trails, title=f"Walk {number}", slug=f"walk-{number}"
        )
    rebuild_site_manifest(site)
    base = trail_site["url"]
    page = context.new_page()
    visit_and_wait_for_worker(page, base + "/trails/")
    first = entry_revisions(site)
    first_documents = served_documents(page, base, site)
    versions = manifest_versions(page)
    page.close()  # The reader goes away; the worker stays registered.

    # Three publishes while the reader is away: an edit, a new page, an unpublish.
    walk = trails.get_children().get(slug="walk-3").specific
    walk.body = "<p>Rerouted around the landslip.</p>"
    walk.save_revision().publish()
    StandardPageFactory(parent=trails, title="Tarn loop", slug="tarn-loop")
    trails.get_children().get(slug="walk-10").specific.unpublish()
    latest = entry_revisions(site)
    changed = {url for url, revision in latest.items() if first.get(url) != revision}

    log = ServerLog(context)
    page = context.new_page()
    page.goto(base + "/trails/walk-3/")
    wait_for_new_worker(page, versions)
    # One root (the latest: the versions in between are never fetched), the documents
    # this device did not hold, and the entries that changed since its version.
    roots = {path for path in log.paths if path.startswith("/offline/manifest-")}
    assert roots == {f"/offline/manifest-{site_version(site)}.json"}
    parts = {path for path in log.paths if path.startswith("/offline/parts/")}
    assert parts and not parts & first_documents
    assert all(count == 1 for path, count in log.paths.items() if path in parts)
    downloaded = {
        path
        for path in log.paths
        if not path.startswith(("/offline/worker-", "/offline/manifest-", "/sw.js"))
    } - parts
    assert downloaded == changed  # /trails/walk-3/ is both changed and navigated to.

    current = served_documents(page, base, site)
    wait_until(
        lambda: (
            {url for url in cached_urls(page) if url.startswith("/offline/parts/")}
            == current
        ),
        message="the precache to hold exactly the latest manifest's parts",
    )
    assert "/trails/walk-10/" not in cached_urls(page)
    page.context.set_offline(True)
    page.goto(base + "/trails/walk-3/")
    assert "Rerouted around the landslip." in page.content()
    page.goto(base + "/trails/tarn-loop/")
    assert page.locator("h1").inner_text() == "Tarn loop"
    response = page.goto(base + "/trails/walk-10/")
    assert response.headers["x-wagtail-offline"] == "fallback"


def test_a_manifest_stored_by_an_older_release_still_installs(page, trail_site):
    """Until the first build after an upgrade, the root lists its entries itself."""
    site = trail_site["site"]
    manifest = OfflineManifest.objects.get(site=site)
    older_payload = json.dumps(
        {
            "version": manifest.version,
            "builtAt": manifest.built_at.isoformat(),
            "fallbacks": manifest.extras.get("fallbacks", []),
            "entries": [worker_entry(entry) for entry in manifest.entries],
        }
    )
    OfflineManifest.objects.filter(site=site).update(payload=older_payload)
    OfflineServingState.bump()
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    assert not any(url.startswith("/offline/parts/") for url in cached_urls(page))
    assert "/trails/ridge/" in cached_urls(page)
    page.context.set_offline(True)
    page.goto(base + "/trails/ridge/")
    assert page.locator("h1").inner_text() == "Ridge walk"


def served_documents(page, base, site):
    """The URLs of the current manifest's indexes and parts."""
    root = page.request.get(
        base + f"/offline/manifest-{site_version(site)}.json"
    ).json()
    parts = [
        url
        for index in root["indexes"]
        for url in page.request.get(base + index).json()["parts"]
    ]
    return {*root["indexes"], *parts}


def site_version(site):
    return OfflineManifest.objects.get(site=site).version


def test_an_update_serves_the_new_revision_and_removes_only_our_old_caches(
    page, trail_site
):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    prefix = next(name for name in cache_names(page) if name.endswith(":precache"))
    page.evaluate(
        """async (prefix) => {
            await caches.open(prefix.replace(":precache", ":precache-from-an-old-release"));
            await caches.open("another-app-on-this-origin");
        }""",
        prefix,
    )
    ridge = trail_site["ridge"]
    ridge.title = "Ridge walk, revised"
    ridge.save_revision().publish()

    versions = manifest_versions(page)
    page.goto(base + "/trails/")
    wait_for_new_worker(page, versions)
    page.goto(base + "/trails/")
    wait_until(
        lambda: len(manifest_versions(page)) == 1, message="the old manifest to go"
    )
    # Activation deletes the old release's cache (and only ours); the page may look
    # before the browser has shown it the deletion.
    wait_until(
        lambda: cache_names(page) == {prefix, "another-app-on-this-origin"},
        message="only the current cache and the other app's to remain",
        describe=lambda: sorted(cache_names(page)),
    )
    page.context.set_offline(True)
    page.goto(base + "/trails/ridge/")
    assert page.locator("h1").inner_text() == "Ridge walk, revised"


def test_a_tab_opened_before_an_update_keeps_its_assets_until_it_closes(
    page, trail_site
):
    base, site = trail_site["url"], trail_site["site"]
    visit_and_wait_for_worker(page, base + "/trails/ridge/")
    old_tab = page
    new_tab = page.context.new_page()
    new_tab.goto(base + "/trails/")
    versions = manifest_versions(new_tab)
    assets_before = assets_of(site)

    trail_site["ridge"].unpublish()
    dropped_assets = assets_before - assets_of(site)
    assert dropped_assets  # The ridge walk's photo.
    new_tab.goto(base + "/trails/")
    wait_for_new_worker(new_tab, versions)
    # The page itself goes at once; the old tab still shows its photo, which stays.
    cached = cached_urls(new_tab)
    assert "/trails/ridge/" not in cached
    assert dropped_assets <= cached

    old_tab.close()
    new_tab.goto(base + "/trails/")
    wait_until(
        lambda: not dropped_assets & cached_urls(new_tab),
        message="the dropped assets to be pruned once no tab uses them",
    )


def assets_of(site):
    manifest = OfflineManifest.objects.get(site=site)
    return {entry["url"] for entry in manifest.entries if entry["kind"] == "asset"}


def test_a_hanging_network_shows_the_cached_page_after_the_sites_timeout(
    page, trail_site, server_faults
):
    set_offline_settings(trail_site["site"], network_timeout=1)
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    # The server accepts the request and does not answer for a long while.
    server_faults.FAULTS["/trails/ridge/"] = ("hang", 6)
    started = time.monotonic()
    response = page.goto(base + "/trails/ridge/")
    elapsed = time.monotonic() - started
    assert response.from_service_worker
    assert page.locator("h1").inner_text() == "Ridge walk"
    assert 1.0 <= elapsed < 1.0 + 1.5


def test_a_server_error_serves_the_saved_copy_or_the_fallback(
    page, trail_site, server_faults
):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    server_faults.FAULTS["/trails/ridge/"] = ("status", 503)
    server_faults.FAULTS["/soon/"] = ("status", 502)
    response = page.goto(base + "/trails/ridge/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Ridge walk"
    response = page.goto(base + "/soon/")
    assert response.status == 503
    assert response.headers["x-wagtail-offline"] == "fallback"
    assert page.locator("h1").inner_text() == "You are offline"


def test_navigation_preload_is_used_and_the_page_fetched_once(
    page, trail_site, server_faults
):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    state = page.evaluate(
        "navigator.serviceWorker.getRegistration().then((r) => r.navigationPreload.getState())"
    )
    assert state["enabled"] is True
    server_faults.reset()
    response = page.goto(base + "/soon/")
    assert response.status == 200 and response.from_service_worker
    assert [entry for entry in server_faults.REQUESTS if entry[0] == "/soon/"] == [
        ("/soon/", True)
    ]


def test_the_admin_and_non_get_requests_are_never_intercepted(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    for path in ("/admin/login/", "/django-admin/login/"):
        response = page.goto(base + path)
        assert not response.from_service_worker, path
    page.goto(base + "/trails/")
    page.context.set_offline(True)
    # An intercepted POST would be answered from the cache; a bypassed one fails.
    status = page.evaluate(
        """fetch("/trails/", {method: "POST"}).then((r) => r.status, () => "network error")"""
    )
    assert status == "network error"
    assert not any(url.startswith("/admin") for url in cached_urls(page))


def test_range_requests_are_answered_from_the_cached_copy(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    page.context.set_offline(True)
    result = page.evaluate(
        """fetch("/static/testapp/js/site.js", {headers: {Range: "bytes=0-7"}})
            .then(async (r) => [r.status, r.headers.get("Content-Range"), await r.text()])"""
    )
    status, content_range, body = result
    assert status == 206
    assert body == "document"
    assert content_range.startswith("bytes 0-7/")


def test_unstorable_answers_are_not_cached_reported_and_retried(page, trail_site):
    base = trail_site["url"]
    warnings = []
    page.on("console", lambda message: warnings.append(message.text))
    reports = []
    ridge_is_private = [True]

    def answer(route):
        path = urlsplit(route.request.url).path
        if path == "/trails/ridge/" and ridge_is_private[0]:
            return route.fulfill(
                status=200, body="<h1>Mine</h1>", headers={"Cache-Control": "private"}
            )
        if path == "/offline/report/":
            reports.append(route.request.post_data_json)
        return route.continue_()

    page.context.route("**/*", answer)
    visit_and_wait_for_worker(page, base + "/trails/")
    assert "/trails/ridge/" not in cached_urls(page)
    assert "/trails/" in cached_urls(page)
    wait_until(lambda: reports, message="the failure to be reported to the server")
    [failure] = reports[0]["failures"]
    assert failure["url"] == "/trails/ridge/" and failure["reason"] == "fetch"
    wait_until(
        lambda: any("could not be saved" in text for text in warnings),
        message="the open page to be told",
    )

    # The next update retries the page that failed.
    ridge_is_private[0] = False
    versions = manifest_versions(page)
    trails = trail_site["trails"]
    trails.title = "Trails, updated"
    trails.save_revision().publish()
    page.goto(base + "/trails/")
    wait_for_new_worker(page, versions)
    assert "/trails/ridge/" in cached_urls(page)


def add_long_walks(trails, repeats):
    """Pages /trails/long-0/, /trails/long-1/, … whose bodies repeat a sentence
    ``repeats[n]`` times (about 32 bytes each)."""
    for number, count in enumerate(repeats):
        StandardPageFactory(
            parent=trails,
            title=f"Long walk {number}",
            slug=f"long-{number}",
            body="<p>" + "A long description of the path. " * count + "</p>",
        )


def test_entries_beyond_the_storage_quota_are_skipped_and_reported(page, trail_site):
    site = trail_site["site"]
    add_long_walks(trail_site["trails"], [3000] * 6)
    rebuild_site_manifest(site)
    base = trail_site["url"]
    reports = record_reports(page.context)
    cdp = page.context.new_cdp_session(page)
    # A file, not a page: the origin exists for the quota, and no worker is registered
    # before the quota is set (an install begun with room to spare could store more than
    # the quota, after which no install would ever fit).
    page.goto(base + "/static/testapp/js/site.js")
    critical = sum(
        entry["size"]
        for entry in OfflineManifest.objects.get(site=site).entries
        if entry["critical"]
    )
    cdp.send(
        "Storage.overrideQuotaForOrigin",
        {"origin": base, "quotaSize": critical + 250_000},
    )
    page.goto(base + "/trails/")
    wait_for_active_worker(page)  # The install, which reports, is over.
    wait_until(lambda: reports, message="the quota failures to be reported")
    skipped = {f["url"] for f in reports[0]["failures"] if f["reason"] == "quota"}
    assert skipped and all(url.startswith("/trails/long-") for url in skipped)
    cached = cached_urls(page)
    assert "/offline/" in cached and "/offline/unavailable/" in cached
    assert not skipped & cached


# Put in front of /sw.js: the browser refuses the first writes of the manifest's root as
# over quota, as it does where its estimate of the room left was wrong.
REFUSE_THE_ROOT = """
const wagtailOfflinePut = Cache.prototype.put;
let wagtailOfflineRefusals = %d;
Cache.prototype.put = function (request, response) {
  const url = typeof request === "string" ? request : request.url;
  if (/\\/offline\\/manifest-[0-9a-f]+\\.json$/.test(url) && wagtailOfflineRefusals-- > 0) {
    return Promise.reject(new DOMException("Quota exceeded.", "QuotaExceededError"));
  }
  return wagtailOfflinePut.call(this, request, response);
};
"""


def test_an_install_drops_its_largest_entries_to_make_room_for_the_manifest(
    page, trail_site
):
    site = trail_site["site"]
    add_long_walks(trail_site["trails"], [1000, 3000, 2000])
    rebuild_site_manifest(site)
    base = trail_site["url"]
    reports = record_reports(page.context)

    def refuse_the_root_twice(route):
        response = route.fetch()
        route.fulfill(response=response, body=REFUSE_THE_ROOT % 2 + response.text())

    page.context.route("**/sw.js", refuse_the_root_twice)
    visit_and_wait_for_worker(page, base + "/trails/")
    wait_until(lambda: reports, message="the dropped entries to be reported")
    dropped = {f["url"] for f in reports[0]["failures"] if f["reason"] == "quota"}
    # The two largest pages, and nothing else.
    assert dropped == {"/trails/long-1/", "/trails/long-2/"}
    cached = cached_urls(page)
    assert not dropped & cached
    assert {"/trails/", "/trails/ridge/", "/trails/long-0/"} <= cached


def test_the_kill_switch_removes_the_worker_and_every_cache_within_one_navigation(
    page, trail_site
):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    assert cached_urls(page)
    set_offline_settings(trail_site["site"], enabled=False)

    page.goto(base + "/trails/")
    wait_until(
        lambda: safe_evaluate(page, REGISTRATIONS) == 0 and not cache_names(page),
        message="the worker and its caches to be gone",
    )


def test_a_site_that_removed_the_plugin_keeps_no_zombie_worker(
    page, trail_site, settings
):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    settings.ROOT_URLCONF = "tests.urls_without_offline"
    # The worker may find /sw.js gone during this very navigation and reload the page
    # as it removes itself: Playwright then has no response for the first one.
    page.goto(base + "/trails/")
    wait_until(
        lambda: safe_evaluate(page, REGISTRATIONS) == 0 and not cache_names(page),
        message="the orphaned worker to remove itself",
    )
    response = page.goto(base + "/trails/")
    assert response.status == 200 and not response.from_service_worker


def test_a_form_read_from_the_cache_still_submits_once_online(page, trail_site):
    form = FormPageFactory(
        parent=trail_site["home"],
        title="Report a fallen tree",
        slug="report",
        offline_available=True,
        to_address="",
        from_address="",
    )
    FormFieldFactory(page=form, label="Where", field_type="singleline")
    rebuild_site_manifest(trail_site["site"])
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    page.context.set_offline(True)
    response = page.goto(base + "/report/")
    assert response.from_service_worker
    page.context.set_offline(False)
    page.fill("input[name=where]", "Below the ridge")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("p.thanks").inner_text() == "Thank you"


def safe_evaluate(page, expression):
    """Evaluate, tolerating the reload that a removed worker triggers."""
    for _ in range(20):
        try:
            return page.evaluate(expression)
        except Exception:  # The page navigated away under us.
            time.sleep(0.2)
    return page.evaluate(expression)


def test_an_old_worker_never_prunes_what_a_new_worker_is_installing(
    page, trail_site, server_faults
):
    base, trails = trail_site["url"], trail_site["trails"]
    visit_and_wait_for_worker(page, base + "/trails/")
    # A worker that takes over from another waits for the tabs open then to close
    # before it prunes what its manifest dropped.
    ridge = trail_site["ridge"]
    ridge.title = "Ridge walk, revised"
    ridge.save_revision().publish()
    update_worker(page, manifest_versions(page))
    other_tab = page.context.new_page()
    other_tab.goto(base + "/trails/")
    versions = manifest_versions(other_tab)

    for title in ("Tarn", "Scree"):
        StandardPageFactory(
            parent=trails, title=title, slug=title.lower()
        ).save_revision().publish()
    # The next worker stores one new page at once, and the other only after a while.
    server_faults.FAULTS["/trails/scree/"] = ("hang", 6)
    other_tab.evaluate(
        "navigator.serviceWorker.getRegistration().then((r) => r.update())"
    )
    wait_until(
        lambda: "/trails/tarn/" in cached_urls(other_tab),
        # The install renders the listing and reads the new parts first: on a loaded
        # machine (PostgreSQL, two test workers) that took longer than 15 s once.
        timeout=40,
        message="the new worker to store the first new page",
        describe=lambda: sorted(cached_urls(other_tab)),
    )
    # Meanwhile the first tab goes: the old worker's next event would prune by its own
    # manifest, which lists neither new page.
    page.close()
    for _ in range(6):  # The worker may still count the closed tab for a moment.
        other_tab.evaluate("fetch('/trails/').then((response) => response.status)")
        other_tab.wait_for_timeout(300)
    wait_for_new_worker(other_tab, versions, timeout=25)
    assert {"/trails/tarn/", "/trails/scree/"} <= cached_urls(other_tab)
    other_tab.context.set_offline(True)
    other_tab.goto(base + "/trails/tarn/")
    assert other_tab.locator("h1").inner_text() == "Tarn"
