"""The settings' inline lists: other URLs to save offline and paths the worker never touches.

Each is checked when an editor saves the settings, and reaches readers' workers through the
rebuild that saving schedules.
"""

import json
import re

import pytest
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from tests.testapp.models import EventsPage
from wagtail_offline.models import (
    OfflineBypassPrefix,
    OfflineExtraURL,
    OfflineManifest,
    OfflineSettings,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        "admin", "admin@example.com", "pw"
    )
    client.force_login(user)
    return client


@pytest.fixture
def events(home):
    """/events/, a routable page that is not offline itself: /events/past/ is a route, not a page."""
    return home.add_child(instance=EventsPage(title="Events", slug="events"))


# What the settings form posts for the readers' and home-screen app's fields, untouched.
READER_DEFAULTS = {
    "reader_saving": "on",
    "recent_pages": "0",
    "recent_pages_days": "14",
    "theme_color": "#ffffff",
    "background_color": "#ffffff",
}


def settings_url(site):
    return f"/admin/settings/wagtail_offline/offlinesettings/{site.pk}/"


def save_settings(client, site, extra_urls=(), bypass_prefixes=()):
    data = nested_form_data(
        {
            "enabled": "on",
            "storage_budget": "50",
            **READER_DEFAULTS,
            "network_timeout": "",
            "extra_urls": inline_formset([{"url": url} for url in extra_urls]),
            "bypass_prefixes": inline_formset(
                [{"path": prefix} for prefix in bypass_prefixes]
            ),
        }
    )
    return client.post(settings_url(site), data)


def stored_extra_urls(site):
    return list(OfflineSettings.for_site(site).extra_urls.values_list("url", flat=True))


def stored_prefixes(site):
    return list(
        OfflineSettings.for_site(site).bypass_prefixes.values_list("path", flat=True)
    )


def manifest_urls(site):
    return {entry["url"] for entry in OfflineManifest.objects.get(site=site).entries}


def worker_config(response):
    body = response.content.decode()
    marker = "self.WAGTAIL_OFFLINE_CONFIG = "
    start = body.index(marker) + len(marker)
    return json.loads(body[start : body.index(";\n", start)])


def form_errors(response, formset):
    """The errors of each inline form of ``formset`` as the edit view re-shows them."""
    # context_data: the checks render pages in-process, and the test client records those too.
    form = response.context_data["form"]
    return [dict(child.errors) for child in form.formsets[formset].forms]


# ---------- Other URLs ----------


