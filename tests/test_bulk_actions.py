"""The page explorer: the offline indicator on each row, and the bulk actions
"Make available offline" and "Remove from offline"."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks.signals import task_enqueued
from wagtail.models import GroupPagePermission, PageLogEntry, Site

from tests.factories import PlainPageFactory, StandardPageFactory
from tests.testapp.models import StandardPage
from wagtail_offline import status, tasks
from wagtail_offline.admin.bulk_actions import in_offline_section
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineManifest, OfflineRebuild
from wagtail_offline.selection import offline_page_models

pytestmark = pytest.mark.django_db

MAKE = "make_available_offline"
REMOVE = "remove_from_offline"
MAKE_LOG = "wagtail_offline.make_available"


def bulk_url(action, pages, next_url="/admin/"):
    ids = "&".join(f"id={page.pk}" for page in pages)
    return f"/admin/bulk/wagtailcore/page/{action}/?{ids}&next={next_url}"


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com")


@pytest.fixture
def admin_client(superuser):
    return logged_in(superuser)


def writer_of(django_user_model, section):
    """A user who reaches the admin and edits only the pages below ``section``."""
    group = Group.objects.create(name="Writers")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    GroupPagePermission.objects.create(
        group=group,
        page=section,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    user = django_user_model.objects.create_user("writer", "writer@example.com")
    user.groups.add(group)
    return user


@pytest.fixture
def published(enqueued, django_capture_on_commit_callbacks):
    """Makes a published page, its own rebuild done before the test acts."""

    def published(parent, slug, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            page = StandardPageFactory(
                parent=parent, title=slug.title(), slug=slug, **fields
            )
            page.save_revision().publish()
        enqueued.clear()
        OfflineRebuild.objects.all().delete()
        return StandardPage.objects.get(pk=page.pk)

    return published


def page_urls(site):
    manifest = OfflineManifest.objects.get(site=site)
    return {entry["url"] for entry in manifest.entries if entry["kind"] == "page"}


@pytest.fixture
def enqueued():
    """(site id, page ids) of each rebuild task enqueued."""
    recorded = []

    def record(sender, task_result, **kwargs):
        if task_result.task.func is tasks.rebuild_offline_manifest_task.func:
            recorded.append((task_result.args[0], task_result.args[1]))

    task_enqueued.connect(record)
    yield recorded
    task_enqueued.disconnect(record)


def run(client, action, pages, capture):
    with capture(execute=True):
        response = client.post(bulk_url(action, pages))
    assert response.status_code == 302
    return response


def messages_of(response):
    return [str(message).strip() for message in get_messages(response.wsgi_request)]


def test_making_pages_available_offline_sets_the_flag_and_rebuilds_the_site_once(
    published, admin_client, site, home, enqueued, django_capture_on_commit_callbacks
):
    ridge, lake = published(home, "ridge"), published(home, "lake")
    run(admin_client, MAKE, [ridge, lake], django_capture_on_commit_callbacks)
    for page in (ridge, lake):
        page.refresh_from_db()
        assert page.offline_available
        assert page.get_latest_revision().content["offline_available"] is True
    assert enqueued == [(site.pk, sorted([ridge.pk, lake.pk]))]
    assert OfflineRebuild.objects.filter(site=site).count() == 1
    assert page_urls(site) == {"/ridge/", "/lake/"}


def test_the_confirmation_lists_the_pages_and_says_drafts_are_not_published(
    published, admin_client, site, home
):
    ridge = published(home, "ridge")
    html = admin_client.get(bulk_url(MAKE, [ridge])).content.decode()
    assert "Make 1 page available offline" in html
    assert "drafts are not published" in html
    assert f'href="/admin/pages/{ridge.pk}/edit/"' in html
    assert "Yes, make available offline" in html


def test_a_draft_gets_the_flag_without_being_published(
    published, admin_client, site, home, django_capture_on_commit_callbacks
):
    ridge = published(home, "ridge")
    draft = StandardPage.objects.get(pk=ridge.pk)
    draft.title = "Ridge (draft)"
    draft.save_revision()
    run(admin_client, MAKE, [ridge], django_capture_on_commit_callbacks)
    ridge.refresh_from_db()
    assert ridge.title == "Ridge" and ridge.has_unpublished_changes
    assert ridge.offline_available
    content = ridge.get_latest_revision().content
    assert content["title"] == "Ridge (draft)" and content["offline_available"]
    # Publishing the draft later keeps the page offline.
    with django_capture_on_commit_callbacks(execute=True):
        ridge.get_latest_revision().publish()
    ridge.refresh_from_db()
    assert ridge.title == "Ridge (draft)" and ridge.offline_available
    assert page_urls(site) == {"/ridge/"}


def test_a_page_locked_by_someone_else_is_refused_and_left_alone(
    published,
    admin_client,
    django_user_model,
    site,
    home,
    enqueued,
    django_capture_on_commit_callbacks,
):
    from django.utils import timezone

    ridge, lake = published(home, "ridge"), published(home, "lake")
    other = django_user_model.objects.create_superuser("other", "other@example.com")
    StandardPage.objects.filter(pk=ridge.pk).update(
        locked=True, locked_by=other, locked_at=timezone.now()
    )
    html = admin_client.get(bulk_url(MAKE, [ridge, lake])).content.decode()
    listed = html[html.index("This page is locked") :]
    assert "Ridge" in listed and "Lake" not in listed
    assert "Make 1 page available offline" in html
    run(admin_client, MAKE, [ridge, lake], django_capture_on_commit_callbacks)
    ridge.refresh_from_db()
    assert not ridge.offline_available
    assert ridge.get_latest_revision().content["offline_available"] is False
    assert not PageLogEntry.objects.filter(
        page=ridge, action__startswith="wagtail_offline"
    ).exists()
    assert enqueued == [(site.pk, [lake.pk])]


def test_a_page_scheduled_for_publishing_is_locked_and_its_revision_left_alone(
    published, admin_client, site, home, enqueued, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    ridge = published(home, "ridge")
    scheduled = StandardPage.objects.get(pk=ridge.pk)
    scheduled.title = "Ridge (scheduled)"
    revision = scheduled.save_revision()
    revision.approved_go_live_at = timezone.now() + timedelta(days=1)
    revision.save()
    html = admin_client.get(bulk_url(MAKE, [ridge])).content.decode()
    assert "This page is locked" in html
    run(admin_client, MAKE, [ridge], django_capture_on_commit_callbacks)
    revision.refresh_from_db()
    ridge.refresh_from_db()
    assert revision.content["offline_available"] is False
    assert not ridge.offline_available
    assert enqueued == []


def test_removing_clears_both_options_everywhere_and_leaves_the_manifest(
    published, admin_client, site, home, enqueued, django_capture_on_commit_callbacks
):
    trails = published(
        home, "trails", offline_available=True, offline_include_subpages=True
    )
    published(trails, "ridge")
    assert page_urls(site) == {"/trails/", "/trails/ridge/"}
    run(admin_client, REMOVE, [trails], django_capture_on_commit_callbacks)
    trails.refresh_from_db()
    assert not trails.offline_available and not trails.offline_include_subpages
    content = trails.get_latest_revision().content
    assert content["offline_available"] is False
    assert content["offline_include_subpages"] is False
    assert page_urls(site) == set()
    assert enqueued[-1] == (site.pk, [trails.pk])


def test_each_change_is_in_the_pages_history(
    published, admin_client, superuser, site, home, django_capture_on_commit_callbacks
):
    ridge = published(home, "ridge")
    already = published(home, "already", offline_available=True)
    run(admin_client, MAKE, [ridge, already], django_capture_on_commit_callbacks)
    [entry] = PageLogEntry.objects.filter(action="wagtail_offline.make_available")
    assert entry.page_id == ridge.pk and entry.user_id == superuser.pk
    assert entry.message == "Made available offline"
    run(admin_client, REMOVE, [ridge], django_capture_on_commit_callbacks)
    [entry] = PageLogEntry.objects.filter(action="wagtail_offline.remove")
    assert entry.page_id == ridge.pk and entry.message == "Removed from offline"
    history = admin_client.get(f"/admin/pages/{ridge.pk}/history/").content.decode()
    assert "Made available offline" in history and "Removed from offline" in history


def test_only_pages_the_user_may_edit_are_changed(
    published, django_user_model, site, home, django_capture_on_commit_callbacks
):
    mine = published(home, "mine")
    ridge = published(mine, "ridge")
    theirs = published(home, "theirs")
    writer = logged_in(writer_of(django_user_model, mine))
    html = writer.get(bulk_url(MAKE, [ridge, theirs])).content.decode()
    listed = html[html.index("permission to edit") :]
    assert "Theirs" in listed and "Ridge" not in listed
    run(writer, MAKE, [ridge, theirs], django_capture_on_commit_callbacks)
    ridge = StandardPage.objects.get(pk=ridge.pk)
    assert ridge.get_latest_revision().content["offline_available"] is True
    assert PageLogEntry.objects.filter(page=ridge, action=MAKE_LOG).exists()
    theirs = StandardPage.objects.get(pk=theirs.pk)
    assert not theirs.offline_available
    assert theirs.get_latest_revision().content["offline_available"] is False
    assert not PageLogEntry.objects.filter(
        page=theirs, action__startswith="wagtail_offline"
    ).exists()


def test_pages_of_a_type_without_the_offline_options_are_left_alone(
    published, admin_client, site, home, enqueued, django_capture_on_commit_callbacks
):
    plain = PlainPageFactory(parent=home, title="Plain", slug="plain")
    ridge = published(home, "ridge")
    html = admin_client.get(bulk_url(MAKE, [plain, ridge])).content.decode()
    assert "cannot be made available offline by itself" in html
    run(admin_client, MAKE, [plain, ridge], django_capture_on_commit_callbacks)
    assert enqueued == [(site.pk, [ridge.pk])]
    assert not PageLogEntry.objects.filter(
        page=plain, action__startswith="wagtail_offline"
    ).exists()


def test_pages_of_two_sites_rebuild_each_site_once(
    published,
    admin_client,
    site,
    home,
    root_page,
    enqueued,
    django_capture_on_commit_callbacks,
):
    other_home = StandardPageFactory(parent=root_page, title="Other", slug="other")
    other = Site.objects.create(hostname="other.example", root_page=other_home)
    pages = [published(home, "a"), published(home, "b"), published(other_home, "c")]
    run(admin_client, MAKE, pages, django_capture_on_commit_callbacks)
    assert sorted(enqueued) == sorted(
        [(site.pk, [pages[0].pk, pages[1].pk]), (other.pk, [pages[2].pk])]
    )
    assert OfflineRebuild.objects.count() == 2
    assert page_urls(other) == {"/c/"}


def test_the_explorer_offers_both_bulk_actions(published, admin_client, site, home):
    published(home, "ridge")
    html = admin_client.get(f"/admin/pages/{home.pk}/").content.decode()
    assert "Make available offline" in html and "Remove from offline" in html


# Users who may edit but not publish change the draft only.


def test_an_editor_who_cannot_publish_changes_the_draft_only_and_is_told_so(
    published,
    django_user_model,
    superuser,
    site,
    home,
    enqueued,
    django_capture_on_commit_callbacks,
):
    mine = published(home, "mine")
    ridge = published(mine, "ridge")
    lake = published(mine, "lake")
    draft = StandardPage.objects.get(pk=lake.pk)
    draft.title = "Lake (draft)"
    draft.save_revision()
    writer = logged_in(writer_of(django_user_model, mine))
    response = run(writer, MAKE, [ridge, lake], django_capture_on_commit_callbacks)
    assert messages_of(response) == ["2 pages will be available offline once published"]
    for page in (ridge, lake):
        page.refresh_from_db()
        assert not page.offline_available  # Readers get nothing new.
        assert page.has_unpublished_changes
        assert page.get_latest_revision().content["offline_available"] is True
    assert lake.get_latest_revision().content["title"] == "Lake (draft)"
    assert enqueued == [] and not OfflineRebuild.objects.exists()
    assert PageLogEntry.objects.filter(action=MAKE_LOG).count() == 2
    # The editor shows the draft with the flag; publishing it takes the page offline.
    edit = logged_in(superuser).get(f"/admin/pages/{ridge.pk}/edit/").content.decode()
    assert re.search(r'name="offline_available"[^>]*checked', edit)
    with django_capture_on_commit_callbacks(execute=True):
        ridge.get_latest_revision().publish()
    assert page_urls(site) == {"/mine/ridge/"}


def test_an_editor_who_cannot_publish_removes_from_the_draft_only(
    published,
    django_user_model,
    site,
    home,
    enqueued,
    django_capture_on_commit_callbacks,
):
    mine = published(home, "mine")
    ridge = published(mine, "ridge", offline_available=True)
    writer = logged_in(writer_of(django_user_model, mine))
    response = run(writer, REMOVE, [ridge], django_capture_on_commit_callbacks)
    assert messages_of(response) == [
        "1 page will be removed from offline once published"
    ]
    ridge.refresh_from_db()
    assert ridge.offline_available
    assert ridge.get_latest_revision().content["offline_available"] is False
    assert enqueued == []


def test_a_page_that_is_not_live_is_told_to_be_offline_from_its_next_publish(
    admin_client, site, home, django_capture_on_commit_callbacks
):
    ridge = StandardPageFactory(parent=home, title="Ridge", slug="ridge", live=False)
    ridge.save_revision()
    response = run(admin_client, MAKE, [ridge], django_capture_on_commit_callbacks)
    assert messages_of(response) == [
        "1 page is not live: it is available offline from its next publish"
    ]
    ridge.refresh_from_db()
    assert ridge.offline_available
    assert ridge.get_latest_revision().content["offline_available"] is True


def test_a_publisher_is_told_live_pages_are_offline_now(
    published, admin_client, site, home, django_capture_on_commit_callbacks
):
    ridge = published(home, "ridge")
    response = run(admin_client, MAKE, [ridge], django_capture_on_commit_callbacks)
    assert messages_of(response) == ["1 page is now available offline"]


# Pages offline because a section above them is.


def test_removing_a_page_of_a_section_offline_with_its_subpages_sets_it_aside(
    published, admin_client, site, home, enqueued, django_capture_on_commit_callbacks
):
    trails = published(
        home, "trails", offline_available=True, offline_include_subpages=True
    )
    ridge = published(trails, "ridge", offline_available=True)
    lake = published(home, "lake", offline_available=True)
    html = admin_client.get(bulk_url(REMOVE, [ridge, lake])).content.decode()
    listed = html[
        html.index(
            "in a section that is offline with its subpages: remove the section instead"
        ) :
    ]
    assert "Ridge" in listed and "Lake" not in listed
    assert "Remove 1 page from offline" in html
    response = run(
        admin_client, REMOVE, [ridge, lake], django_capture_on_commit_callbacks
    )
    assert messages_of(response) == ["1 page is no longer available offline"]
    ridge.refresh_from_db()
    assert ridge.offline_available
    assert not PageLogEntry.objects.filter(
        page=ridge, action__startswith="wagtail_offline"
    ).exists()
    assert enqueued == [(site.pk, [lake.pk])]
    assert page_urls(site) == {"/trails/", "/trails/ridge/"}


def test_removing_a_section_with_its_pages_removes_them_all(
    published, admin_client, site, home, django_capture_on_commit_callbacks
):
    trails = published(
        home, "trails", offline_available=True, offline_include_subpages=True
    )
    ridge = published(trails, "ridge", offline_available=True)
    html = admin_client.get(bulk_url(REMOVE, [trails, ridge])).content.decode()
    assert "remove the section instead" not in html
    run(admin_client, REMOVE, [trails, ridge], django_capture_on_commit_callbacks)
    ridge.refresh_from_db()
    assert not ridge.offline_available
    assert page_urls(site) == set()


def test_a_draft_section_or_one_without_its_subpages_sets_nothing_aside(
    published, admin_client, site, home, django_capture_on_commit_callbacks
):
    alone = published(home, "alone", offline_available=True)
    ridge = published(alone, "ridge", offline_available=True)
    draft = StandardPageFactory(
        parent=home,
        title="Draft",
        slug="draft",
        live=False,
        offline_available=True,
        offline_include_subpages=True,
    )
    lake = StandardPageFactory(
        parent=draft, title="Lake", slug="lake", offline_available=True
    )
    html = admin_client.get(bulk_url(REMOVE, [ridge, lake])).content.decode()
    assert "remove the section instead" not in html
    assert "Remove 2 pages from offline" in html


def test_finding_the_sections_costs_the_same_queries_for_any_number_of_pages(
    published, admin_client, site, home
):
    trails = published(
        home, "trails", offline_available=True, offline_include_subpages=True
    )
    pages = [published(trails, f"page-{index}") for index in range(6)]

    def queries(selection):
        with CaptureQueriesContext(connection) as captured:
            aside = in_offline_section(selection)
        assert aside == selection
        return len(captured)

    assert queries(pages[:1]) == queries(pages) == len(offline_page_models())


# The explorer's indicator.


def row_states(client, parent):
    """{page id: indicator} of each row of the explorer listing ``parent``."""
    return row_states_in(client.get(f"/admin/pages/{parent.pk}/").content.decode())


def row_states_in(html):
    states = {}
    for row in html.split("<tr")[1:]:
        found = re.search(r'id="page_(\d+)_title"', row)
        if found:
            state = re.search(r'data-offline-indicator="(\w+)"', row)
            states[int(found.group(1))] = state.group(1) if state else None
    return states


def test_the_explorer_marks_offline_and_failed_pages_distinctly(
    admin_client, site, home, monkeypatch
):
    trails = StandardPageFactory(
        parent=home, title="Trails", slug="trails", offline_available=True
    )
    broken = StandardPageFactory(
        parent=home, title="Broken", slug="broken", offline_available=True
    )
    other = StandardPageFactory(parent=home, title="Other", slug="other")
    original = StandardPage.serve

    def serve(self, request, *args, **kwargs):
        if self.pk == broken.pk:
            raise RuntimeError("template exploded")
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(StandardPage, "serve", serve)
    rebuild_site_manifest(site)
    assert row_states(admin_client, home) == {
        trails.pk: "offline",
        broken.pk: "failed",
        other.pk: None,
    }
    html = admin_client.get(f"/admin/pages/{home.pk}/").content.decode()
    assert f"/admin/reports/offline-pages/?site={site.pk}&amp;status=failed" in html
    assert "Offline failed" in html


def test_the_explorer_reads_the_states_once_whatever_the_number_of_rows(
    admin_client, site, home, monkeypatch
):
    def listing_queries(count):
        for index in range(count):
            StandardPageFactory(
                parent=home,
                title=f"Page {index}",
                slug=f"page-{count}-{index}",
                offline_available=True,
            )
        rebuild_site_manifest(site)
        calls = []
        original = status.states_by_page_id

        def counted(page_ids):
            calls.append(list(page_ids))
            return original(page_ids)

        monkeypatch.setattr(status, "states_by_page_id", counted)
        with CaptureQueriesContext(connection) as queries:
            states = row_states(admin_client, home)
        monkeypatch.setattr(status, "states_by_page_id", original)
        assert len(calls) == 1 and set(calls[0]) == set(states)
        return len(queries), states

    admin_client.get(f"/admin/pages/{home.pk}/")  # Warm Wagtail's caches.
    few, states = listing_queries(2)
    many, more_states = listing_queries(6)
    assert list(states.values()).count("offline") == 2
    assert list(more_states.values()).count("offline") == 8
    without = listing_queries_without_indicator(admin_client, home, monkeypatch)
    assert many == few
    # The indicator costs the two queries of states_by_page_id, not one per row.
    assert many - without <= 2


def listing_queries_without_indicator(client, home, monkeypatch):
    monkeypatch.setattr(status, "states_by_page_id", lambda page_ids: {})
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/admin/pages/{home.pk}/")
    return len(queries)
