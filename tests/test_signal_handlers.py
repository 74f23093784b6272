"""Editors' actions rebuild the manifest after the transaction commits, without a command."""

import pytest
from django_tasks.signals import task_enqueued
from wagtail.models import PageViewRestriction

from tests.factories import StandardPageFactory, restrict_with_password
from wagtail_offline import tasks
from wagtail_offline.models import OfflineManifest, OfflineSettings

pytestmark = pytest.mark.django_db


def page_urls(site):
    manifest = OfflineManifest.objects.get(site=site)
    return {entry["url"] for entry in manifest.entries if entry["kind"] == "page"}


@pytest.fixture
def trails(home, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        page = StandardPageFactory(
            parent=home,
            title="Trails",
            slug="trails",
            offline_available=True,
            offline_include_subpages=True,
        )
        page.save_revision().publish()
    return page


def test_publishing_a_page_under_a_flagged_section_adds_it(
    site, trails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ridge = StandardPageFactory(
            parent=trails, title="Ridge", slug="ridge", live=False
        )
        ridge.save_revision().publish()
    assert page_urls(site) == {"/trails/", "/trails/ridge/"}


def test_unpublishing_removes_it(site, trails, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ridge = StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
        ridge.save_revision().publish()
    with django_capture_on_commit_callbacks(execute=True):
        ridge.unpublish()
    assert page_urls(site) == {"/trails/"}


def test_moving_a_page_out_of_the_section_removes_it(
    site, home, trails, django_capture_on_commit_callbacks
):
    archive = StandardPageFactory(parent=home, title="Archive", slug="archive")
    with django_capture_on_commit_callbacks(execute=True):
        ridge = StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
        ridge.save_revision().publish()
    with django_capture_on_commit_callbacks(execute=True):
        ridge.move(archive, pos="last-child")
    assert page_urls(site) == {"/trails/"}


def test_moving_a_page_into_the_section_adds_it_at_its_new_url(
    site, home, trails, django_capture_on_commit_callbacks
):
    archive = StandardPageFactory(parent=home, title="Archive", slug="archive")
    ridge = StandardPageFactory(parent=archive, title="Ridge", slug="ridge")
    with django_capture_on_commit_callbacks(execute=True):
        ridge.move(trails, pos="last-child")
    assert page_urls(site) == {"/trails/", "/trails/ridge/"}


def test_deleting_a_page_removes_it(site, trails, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ridge = StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
        ridge.save_revision().publish()
    with django_capture_on_commit_callbacks(execute=True):
        ridge.delete()
    assert page_urls(site) == {"/trails/"}


def test_a_view_restriction_removes_the_page_and_lifting_it_brings_it_back(
    site, trails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notes = StandardPageFactory(parent=trails, title="Notes", slug="notes")
        notes.save_revision().publish()
    with django_capture_on_commit_callbacks(execute=True):
        restriction = restrict_with_password(notes)
    assert page_urls(site) == {"/trails/"}
    with django_capture_on_commit_callbacks(execute=True):
        restriction.delete()
    assert page_urls(site) == {"/trails/", "/trails/notes/"}
    assert not PageViewRestriction.objects.exists()


def test_changing_the_fallback_page_updates_the_manifest(
    site, home, trails, django_capture_on_commit_callbacks
):
    sorry = StandardPageFactory(parent=home, title="Sorry", slug="sorry")
    with django_capture_on_commit_callbacks(execute=True):
        settings = OfflineSettings.for_site(site)
        settings.fallback_page = sorry
        settings.save()
    fallback = [
        e["url"]
        for e in OfflineManifest.objects.get(site=site).entries
        if e["kind"] == "fallback"
    ]
    assert fallback == ["/sorry/"]


def test_nothing_is_rebuilt_before_the_transaction_commits(
    site, trails, django_capture_on_commit_callbacks
):
    before = OfflineManifest.objects.get(site=site).version
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        trails.title = "Renamed"
        trails.save_revision().publish()
    assert OfflineManifest.objects.get(site=site).version == before
    assert callbacks


def test_changes_in_one_transaction_become_one_task_per_site(
    site, trails, django_capture_on_commit_callbacks
):
    enqueued = []

    def record(sender, task_result, **kwargs):
        if task_result.task.func is tasks.rebuild_offline_manifest_task.func:
            enqueued.append(task_result.args)

    task_enqueued.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for slug in ("a", "b", "c"):
                page = StandardPageFactory(parent=trails, title=slug, slug=slug)
                page.save_revision().publish()
    finally:
        task_enqueued.disconnect(record)
    assert len(enqueued) == 1
    site_id, page_ids = enqueued[0]
    assert site_id == site.pk
    assert trails.pk in page_ids and len(page_ids) >= 4
