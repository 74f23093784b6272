"""Private by construction, as Chromium's Cache Storage shows it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction
from wagtail_factories import DocumentFactory, ImageFactory

from tests.browser.offline import (
    cached_bodies,
    cached_urls,
    manifest_versions,
    update_worker,
    visit_and_wait_for_worker,
    wait_for_new_worker,
)
from tests.factories import StandardPageFactory, restrict_with_password
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineManifest, OfflineSettings

pytestmark = pytest.mark.django_db(transaction=True)


def collections():
    """(public 'Walkers', 'Maps' private through its parent 'Rangers')."""
    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    rangers = root.add_child(name="Rangers")
    CollectionViewRestriction.objects.create(
        collection=rangers, restriction_type=CollectionViewRestriction.LOGIN
    )
    return root.add_child(name="Walkers"), rangers.add_child(name="Maps")


def document_link(document):
    return f'<a linktype="document" id="{document.pk}">{document.title}</a>'


@pytest.fixture
def private_matters(trail_site):
    """Below the flagged /trails/: one page of every kind that must never be cached."""
    trails, site, now = trail_site["trails"], trail_site["site"], timezone.now()
    walkers, maps = collections()

    StandardPageFactory(parent=trails, slug="draft", live=False)
    scheduled = StandardPageFactory(parent=trails, slug="scheduled", live=False)
    scheduled.go_live_at = now + timedelta(days=1)
    scheduled.save_revision().publish()
    StandardPageFactory(
        parent=trails, slug="expired", expire_at=now - timedelta(hours=1)
    )
    StandardPageFactory(parent=trails, slug="unpublished").unpublish()
    rangers = StandardPageFactory(parent=trails, slug="rangers")
    StandardPageFactory(parent=rangers, slug="rota")
    PageViewRestriction.objects.create(
        page=rangers, restriction_type=PageViewRestriction.LOGIN
    )
    staff = StandardPageFactory(parent=trails, slug="staff")
    PageViewRestriction.objects.create(
        page=staff, restriction_type=PageViewRestriction.GROUPS
    ).groups.add(Group.objects.create(name="Staff"))

    cave = ImageFactory(title="Hidden cave", collection=maps)
    StandardPageFactory(parent=trails, slug="cave", image=cave)
    public_map = DocumentFactory(title="Trail map", collection=walkers)
    rota = DocumentFactory(title="Rota", collection=maps)
    StandardPageFactory(
        parent=trails,
        slug="maps",
        body=f"<p>{document_link(public_map)} {document_link(rota)}</p>",
    )
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.include_documents = True
    offline_settings.save()
    rebuild_site_manifest(site)
    return {
        "private_pages": [
            "/trails/notes/",  # password, from trail_site
            "/trails/draft/",
            "/trails/scheduled/",
            "/trails/expired/",
            "/trails/unpublished/",
            "/trails/rangers/",
            "/trails/rangers/rota/",  # login restriction on its parent
            "/trails/staff/",
        ],
        "private_media": [rota.url]
        + [rendition.url for rendition in cave.renditions.all()],
        "public": ["/trails/cave/", "/trails/maps/", public_map.url],
    }


def test_nothing_private_reaches_a_readers_cache(page, trail_site, private_matters):
    visit_and_wait_for_worker(page, trail_site["url"] + "/trails/")
    cached = cached_urls(page)
    assert set(private_matters["public"]) <= cached
    assert len(private_matters["private_media"]) == 3
    for url in private_matters["private_pages"] + private_matters["private_media"]:
        assert url not in cached
    assert not any(url.startswith(("/admin/", "/django-admin/")) for url in cached)


def log_in(page, base, user):
    """Give the browser the session cookie of ``user``, as after the admin's login form."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])


def test_an_editor_browsing_the_site_and_admin_leaves_no_per_user_markup(
    page, trail_site, django_user_model
):
    base, trails = trail_site["url"], trail_site["trails"]
    log_in(page, base, django_user_model.objects.create_superuser("editor"))
    visit_and_wait_for_worker(page, base + "/trails/")  # precached while logged in
    assert page.locator(".greeting").inner_text() == "Hello editor"  # online, live
    page.goto(base + f"/admin/pages/{trails.pk}/edit/preview/")
    versions = manifest_versions(page)
    trail_site["ridge"].unpublish()  # /trails/ changes: the worker saves it again…
    page.goto(base + "/trails/")
    wait_for_new_worker(page, versions)  # …while the editor is still logged in.

    bodies = dict(cached_bodies(page))
    assert "/trails/" in bodies and "<h1>Trails</h1>" in bodies["/trails/"]
    for path, body in bodies.items():
        assert "Hello editor" not in body and "userbar" not in body, path
        assert not path.startswith("/admin/"), path


def test_a_restriction_added_after_caching_leaves_the_cache_when_the_worker_updates(
    page, trail_site
):
    base, site, ridge = trail_site["url"], trail_site["site"], trail_site["ridge"]
    visit_and_wait_for_worker(page, base + "/trails/")
    assert "/trails/ridge/" in cached_urls(page)
    versions = manifest_versions(page)

    restrict_with_password(ridge)  # The signal rebuilds the manifest.
    manifest = OfflineManifest.objects.get(site=site)
    assert "/trails/ridge/" not in {entry["url"] for entry in manifest.entries}

    # The reader stays on /trails/; their browser checks /sw.js and activates the new
    # worker. The private page is gone at once, before any further navigation.
    update_worker(page, versions)
    assert page.url == base + "/trails/"
    assert "/trails/ridge/" not in cached_urls(page)
    assert "/trails/" in cached_urls(page)
    page.context.set_offline(True)
    page.goto(base + "/trails/ridge/")
    assert page.locator("h1").inner_text() == "You are offline"
