"""Reports → Offline pages, used as an editor would: open it, filter it, export it, follow a page."""

import csv

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect
from wagtail.models import GroupPagePermission

from tests.browser.admin import PASSWORD, log_in
from tests.factories import StandardPageFactory
from tests.testapp.models import StandardPage
from wagtail_offline.manifest import rebuild_site_manifest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def editor(django_user_model, trail_site):
    """An editor of the site's pages who may not change the offline settings."""
    group = Group.objects.create(name="Editors of the trails")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    GroupPagePermission.objects.create(
        group=group,
        page=trail_site["home"],
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    user = django_user_model.objects.create_user(
        "writer", "writer@example.com", PASSWORD
    )
    user.groups.add(group)
    return user


@pytest.fixture
def broken(trail_site, monkeypatch):
    """A page of the trails section whose template raises, and the site rebuilt with it."""
    page = StandardPageFactory(
        parent=trail_site["trails"], title="Flooded ford", slug="ford"
    )
    original = StandardPage.serve

    def serve(self, request, *args, **kwargs):
        if self.pk == page.pk:
            raise RuntimeError("the ford template is flooded")
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(StandardPage, "serve", serve)
    rebuild_site_manifest(trail_site["site"])
    return page


def titles(page):
    return page.locator("table.listing tbody td.title > a").all_inner_texts()


def test_an_editor_filters_exports_and_follows_a_page_of_the_report(
    page, trail_site, editor, broken
):
    base = trail_site["url"]
    log_in(page, base, editor)

    page.get_by_role("button", name="Reports").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Offline pages", exact=True).click()
    assert page.url == base + "/admin/reports/offline-pages/"
    expect(page.locator("h1")).to_contain_text("Offline pages")
    assert titles(page) == ["Trails", "Ridge walk", "Ranger notes", "Flooded ford"]
    assert page.get_by_role("button", name="Rebuild now").count() == 0

    page.get_by_role("button", name="Show filters").click()
    page.get_by_role("button", name="Status").click()
    page.get_by_role("radio", name="Failed").check()
    expect(page.locator("table.listing tbody tr")).to_have_count(1)
    assert titles(page) == ["Flooded ford"]
    row = page.locator("table.listing tbody tr")
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("the ford template is flooded")
    expect(page).to_have_url(base + "/admin/reports/offline-pages/?status=failed")
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Actions").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("offline-pages-report-")
    with open(download.path(), encoding="utf-8") as exported:
        exported_rows = list(csv.DictReader(exported))
    assert [(r["Title"], r["Status"]) for r in exported_rows] == [
        ("Flooded ford", "Failed")
    ]
    assert "the ford template is flooded" in exported_rows[0]["Reason"]

    with page.expect_navigation():
        page.get_by_role("link", name="Flooded ford").click()
    assert page.url == f"{base}/admin/pages/{broken.pk}/edit/"
    expect(page.locator("#w-editor-title, h1").first).to_contain_text("Flooded ford")
