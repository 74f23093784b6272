"""Editors' actions rebuild the manifest after the transaction commits, without a command."""

import pytest
from django.db.models.deletion import Collector
from django.db.models.signals import pre_delete
from django_tasks.signals import task_enqueued
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction
from wagtail_factories import DocumentFactory, ImageFactory

from tests.factories import StandardPageFactory, restrict_with_password
from tests.testapp.models import StandardPage
from wagtail_offline import tasks
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import (
    OfflineManifest,
    OfflineManifestEntry,
    OfflineManifestUse,
    OfflinePageSnapshot,
    OfflineSettings,
)
from wagtail_offline.rendering import AnonymousClient

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
            enqueued.append(tuple(task_result.args[:2]))

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


def entry_urls(site, kind):
    manifest = OfflineManifest.objects.get(site=site)
    return {entry["url"] for entry in manifest.entries if entry["kind"] == kind}


def new_collection(name, private=False):
    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    collection = root.add_child(name=name)
    if private:
        CollectionViewRestriction.objects.create(
            collection=collection, restriction_type=CollectionViewRestriction.LOGIN
        )
    return collection


def test_copying_a_page_into_the_section_adds_the_copy(
    site, home, trails, django_capture_on_commit_callbacks
):
    archive = StandardPageFactory(parent=home, title="Archive", slug="archive")
    ridge = StandardPageFactory(parent=archive, title="Ridge", slug="ridge")
    with django_capture_on_commit_callbacks(execute=True):
        ridge.copy(to=trails, update_attrs={"slug": "ridge-copy"})
    assert page_urls(site) == {"/trails/", "/trails/ridge-copy/"}


