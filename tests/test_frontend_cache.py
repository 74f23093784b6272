"""A rebuild that changes what a site serves purges its control URLs from a frontend cache."""

import io

import pytest
from wagtail.contrib.frontend_cache.backends.base import BaseBackend
from wagtail.models import Site

from tests.factories import StandardPageFactory
from wagtail_offline import frontend_cache as frontend_cache_module
from wagtail_offline import listing
from wagtail_offline.frontend_cache import control_urls
from wagtail_offline.models import OfflineManifest, OfflineRebuild, OfflineSettings
from wagtail_offline.tasks import schedule_rebuild

pytestmark = pytest.mark.django_db

BACKEND = "tests.test_frontend_cache.RecordingBackend"


class RecordingBackend(BaseBackend):
    """A frontend cache that records the URLs it is asked to purge, or fails if told to."""

    batches = []
    fails = False

    def purge(self, url):
        self.purge_batch([url])

    def purge_batch(self, urls):
        if self.fails:
            raise ConnectionError("The CDN's API is down.")
        self.batches.append(sorted(urls))


def purged():
    return {url for batch in RecordingBackend.batches for url in batch}


@pytest.fixture
def frontend_cache(settings, monkeypatch):
    """wagtail.contrib.frontend_cache configured with the recording backend.

    Its app is taken as installed: adding it to INSTALLED_APPS in a test would run every
    app's ready() again, which some apps refuse.
    """
    monkeypatch.setattr(frontend_cache_module, "app_installed", lambda: True)
    settings.WAGTAILFRONTENDCACHE = {"recording": {"BACKEND": BACKEND}}
    RecordingBackend.batches.clear()
    RecordingBackend.fails = False
    yield RecordingBackend.batches
    RecordingBackend.fails = False


@pytest.fixture
def trails(home):
    return StandardPageFactory(
        parent=home, title="Trails", slug="trails", offline_available=True
    )


@pytest.fixture
def staff(root_page):
    """A second site, on another port, with an offline page of its own."""
    staff_home = StandardPageFactory(parent=root_page, title="Staff", slug="staff")
    StandardPageFactory(parent=staff_home, slug="rota", offline_available=True)
    return Site.objects.create(
        hostname="localhost", port=8001, root_page=staff_home, site_name="Staff"
    )


def rebuild(sites, capture, page_ids=None):
    with capture(execute=True):
        schedule_rebuild([site.pk for site in sites], page_ids)


def publish(page, capture):
    with capture(execute=True):
        page.save_revision().publish()


SITE_URLS = {
    "http://localhost/sw.js",
    "http://localhost/offline/",
    "http://localhost/offline/app.webmanifest",
    "http://localhost/offline/unavailable/",
    "http://localhost/offline/queued/",
}


def test_the_control_urls_are_those_a_shared_cache_may_keep(site, staff):
    assert control_urls(site) == SITE_URLS
    # The versioned manifest and worker code are immutable: never purged.
    assert "http://localhost:8001/sw.js" in control_urls(staff)


def test_publishing_a_page_purges_its_sites_control_urls_once(
    frontend_cache, site, trails, django_capture_on_commit_callbacks
):
    rebuild([site], django_capture_on_commit_callbacks)
    frontend_cache.clear()

    trails.title = "Trails and walks"
    publish(trails, django_capture_on_commit_callbacks)

    assert frontend_cache == [sorted(SITE_URLS)]


def test_a_rebuild_that_changed_nothing_purges_nothing(
    frontend_cache, site, trails, django_capture_on_commit_callbacks
):
    rebuild([site], django_capture_on_commit_callbacks)
    assert purged() == SITE_URLS
    frontend_cache.clear()

    rebuild([site], django_capture_on_commit_callbacks)
    rebuild([site], django_capture_on_commit_callbacks, page_ids=[trails.pk])

    assert frontend_cache == []


