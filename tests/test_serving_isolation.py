"""What /sw.js, the manifest and the listing serve belongs to the site Wagtail resolves,
never to a raw header; anonymous requests cannot fill the cache; the listing is
private-safe when it is requested, not only when it was built."""

import json
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone
from wagtail.models import PageViewRestriction, Site

from tests.factories import StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineSettings

pytestmark = pytest.mark.django_db


def worker_config(response):
    assert response.status_code == 200
    body = response.content.decode()
    marker = "self.WAGTAIL_OFFLINE_CONFIG = "
    start = body.index(marker) + len(marker)
    return json.loads(body[start : body.index(";\n", start)])


@pytest.fixture
def two_sites_one_host(site, home, root_page):
    """localhost:80 (live) and localhost:8001 (offline reading switched off)."""
    StandardPageFactory(parent=home, slug="trails", offline_available=True)
    staff_home = StandardPageFactory(parent=root_page, title="Staff", slug="staff")
    StandardPageFactory(parent=staff_home, slug="rota", offline_available=True)
    staff = Site.objects.create(
        hostname="localhost", port=8001, root_page=staff_home, site_name="Staff"
    )
    rebuild_site_manifest(site)
    rebuild_site_manifest(staff)
    offline_settings = OfflineSettings.for_site(staff)
    offline_settings.enabled = False
    offline_settings.save()
    return site, staff


@pytest.mark.parametrize("forwarded", [False, True])
def test_a_site_on_another_port_never_answers_for_the_live_one(
    client, settings, two_sites_one_host, forwarded
):
    settings.USE_X_FORWARDED_PORT = forwarded
    settings.ALLOWED_HOSTS = ["localhost"]

    def sw(port):
        if forwarded:
            headers = {"HTTP_X_FORWARDED_PORT": str(port)}
            return client.get("/sw.js", HTTP_HOST="localhost", **headers)
        # As a server on that port receives it (Wagtail reads the port from SERVER_PORT).
        return client.get(
            "/sw.js", HTTP_HOST=f"localhost:{port}", SERVER_PORT=str(port)
        )

    for _ in range(2):  # Each answer is served again from the cache.
        assert worker_config(sw(80))["active"] is True
        assert worker_config(sw(8001))["active"] is False
        assert worker_config(sw(80))["active"] is True


def test_the_listing_of_each_site_is_its_own(client, settings, two_sites_one_host):
    settings.USE_X_FORWARDED_PORT = True
    settings.ALLOWED_HOSTS = ["localhost"]
    live = client.get("/offline/", HTTP_HOST="localhost").content.decode()
    staff = client.get(
        "/offline/", HTTP_HOST="localhost", HTTP_X_FORWARDED_PORT="8001"
    ).content.decode()
    assert "/trails/" in live and "/rota/" not in live
    assert "/rota/" in staff and "/trails/" not in staff


def cache_size():
    return len(caches["default"]._cache)


def test_anonymous_requests_cannot_fill_the_serving_cache(
    client, settings, two_sites_one_host
):
    settings.USE_X_FORWARDED_PORT = True
    settings.ALLOWED_HOSTS = ["*"]
    client.get("/sw.js", HTTP_HOST="localhost")
    before = cache_size()

    for number in range(50):
        client.get("/sw.js", HTTP_HOST="localhost", HTTP_X_FORWARDED_PORT=str(number))
        client.get("/sw.js", HTTP_HOST=f"host-{number}.example")
        client.get(f"/offline/manifest-{number:064x}.json", HTTP_HOST="localhost")
        client.get(f"/offline/worker-{number:016x}.js", HTTP_HOST="localhost")

    # At most one more state: the default site's, which unknown hosts and ports fall back to.
    assert cache_size() <= before + 1


@pytest.fixture
def listed(client, site, home):
    trails = StandardPageFactory(
        parent=home,
        title="Trails",
        slug="trails",
        offline_available=True,
        offline_include_subpages=True,
    )
    ridge = StandardPageFactory(parent=trails, title="Ridge walk", slug="ridge")
    StandardPageFactory(parent=trails, title="Moor loop", slug="moor")
    rebuild_site_manifest(site)
    assert "Ridge walk" in client.get("/offline/").content.decode()
    return ridge


def make_private(page):
    PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )


def unpublish(page):
    page.unpublish()


def expire(page):
    page.expire_at = timezone.now() - timedelta(minutes=1)
    page.save()


def make_section_private(page):
    make_private(page.get_parent())


@pytest.mark.parametrize(
    "change", [make_private, unpublish, expire, make_section_private]
)
def test_a_page_leaves_the_listing_as_soon_as_readers_may_not_see_it(
    client, listed, change
):
    # No rebuild runs: in a test transaction, the scheduled one never commits.
    change(listed)
    listing = client.get("/offline/").content.decode()
    assert "Ridge walk" not in listing and "/trails/ridge/" not in listing
    if change is not make_section_private:
        assert "Moor loop" in listing


@pytest.mark.parametrize(
    "port", ["abc", "", "8001, 80", "\x00", "99999999999999999999", "٣"]
)
def test_a_forwarded_port_that_is_not_a_port_is_a_bad_request(
    client, settings, two_sites_one_host, port
):
    # Wagtail compares the port with an integer column: unchecked, these raise a 500.
    settings.USE_X_FORWARDED_PORT = True
    settings.ALLOWED_HOSTS = ["localhost"]
    headers = {"HTTP_HOST": "localhost", "HTTP_X_FORWARDED_PORT": port}
    for url in ("/sw.js", "/offline/", "/offline/manifest-abc.json"):
        assert client.get(url, **headers).status_code == 400, url
    report = client.post(
        "/offline/report/",
        data={"failures": [{"url": "/x/", "message": "m", "reason": "fetch"}]},
        content_type="application/json",
        **headers,
    )
    assert report.status_code == 400


def test_the_memo_of_host_names_and_ports_is_bounded(client, settings, site):
    from wagtail_offline.site_lookup import SITE_IDS_REMEMBERED, _site_id

    settings.ALLOWED_HOSTS = ["*"]
    for number in range(SITE_IDS_REMEMBERED + 20):
        assert client.get("/sw.js", HTTP_HOST=f"h{number}.example").status_code == 200
    assert _site_id.cache_info().currsize <= SITE_IDS_REMEMBERED
