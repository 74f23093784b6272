"""/sw.js, the manifest and the listing: served from stored data, with the right headers."""

import json

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from wagtail.models import Site

from tests.factories import StandardPageFactory
from tests.served import served_manifest
from wagtail_offline.listing import ListedItem
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineManifest, OfflinePageSnapshot, OfflineSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(site, home):
    trails = StandardPageFactory(
        parent=home,
        title="Trails",
        slug="trails",
        offline_available=True,
        offline_include_subpages=True,
        search_description="Every walk we know.",
    )
    StandardPageFactory(
        parent=trails, title="Ridge walk", slug="ridge", search_description="Windy."
    )
    StandardPageFactory(
        parent=home, title="Safety", slug="safety", offline_available=True
    )
    return rebuild_site_manifest(site)


def worker_config(response):
    body = response.content.decode()
    start = body.index("self.WAGTAIL_OFFLINE_CONFIG = ") + len(
        "self.WAGTAIL_OFFLINE_CONFIG = "
    )
    return json.loads(body[start : body.index(";\n", start)])


def test_service_worker_is_javascript_served_from_the_root_without_caching(
    client, built
):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    config = worker_config(response)
    assert config["version"] == built.version
    assert config["manifestUrl"] == f"/offline/manifest-{built.version}.json"
    assert {"/admin/", "/django-admin/", "/sw.js"} <= set(config["bypassPrefixes"])
    assert config["networkTimeoutMs"] == 3000


def test_service_worker_changes_only_when_the_manifest_does(client, site, built, home):
    first = client.get("/sw.js").content
    rebuild_site_manifest(site)
    assert client.get("/sw.js").content == first
    StandardPageFactory(parent=home, title="New", slug="new", offline_available=True)
    rebuild_site_manifest(site)
    assert client.get("/sw.js").content != first


