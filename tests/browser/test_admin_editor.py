"""The page editor's offline status, its validation, and the explorer's bulk action,
used in Chromium as an editor would."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect
from wagtail.models import GroupPagePermission

from tests.browser.admin import PASSWORD, log_in
from tests.factories import StandardPageFactory
from tests.testapp.models import StandardPage
from wagtail_offline.models import OfflineManifest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def editor(django_user_model, trail_site):
    """Edits and publishes the site's pages; no other permission."""
    group = Group.objects.create(name="Trail editors")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    for codename in ("change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group,
            page=trail_site["home"],
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    user = django_user_model.objects.create_user(
        "editor", "editor@example.com", PASSWORD
    )
    user.groups.add(group)
    return user


def shown(locator):
    """The text a reader sees, spaces as spaces (sizes and times use no-break spaces)."""
    return " ".join(locator.inner_text().split())


def open_promote_tab(page, base, wagtail_page):
    page.goto(f"{base}/admin/pages/{wagtail_page.pk}/edit/")
    page.get_by_role("tab", name="Promote").click()


def test_the_promote_tab_says_a_flagged_page_is_available_offline(
    page, trail_site, editor
):
    base = trail_site["url"]
    log_in(page, base, editor)
    open_promote_tab(page, base, trail_site["trails"])
    status = page.locator("[data-offline-status]")
    expect(status).to_be_visible()
    assert re.match(
        r"Available offline · [\d.]+ (bytes|KB|MB) · updated just now", shown(status)
    ), shown(status)
    # Trails brings itself and the ridge walk (the ranger notes are private).
    assert re.search(r"This section: 2 pages, [\d.]+ (KB|MB)", shown(status))
    expect(
        status.get_by_role("link", name="See the offline pages report")
    ).to_have_attribute(
        "href", f"/admin/reports/offline-pages/?site={trail_site['site'].pk}"
    )


def test_subpages_without_available_offline_is_refused_when_publishing(
    page, trail_site, editor
):
    base = trail_site["url"]
    about = StandardPageFactory(parent=trail_site["home"], title="About", slug="about")
    log_in(page, base, editor)
    open_promote_tab(page, base, about)
    page.get_by_label("Also make its subpages available offline").check()
    page.locator("footer .w-dropdown__toggle").click()
    with page.expect_navigation():
        page.locator("button[name=action-publish]").click()
    expect(
        page.get_by_text("The page could not be saved due to validation errors")
    ).to_be_visible()
    page.get_by_role("tab", name="Promote").click()
    expect(
        page.get_by_text(
            "Subpages can only be made available offline with the page itself"
        )
    ).to_be_visible()
    about.refresh_from_db()
    assert not about.offline_include_subpages
    assert about.revisions.count() == 0


def test_two_pages_made_available_offline_from_the_explorer(page, trail_site, editor):
    base, home, site = trail_site["url"], trail_site["home"], trail_site["site"]
    lakes = StandardPageFactory(parent=home, title="Lakes", slug="lakes")
    forests = StandardPageFactory(parent=home, title="Forests", slug="forests")
    log_in(page, base, editor)
    page.goto(f"{base}/admin/pages/{home.pk}/")
    for wagtail_page in (lakes, forests):
        page.locator(f"input[data-object-id='{wagtail_page.pk}']").check()
    footer = page.locator("[data-bulk-action-footer]")
    expect(footer).to_be_visible()
    more = footer.get_by_role("button", name="More")
    if more.count():  # Wagtail puts actions after its first four under "More".
        # Its links get their click handler once the dropdown has finished showing.
        page.evaluate(
            "() => document.addEventListener('w-dropdown:shown', "
            "() => { window.dropdownShown = true; }, {once: true})"
        )
        more.click()
        page.wait_for_function("() => window.dropdownShown === true")
    footer.get_by_role("link", name="Make selected pages available offline").click()
    expect(page).to_have_title(re.compile("^Make 2 pages available offline"))
    for title in ("Lakes", "Forests"):
        expect(page.get_by_role("link", name=title)).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, make available offline").click()

    expect(page.get_by_text("2 pages are now available offline")).to_be_visible()
    for wagtail_page in (lakes, forests):
        row = page.locator("tr", has=page.locator(f"#page_{wagtail_page.pk}_title"))
        expect(row.locator("[data-offline-indicator='offline']")).to_have_text(
            "Offline"
        )
    assert all(
        StandardPage.objects.get(pk=p.pk).offline_available for p in (lakes, forests)
    )
    urls = {entry["url"] for entry in OfflineManifest.objects.get(site=site).entries}
    assert {"/lakes/", "/forests/"} <= urls
