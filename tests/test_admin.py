"""What editors see: the offline options in the page editor and the per-site settings."""

import pytest
from wagtail.models import Page, Site
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from tests.factories import StandardPageFactory, restrict_with_password
from wagtail_offline.models import OfflineSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        "editor", "editor@example.com", "pw"
    )
    client.force_login(user)
    return client


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


def settings_data(**fields):
    """What the settings form posts: its fields and both (empty) inline lists."""
    return nested_form_data(
        {
            "enabled": "on",
            "storage_budget": "50",
            **READER_DEFAULTS,
            "network_timeout": "",
            "extra_urls": inline_formset([]),
            "bypass_prefixes": inline_formset([]),
            **fields,
        }
    )


def fallback_error(response):
    # context_data: the form's checks render pages, and the test client records those too.
    return response.context_data["form"].errors.get("fallback_page", [])


def test_the_promote_tab_offers_both_offline_options_with_help(editor_client, home):
    page = StandardPageFactory(parent=home, title="Trails", slug="trails")
    html = editor_client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    promote = html[html.index('id="tab-promote"') :]
    assert 'name="offline_available"' in promote
    assert 'name="offline_include_subpages"' in promote
    assert "Available offline" in promote
    assert (
        "Every published, public page below this one is available offline too."
        in promote
    )


def test_editors_choose_the_fallback_page_in_the_sites_settings(
    editor_client, site, home
):
    sorry = StandardPageFactory(parent=home, title="Sorry", slug="sorry")
    url = settings_url(site)
    html = editor_client.get(url).content.decode()
    assert 'name="fallback_page"' in html and "Offline fallback page" in html
    response = editor_client.post(url, settings_data(fallback_page=sorry.pk))
    assert response.status_code == 302
    assert OfflineSettings.for_site(site).fallback_page_id == sorry.pk


def test_the_network_timeout_is_validated(editor_client, site):
    response = editor_client.post(
        settings_url(site), settings_data(network_timeout="0.1")
    )
    assert response.status_code == 200
    assert OfflineSettings.for_site(site).network_timeout is None


def test_the_storage_budget_is_a_setting_in_megabytes(editor_client, site):
    response = editor_client.post(settings_url(site), settings_data(storage_budget="8"))
    assert response.status_code == 302
    assert OfflineSettings.for_site(site).storage_budget_bytes == 8_000_000


def test_a_draft_fallback_page_is_refused_with_the_reason(editor_client, site, home):
    draft = StandardPageFactory(parent=home, title="Sorry", slug="sorry", live=False)
    response = editor_client.post(
        settings_url(site), settings_data(fallback_page=draft.pk)
    )
    assert response.status_code == 200
    [error] = fallback_error(response)
    assert "“Sorry”" in error and "draft: never published" in error
    assert OfflineSettings.for_site(site).fallback_page_id is None


def test_a_fallback_page_in_a_private_section_is_refused_with_the_restriction(
    editor_client, site, home
):
    members = StandardPageFactory(parent=home, title="Members", slug="members")
    restrict_with_password(members)
    sorry = StandardPageFactory(parent=members, title="Sorry", slug="sorry")
    response = editor_client.post(
        settings_url(site), settings_data(fallback_page=sorry.pk)
    )
    assert response.status_code == 200
    [error] = fallback_error(response)
    assert "private: password restriction on “Members”" in error


def test_an_expired_fallback_page_is_refused(editor_client, site, home):
    from django.utils import timezone

    sorry = StandardPageFactory(
        parent=home,
        title="Sorry",
        slug="sorry",
        expire_at=timezone.now() - timezone.timedelta(days=1),
    )
    response = editor_client.post(
        settings_url(site), settings_data(fallback_page=sorry.pk)
    )
    assert response.status_code == 200
    [error] = fallback_error(response)
    assert "expired" in error


def test_a_fallback_page_of_another_site_is_refused(editor_client, site, home):
    other_home = StandardPageFactory(
        parent=Page.get_first_root_node(), title="Other", slug="other"
    )
    Site.objects.create(hostname="other.example", port=80, root_page=other_home)
    sorry = StandardPageFactory(parent=other_home, title="Sorry", slug="sorry")
    response = editor_client.post(
        settings_url(site), settings_data(fallback_page=sorry.pk)
    )
    assert response.status_code == 200
    [error] = fallback_error(response)
    assert error == "“Sorry” is not a page of Trails."
