"""The admin home's offline panel and its "Rebuild now", and who may use it."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone
from wagtail.models import GroupPagePermission, GroupSitePermission, Site

from tests.factories import StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineManifest, OfflineRebuild, OfflineSettings
from wagtail_offline.sizes import format_size

pytestmark = pytest.mark.django_db

HOME = "/admin/"


def group(name, page, *permissions):
    """A group that reaches the admin and edits the pages below ``page``."""
    group = Group.objects.create(name=name)
    for permission in ("wagtailadmin.access_admin",) + permissions:
        app_label, codename = permission.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    GroupPagePermission.objects.create(
        group=group,
        page=page,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    return group


def member(django_user_model, username, group):
    user = django_user_model.objects.create_user(username, f"{username}@example.com")
    user.groups.add(group)
    return user


@pytest.fixture
def editor(django_user_model, home):
    """Edits the site's pages; may not change the offline settings."""
    return member(django_user_model, "editor", group("Writers", home))


@pytest.fixture
def manager(django_user_model, home):
    """Given "Can change offline reading" in Settings → Groups, as a site would."""
    managers = group("Managers", home, "wagtail_offline.change_offlinesettings")
    return member(django_user_model, "manager", managers)


def logged_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def panel(html, site):
    """The text of ``site``'s offline panel on the admin home (or None)."""
    start = html.find(f'id="offline-reading-{site.pk}-section"')
    if start == -1:
        return None
    end = html.index("</section>\n", html.index("data-offline-dashboard", start))
    end = html.index("</section>", end + 1)
    return html[start:end]


def text(html):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def dashboard(client, site):
    response = client.get(HOME)
    assert response.status_code == 200
    return panel(response.content.decode(), site)


def rebuild_url(site):
    return f"/admin/offline/rebuild/{site.pk}/"


# ---------- What the panel shows ----------


def test_the_panel_shows_the_stored_manifests_pages_size_budget_and_build(
    manager, site, trails
):
    StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    manifest = rebuild_site_manifest(site)
    OfflineManifest.objects.filter(pk=manifest.pk).update(
        built_at=timezone.now() - timedelta(minutes=3)
    )
    html = dashboard(logged_in(manager), site)
    shown = text(html)
    assert "2 pages offline" in shown
    assert "0 problems" in shown
    assert "Last built 3 minutes ago." in shown
    size = manifest.size
    assert f'data-offline-size="{size}"' in html
    assert f'value="{size}"' in html and 'max="50000000"' in html
    # In the report's units, so that both read the same.
    assert f"{format_size(size)} of {format_size(50_000_000)}" in shown
    assert f'href="/admin/reports/offline-pages/?site={site.pk}"' in html
    assert "over_budget" not in html and "data-offline-over-budget" not in html


def test_a_site_never_built_says_so(manager, site, home):
    shown = text(dashboard(logged_in(manager), site))
    assert "0 pages offline" in shown and "Not built yet." in shown


def test_problems_of_the_last_build_are_counted(manager, site, trails, monkeypatch):
    StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    manifest = rebuild_site_manifest(site)
    manifest.problems = [
        {"url": "/trails/ridge/", "message": "boom", "page_id": 1, "level": "error"},
        {"url": "/big.jpg", "message": "too big", "page_id": None, "level": "error"},
    ]
    manifest.save()
    assert "2 problems" in text(dashboard(logged_in(manager), site))


def test_over_budget_is_a_warning_on_the_dashboard(manager, site, trails):
    manifest = rebuild_site_manifest(site)
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.storage_budget = 1
    offline_settings.save()
    entries = manifest.entries
    entries[0]["size"] = 1_500_000
    manifest.entries = entries
    manifest.save()
    html = dashboard(logged_in(manager), site)
    assert "data-offline-over-budget" in html
    assert "more than this site’s storage budget of 1 MB" in text(html)


def test_a_pending_rebuild_is_shown_with_its_age(manager, site, trails):
    rebuild_site_manifest(site)
    rebuild = OfflineRebuild.objects.create(site=site)
    OfflineRebuild.objects.filter(pk=rebuild.pk).update(
        requested_at=timezone.now() - timedelta(minutes=5)
    )
    assert "Rebuild pending: requested 5 minutes ago." in text(
        dashboard(logged_in(manager), site)
    )


def test_each_site_the_user_can_explore_has_its_own_panel(
    django_user_model, site, home, root_page
):
    other_home = StandardPageFactory(parent=root_page, title="Other", slug="other")
    other = Site.objects.create(
        hostname="other.example", port=80, root_page=other_home, site_name="Other"
    )
    superuser = django_user_model.objects.create_superuser("admin", "a@example.com")
    html = logged_in(superuser).get(HOME).content.decode()
    assert panel(html, site) and panel(html, other)
    assert "Offline reading on Other" in text(html)
    # An editor of one site only sees that site's panel.
    other_editor = member(django_user_model, "other", group("Other", other_home))
    html = logged_in(other_editor).get(HOME).content.decode()
    assert panel(html, other) and panel(html, site) is None


