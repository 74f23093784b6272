"""What editors see: the offline options in the page editor and the per-site settings."""

import pytest

from tests.factories import StandardPageFactory
from wagtail_offline.models import OfflineSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        "editor", "editor@example.com", "pw"
    )
    client.force_login(user)
    return client


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
    url = f"/admin/settings/wagtail_offline/offlinesettings/{site.pk}/"
    html = editor_client.get(url).content.decode()
    assert 'name="fallback_page"' in html and "Offline fallback page" in html
    response = editor_client.post(
        url,
        {"enabled": "on", "fallback_page": sorry.pk, "network_timeout": ""},
    )
    assert response.status_code == 302
    assert OfflineSettings.for_site(site).fallback_page_id == sorry.pk


def test_the_network_timeout_is_validated(editor_client, site):
    url = f"/admin/settings/wagtail_offline/offlinesettings/{site.pk}/"
    response = editor_client.post(url, {"enabled": "on", "network_timeout": "0.1"})
    assert response.status_code == 200
    assert OfflineSettings.for_site(site).network_timeout is None
