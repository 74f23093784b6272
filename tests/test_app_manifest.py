"""The web app manifest: built by the rebuild from the offline settings, precached, served
from storage, linked by {% offline_head %}."""

import json

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from wagtail_factories import ImageFactory

from tests.test_privacy import private_collection
from wagtail_offline.manifest import rebuild_site_manifest, revision_of
from wagtail_offline.models import OfflineSettings


@pytest.fixture
def app_settings(site):
    settings = OfflineSettings.for_site(site)
    settings.app_name = "Fell Trails"
    settings.app_short_name = "Trails"
    settings.theme_color = "#2f6f4f"
    settings.background_color = "#f6f7f4"
    settings.app_icon = ImageFactory(file__width=600, file__height=600)
    settings.save()
    return settings


def icon_problems(manifest):
    """The problems about the app manifest and its icons (others' problems aside)."""
    return [
        problem
        for problem in manifest.problems
        if problem["url"] == "/offline/app.webmanifest" or "/images/" in problem["url"]
    ]


def critical_urls(manifest):
    return {entry["url"] for entry in manifest.entries if entry["critical"]}


def test_the_app_manifest_is_built_from_the_settings_with_icons_as_renditions(
    site, trails, app_settings
):
    manifest = rebuild_site_manifest(site)
    web_app = manifest.extras["appManifest"]
    icons = web_app.pop("icons")
    assert web_app == {
        "id": "/",
        "name": "Fell Trails",
        "short_name": "Trails",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "lang": "en",
        "theme_color": "#2f6f4f",
        "background_color": "#f6f7f4",
    }
    assert [(icon["sizes"], icon["type"]) for icon in icons] == [
        ("192x192", "image/png"),
        ("512x512", "image/png"),
    ]
    renditions = {rendition.url for rendition in app_settings.app_icon.renditions.all()}
    assert {icon["src"] for icon in icons} == renditions
    # The manifest and its icons are precached with the fallback page and the listing.
    assert {"/offline/app.webmanifest", *renditions} <= critical_urls(manifest)
    assert icon_problems(manifest) == []


def test_the_app_manifest_is_served_from_storage_as_precached(
    client, site, trails, app_settings, django_assert_max_num_queries
):
    manifest = rebuild_site_manifest(site)
    client.get("/sw.js")  # What every reader's browser asks first.
    with django_assert_max_num_queries(4):  # No render, no rendition: stored bytes.
        response = client.get("/offline/app.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    assert json.loads(response.content) == manifest.extras["appManifest"]
    [entry] = [e for e in manifest.entries if e["url"] == "/offline/app.webmanifest"]
    assert entry["size"] == len(response.content)
    # The very bytes the build hashed, whatever order the database keeps the keys in.
    assert entry["revision"] == revision_of(response.content)
    # A second reader with the same bytes gets a 304.
    again = client.get("/offline/app.webmanifest", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_new_app_name_is_a_new_manifest_version(client, site, trails, app_settings):
    first = rebuild_site_manifest(site)
    app_settings.app_name = "Fell Trails Offline"
    app_settings.save()
    second = rebuild_site_manifest(site)
    assert second.version != first.version
    served = client.get("/offline/app.webmanifest").json()
    assert served["name"] == "Fell Trails Offline"


def test_without_names_the_site_name_then_the_home_page_title_is_used(
    site, home, trails
):
    assert rebuild_site_manifest(site).extras["appManifest"]["name"] == "Trails"
    site.site_name = ""
    site.save()
    web_app = rebuild_site_manifest(site).extras["appManifest"]
    assert web_app["name"] == web_app["short_name"] == home.title
    assert "localhost" not in json.dumps(web_app)


def test_without_an_icon_there_are_no_icons_and_no_problem(site, trails):
    # Not offering a home-screen app is a choice, not a flaw the admin should count.
    manifest = rebuild_site_manifest(site)
    assert "icons" not in manifest.extras["appManifest"]
    assert icon_problems(manifest) == []
    assert manifest.problems == []


def test_a_small_icon_ships_with_a_warning(site, trails):
    settings = OfflineSettings.for_site(site)
    settings.app_icon = ImageFactory(file__width=200, file__height=200)
    settings.save()
    manifest = rebuild_site_manifest(site)
    sizes = [icon["sizes"] for icon in manifest.extras["appManifest"]["icons"]]
    assert sizes == ["192x192", "200x200"]
    [problem] = icon_problems(manifest)
    assert problem["level"] == "warning" and "200 × 200" in problem["message"]


def test_an_icon_from_a_private_collection_is_never_shipped(site, trails):
    settings = OfflineSettings.for_site(site)
    settings.app_icon = ImageFactory(
        file__width=600, file__height=600, collection=private_collection()
    )
    settings.save()
    manifest = rebuild_site_manifest(site)
    assert "icons" not in manifest.extras["appManifest"]
    assert not any("/images/" in url for url in critical_urls(manifest))
    problems = icon_problems(manifest)
    assert problems and all(
        "private collection" in problem["message"] for problem in problems
    )


def test_the_app_manifest_is_gone_when_the_site_is_off_or_not_built(
    client, site, trails
):
    assert client.get("/offline/app.webmanifest").status_code == 404  # not built
    rebuild_site_manifest(site)
    assert client.get("/offline/app.webmanifest").status_code == 200
    settings = OfflineSettings.for_site(site)
    settings.enabled = False
    settings.save()
    assert client.get("/offline/app.webmanifest").status_code == 404


def render_head(request):
    return Template("{% load wagtail_offline %}{% offline_head %}").render(
        Context({"request": request})
    )


def test_offline_head_links_the_app_manifest_and_theme_colour(
    site, app_settings, django_assert_max_num_queries
):
    request = RequestFactory().get("/", HTTP_HOST="localhost")
    render_head(request)  # Wagtail caches the site lookup on the request.
    with django_assert_max_num_queries(1):  # the settings, as before
        html = render_head(request)
    assert '<link rel="manifest" href="/offline/app.webmanifest">' in html
    assert '<meta name="theme-color" content="#2f6f4f">' in html
    app_settings.enabled = False
    app_settings.save()
    html = render_head(RequestFactory().get("/", HTTP_HOST="localhost"))
    assert 'rel="manifest"' not in html and "theme-color" not in html