# ---------- Who may rebuild ----------


def test_an_editor_without_the_permission_sees_the_panel_but_no_rebuild(
    editor, site, trails
):
    rebuild_site_manifest(site)
    html = dashboard(logged_in(editor), site)
    assert "1 page offline" in text(html)
    assert "Rebuild now" not in html and rebuild_url(site) not in html


def test_an_editor_without_the_permission_cannot_rebuild(editor, site, trails):
    client = logged_in(editor)
    # Wagtail's admin answers a PermissionDenied as it does everywhere: back home, told why.
    response = client.post(rebuild_url(site), follow=True)
    assert response.redirect_chain == [(HOME, 302)]
    assert "Sorry, you do not have permission to access this area." in text(
        response.content.decode()
    )
    # And a script's request gets the bare 403.
    response = client.post(
        rebuild_url(site), headers={"x-requested-with": "XMLHttpRequest"}
    )
    assert response.status_code == 403
    assert not OfflineRebuild.objects.exists()


def test_the_settings_permission_for_one_site_lets_its_holder_rebuild_that_site_only(
    django_user_model, site, home, root_page, django_capture_on_commit_callbacks
):
    other_home = StandardPageFactory(parent=root_page, title="Other", slug="other")
    other = Site.objects.create(hostname="other.example", root_page=other_home)
    # Settings → Groups: "Can change offline reading" for the trails site only.
    managers = group("Trail managers", root_page)
    GroupSitePermission.objects.create(
        group=managers,
        site=site,
        permission=Permission.objects.get(
            content_type__app_label="wagtail_offline", codename="change_offlinesettings"
        ),
    )
    client = logged_in(member(django_user_model, "tess", managers))
    html = client.get(HOME).content.decode()
    assert rebuild_url(site) in panel(html, site)
    assert rebuild_url(other) not in panel(html, other)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(rebuild_url(other))
        client.post(rebuild_url(site))
    assert not OfflineRebuild.objects.filter(site=other).exists()
    assert OfflineRebuild.objects.filter(site=site).exists()


def test_a_group_with_the_settings_permission_sees_rebuild_now(manager, site, home):
    html = dashboard(logged_in(manager), site)
    assert "Rebuild now" in html
    assert f'action="{rebuild_url(site)}"' in html


def test_rebuild_now_rebuilds_the_site_and_says_so(
    manager, site, trails, django_capture_on_commit_callbacks
):
    client = logged_in(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(rebuild_url(site), {"next": HOME})
    assert response.status_code == 302 and response["Location"] == HOME
    [rebuild] = OfflineRebuild.objects.all()
    assert rebuild.requested_by == manager and rebuild.page_ids is None
    assert rebuild.finished_at is not None  # The immediate backend ran it at commit.
    assert "/trails/" in {
        entry["url"] for entry in OfflineManifest.objects.get(site=site).entries
    }
    shown = text(client.get(HOME).content.decode())
    assert "A rebuild of Trails was queued." in shown
    assert "1 page offline" in shown


def test_with_a_queueing_backend_the_rebuild_is_pending(
    manager, site, trails, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    client = logged_in(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(rebuild_url(site))
    assert OfflineRebuild.objects.get().pending
    assert "Rebuild pending: requested just now." in text(dashboard(client, site))


def test_rebuild_now_never_redirects_to_another_host(manager, site, home):
    response = logged_in(manager).post(
        rebuild_url(site), {"next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == HOME


def test_rebuild_now_is_a_post_only(manager, site, home):
    assert logged_in(manager).get(rebuild_url(site)).status_code == 405
    assert not OfflineRebuild.objects.exists()


def test_rebuild_now_needs_the_csrf_token(manager, site, home):
    client = logged_in(manager, enforce_csrf_checks=True)
    assert client.post(rebuild_url(site)).status_code == 403
    assert not OfflineRebuild.objects.exists()


def test_rebuild_now_of_an_unknown_site_is_404(manager, site, home):
    assert (
        logged_in(manager).post(f"/admin/offline/rebuild/{site.pk + 99}/").status_code
        == 404
    )


def test_the_settings_menu_is_wagtails_own_permission_check(editor, manager, site):
    url = f"/admin/settings/wagtail_offline/offlinesettings/{site.pk}/"
    assert logged_in(editor).get(url).status_code in (302, 403)
    assert logged_in(manager).get(url).status_code == 200


def test_rebuild_now_of_a_site_id_beyond_any_integer_column_is_404(manager, site):
    response = logged_in(manager).post(
        "/admin/offline/rebuild/99999999999999999999999/"
    )
    assert response.status_code == 404
    assert not OfflineRebuild.objects.exists()
