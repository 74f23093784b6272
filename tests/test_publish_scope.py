"""A publish looks for changes other than its own pages only below the pages it changed
(its scope), and still misses nothing a whole-site look would find: pages added without
a publish, snapshots another build stored and never shipped, pages a deletion took
along, a change of the sites' paths, a scope too large to be worth it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks.signals import task_enqueued

from tests.factories import StandardPageFactory
from tests.test_manifest_rows import stored
from wagtail_offline import listing, tasks
from wagtail_offline import manifest as manifest_module
from wagtail_offline.manifest import rebuild_site_manifest, render_stale_pages
from wagtail_offline.models import (
    OfflineManifestEntry,
    OfflinePageSnapshot,
    OfflineRebuild,
)
from wagtail_offline.rendering import AnonymousClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def walks(site, trails):
    """Four offline pages under /trails/, built once."""
    pages = [
        StandardPageFactory(parent=trails, title=f"Walk {n}", slug=f"walk-{n}")
        for n in range(4)
    ]
    rebuild_site_manifest(site)
    return pages


@pytest.fixture
def enqueued():
    """(page_ids, scope) of each manifest rebuild enqueued from now on."""
    asked = []

    def record(sender, task_result, **kwargs):
        if task_result.task.func is tasks.rebuild_offline_manifest_task.func:
            asked.append((task_result.args[1], task_result.args[4]))

    task_enqueued.connect(record)
    yield asked
    task_enqueued.disconnect(record)


def page_revision(site, page):
    return OfflineManifestEntry.objects.get(site=site, page_id=page.pk).revision


def test_a_publish_asks_for_a_build_scoped_to_its_page(
    walks, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        walks[1].save_revision().publish()
    [(page_ids, scope)] = enqueued
    assert walks[1].pk in page_ids and scope == [walks[1].pk]


def test_a_settings_save_in_the_same_transaction_widens_it_to_the_whole_site(
    site, walks, enqueued, django_capture_on_commit_callbacks
):
    from wagtail_offline.models import OfflineSettings

    with django_capture_on_commit_callbacks(execute=True):
        walks[1].save_revision().publish()
        settings = OfflineSettings.for_site(site)
        settings.save()
    [(_page_ids, scope)] = enqueued
    assert scope is None


def test_deleting_a_section_takes_its_pages_entries_along(
    site, home, walks, enqueued, django_capture_on_commit_callbacks
):
    section = StandardPageFactory(
        parent=home,
        title="Coast",
        slug="coast",
        offline_available=True,
        offline_include_subpages=True,
    )
    below = [
        StandardPageFactory(parent=section, title=f"Cove {n}", slug=f"cove-{n}")
        for n in range(3)
    ]
    rebuild_site_manifest(site)
    assert OfflineManifestEntry.objects.filter(page_id=below[0].pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        section.delete()
    [(page_ids, scope)] = enqueued
    assert {page.pk for page in below} <= set(page_ids)
    # Each page the delete takes along says so too (pre_delete): all below the section.
    assert section.pk in scope
    assert set(scope) <= {section.pk, *(page.pk for page in below)}
    assert not OfflineManifestEntry.objects.filter(url__startswith="/coast/").exists()
    patched = stored(site)
    rebuild_site_manifest(site)
    assert stored(site) == patched


def test_a_page_added_without_a_publish_is_saved_by_the_next_publish_anywhere(
    site, home, walks
):
    # An import: the page is created live, and no publish signal is sent.
    imported = StandardPageFactory(parent=walks[0].get_parent(), slug="imported")
    elsewhere = StandardPageFactory(
        parent=home, title="Elsewhere", slug="elsewhere", offline_available=True
    )
    rebuild_site_manifest(site, {elsewhere.pk, home.pk}, scope=[elsewhere.pk])
    assert OfflineManifestEntry.objects.filter(url="/trails/imported/").exists()
    assert OfflinePageSnapshot.objects.filter(page=imported).exists()


def test_what_another_build_stored_and_never_shipped_ships_with_the_next_publish(
    site, walks
):
    # A build renders walk 2 again, and dies before it stores the manifest.
    type(walks[2]).objects.filter(pk=walks[2].pk).update(body="<p>Closed.</p>")
    shipped_before = page_revision(site, walks[2])
    render_stale_pages(site, AnonymousClient(site), {walks[2].pk})
    rendered = OfflinePageSnapshot.objects.get(page=walks[2]).revision
    assert rendered != shipped_before

    # The next publish, of another page, below another page.
    rebuild_site_manifest(site, {walks[0].pk}, scope=[walks[0].pk])
    assert page_revision(site, walks[2]) == rendered
    assert not OfflinePageSnapshot.objects.filter(site=site, shipped=False).exists()


def test_a_change_of_the_sites_paths_makes_the_next_publish_look_everywhere(
    site, walks
):
    # A page whose snapshot is gone (a crashed build), away from the publish...
    OfflinePageSnapshot.objects.filter(page=walks[3]).delete()
    # ...is found when the sites' paths changed since the last build: every page's
    # URLs may have, wherever the publish is.
    OfflinePageSnapshot.objects.filter(page=walks[1]).update(paths_key="before")
    rebuild_site_manifest(site, {walks[0].pk}, scope=[walks[0].pk])
    assert OfflinePageSnapshot.objects.filter(page=walks[3]).exists()


def test_without_such_a_change_a_publish_looks_below_its_page_only(site, walks):
    """The counterpart of the test above: what it finds, a scoped publish leaves."""
    OfflinePageSnapshot.objects.filter(page=walks[3]).delete()
    rebuild_site_manifest(site, {walks[0].pk}, scope=[walks[0].pk])
    assert not OfflinePageSnapshot.objects.filter(page=walks[3]).exists()
    rebuild_site_manifest(site, {walks[0].pk})  # No scope: the whole site.
    assert OfflinePageSnapshot.objects.filter(page=walks[3]).exists()


def test_a_scope_of_too_many_pages_is_the_whole_site(site, walks, monkeypatch):
    OfflinePageSnapshot.objects.filter(page=walks[3]).delete()
    monkeypatch.setattr(manifest_module, "MAX_SCOPE", 1)
    trails = walks[0].get_parent()
    rebuild_site_manifest(site, {trails.pk}, scope=[trails.pk])
    assert OfflinePageSnapshot.objects.filter(page=walks[3]).exists()


def test_the_stored_listing_lines_add_up_to_what_the_listing_shows(
    site, home, walks, django_capture_on_commit_callbacks
):
    """After scoped publishes (a new title, a move, an unpublish), the key a build adds
    up from the stored lines is the key read afresh from every page."""
    with django_capture_on_commit_callbacks(execute=True):
        walks[0].title = "Walk zero"
        walks[0].save_revision().publish()
    with django_capture_on_commit_callbacks(execute=True):
        walks[1].move(home, pos="last-child")
    with django_capture_on_commit_callbacks(execute=True):
        walks[2].unpublish()
    fresh = listing.render_key(site)
    assert listing.render_key(site, stored_lines=True) == fresh
    # A change no build has seen yet is in the fresh key only.
    type(walks[3]).objects.filter(pk=walks[3].pk).update(title="Walk three")
    assert listing.render_key(site) != fresh
    assert listing.render_key(site, stored_lines=True) == fresh


def test_after_a_failed_build_the_next_publish_looks_at_the_whole_site(site, walks):
    """The failed build may have forgotten pages and not stored the manifest that drops
    them: the next one looks everywhere."""
    OfflinePageSnapshot.objects.filter(page=walks[3]).delete()
    OfflineRebuild.objects.create(
        site=site, finished_at=timezone.now(), error="The rebuild failed: boom"
    )
    tasks.rebuild_offline_manifest_task.call(
        site.pk, [walks[0].pk], None, False, [walks[0].pk]
    )
    assert OfflinePageSnapshot.objects.filter(page=walks[3]).exists()


def test_a_page_past_its_expiry_leaves_with_the_next_publish_anywhere(site, walks):
    """Nothing unpublishes it until ``publish_scheduled`` runs; it is not offline."""
    type(walks[2]).objects.filter(pk=walks[2].pk).update(
        expire_at=timezone.now() - timedelta(minutes=1)
    )
    rebuild_site_manifest(site, {walks[0].pk}, scope=[walks[0].pk])
    assert not OfflineManifestEntry.objects.filter(page_id=walks[2].pk).exists()
    assert listing.render_key(site, stored_lines=True) == listing.render_key(site)


def test_pages_changed_in_many_places_at_once_are_looked_at_as_the_whole_site(
    site, walks, monkeypatch
):
    OfflinePageSnapshot.objects.filter(page=walks[3]).delete()
    monkeypatch.setattr(manifest_module, "MAX_SCOPE_SECTIONS", 1)
    rebuild_site_manifest(site, {walks[0].pk}, scope=[walks[0].pk, walks[1].pk])
    assert OfflinePageSnapshot.objects.filter(page=walks[3]).exists()