def test_a_route_that_is_not_a_page_is_saved_and_reaches_the_manifest(
    admin_client, site, trails, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = save_settings(admin_client, site, extra_urls=["/events/past/"])
    assert response.status_code == 302
    assert stored_extra_urls(site) == ["/events/past/"]
    entries = OfflineManifest.objects.get(site=site).entries
    past = [entry for entry in entries if entry["url"] == "/events/past/"]
    assert len(past) == 1 and past[0]["size"] > 0
    # The page that holds the route is not offline: only the listed route is.
    assert "/events/" not in manifest_urls(site)


def test_a_static_file_is_saved_and_reaches_the_manifest_as_a_file(
    admin_client, site, trails, django_capture_on_commit_callbacks
):
    icon = "/static/testapp/fonts/trail.woff2"
    with django_capture_on_commit_callbacks(execute=True):
        response = save_settings(admin_client, site, extra_urls=[icon])
    assert response.status_code == 302
    entry = next(
        entry
        for entry in OfflineManifest.objects.get(site=site).entries
        if entry["url"] == icon
    )
    assert entry["size"] > 0


def test_a_url_that_answers_404_is_refused_with_its_status(admin_client, site, home):
    response = save_settings(admin_client, site, extra_urls=["/no-such-page/"])
    assert response.status_code == 200
    [errors] = form_errors(response, "extra_urls")
    assert errors["url"] == ["/no-such-page/ answered with status 404."]
    assert stored_extra_urls(site) == []


def test_a_private_page_is_refused_as_an_other_url(admin_client, site, home):
    from tests.factories import StandardPageFactory, restrict_with_password

    secret = StandardPageFactory(parent=home, title="Secret", slug="secret")
    restrict_with_password(secret)
    response = save_settings(admin_client, site, extra_urls=["/secret/"])
    assert response.status_code == 200
    [errors] = form_errors(response, "extra_urls")
    # Wagtail answers a password-protected page with its password form, never the page.
    assert errors["url"] and "/secret/" in errors["url"][0]
    assert stored_extra_urls(site) == []


def test_a_url_of_another_host_is_refused(admin_client, site, home):
    response = save_settings(
        admin_client, site, extra_urls=["https://elsewhere.example/feed/"]
    )
    assert response.status_code == 200
    [errors] = form_errors(response, "extra_urls")
    assert "is not a URL of" in errors["url"][0]


def test_a_url_under_a_prefix_saved_in_the_same_form_is_refused(
    admin_client, site, events
):
    response = save_settings(
        admin_client, site, extra_urls=["/events/past/"], bypass_prefixes=["/events/"]
    )
    assert response.status_code == 200
    [errors] = form_errors(response, "extra_urls")
    assert "never touches" in errors["url"][0]
    assert stored_extra_urls(site) == [] and stored_prefixes(site) == []


def test_an_other_url_later_put_under_a_prefix_leaves_the_manifest(
    admin_client, site, trails, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        save_settings(admin_client, site, extra_urls=["/events/past/"])
    assert "/events/past/" in manifest_urls(site)
    # A developer's project-wide setting is not checked against the editors' list.
    from django.test import override_settings

    with (
        override_settings(WAGTAIL_OFFLINE_BYPASS_PREFIXES=["/events/"]),
        django_capture_on_commit_callbacks(execute=True),
    ):
        settings = OfflineSettings.for_site(site)
        settings.save()
    assert "/events/past/" not in manifest_urls(site)
    problems = OfflineManifest.objects.get(site=site).problems
    assert any(
        problem["url"] == "/events/past/" and "never touches" in problem["message"]
        for problem in problems
    )


# ---------- Paths the worker never touches ----------


@pytest.mark.parametrize(
    "prefix, message",
    [
        ("api/", "starts with “/”"),
        ("/", "switch offline reading off"),
        ("/my shop/", "cannot contain spaces"),
        ("/search/?q=", "without “?” or “#”"),
    ],
)
def test_a_prefix_the_worker_cannot_use_is_refused(
    admin_client, site, home, prefix, message
):
    response = save_settings(admin_client, site, bypass_prefixes=[prefix])
    assert response.status_code == 200
    [errors] = form_errors(response, "bypass_prefixes")
    assert message in errors["path"][0]
    assert stored_prefixes(site) == []


def test_a_saved_prefix_is_in_the_workers_config_with_the_projects(
    admin_client, client, site, home, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_OFFLINE_BYPASS_PREFIXES = ["/api/"]
    with django_capture_on_commit_callbacks(execute=True):
        response = save_settings(admin_client, site, bypass_prefixes=["/shop/basket/"])
    assert response.status_code == 302
    admin_client.logout()
    prefixes = worker_config(client.get("/sw.js"))["bypassPrefixes"]
    assert {"/shop/basket/", "/api/", "/admin/"} <= set(prefixes)


def test_removing_a_prefix_removes_it_from_the_workers_config(
    admin_client, client, site, home, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        save_settings(admin_client, site, bypass_prefixes=["/shop/basket/"])
    assert "/shop/basket/" in worker_config(client.get("/sw.js"))["bypassPrefixes"]
    [stored] = OfflineSettings.for_site(site).bypass_prefixes.all()
    data = nested_form_data(
        {
            "enabled": "on",
            "storage_budget": "50",
            **READER_DEFAULTS,
            "extra_urls": inline_formset([]),
            "bypass_prefixes": inline_formset(
                [{"id": stored.pk, "path": stored.path, "DELETE": "on"}], initial=1
            ),
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(settings_url(site), data).status_code == 302
    assert stored_prefixes(site) == []
    assert "/shop/basket/" not in worker_config(client.get("/sw.js"))["bypassPrefixes"]


def test_assets_under_a_saved_prefix_are_never_entries(
    admin_client, site, trails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        save_settings(admin_client, site)
    assert "/static/testapp/fonts/trail.woff2" in manifest_urls(site)
    with django_capture_on_commit_callbacks(execute=True):
        response = save_settings(
            admin_client, site, bypass_prefixes=["/static/testapp/fonts/"]
        )
    assert response.status_code == 302
    urls = manifest_urls(site)
    assert not any(url.startswith("/static/testapp/fonts/") for url in urls)
    assert "/static/testapp/css/site.css" in urls


def test_pages_under_a_saved_prefix_are_never_entries(
    admin_client, site, trails, django_capture_on_commit_callbacks
):
    from tests.factories import StandardPageFactory

    StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    with django_capture_on_commit_callbacks(execute=True):
        save_settings(admin_client, site)
    assert "/trails/ridge/" in manifest_urls(site)
    with django_capture_on_commit_callbacks(execute=True):
        response = save_settings(admin_client, site, bypass_prefixes=["/trails/ridge/"])
    assert response.status_code == 302
    urls = manifest_urls(site)
    assert "/trails/ridge/" not in urls
    assert "/trails/" in urls


def test_the_inline_lists_render_as_wagtail_inline_panels(admin_client, site):
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.bypass_prefixes.add(OfflineBypassPrefix(path="/api/"))
    offline_settings.extra_urls.add(OfflineExtraURL(url="/static/testapp/icon.svg"))
    offline_settings.save()
    html = admin_client.get(
        f"/admin/settings/wagtail_offline/offlinesettings/{site.pk}/"
    ).content.decode()
    # Wagtail names each child by its form's prefix: a field called "prefix" broke them.
    assert 'id="inline_child_bypass_prefixes-0"' in html
    assert 'id="inline_child_extra_urls-0"' in html
    assert not re.search(r'id="inline_child_[^"]*<', html)
