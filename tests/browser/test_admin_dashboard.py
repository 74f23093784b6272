"""The admin home's offline panel, used as an editor would: read it, press "Rebuild now"."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from wagtail.models import GroupPagePermission

from tests.browser.admin import PASSWORD, log_in
from wagtail_offline.models import OfflineManifest, OfflineRebuild

pytestmark = pytest.mark.django_db(transaction=True)


def editor(django_user_model, home, username, *permissions):
    """An editor of the site's pages, in a group given ``permissions`` as Settings → Groups does."""
    group = Group.objects.create(name=f"{username} group")
    for permission in ("wagtailadmin.access_admin",) + permissions:
        app_label, codename = permission.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    GroupPagePermission.objects.create(
        group=group,
        page=home,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    user = django_user_model.objects.create_user(
        username, f"{username}@example.com", PASSWORD
    )
    user.groups.add(group)
    return user


def offline_panel(page, site):
    return page.locator(f"#offline-reading-{site.pk}-section")


def shown(locator):
    """The text a reader sees, spaces as spaces (timesince joins with no-break spaces)."""
    return " ".join(locator.inner_text().split())


def built_long_ago(site):
    OfflineManifest.objects.filter(site=site).update(
        built_at=timezone.now() - timedelta(hours=2)
    )


def test_a_manager_reads_the_panel_and_rebuilds_now(
    page, trail_site, django_user_model
):
    site, base = trail_site["site"], trail_site["url"]
    built_long_ago(site)
    manifest = OfflineManifest.objects.get(site=site)
    pages = len({summary["page_id"] for summary in manifest.pages})
    manager = editor(
        django_user_model,
        trail_site["home"],
        "manager",
        "wagtail_offline.change_offlinesettings",
    )
    log_in(page, base, manager)

    panel = offline_panel(page, site)
    assert panel.is_visible()
    assert f"{pages} pages offline" in shown(panel)
    size = panel.locator("[data-offline-size]")
    assert size.get_attribute("data-offline-size") == str(manifest.size)
    assert panel.locator("meter").get_attribute("value") == str(manifest.size)
    assert "Last built 2 hours ago." in shown(panel)

    with page.expect_navigation():
        panel.get_by_role("button", name="Rebuild now").click()
    assert page.url == base + "/admin/"
    assert "A rebuild of Trails was queued." in shown(page.locator(".messages"))
    # The immediate task backend rebuilt the site before the redirect.
    panel = offline_panel(page, site)
    assert "Last built just now." in shown(panel)
    assert "Rebuild pending" not in shown(panel)
    rebuilt = OfflineManifest.objects.get(site=site)
    assert rebuilt.built_at > manifest.built_at
    assert f"{pages} pages offline" in shown(panel)

    # The link leads to the report of this site.
    with page.expect_navigation():
        panel.get_by_role("link", name="View the offline pages report").click()
    assert page.url == f"{base}/admin/reports/offline-pages/?site={site.pk}"


def test_with_a_queueing_backend_the_panel_shows_the_rebuild_pending(
    page, trail_site, django_user_model, settings
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    site, base = trail_site["site"], trail_site["url"]
    built_long_ago(site)
    manager = editor(
        django_user_model,
        trail_site["home"],
        "manager",
        "wagtail_offline.change_offlinesettings",
    )
    log_in(page, base, manager)
    assert "Rebuild pending" not in shown(offline_panel(page, site))
    with page.expect_navigation():
        offline_panel(page, site).get_by_role("button", name="Rebuild now").click()
    panel = offline_panel(page, site)
    assert "Rebuild pending: requested just now." in shown(panel)
    assert "Last built 2 hours ago." in shown(panel)
    [pending] = OfflineRebuild.objects.filter(site=site, finished_at__isnull=True)
    assert pending.requested_by == manager and pending.page_ids is None


def test_an_editor_without_the_permission_sees_the_panel_without_the_button(
    page, trail_site, django_user_model
):
    site, base = trail_site["site"], trail_site["url"]
    log_in(page, base, editor(django_user_model, trail_site["home"], "writer"))
    panel = offline_panel(page, site)
    assert "pages offline" in shown(panel)
    assert panel.get_by_role("button", name="Rebuild now").count() == 0
    assert panel.get_by_role("link", name="View the offline pages report").count() == 1
