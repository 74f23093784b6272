"""Reports → Offline pages: every page meant to be offline, its status, size and problems."""

import csv
import io
import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.models import GroupPagePermission, Page, Site

from tests.factories import (
    FormPageFactory,
    StandardPageFactory,
    restrict_with_password,
)
from tests.testapp.models import StandardPage
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import (
    OfflineManifest,
    OfflinePageSnapshot,
    OfflineRebuild,
    OfflineSettings,
)

pytestmark = pytest.mark.django_db

REPORT = "/admin/reports/offline-pages/"


def admin_user(django_user_model, username, *permissions, pages_under=None):
    """An admin user who may edit the pages under ``pages_under`` (every page by default)."""
    user = django_user_model.objects.create_user(username, f"{username}@example.com")
    for permission in ("wagtailadmin.access_admin",) + permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    editors = Group.objects.create(name=f"Editors of {username}")
    GroupPagePermission.objects.create(
        group=editors,
        page=pages_under or Page.get_first_root_node(),
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    user.groups.add(editors)
    return user


@pytest.fixture
def editor(django_user_model):
    """Reaches the admin, may not change the offline settings."""
    return admin_user(django_user_model, "editor")


@pytest.fixture
def manager(django_user_model):
    return admin_user(
        django_user_model, "manager", "wagtail_offline.change_offlinesettings"
    )


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def break_page(monkeypatch, page, message="template exploded"):
    """Make ``page`` raise when rendered, as a template with a bug does."""
    original = StandardPage.serve

    def serve(self, request, *args, **kwargs):
        if self.pk == page.pk:
            raise RuntimeError(message)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(StandardPage, "serve", serve)


@pytest.fixture
def guide(site, home, trails, monkeypatch):
    """/trails/ (flagged with its subpages) holding one page of each status, built once."""
    now = timezone.now()
    pages = {
        "trails": trails,
        "ridge": StandardPageFactory(parent=trails, title="Ridge", slug="ridge"),
        "broken": StandardPageFactory(parent=trails, title="Broken", slug="broken"),
        "draft": StandardPageFactory(
            parent=trails, title="Draft", slug="draft", live=False
        ),
        "scheduled": StandardPageFactory(
            parent=trails,
            title="Scheduled",
            slug="scheduled",
            live=False,
            go_live_at=now + timedelta(days=3),
        ),
        "expired": StandardPageFactory(
            parent=trails,
            title="Expired",
            slug="expired",
            expire_at=now - timedelta(days=1),
        ),
        "notes": StandardPageFactory(parent=trails, title="Notes", slug="notes"),
        "form": FormPageFactory(parent=trails, title="Contact", slug="contact"),
        "unflagged": StandardPageFactory(parent=home, title="Unflagged", slug="free"),
    }
    pages["notes_day"] = StandardPageFactory(
        parent=pages["notes"], title="Day notes", slug="day"
    )
    restrict_with_password(pages["notes"])
    break_page(monkeypatch, pages["broken"])
    rebuild_site_manifest(site)
    # Added after the build: offline from the next one on.
    pages["new"] = StandardPageFactory(parent=trails, title="Fresh", slug="fresh")
    return pages


def rows(html):
    """{page title: the text of its row} for each row of the report's table, in order."""
    if '<table class="listing">' not in html:
        return {}
    table = html[html.index('<table class="listing">') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    result = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        title = re.search(r'<a href="/admin/pages/\d+/edit/">(.*?)</a>', row).group(1)
        result[unescape(title)] = words(row)
    return result


def words(html):
    """The text of ``html`` as a reader sees it, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def summary(html):
    start = html.index("data-offline-report-summary")
    return html[start : html.index("</section>", start)]


def reports_menu(html):
    """{name: (label, url)} of the items of the admin sidebar's Reports menu."""
    props = re.search(
        r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>',
        html,
        re.S,
    ).group(1)

    def submenus(node):
        if isinstance(node, dict):
            if node.get("_type") == "wagtail.sidebar.SubMenuItem":
                yield node["_args"]
            for value in node.values():
                yield from submenus(value)
        elif isinstance(node, list):
            for value in node:
                yield from submenus(value)

    [(_, items)] = [
        args for args in submenus(json.loads(props)) if args[0]["name"] == "reports"
    ]
    return {
        item["_args"][0]["name"]: (item["_args"][0]["label"], item["_args"][0]["url"])
        for item in items
    }


def get(client, url=REPORT):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def csv_rows(response):
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


def test_every_flagged_page_and_its_section_is_listed_in_tree_order(
    editor_client, guide
):
    listed = list(rows(get(editor_client)))
    assert listed == [
        "Trails",
        "Ridge",
        "Broken",
        "Draft",
        "Scheduled",
        "Expired",
        "Notes",
        "Day notes",
        "Contact",
        "Fresh",
    ]


def test_an_offline_page_shows_its_url_sizes_and_last_render(editor_client, guide):
    html = get(editor_client)
    ridge = rows(html)["Ridge"]
    [summary_] = [
        s
        for s in OfflineManifest.objects.get().pages
        if s["page_id"] == guide["ridge"].pk
    ]
    assert ridge.startswith("Ridge /trails/ridge/ Offline status: Offline")
    assert "Being updated" not in ridge
    assert summary_["own_size"] < summary_["total_size"]
    from wagtail_offline.sizes import format_size

    assert words(format_size(summary_["own_size"])) in ridge
    assert words(format_size(summary_["total_size"])) in ridge
    assert "Standard page" in ridge
    assert "Just now" in ridge


def test_a_page_that_failed_to_render_says_why(editor_client, guide):
    broken = rows(get(editor_client))["Broken"]
    assert "Offline status: Failed" in broken
    assert "template exploded" in broken


@pytest.mark.parametrize(
    "title, reason",
    [
        ("Draft", "draft: never published"),
        ("Scheduled", "scheduled: goes live on"),
        ("Expired", "expired"),
        ("Notes", "private: password restriction"),
        ("Day notes", "private: password restriction on “Notes”"),
    ],
)
def test_an_excluded_page_says_why(editor_client, guide, title, reason):
    row = rows(get(editor_client))[title]
    assert "Offline status: Excluded" in row
    assert reason in row


def test_a_page_added_since_the_last_build_is_waiting(editor_client, guide):
    fresh = rows(get(editor_client))["Fresh"]
    assert "Offline status: Waiting" in fresh
    assert "it will be offline after the next build" in fresh


def test_pages_a_pending_rebuild_covers_are_being_updated(editor_client, site, guide):
    rebuild = OfflineRebuild.objects.create(site=site, page_ids=[guide["ridge"].pk])
    OfflineRebuild.objects.filter(pk=rebuild.pk).update(
        requested_at=timezone.now() - timedelta(minutes=5)
    )
    html = get(editor_client)
    found = rows(html)
    assert "Being updated…" in found["Ridge"]
    assert "Being updated…" not in found["Trails"]
    assert "Rebuild pending: requested 5 minutes ago." in words(summary(html))


def test_cross_origin_assets_and_warnings_are_shown_on_the_page_row(
    editor_client, site, trails
):
    StandardPageFactory(
        parent=trails,
        title="Map",
        slug="map",
        body='<p>Map</p><img src="https://cdn.example/map.png" alt="">',
    )
    rebuild_site_manifest(site)
    OfflinePageSnapshot.objects.filter(url="/trails/").update(
        warnings=["The template does not use {% offline_head %}."]
    )
    found = rows(get(editor_client))
    assert (
        "These assets come from other sites and will not work offline: "
        "https://cdn.example/map.png" in found["Map"]
    )
    assert "The template does not use {% offline_head %}." in found["Trails"]
    assert "cdn.example" not in found["Trails"]


def status_filtered(client, state):
    return list(rows(get(client, f"{REPORT}?status={state}")))


def test_the_status_filter_lists_only_pages_in_that_state(editor_client, guide):
    assert status_filtered(editor_client, "offline") == [
        "Trails",
        "Ridge",
        "Contact",
    ]
    assert status_filtered(editor_client, "failed") == ["Broken"]
    assert status_filtered(editor_client, "excluded") == [
        "Draft",
        "Scheduled",
        "Expired",
        "Notes",
        "Day notes",
    ]
    assert status_filtered(editor_client, "waiting") == ["Fresh"]


def test_the_results_url_filters_for_wagtails_ajax_listing(editor_client, guide):
    html = get(editor_client, f"{REPORT}results/?status=failed")
    assert "<html" not in html
    assert list(rows(html)) == ["Broken"]
    assert "data-offline-report-summary" in html


def test_the_section_filter_offers_the_flagged_sections_and_lists_their_pages(
    editor_client, site, home, guide
):
    valleys = StandardPageFactory(
        parent=home,
        title="Valleys",
        slug="valleys",
        offline_available=True,
        offline_include_subpages=True,
    )
    StandardPageFactory(parent=valleys, title="Creek", slug="creek")
    html = get(editor_client)
    section_select = html[html.index('name="section"') :]
    section_select = section_select[: section_select.index("</select>")]
    assert re.findall(r'<option value="(\d+)"', section_select) == [
        str(guide["trails"].pk),
        str(valleys.pk),
    ]
    assert list(rows(get(editor_client, f"{REPORT}?section={valleys.pk}"))) == [
        "Valleys",
        "Creek",
    ]
    assert "Creek" not in rows(
        get(editor_client, f"{REPORT}?section={guide['trails'].pk}")
    )


def test_the_type_filter_lists_only_pages_of_that_type(editor_client, guide):
    from django.contrib.contenttypes.models import ContentType

    form_type = ContentType.objects.get_for_model(type(guide["form"].specific))
    html = get(editor_client, f"{REPORT}?content_type={form_type.pk}")
    assert list(rows(html)) == ["Contact"]


def test_each_site_has_its_own_report_and_the_default_site_comes_first(
    editor_client, site, guide, root_page
):
    other_home = StandardPageFactory(parent=root_page, title="Other", slug="other")
    other = Site.objects.create(hostname="other.example", root_page=other_home)
    StandardPageFactory(
        parent=other_home, title="Lake", slug="lake", offline_available=True
    )
    html = get(editor_client)
    assert "Lake" not in rows(html)
    assert "Offline reading on Trails" in summary(html)
    html = get(editor_client, f"{REPORT}?site={other.pk}")
    assert list(rows(html)) == ["Lake"]
    assert f"Offline reading on {other}" in summary(html)


def test_an_editor_of_one_site_never_sees_another_sites_pages(
    client, django_user_model, site, guide, root_page
):
    other_home = StandardPageFactory(parent=root_page, title="Other", slug="other")
    other = Site.objects.create(hostname="other.example", root_page=other_home)
    StandardPageFactory(
        parent=other_home, title="Lake", slug="lake", offline_available=True
    )
    rebuild_site_manifest(other)
    client.force_login(admin_user(django_user_model, "alice", pages_under=other_home))
    # Asked for the trails site, she gets the one she works on; nothing of the other.
    html = get(client, f"{REPORT}?site={site.pk}")
    assert list(rows(html)) == ["Lake"]
    assert f"Offline reading on {other}" in summary(html)
    assert 'name="site"' not in html  # Only one site to choose from.
    export = csv_rows(client.get(f"{REPORT}?site={site.pk}&export=csv"))
    assert [row["Title"] for row in export] == ["Lake"]


def test_only_users_who_work_on_pages_get_the_report(client, django_user_model, guide):
    user = django_user_model.objects.create_user("viewer", "viewer@example.com")
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    client.force_login(user)
    response = client.get(REPORT)
    assert response.status_code == 302  # Wagtail's "no permission" redirect.
    assert REPORT not in get(client, "/admin/")  # No menu item leads there.


def test_the_site_filter_is_left_out_when_there_is_one_site(editor_client, guide):
    assert 'name="site"' not in get(editor_client)


def test_csv_export_has_a_row_per_page_with_statuses_in_words_and_bytes(
    editor_client, guide
):
    response = editor_client.get(f"{REPORT}?export=csv")
    assert response["Content-Type"] == "text/csv"
    assert "offline-pages-report-" in response["Content-Disposition"]
    exported = {row["Title"]: row for row in csv_rows(response)}
    assert len(exported) == 10
    summaries = {s["page_id"]: s for s in OfflineManifest.objects.get().pages}
    ridge = exported["Ridge"]
    assert ridge["Status"] == "Offline"
    assert ridge["URL"] == "/trails/ridge/"
    assert ridge["Type"] == "Standard page"
    assert ridge["Size (bytes)"] == str(summaries[guide["ridge"].pk]["own_size"])
    assert ridge["Total size (bytes)"] == str(
        summaries[guide["ridge"].pk]["total_size"]
    )
    assert ridge["Being updated"] == "No"
    assert ridge["Last rendered"]
    assert exported["Broken"]["Status"] == "Failed"
    assert "template exploded" in exported["Broken"]["Reason"]
    assert exported["Broken"]["Size (bytes)"] == ""
    assert exported["Day notes"]["Status"] == "Excluded"
    assert exported["Day notes"]["Reason"] == "private: password restriction on “Notes”"
    assert exported["Fresh"]["Status"] == "Waiting"


def test_csv_export_follows_the_filters(editor_client, guide):
    response = editor_client.get(f"{REPORT}?status=excluded&export=csv")
    assert [row["Title"] for row in csv_rows(response)] == [
        "Draft",
        "Scheduled",
        "Expired",
        "Notes",
        "Day notes",
    ]


def test_xlsx_export_holds_the_same_columns_with_sizes_as_numbers(editor_client, guide):
    response = editor_client.get(f"{REPORT}?export=xlsx")
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    heading, *values = list(sheet.values)
    exported = {row[0]: dict(zip(heading, row, strict=True)) for row in values}
    csv_heading = list(csv_rows(editor_client.get(f"{REPORT}?export=csv"))[0])
    assert list(heading) == csv_heading
    summaries = {s["page_id"]: s for s in OfflineManifest.objects.get().pages}
    assert exported["Ridge"]["Status"] == "Offline"
    assert (
        exported["Ridge"]["Size (bytes)"] == (summaries[guide["ridge"].pk]["own_size"])
    )
    assert isinstance(exported["Ridge"]["Last rendered"], type(timezone.now()))
    assert exported["Broken"]["Status"] == "Failed"
    assert exported["Notes"]["Reason"] == "private: password restriction"
    assert len(exported) == 10


def test_the_budget_bar_shows_the_sites_total_against_its_budget(
    editor_client, site, guide
):
    manifest = OfflineManifest.objects.get()
    entries = manifest.entries
    entries[0]["size"] += 12_300_000 - manifest.size
    manifest.entries = entries
    manifest.save()
    html = summary(get(editor_client))
    meter = re.search(r"<meter [^>]*>", html).group(0)
    assert 'max="50000000"' in meter
    assert 'value="12300000"' in meter
    assert "12.3 MB of 50 MB" in html
    assert "more than this site’s storage budget" not in html


def test_over_budget_is_a_warning_at_the_head_of_the_report(editor_client, site, guide):
    settings = OfflineSettings.for_site(site)
    settings.storage_budget = 1
    settings.save()
    manifest = OfflineManifest.objects.get()
    entries = manifest.entries
    entries[0]["size"] += 2_600_000 - manifest.size
    manifest.entries = entries
    manifest.save()
    html = summary(get(editor_client))
    assert 'value="2600000"' in html and 'max="1000000"' in html
    assert "2.6 MB of 1 MB" in html
    assert "more than this site’s storage budget of 1 MB" in html


def test_site_wide_problems_head_the_report(editor_client, site, home, guide):
    sorry = StandardPageFactory(parent=home, title="Sorry", slug="sorry")
    restrict_with_password(sorry)
    settings = OfflineSettings.for_site(site)
    settings.fallback_page = sorry
    settings.save()
    rebuild_site_manifest(site)
    OfflineRebuild.objects.create(
        site=site, finished_at=timezone.now(), error="The build ran out of time."
    )
    html = summary(get(editor_client))
    assert "The build ran out of time." in html
    assert "Sorry" in html and "help-critical" in html
    assert "template exploded" not in html  # A page's failure is in its own row.


def test_the_summary_counts_offline_pages_and_tells_when_the_site_was_built(
    editor_client, guide
):
    text = words(summary(get(editor_client)))
    assert "3 pages offline." in text
    assert "Last built just now." in text
    assert "Rebuild pending" not in text


def test_an_editor_sees_the_report_but_not_the_rebuild_button(editor_client, guide):
    html = get(editor_client)
    assert "Broken" in rows(html)
    assert "Rebuild now" not in html
    assert "/admin/offline/rebuild/" not in html


def test_a_manager_can_rebuild_from_the_report_and_comes_back_to_it(
    manager_client, site, guide, django_capture_on_commit_callbacks
):
    html = summary(get(manager_client))
    form = re.search(r'<form action="([^"]+)" method="post">(.*?)</form>', html, re.S)
    assert form.group(1) == f"/admin/offline/rebuild/{site.pk}/"
    assert "Rebuild now" in form.group(2)
    next_url = re.search(r'name="next" value="([^"]+)"', form.group(2)).group(1)
    assert unescape(next_url) == f"{REPORT}?site={site.pk}"
    with django_capture_on_commit_callbacks(execute=False):
        response = manager_client.post(form.group(1), {"next": unescape(next_url)})
    assert response.status_code == 302
    assert response["Location"] == f"{REPORT}?site={site.pk}"


def test_a_user_without_admin_access_is_sent_to_the_login(
    client, django_user_model, guide
):
    client.force_login(django_user_model.objects.create_user("reader"))
    response = client.get(REPORT)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_reports_menu_offers_the_report_to_every_editor(editor_client, guide):
    items = reports_menu(get(editor_client, "/admin/"))
    assert items["offline-pages"] == ("Offline pages", REPORT)


def test_a_site_without_flagged_pages_says_how_to_add_one(editor_client, site):
    html = get(editor_client)
    assert rows(html) == {}
    assert "tick “Available offline” on a page’s Promote tab" in html
    assert "Not built yet." in words(summary(html))


def test_the_report_costs_the_same_queries_for_30_pages_as_for_3(
    editor_client, site, trails, monkeypatch, django_assert_max_num_queries
):
    broken = StandardPageFactory(parent=trails, title="Broken", slug="broken")
    StandardPageFactory(parent=trails, title="Draft", slug="draft", live=False)
    notes = StandardPageFactory(parent=trails, title="Notes", slug="notes")
    restrict_with_password(notes)
    break_page(monkeypatch, broken)
    rebuild_site_manifest(site)
    get(editor_client)  # Fills the caches every request after it finds full.
    with CaptureQueriesContext(connection) as small:
        assert len(rows(get(editor_client))) == 4
    for number in range(13):
        StandardPageFactory(parent=trails, title=f"Walk {number}")
        StandardPageFactory(parent=trails, title=f"Plan {number}", live=False)
    rebuild_site_manifest(site)
    OfflineRebuild.objects.create(site=site, page_ids=[broken.pk])
    with django_assert_max_num_queries(len(small)):
        assert len(rows(get(editor_client))) == 30


def test_translations_of_the_site_are_listed_with_their_locale(
    editor_client, site, home, trails, settings
):
    from wagtail.models import Locale

    settings.WAGTAIL_I18N_ENABLED = True
    settings.LANGUAGES = settings.WAGTAIL_CONTENT_LANGUAGES = [
        ("en", "English"),
        ("fr", "French"),
    ]
    settings.ROOT_URLCONF = "tests.urls_i18n"
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.middleware.locale.LocaleMiddleware",
    ]
    french = Locale.objects.create(language_code="fr")
    for page in (home, trails):
        translation = page.copy_for_translation(french)
        translation.title = f"{page.title} (fr)"
        translation.save_revision().publish()
    rebuild_site_manifest(site)
    found = rows(get(editor_client))
    assert list(found) == ["Trails", "Trails (fr)"]
    assert found["Trails"].startswith("Trails English /trails/ Offline status: Offline")
    assert found["Trails (fr)"].startswith(
        "Trails (fr) French /fr/trails/ Offline status: Offline"
    )


@pytest.mark.parametrize(
    "query",
    [
        "site=abc",
        "site=99999999999999999999999",
        "status=%3Cscript%3E",
        "section=abc",
        "content_type=x",
        "export=pdf",
        "site=1&site=2",
        "p=99999",
    ],
)
def test_a_hostile_query_is_never_a_server_error_nor_echoed(
    editor_client, guide, query
):
    for url in (REPORT, f"{REPORT}results/"):
        response = editor_client.get(f"{url}?{query}")
        assert response.status_code < 500
        assert b"<script>" not in response.content