def test_service_worker_answers_conditional_requests(client, built):
    etag = client.get("/sw.js")["ETag"]
    response = client.get("/sw.js", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""


def test_manifest_is_immutable_and_lists_revisions(client, built):
    response = client.get(f"/offline/manifest-{built.version}.json")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert response.json()["version"] == built.version
    data = served_manifest(client, built.version)
    assert {e["url"] for e in data["entries"]} == {e["url"] for e in built.entries}
    assert all(
        set(e) == {"url", "revision", "size", "kind", "critical"}
        for e in data["entries"]
    )
    # Its indexes and parts are immutable too, and only this site's.
    part_url = response.json()["indexes"][0]
    assert "immutable" in client.get(part_url)["Cache-Control"]
    Site.objects.create(hostname="other.example", root_page=built_root(built))
    assert client.get("/sw.js", HTTP_HOST="other.example").status_code == 200
    assert client.get(part_url, HTTP_HOST="other.example").status_code == 404
    assert client.get("/offline/parts/0123456789abcdef0123.json").status_code == 404


def built_root(manifest):
    return Site.objects.get(pk=manifest.site_id).root_page


def test_an_outdated_manifest_url_is_gone(client, built):
    assert client.get("/offline/manifest-0123abcd.json").status_code == 404


def test_a_disabled_site_serves_a_worker_that_removes_itself(client, site, built):
    settings = OfflineSettings.for_site(site)
    settings.enabled = False
    settings.save()
    config = worker_config(client.get("/sw.js"))
    assert config["active"] is False and config["manifestUrl"] is None
    assert client.get(f"/offline/manifest-{built.version}.json").status_code == 404


def test_the_global_switch_turns_every_site_off(client, built, settings):
    settings.WAGTAIL_OFFLINE_ENABLED = False
    assert worker_config(client.get("/sw.js"))["active"] is False


def test_listing_groups_offline_pages_by_section(client, built):
    response = client.get("/offline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Trails") < html.index("Ridge walk") < html.index("Safety")
    assert 'href="/trails/ridge/"' in html and "Windy." in html
    # A section's own page is its heading, not an item repeating it (tests/test_listing.py).
    assert response.context["sections"] == [
        {
            "title": "Trails",
            "lang": "en",
            "page": ListedItem(
                url="/trails/", title="Trails", summary="Every walk we know."
            ),
            "pages": [
                ListedItem(url="/trails/ridge/", title="Ridge walk", summary="Windy."),
            ],
        },
        {
            "title": "Safety",
            "lang": "en",
            "page": ListedItem(url="/safety/", title="Safety", summary=""),
            "pages": [],
        },
    ]


def test_serving_the_worker_and_manifest_takes_constant_queries(
    client, site, home, django_assert_max_num_queries
):
    sections = [
        StandardPageFactory(
            parent=home, title=f"S{i}", slug=f"s{i}", offline_available=True
        )
        for i in range(30)
    ]
    manifest = rebuild_site_manifest(site)
    assert len([e for e in manifest.entries if e["kind"] == "page"]) == len(sections)
    with django_assert_max_num_queries(5):  # + the site's bypass prefixes
        client.get("/sw.js")
    with django_assert_max_num_queries(4):
        client.get(f"/offline/manifest-{manifest.version}.json")


def render_head(request):
    return Template("{% load wagtail_offline %}{% offline_head %}").render(
        Context({"request": request})
    )


def test_offline_head_registers_with_an_external_script(site):
    html = render_head(RequestFactory().get("/", HTTP_HOST="localhost"))
    assert 'src="/static/wagtail_offline/register.js"' in html
    assert 'data-service-worker="/sw.js"' in html
    assert "data-unregister" not in html
    assert "<script>" not in html  # nothing inline: works under a strict CSP


def test_offline_head_unregisters_when_the_site_switches_offline_off(site):
    settings = OfflineSettings.for_site(site)
    settings.enabled = False
    settings.save()
    assert "data-unregister" in render_head(
        RequestFactory().get("/", HTTP_HOST="localhost")
    )


def test_offline_head_is_silent_in_previews_and_without_a_request(site):
    request = RequestFactory().get("/", HTTP_HOST="localhost")
    request.is_preview = True
    assert render_head(request) == ""
    assert (
        Template("{% load wagtail_offline %}{% offline_head %}").render(Context({}))
        == ""
    )


def test_serving_stays_constant_with_a_thousand_flagged_pages(
    client, site, home, django_assert_max_num_queries
):
    pages = [
        StandardPageFactory.build(
            title=f"Walk {i}", slug=f"walk-{i}", offline_available=True
        )
        for i in range(1000)
    ]
    for page in pages:
        home.add_child(instance=page)
    # Snapshots as a build stores them; rendering 1,000 pages is the benchmark's job.
    OfflinePageSnapshot.objects.bulk_create(
        OfflinePageSnapshot(site=site, page=page, url=page.url, revision="r", size=100)
        for page in pages
    )
    entries = [
        {
            "url": page.url,
            "revision": "r",
            "size": 100,
            "kind": "page",
            "critical": False,
        }
        for page in pages
    ]
    manifest = OfflineManifest.objects.create(
        site=site, version="abc123", entries=entries
    )
    OfflineSettings.for_site(site)  # Created on first use; not part of serving.
    with django_assert_max_num_queries(5):  # + the site's bypass prefixes
        assert client.get("/sw.js").status_code == 200
    with django_assert_max_num_queries(4):
        response = client.get(f"/offline/manifest-{manifest.version}.json")
    part_url = response.json()["indexes"][0]
    with django_assert_max_num_queries(4):
        assert client.get(part_url).status_code == 200
    assert len(served_manifest(client, manifest.version)["entries"]) == 1000
    # The first applies the privacy rules again and renders; a fixed number of queries.
    # (Its render reads the sections from the database as a build's does: see
    # views.personal_listing.)
    with django_assert_max_num_queries(18):
        response = client.get("/offline/")
    assert response.content.decode().count('href="/walk-') == 1000
    # Then, until something it shows changes, the listing costs one read of the generation.
    with django_assert_max_num_queries(1):
        again = client.get("/offline/")
    assert again.content == response.content


def test_csrf_token_endpoint_gives_a_usable_token_and_is_never_cached(client, site):
    response = client.get("/offline/csrf-token/")
    assert response["Cache-Control"] == "no-store"
    assert len(response.json()["token"]) == 64
    assert "csrftoken" in response.cookies


def test_offline_head_asks_for_persistent_storage_when_the_site_wants_it(site):
    request = RequestFactory().get("/", HTTP_HOST="localhost")
    assert "data-persist" not in render_head(request)
    settings = OfflineSettings.for_site(site)
    settings.persistent_storage = True
    settings.save()
    assert "data-persist" in render_head(
        RequestFactory().get("/", HTTP_HOST="localhost")
    )


def test_the_sites_network_timeout_reaches_the_worker(client, site, built):
    settings = OfflineSettings.for_site(site)
    settings.network_timeout = 1.5
    settings.save()
    assert worker_config(client.get("/sw.js"))["networkTimeoutMs"] == 1500


def test_offline_head_is_silent_when_the_urls_are_not_installed(site, settings):
    settings.ROOT_URLCONF = "tests.urls_without_offline"
    assert render_head(RequestFactory().get("/", HTTP_HOST="localhost")) == ""


def test_the_worker_code_is_imported_from_an_immutable_url(client, built):
    body = client.get("/sw.js").content.decode()
    assert len(body) < 1500  # The configuration only: the code is imported.
    code_url = body.split('importScripts("')[1].split('")')[0]
    response = client.get(code_url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "immutable" in response["Cache-Control"]
    assert b"self.WAGTAIL_OFFLINE_CONFIG" in response.content
    assert client.get(code_url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get("/offline/worker-0000000000000000.js").status_code == 404


def test_a_cached_worker_changes_as_soon_as_the_manifest_does(
    client, site, home, built
):
    first = client.get("/sw.js").content
    assert client.get("/sw.js").content == first  # Served from the cache.
    StandardPageFactory(parent=home, title="New", slug="new", offline_available=True)
    new_version = rebuild_site_manifest(site).version
    assert worker_config(client.get("/sw.js"))["version"] == new_version
    assert client.get(f"/offline/manifest-{built.version}.json").status_code == 404
    assert client.get(f"/offline/manifest-{new_version}.json").status_code == 200
