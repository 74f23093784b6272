"""The offline listing and the built-in fallback page wear the site's look and name."""

import re

import pytest

from tests.factories import StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest


@pytest.fixture
def offline_site(site, home):
    site.site_name = "Fell Trails"
    site.save()
    trails = StandardPageFactory(
        parent=home,
        title="Trails",
        slug="trails",
        offline_available=True,
        offline_include_subpages=True,
        search_description="Every walk we know.",
    )
    StandardPageFactory(parent=trails, title="Ridge walk", slug="ridge")
    StandardPageFactory(parent=trails, title="Moor loop", slug="moor")
    StandardPageFactory(
        parent=home, title="Safety", slug="safety", offline_available=True
    )
    rebuild_site_manifest(site)
    return site


@pytest.fixture
def tools(settings, tmp_path):
    """Stand-ins for the reader's tools, to see where the listing puts them."""
    includes = tmp_path / "wagtail_offline" / "includes"
    includes.mkdir(parents=True)
    (includes / "listing_tools.html").write_text("<div data-test-listing-tools></div>")
    (includes / "listing_item_tools.html").write_text(
        '<span data-test-tools="{{ page.url }}"></span>'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    return tmp_path


def content_of(response):
    assert response.status_code == 200
    return response.content.decode()


def test_the_listing_renders_inside_the_sites_base_template(
    client, settings, offline_site
):
    settings.WAGTAIL_OFFLINE_BASE_TEMPLATE = "testapp/base.html"
    html = content_of(client.get("/offline/"))
    assert 'href="/static/testapp/css/site.css"' in html  # the site's own stylesheet
    assert "wagtail_offline/offline.css" not in html
    assert 'href="/trails/ridge/"' in html
    assert (
        html.count('data-service-worker="/sw.js"') == 1
    )  # the site's {% offline_head %}
    # So does the built-in fallback page.
    html = content_of(client.get("/offline/unavailable/"))
    assert 'href="/static/testapp/css/site.css"' in html and "You are offline" in html


def test_a_site_can_place_the_listing_in_its_own_blocks(client, offline_site, tools):
    # A base template whose content block has another name: override the listing.
    (tools / "wagtail_offline" / "listing.html").write_text(
        '{% extends "testapp/base.html" %}{% block content %}<div class="site-main">'
        '{% include "wagtail_offline/includes/listing_content.html" %}</div>'
        "{% endblock %}"
    )
    html = content_of(client.get("/offline/"))
    assert 'href="/static/testapp/css/site.css"' in html
    assert re.search(
        r'<div class="site-main">\s*<div class="wagtail-offline-listing">', html
    )


def test_the_listing_names_the_site_and_links_back_home(client, offline_site, home):
    html = content_of(client.get("/offline/"))
    assert "These pages of Fell Trails can be read" in html
    assert '<a href="/">Back to the home page of Fell Trails</a>' in html
    assert "<title>Available offline · Fell Trails</title>" in html
    # Without a site name, the home page's title; never the host name.
    offline_site.site_name = ""
    offline_site.save()
    html = content_of(client.get("/offline/"))
    assert f"These pages of {home.title} can be read" in html
    assert "localhost" not in html
    fallback = content_of(client.get("/offline/unavailable/"))
    assert f'<a href="/">Back to the home page of {home.title}</a>' in fallback


def test_a_sections_own_page_is_its_heading_said_once(client, site, home, offline_site):
    # A section whose own page is not offline keeps a plain heading.
    walks = StandardPageFactory(parent=home, title="Walks", slug="walks")
    StandardPageFactory(
        parent=walks, title="Hill walk", slug="hill", offline_available=True
    )
    rebuild_site_manifest(site)
    html = content_of(client.get("/offline/"))
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == [
        '<a href="/trails/">Trails</a>',
        '<a href="/safety/">Safety</a>',
        "Walks",
    ]
    for title in ("Trails", "Safety", "Ridge walk", "Moor loop", "Hill walk"):
        assert html.count(f">{title}</a>") == 1
    assert html.index("Every walk we know.") < html.index("Ridge walk")
    assert 'href="/walks/"' not in html


def test_every_listed_page_carries_the_readers_tools(client, offline_site, tools):
    html = content_of(client.get("/offline/"))
    # The listing's own items: the status region's templates come before <main>.
    html = html[html.index("<main") :]
    items = re.findall(r"<li\b.*?</li>", html, re.DOTALL)
    assert [re.search(r'href="([^"]+)"', item)[1] for item in items] == [
        "/trails/",
        "/trails/ridge/",  # in the tree's order
        "/trails/moor/",
        "/safety/",
    ]
    for item in items:
        url = re.search(r'href="([^"]+)"', item)[1]
        assert f'<span data-test-tools="{url}"></span>' in item
    assert html.count("data-test-listing-tools") == 1
    assert html.index("data-test-listing-tools") < html.index("<section")