def test_a_site_the_rebuild_did_not_change_is_not_purged(
    frontend_cache, site, staff, trails, django_capture_on_commit_callbacks
):
    rebuild([site, staff], django_capture_on_commit_callbacks)
    assert "http://localhost:8001/sw.js" in purged()
    frontend_cache.clear()

    trails.title = "Trails and walks"
    publish(trails, django_capture_on_commit_callbacks)

    assert "http://localhost/sw.js" in purged()
    assert not [url for url in purged() if url.startswith("http://localhost:8001/")]


def change_settings(site, capture, **values):
    offline_settings = OfflineSettings.for_site(site)
    for name, value in values.items():
        setattr(offline_settings, name, value)
    with capture(execute=True):
        offline_settings.save()  # Schedules the site's rebuild.


def test_the_kill_switch_purges_sw_js(
    frontend_cache, site, trails, django_capture_on_commit_callbacks
):
    rebuild([site], django_capture_on_commit_callbacks)
    frontend_cache.clear()

    change_settings(site, django_capture_on_commit_callbacks, enabled=False)

    assert purged() == SITE_URLS


def test_a_settings_change_that_leaves_the_manifest_alone_still_purges_sw_js(
    frontend_cache, site, trails, django_capture_on_commit_callbacks
):
    rebuild([site], django_capture_on_commit_callbacks)
    version = OfflineManifest.objects.get(site=site).version
    frontend_cache.clear()

    # Saved before its rebuild runs: the rebuild sees no change of its own.
    change_settings(site, django_capture_on_commit_callbacks, network_timeout=10)

    assert OfflineManifest.objects.get(site=site).version == version
    assert purged() == SITE_URLS


def test_the_global_switch_purges_sw_js_at_the_next_rebuild(
    frontend_cache, settings, site, trails, django_capture_on_commit_callbacks
):
    rebuild([site], django_capture_on_commit_callbacks)
    frontend_cache.clear()

    settings.WAGTAIL_OFFLINE_ENABLED = False
    rebuild([site], django_capture_on_commit_callbacks, page_ids=[])

    assert "http://localhost/sw.js" in purged()


def test_a_failing_frontend_cache_never_fails_the_rebuild(
    frontend_cache, site, trails, django_capture_on_commit_callbacks
):
    RecordingBackend.fails = True
    rebuild([site], django_capture_on_commit_callbacks)

    assert OfflineManifest.objects.filter(site=site).exists()
    last = OfflineRebuild.objects.get(site=site)
    assert last.finished_at is not None
    assert "could not be purged" in last.error and "API is down" in last.error

    # Once the cache answers again, the next rebuild purges what the failed one could not.
    RecordingBackend.fails = False
    rebuild([site], django_capture_on_commit_callbacks, page_ids=[])
    assert purged() == SITE_URLS
    assert OfflineRebuild.objects.get(site=site).error == ""


def test_nothing_is_purged_unless_the_frontend_cache_app_is_installed(
    settings, site, trails, django_capture_on_commit_callbacks
):
    # A backend set, but the app is not in INSTALLED_APPS (as in the test settings).
    settings.WAGTAILFRONTENDCACHE = {"recording": {"BACKEND": BACKEND}}
    RecordingBackend.batches.clear()
    rebuild([site], django_capture_on_commit_callbacks)
    assert RecordingBackend.batches == []
    assert OfflineRebuild.objects.get(site=site).error == ""


def test_the_rebuild_command_purges_too(site, trails, frontend_cache):
    from django.core.management import call_command

    call_command("rebuild_offline_manifest", stdout=io.StringIO())
    assert "http://localhost/sw.js" in purged()

    frontend_cache.clear()
    call_command("rebuild_offline_manifest", stdout=io.StringIO())
    assert not purged()  # Nothing changed since the last purge.


def test_every_part_of_a_long_listing_is_purged(
    frontend_cache, site, home, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(listing, "LINES_PER_PART", 1)
    for slug in ("ridge", "moor"):
        StandardPageFactory(parent=home, slug=slug, offline_available=True)
    rebuild([site], django_capture_on_commit_callbacks)
    parts = {"http://localhost/offline/2/"}
    assert control_urls(site) == SITE_URLS | parts
    assert purged() == SITE_URLS | parts