def test_a_restriction_on_an_ancestor_removes_the_whole_subtree(
    site, home, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        guide = StandardPageFactory(parent=home, title="Guide", slug="guide")
        trails = StandardPageFactory(
            parent=guide,
            slug="trails",
            offline_available=True,
            offline_include_subpages=True,
        )
        StandardPageFactory(parent=trails, slug="ridge").save_revision().publish()
    assert page_urls(site) == {"/guide/trails/", "/guide/trails/ridge/"}
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(
            page=guide, restriction_type=PageViewRestriction.LOGIN
        )
    assert page_urls(site) == set()


def test_deleting_a_page_re_renders_the_pages_that_linked_to_it(
    site, trails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ridge = StandardPageFactory(parent=trails, slug="ridge")
        guide = StandardPageFactory(
            parent=trails,
            slug="guide",
            body=f'<p><a linktype="page" id="{ridge.pk}">Ridge</a></p>',
        )
        guide.save_revision().publish()
    before = OfflineManifest.objects.get(site=site)
    guide_revision = {e["url"]: e["revision"] for e in before.entries}["/trails/guide/"]
    with django_capture_on_commit_callbacks(execute=True):
        ridge.delete()
    after = {
        e["url"]: e["revision"] for e in OfflineManifest.objects.get(site=site).entries
    }
    assert "/trails/ridge/" not in after
    assert after["/trails/guide/"] != guide_revision  # its link to the page is gone


def test_turning_documents_on_adds_the_linked_documents(
    site, trails, django_capture_on_commit_callbacks
):
    document = DocumentFactory(title="Map", collection=new_collection("Walkers"))
    with django_capture_on_commit_callbacks(execute=True):
        StandardPageFactory(
            parent=trails,
            slug="maps",
            body=f'<p><a linktype="document" id="{document.pk}">Map</a></p>',
        ).save_revision().publish()
    assert entry_urls(site, "document") == set()
    with django_capture_on_commit_callbacks(execute=True):
        offline_settings = OfflineSettings.for_site(site)
        offline_settings.include_documents = True
        offline_settings.save()
    assert entry_urls(site, "document") == {document.url}


def test_moving_a_document_to_a_private_collection_removes_it(
    site, trails, django_capture_on_commit_callbacks
):
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.include_documents = True
    offline_settings.save()
    document = DocumentFactory(title="Map", collection=new_collection("Walkers"))
    with django_capture_on_commit_callbacks(execute=True):
        StandardPageFactory(
            parent=trails,
            slug="maps",
            body=f'<p><a linktype="document" id="{document.pk}">Map</a></p>',
        ).save_revision().publish()
    assert entry_urls(site, "document") == {document.url}
    with django_capture_on_commit_callbacks(execute=True):
        document.collection = new_collection("Rangers", private=True)
        document.save()
    assert entry_urls(site, "document") == set()


def media_urls(site):
    return {url for url in entry_urls(site, "asset") if url.startswith("/media/")}


def test_moving_an_image_to_a_private_collection_removes_its_renditions(
    site, trails, django_capture_on_commit_callbacks
):
    image = ImageFactory(collection=new_collection("Walkers"))
    with django_capture_on_commit_callbacks(execute=True):
        StandardPageFactory(
            parent=trails, slug="ridge", image=image
        ).save_revision().publish()
    assert len(media_urls(site)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        image.collection = new_collection("Rangers", private=True)
        image.save()
    assert media_urls(site) == set()


def test_restricting_a_collection_removes_its_images(
    site, trails, django_capture_on_commit_callbacks
):
    walkers = new_collection("Walkers")
    with django_capture_on_commit_callbacks(execute=True):
        StandardPageFactory(
            parent=trails, slug="ridge", image=ImageFactory(collection=walkers)
        ).save_revision().publish()
    assert len(media_urls(site)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        restriction = CollectionViewRestriction.objects.create(
            collection=walkers, restriction_type=CollectionViewRestriction.LOGIN
        )
    assert media_urls(site) == set()
    with django_capture_on_commit_callbacks(execute=True):
        restriction.delete()
    assert len(media_urls(site)) == 2


def test_a_new_rendition_re_renders_the_pages_showing_the_image(
    site, trails, django_capture_on_commit_callbacks, monkeypatch
):
    image = ImageFactory(collection=new_collection("Walkers"))
    with django_capture_on_commit_callbacks(execute=True):
        StandardPageFactory(
            parent=trails, slug="ridge", image=image
        ).save_revision().publish()
    # As after a focal point change: the renditions are gone until someone asks again.
    image.renditions.all().delete()
    rendered = []
    original_get = AnonymousClient.get
    monkeypatch.setattr(
        AnonymousClient,
        "get",
        lambda self, url: rendered.append(url) or original_get(self, url),
    )
    with django_capture_on_commit_callbacks(execute=True):
        image.get_rendition("width-200")  # a reader's visit, say
    assert "/trails/ridge/" in rendered
    assert {r.url for r in image.renditions.all()} == media_urls(site)


def test_renditions_made_by_a_build_do_not_schedule_another(
    site, trails, django_capture_on_commit_callbacks
):
    image = ImageFactory(collection=new_collection("Walkers"))
    StandardPageFactory(parent=trails, slug="ridge", image=image)
    assert not image.renditions.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rebuild_site_manifest(site)
    assert image.renditions.count() == 2
    assert not callbacks


def test_what_a_rolled_back_transaction_asked_for_is_forgotten(
    site, trails, django_capture_on_commit_callbacks
):
    from django.db import transaction

    enqueued = []

    def record(sender, task_result, **kwargs):
        enqueued.append(tuple(task_result.args[:2]))

    ridge = StandardPageFactory(parent=trails, slug="ridge")
    try:
        with transaction.atomic():
            tasks.schedule_rebuild([site.pk], [ridge.pk])
            raise RuntimeError("the editor's request failed")
    except RuntimeError:
        pass
    task_enqueued.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.schedule_rebuild([site.pk], [trails.pk])
    finally:
        task_enqueued.disconnect(record)
    assert enqueued == [(site.pk, [trails.pk])]


def test_a_publish_rebuilds_only_the_site_that_holds_the_page(
    site, trails, root_page, django_capture_on_commit_callbacks
):
    from wagtail.models import Site

    with django_capture_on_commit_callbacks(execute=True):
        other_home = StandardPageFactory(
            parent=root_page, slug="other", offline_available=True
        )
        other = Site.objects.create(hostname="other.example", root_page=other_home)
        other_home.save_revision().publish()
    ours = OfflineManifest.objects.get(site=site).version
    theirs = OfflineManifest.objects.get(site=other).version
    with django_capture_on_commit_callbacks(execute=True):
        other_home.title = "Other, renamed"
        other_home.save_revision().publish()
    assert OfflineManifest.objects.get(site=site).version == ours
    assert OfflineManifest.objects.get(site=other).version != theirs


def test_a_collection_restricted_in_the_transaction_of_a_publish_removes_its_images(
    site, trails, django_capture_on_commit_callbacks
):
    """The publish's task patches the manifest; the restriction asked for every page's
    files to be judged again, which the one task they become must still do."""
    walkers = new_collection("Walkers")
    with django_capture_on_commit_callbacks(execute=True):
        StandardPageFactory(
            parent=trails, slug="ridge", image=ImageFactory(collection=walkers)
        ).save_revision().publish()
        meadow = StandardPageFactory(parent=trails, slug="meadow")
        meadow.save_revision().publish()
    assert len(media_urls(site)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        CollectionViewRestriction.objects.create(
            collection=walkers, restriction_type=CollectionViewRestriction.LOGIN
        )
        meadow.title = "Meadow, revised"
        meadow.save_revision().publish()
    assert media_urls(site) == set()


def test_the_handlers_leave_other_models_deletes_on_djangos_fast_path():
    """A pre_delete receiver for every sender makes Django load each row a bulk
    delete removes, to send it the signal: a full build deletes tens of thousands."""
    for model in (OfflineManifestEntry, OfflineManifestUse, OfflinePageSnapshot):
        assert Collector("default").can_fast_delete(model.objects.all()), model
    assert pre_delete.has_listeners(StandardPage)
