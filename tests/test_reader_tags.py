"""The reader's template tags: when the save button and the status region render, and what."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone
from wagtail.models import Site

from tests.factories import StandardPageFactory, restrict_with_password
from wagtail_offline.models import OfflineSettings

pytestmark = pytest.mark.django_db


def render(source, request, **context):
    template = Template("{% load wagtail_offline %}" + source)
    return template.render(Context({"request": request, **context}))


def reader_request(path="/"):
    return RequestFactory().get(path, HTTP_HOST="localhost")


def save_button(page, request=None):
    return render("{% offline_save_button %}", request or reader_request(), page=page)


def change_settings(site, **values):
    offline_settings = OfflineSettings.for_site(site)
    for name, value in values.items():
        setattr(offline_settings, name, value)
    offline_settings.save()


def test_the_save_button_is_a_hidden_toggle_for_a_live_public_page(trails):
    html = save_button(trails)
    button = re.search(r"<button[^>]*>", html).group(0)
    assert 'type="button"' in button
    assert 'aria-pressed="false"' in button
    assert " hidden " in button  # Until reader.js knows the worker controls the page.
    assert 'data-wagtail-offline-save="/trails/"' in button
    assert 'data-label-saved="Saved · Remove"' in button
    assert 'data-label-site="Available offline"' in button
    assert ">Save for offline</button>" in html


def test_the_save_button_takes_another_page_as_argument(home, trails):
    ridge = StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    html = render(
        "{% offline_save_button other %}", reader_request(), page=home, other=ridge
    )
    assert 'data-wagtail-offline-save="/trails/ridge/"' in html


def test_no_save_button_for_a_draft_or_an_expired_page(home):
    draft = StandardPageFactory(parent=home, title="Draft", slug="draft", live=False)
    assert save_button(draft) == ""
    expired = StandardPageFactory(parent=home, title="Old", slug="old")
    expired.expire_at = timezone.now() - timedelta(minutes=1)
    assert save_button(expired) == ""


def test_no_save_button_for_a_page_in_a_private_section(trails):
    notes = StandardPageFactory(parent=trails, title="Notes", slug="notes")
    restrict_with_password(trails)
    assert save_button(notes) == ""
    assert save_button(trails) == ""


def test_no_save_button_when_the_site_switches_reader_saving_or_offline_off(
    site, trails
):
    change_settings(site, reader_saving=False)
    assert save_button(trails) == ""
    change_settings(site, reader_saving=True, enabled=False)
    assert save_button(trails) == ""


def test_no_save_button_when_the_plugin_is_switched_off(settings, trails):
    settings.WAGTAIL_OFFLINE_ENABLED = False
    assert save_button(trails) == ""


def test_no_save_button_in_previews_without_a_request_or_a_page(trails):
    preview = reader_request()
    preview.is_preview = True
    assert save_button(trails, preview) == ""
    assert (
        Template("{% load wagtail_offline %}{% offline_save_button %}").render(
            Context({"page": trails})
        )
        == ""
    )
    assert render("{% offline_save_button %}", reader_request()) == ""


def test_no_save_button_for_another_sites_page(root_page, site, trails):
    other_home = StandardPageFactory(parent=root_page, title="Other", slug="other")
    Site.objects.create(hostname="other.example", port=80, root_page=other_home)
    other_page = StandardPageFactory(
        parent=other_home, title="Elsewhere", slug="elsewhere"
    )
    assert save_button(other_page) == ""


def test_the_save_button_costs_few_queries(trails, django_assert_max_num_queries):
    OfflineSettings.for_site(trails.get_site())
    request = reader_request()
    with django_assert_max_num_queries(4):  # Site, settings, restrictions, site roots.
        assert save_button(trails, request)


def test_the_status_region_is_polite_and_holds_every_notice(site):
    html = render("{% offline_status %}", reader_request())
    assert re.search(r'role="status" aria-live="polite"', html)
    for words in (
        "You are offline — showing saved pages",
        "This page was loaded from your device",
        "This site was updated.",
        ">Reload</button>",
        "“{title}” is kept on this device",
        "“{title}” was sent.",
        "“{title}” was refused: {message}",
        "Open the form again",
    ):
        assert words in html


def test_no_status_region_where_offline_reading_is_off(site, settings):
    change_settings(site, enabled=False)
    assert render("{% offline_status %}", reader_request()) == ""
    assert render("{% offline_status %}", None) == ""


def test_the_head_loads_the_readers_script_and_styles_only_when_active(site):
    html = render("{% offline_head %}", reader_request())
    assert re.search(r'<script src="/static/wagtail_offline/reader\.js" defer>', html)
    assert 'href="/static/wagtail_offline/reader.css"' in html
    change_settings(site, enabled=False)
    assert "reader.js" not in render("{% offline_head %}", reader_request())


def test_the_listing_tools_render_each_plural_form_and_label_the_search(site):
    html = render_to_string("wagtail_offline/includes/listing_tools.html")
    assert '<label for="wagtail-offline-search">' in html
    assert 'id="wagtail-offline-search"' in html and 'type="search"' in html
    progress = dict(
        re.findall(
            r'data-wagtail-offline-plural="progress" data-count="(\d+)">([^<]*)<', html
        )
    )
    assert progress["1"] == "Saving {done} of {total} page…"
    assert progress["2"] == "Saving {done} of {total} pages…"
    matches = re.findall(
        r'data-wagtail-offline-plural="matches" data-count="1">([^<]*)<', html
    )
    assert matches == ["{count} page matches"]


def test_a_listing_item_carries_its_url_title_and_summary_for_the_search(site):
    html = render_to_string(
        "wagtail_offline/includes/listing_item_tools.html",
        {
            "page": {
                "url": "/trails/",
                "title": "Trails & tracks",
                "summary": "<b>Walks</b>",
            }
        },
    )
    assert 'data-wagtail-offline-item="/trails/"' in html
    assert 'data-title="Trails &amp; tracks"' in html
    assert 'data-summary="&lt;b&gt;Walks&lt;/b&gt;"' in html


def test_nothing_the_reader_gets_is_inline_script_or_style(site, trails):
    request = reader_request()
    html = render(
        "{% offline_head %}{% offline_status %}{% offline_save_button %}",
        request,
        page=trails,
    )
    html += render_to_string("wagtail_offline/includes/listing_tools.html")
    assert "<script>" not in html and "<style" not in html and "style=" not in html
    assert not re.search(r"\son\w+=", html)  # No inline event handlers.


def test_a_page_of_the_site_shows_the_button_and_the_status_region(client, trails):
    html = client.get("/trails/").content.decode()
    assert 'data-wagtail-offline-save="/trails/"' in html
    assert "data-wagtail-offline-status" in html
