"""The offline listing and the built-in fallback page wear the site's look and name."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction, Site

from tests.factories import StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineSettings
from wagtail_offline.rendering import AnonymousClient


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


# ---------- Served from the cache: fresh, and the same for everyone who shares it ----------


def listed_titles(client, **headers):
    html = content_of(client.get("/offline/", **headers))
    return re.findall(r'<a href="/[^"]*">([^<]+)</a>', html[html.index("<main") :])


def publish(page, **changes):
    for name, value in changes.items():
        setattr(page, name, value)
    page.save_revision().publish()


def test_a_listing_served_again_reads_only_the_serving_generation(
    client, offline_site, django_assert_num_queries
):
    first = client.get("/offline/")
    with django_assert_num_queries(1):
        again = client.get("/offline/")
    assert again.content == first.content


def test_a_new_title_is_listed_at_once(client, offline_site):
    ridge = Page.objects.get(slug="ridge").specific
    assert "Ridge walk" in listed_titles(client)
    publish(ridge, title="Ridge scramble")
    titles = listed_titles(client)
    assert "Ridge scramble" in titles and "Ridge walk" not in titles


def test_a_page_made_public_again_is_listed_again_at_once(client, offline_site):
    ridge = Page.objects.get(slug="ridge")
    assert "Ridge walk" in listed_titles(client)
    restriction = PageViewRestriction.objects.create(
        page=ridge, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    assert "Ridge walk" not in listed_titles(client)
    restriction.delete()
    assert "Ridge walk" in listed_titles(client)


def test_a_deleted_page_leaves_the_listing_at_once(client, offline_site):
    assert "Moor loop" in listed_titles(client)
    Page.objects.get(slug="moor").delete()
    titles = listed_titles(client)
    assert "Moor loop" not in titles and "Ridge walk" in titles


def test_a_page_leaves_the_listing_when_it_expires_with_no_signal(
    client, offline_site, django_assert_num_queries
):
    now = timezone.now()
    publish(Page.objects.get(slug="ridge").specific, expire_at=now + timedelta(hours=1))
    assert "Ridge walk" in listed_titles(client)
    with django_assert_num_queries(1):  # From the cache: only the clock can change it.
        assert "Ridge walk" in listed_titles(client)
    with mock.patch.object(timezone, "now", return_value=now + timedelta(hours=2)):
        titles = listed_titles(client)
    assert "Ridge walk" not in titles and "Moor loop" in titles


def test_two_sites_never_get_each_others_listing(client, offline_site, root_page):
    other_home = StandardPageFactory(parent=root_page, title="Other", slug="other")
    StandardPageFactory(
        parent=other_home, title="Coast path", slug="coast", offline_available=True
    )
    other = Site.objects.create(hostname="other.example", root_page=other_home)
    rebuild_site_manifest(other)
    for _ in range(2):
        here = listed_titles(client)
        there = listed_titles(client, HTTP_HOST="other.example")
        assert "Ridge walk" in here and "Coast path" not in here
        assert "Coast path" in there and "Ridge walk" not in there


@pytest.fixture
def probe(settings, tools):
    """A site's base template that shows what a request carries, as sites' templates may."""
    (tools / "probe.html").write_text(
        "<!DOCTYPE html><html><body>"
        '<p class="probe">agent={{ request.META.HTTP_USER_AGENT }} '
        "host={{ request.get_host }} theme={{ request.COOKIES.theme }} "
        "q={{ request.GET.q }}</p>"
        "{% if request.user.is_authenticated %}Hello {{ request.user.get_username }}"
        "{% endif %}<main>{% block content %}{% endblock %}</main></body></html>"
    )
    settings.WAGTAIL_OFFLINE_BASE_TEMPLATE = "probe.html"


def test_one_visitors_headers_never_reach_anothers_listing(client, offline_site, probe):
    hostile = client.get(
        "/offline/",
        HTTP_USER_AGENT="evil-agent",
        HTTP_HOST="127.0.0.1",
        HTTP_ACCEPT_LANGUAGE="xx-evil",
        HTTP_ACCEPT_ENCODING="evil",
    )
    assert hostile.status_code == 200
    html = content_of(client.get("/offline/", HTTP_USER_AGENT="good-agent"))
    for header_value in ("evil", "127.0.0.1"):
        assert header_value not in html
    assert 'href="/trails/ridge/"' in html


def test_cookies_and_queries_get_a_listing_of_their_own(client, offline_site, probe):
    assert "q=" in content_of(client.get("/offline/"))  # The shared copy, now cached.
    assert "q=walks" in content_of(client.get("/offline/?q=walks"))
    client.cookies["theme"] = "dark"
    assert "theme=dark" in content_of(client.get("/offline/"))
    client.cookies.clear()
    html = content_of(client.get("/offline/"))
    assert "theme=dark" not in html and "q=walks" not in html


@pytest.mark.parametrize("editor_first", [True, False])
def test_a_signed_in_editor_neither_gets_nor_seeds_the_shared_listing(
    client, admin_client, settings, offline_site, editor_first
):
    settings.WAGTAIL_OFFLINE_BASE_TEMPLATE = (
        "testapp/base.html"  # A greeting, a userbar
    )
    if editor_first:
        editors = content_of(admin_client.get("/offline/"))
    anonymous = content_of(client.get("/offline/"))
    if not editor_first:
        editors = content_of(admin_client.get("/offline/"))
    assert "Hello admin" in editors and "wagtail-userbar" in editors
    assert "Hello admin" not in anonymous and "wagtail-userbar" not in anonymous
    assert "Hello admin" not in content_of(client.get("/offline/"))
    assert 'href="/trails/ridge/"' in anonymous and 'href="/trails/ridge/"' in editors


def test_a_base_template_with_a_csrf_token_gives_each_visitor_their_own(
    offline_site, tools, settings
):
    (tools / "form.html").write_text(
        '<form method="post">{% csrf_token %}</form>{% block content %}{% endblock %}'
    )
    settings.WAGTAIL_OFFLINE_BASE_TEMPLATE = "form.html"
    tokens = []
    for _ in range(2):
        response = Client().get("/offline/")
        assert 'name="csrfmiddlewaretoken"' in content_of(response)
        tokens.append(response.cookies["csrftoken"].value)
    assert tokens[0] != tokens[1]


def test_hostile_headers_add_no_listing_to_those_kept(client, offline_site):
    from wagtail_offline.views import shared_listings

    for i in range(20):
        response = client.get(
            "/offline/",
            HTTP_HOST=["localhost", "127.0.0.1", "testserver"][i % 3],
            HTTP_ACCEPT_LANGUAGE=f"x{i}-evil",
            HTTP_USER_AGENT=f"agent {i}",
            HTTP_ACCEPT_ENCODING=f"gzip;q=0.{i}",
        )
        assert response.status_code == 200
    # Every one of those hosts is the default site's: one copy, shared by all.
    assert len(shared_listings) == 1


def test_the_listing_a_build_precaches_shows_the_pages_it_has_just_rendered(
    client, site, home
):
    StandardPageFactory(
        parent=home, title="Ridge walk", slug="ridge", offline_available=True
    )
    OfflineSettings.for_site(site)  # Created on first use, which would also bump.
    # Served, and cached, before any build: no snapshot yet, nothing listed.
    assert "Ridge walk" not in content_of(client.get("/offline/"))
    original, rendered = AnonymousClient.get, {}

    def get(self, url, headers=None):
        rendered[url] = original(self, url, headers)
        return rendered[url]

    with mock.patch.object(AnonymousClient, "get", get):
        rebuild_site_manifest(site)
    assert ">Ridge walk</a>" in rendered["/offline/"].content.decode()
    assert ">Ridge walk</a>" in content_of(client.get("/offline/"))


def test_a_process_keeps_the_listings_of_its_last_two_generations_only(offline_site):
    from wagtail_offline.views import listing_fragments, shared_listings

    page = Page.objects.get(slug="ridge").specific
    seen = []
    for number in range(4):
        page.title = f"Ridge walk {number}"
        page.save_revision().publish()  # A new serving generation each time.
        anonymous, with_cookie = Client(), Client()
        with_cookie.cookies["sessionid"] = "x"
        for visitor in (anonymous, with_cookie):
            assert f"Ridge walk {number}" in content_of(visitor.get("/offline/"))
        seen.append((len(shared_listings), len(listing_fragments)))
    assert seen == [(1, 1), (2, 2), (2, 2), (2, 2)]


def test_a_build_keeps_no_copy_of_the_listing_it_renders(site, home):
    from wagtail_offline.views import listing_fragments, shared_listings

    StandardPageFactory(
        parent=home, title="Ridge", slug="ridge", offline_available=True
    )
    rebuild_site_manifest(site)
    assert (len(shared_listings), len(listing_fragments)) == (0, 0)
